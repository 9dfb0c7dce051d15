"""GET /agents says which policy places a session's jobs: the tier agents, or the DQN (TASKPILOT_GRID_POLICY=dqn)."""

from tests.web.conftest import FAST_EPISODES, SESSION_HEADER, serve

JOBS = [{"priority": p, "cpu": 30, "memory": 20} for p in ("green", "balanced", "performance")] * 4


def _session(client, scenario: str) -> dict[str, str]:
    answer = client.get(f"/session?scenario={scenario}")
    assert answer.status_code == 200
    return {SESSION_HEADER: answer.json()["session_id"]}


def test_agents_policy_is_the_dqn_in_grid_sessions_of_a_dqn_server_and_the_agents_elsewhere() -> None:
    with serve(pretrain_episodes=FAST_EPISODES, grid_policy="dqn") as client:
        grid = _session(client, "grid")
        assert client.post("/run", json=JOBS, headers=grid).status_code == 200
        answer = client.get("/agents", headers=grid).json()
        assert answer["policy"] == "dqn"
        assert set(answer["agents"]) == {"green", "balanced", "performance"}  # the reference fields stay
        dqn = answer["dqn"]
        assert dqn["features"][0] == "intensity_now[0]" and dqn["lam_g_per_min"] == 0.3 and dqn["trained_steps"] > 0
        assert dqn["trained_on"]["runs"] == 16 and not {"out", "data_dir"} & set(dqn["trained_on"])  # no paths
        explained = client.post("/explain", json={"job_id": 1}, headers=grid)
        assert explained.status_code == 200 and explained.json()["explanation"]
        reference = _session(client, "reference")
        answer = client.get("/agents", headers=reference).json()
        assert answer["policy"] == "tier_agents" and "dqn" not in answer


def test_agents_policy_is_the_agents_by_default() -> None:
    with serve(pretrain_episodes=FAST_EPISODES) as client:
        grid = _session(client, "grid")
        answer = client.get("/agents", headers=grid).json()
        assert answer["policy"] == "tier_agents" and "dqn" not in answer
