"""Packaging and deployment files: they parse and say what the deployment needs.

No Docker engine or Render account here, so these check the files themselves.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.live import SERVE_FLAGS
from scheduler.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

START_COMMAND = "uvicorn api:app --host 0.0.0.0 --port $PORT " + " ".join(SERVE_FLAGS)
"""Render's: its bind, and the connection bounds every documented start command shares (bench.live.SERVE_FLAGS)."""

SETTINGS_DEFAULTS = {
    "TASKPILOT_SEED": "42",
    "TASKPILOT_DATA_DIR": "dataset_rl",
    "TASKPILOT_CACHE_DIR": ".cache",
    "TASKPILOT_SESSION_TTL_S": "3600",
    "TASKPILOT_MAX_SESSIONS": "1000",
    "TASKPILOT_MAX_BODY_BYTES": "16777216",
    "TASKPILOT_HEADER_TIMEOUT_S": "10",
    "TASKPILOT_MAX_HEADER_BYTES": "65536",
    "TASKPILOT_BODY_TIMEOUT_S": "20",
    "TASKPILOT_MAX_ERRORS": "100",
    "TASKPILOT_MAX_BATCH_JOBS": "100000",
    "TASKPILOT_MAX_SESSION_JOBS": "100000",
    "TASKPILOT_MAX_TOTAL_JOBS": "150000",
    "TASKPILOT_MAX_CLIENT_JOBS": "100000",
    "TASKPILOT_MAX_CLIENT_SIMS": "1",
    "TASKPILOT_MAX_CLIENT_PLANS": "1",
    "TASKPILOT_RATE_LIMIT_CLIENT": "1200/minute",
    "TASKPILOT_RATE_LIMIT_SESSION": "600/minute",
    "TASKPILOT_RATE_LIMIT_NEW_SESSIONS": "30/minute",
    "TASKPILOT_API_KEY_HASHES": "",
    "TASKPILOT_CORS_ORIGINS": "",
    "TASKPILOT_PRETRAIN_EPISODES": "500",
    "TASKPILOT_LLM_MODEL": "llama-3.3-70b-versatile",
    "TASKPILOT_LLM_TIMEOUT_S": "5",
    "TASKPILOT_LLM_BASE_URL": "",
    "TASKPILOT_LLM_CACHE_SIZE": "256",
    "TASKPILOT_LLM_CONCURRENCY": "4",
    "TASKPILOT_SCENARIO": "reference",
    "TASKPILOT_GRID_START": "2023-01-01T00:00Z",
    "TASKPILOT_GRID_MINUTES_PER_JOB": "15",
    "TASKPILOT_GRID_BASIS": "direct",
    "TASKPILOT_POWER_CURVE": "linear",
    "TASKPILOT_CARBON_BANDS": "p33,p67",
    "TASKPILOT_FORECAST": "persistence",
    "TASKPILOT_FORECAST_ERROR": "0.05",
    "TASKPILOT_FLEXIBLE_SLACK_H": "24.0",
    "TASKPILOT_REGIONS_FILE": "",
    "TASKPILOT_GRID_POLICY": "tier_agents",
    "TASKPILOT_DQN_WEIGHTS": "",
    "TASKPILOT_MAX_PLAN_JOBS": "10000",
    "TASKPILOT_MAX_PLAN_SLOTS": "527040",
    "TASKPILOT_MAX_PLAN_WORK": "25000000",
    "TASKPILOT_MAX_PLAN_PIECES": "200000",
    "TASKPILOT_PLAN_TIMEOUT_S": "30",
    "TASKPILOT_PLAN_WORKERS": "1",
    "TASKPILOT_MAX_PLAN_WAITING": "16",
    "TASKPILOT_MAX_SIM_JOBS": "10000",
    "TASKPILOT_MAX_SIM_JOB_RUNS": "1400000",
    "TASKPILOT_MAX_DEFERRAL_WORK": "100000000",
    "TASKPILOT_MAX_SIM_RUNS": "2",
    "TASKPILOT_SIM_TIMEOUT_S": "300",
    "TASKPILOT_MAX_SIM_RESULTS": "20",
    "TASKPILOT_STORE": "sqlite",
    "TASKPILOT_DATABASE": ".data/taskpilot.db",
    "TASKPILOT_WORKERS_FAST": "2",
    "TASKPILOT_WORKERS_ECO": "1",
    "TASKPILOT_QUEUE_ORDER": "fifo",
    "TASKPILOT_DISPATCHER_WEIGHTS": "",
    "TASKPILOT_DISPATCHER_FROZEN": "false",
    "TASKPILOT_CLOCK_SCALE": "600",
    "TASKPILOT_TASK_MODULE": "",
    "TASKPILOT_SHUTDOWN_GRACE_S": "30",
    "TASKPILOT_MAX_WORKFLOW_TASKS": "1000",
    "TASKPILOT_MAX_PARAMS_BYTES": "16384",
    "TASKPILOT_LOG_LEVEL": "INFO",
    "GROQ_API_KEY": "",
}

DATA_FILES = (
    "Server_L.xlsx",
    "price.csv",
    "task_15min_L.csv",
    "steel_industry_data.csv",
    "sample_100_jobs.csv",
    "demo_jobs.csv",
    "grid/BR.csv",
    "grid/ES.csv",
    "grid/NO.csv",
    "grid/US-CAL-CISO.csv",
    "regions.csv",
    "regions-americas.csv",
    "regions-europe.csv",
    "power_curve.csv",
)


# --- helpers -----------------------------------------------------------------


def read(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and line continuations joined."""
    logical: list[str] = []
    buf = ""
    for line in read("Dockerfile").splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        logical.append(buf + stripped)
        buf = ""
    if buf:
        logical.append(buf)
    out = []
    for entry in logical:
        instr, _, args = entry.partition(" ")
        out.append((instr.upper(), args.strip()))
    return out


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instr, args in dockerfile_instructions():
        if instr == "ENV":
            for token in shlex.split(args):
                if "=" in token:
                    key, _, value = token.partition("=")
                    env[key] = value
    return env


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in read(".env.example").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f".env.example: not KEY=VALUE: {line!r}"
        assert key not in values, f".env.example: {key} listed twice"
        values[key.strip()] = value.strip()
    return values


# --- render.yaml ---------------------------------------------------------------


@pytest.fixture(scope="module")
def render_service() -> dict:
    doc = yaml.safe_load(read("render.yaml"))
    services = doc["services"]
    assert len(services) == 1
    return services[0]


def test_render_is_one_python_web_service(render_service):
    assert render_service["type"] == "web"
    assert render_service["runtime"] == "python"
    assert render_service["buildCommand"].startswith("pip install -r requirements.txt")


def test_render_start_and_health(render_service):
    assert render_service["startCommand"] == START_COMMAND
    assert render_service["healthCheckPath"] == "/health"


def test_render_env_vars(render_service):
    env = {item["key"]: item for item in render_service["envVars"]}
    groq = env["GROQ_API_KEY"]
    assert groq.get("sync") is False, "GROQ_API_KEY must be a secret (sync: false)"
    assert "value" not in groq and "generateValue" not in groq, "never put the key in render.yaml"
    assert env["TASKPILOT_SEED"]["value"] == "42"
    assert env["PYTHON_VERSION"]["value"] == "3.11.7"
    # The rate limits count clients by address: the router's forwarded one, trusted from private networks only.
    trusted = env["FORWARDED_ALLOW_IPS"]["value"].split(",")
    assert trusted and "*" not in trusted and all(ipaddress.ip_network(n).is_private for n in trusted)


# --- docker-compose.yml --------------------------------------------------------


@pytest.fixture(scope="module")
def compose_service() -> dict:
    doc = yaml.safe_load(read("docker-compose.yml"))
    return doc["services"]["taskpilot"]


def test_compose_builds_repo_and_maps_8000(compose_service):
    build = compose_service["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert context in (".", "./")
    ports = [str(p) for p in compose_service["ports"]]
    assert "8000:8000" in ports


def test_compose_env_and_healthcheck(compose_service):
    env_files = compose_service["env_file"]
    assert {"path": ".env", "required": False} in env_files
    env = compose_service["environment"]
    assert "TASKPILOT_SEED" in env
    test = compose_service["healthcheck"]["test"]
    assert "/health" in (test if isinstance(test, str) else " ".join(test))


def _stop_budget_s() -> float:
    """What a graceful stop can take: uvicorn's grace for requests, then the workflow tasks' (api.py's
    lifespan stops the executor after uvicorn has drained), plus a second for the rest of the shutdown."""
    uvicorn_s = float(START_COMMAND.split("--timeout-graceful-shutdown ")[1].split()[0])
    return uvicorn_s + Settings.model_fields["shutdown_grace_s"].default + 1


def test_platforms_wait_for_the_whole_graceful_stop(render_service, compose_service):
    """Docker's default 10 s and Render's 30 s between SIGTERM and SIGKILL were shorter than uvicorn's 8 s plus
    the tasks' 30 s: running tasks were killed, not given their grace (they ran again, but late)."""
    assert render_service["maxShutdownDelaySeconds"] >= _stop_budget_s()
    assert float(compose_service["stop_grace_period"].removesuffix("s")) >= _stop_budget_s()


# --- Dockerfile ------------------------------------------------------------------


def test_dockerfile_base_user_expose_healthcheck():
    instrs = dockerfile_instructions()
    kinds = [i for i, _ in instrs]
    assert instrs[0] == ("FROM", "python:3.11-slim")
    assert ("EXPOSE", "8000") in instrs
    users = [a for i, a in instrs if i == "USER"]
    assert users and users[-1] not in ("root", "0"), "the app must run as a non-root user"
    assert kinds.index("USER") < kinds.index("CMD")
    health = [a for i, a in instrs if i == "HEALTHCHECK"]
    assert len(health) == 1
    assert "urllib" in health[0] and "127.0.0.1" in health[0] and "/health" in health[0]


def test_dockerfile_cmd_runs_uvicorn_on_8000_by_default():
    cmds = [a for i, a in dockerfile_instructions() if i == "CMD"]
    assert len(cmds) == 1
    argv = json.loads(cmds[0])  # exec form
    assert argv[:2] == ["sh", "-c"]
    script = argv[2]
    assert script.startswith("uvicorn api:app ")
    # Expand the command the way the container would: with the image's ENV, and with PORT unset.
    image_env = dockerfile_env()
    for port_env in (image_env.get("PORT"), None):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if port_env is not None:
            env["PORT"] = port_env
        out = subprocess.run(["sh", "-c", "echo " + script], env=env, capture_output=True, text=True, check=True).stdout.split()
        assert out == ["uvicorn", "api:app", "--host", "0.0.0.0", "--port", "8000", *SERVE_FLAGS]
    # ...and a platform-provided PORT wins.
    out = subprocess.run(["sh", "-c", "echo " + script], env={"PORT": "10000"}, capture_output=True, text=True, check=True).stdout.split()
    assert out[4:6] == ["--port", "10000"]


def test_dockerfile_copies_existing_paths():
    sources = []
    for instr, args in dockerfile_instructions():
        if instr != "COPY":
            continue
        tokens = [t for t in shlex.split(args) if not t.startswith("--")]
        sources.extend(tokens[:-1])
    assert "requirements.txt" in sources
    # Every top-level package api.py imports must be in the image, not only the ones listed here.
    packages = {p.name + "/" for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in ("tests", "bench")}
    for wanted in ("api.py", "frontend/", "dataset_rl/", *sorted(packages)):
        assert wanted in sources, f"Dockerfile does not copy {wanted}"
    missing = [s for s in sources if not (ROOT / s).exists()]
    assert not missing, f"Dockerfile copies paths that do not exist: {missing}"


def test_dockerignore_keeps_the_image_small_but_complete():
    patterns = [line.strip().rstrip("/") for line in read(".dockerignore").splitlines() if line.strip() and not line.startswith("#")]
    for needed in (".venv", ".git", "tests"):
        assert needed in patterns
    assert any("__pycache__" in p for p in patterns)
    for shipped in ("api.py", "scheduler", "rl", "xai", "frontend", "dataset_rl", "requirements.txt"):
        assert shipped not in patterns
    if "*.md" in patterns:  # licence and attribution files must still reach the image
        assert "!dataset_rl/DATA.md" in patterns and "!frontend/static/vendor/*.md" in patterns


# --- .env.example ----------------------------------------------------------------


def test_env_example_lists_every_setting_with_its_default():
    values = env_example()
    assert values == SETTINGS_DEFAULTS
    assert values["GROQ_API_KEY"] == ""


def test_env_example_matches_settings_model(monkeypatch):
    """Every field of scheduler.settings.Settings is documented, and the file's values are its defaults."""
    settings_mod = pytest.importorskip("scheduler.settings")
    Settings = settings_mod.Settings
    for key in list(os.environ):
        if key.startswith("TASKPILOT_") or key == "GROQ_API_KEY":
            monkeypatch.delenv(key)

    names = set(env_example())
    for name, field in Settings.model_fields.items():
        env_name = f"TASKPILOT_{name.upper()}"
        alias = getattr(field, "validation_alias", None)
        choices = getattr(alias, "choices", None) or ([alias] if isinstance(alias, str) else [])
        assert env_name in names or any(c in names for c in choices), f".env.example misses {name}"

    defaults = Settings()
    from_file = Settings(_env_file=ROOT / ".env.example")
    for name in Settings.model_fields:
        a, b = getattr(defaults, name), getattr(from_file, name)
        if isinstance(a, Path) or isinstance(b, Path):
            a, b = (ROOT / Path(a)).resolve(), (ROOT / Path(b)).resolve()
        if a in (None, "") and b in (None, ""):
            continue  # empty in the file means "unset"
        assert a == b, f"{name}: default {a!r} but .env.example gives {b!r}"


# --- requirements ------------------------------------------------------------------


def _requirement_lines(rel: str) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in read(rel).splitlines() if line.split("#", 1)[0].strip()]


def test_requirements_are_pinned():
    lines = _requirement_lines("requirements.txt")
    pin = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[0-9][^\s;]*$")
    for line in lines:
        assert pin.match(line), f"requirements.txt: not pinned with ==: {line!r}"
    names = {re.split(r"[\[=]", line)[0].lower() for line in lines}
    for needed in ("fastapi", "uvicorn", "numpy", "pydantic", "pydantic-settings", "python-multipart", "orjson", "groq"):
        assert needed in names


def test_dev_requirements_include_runtime_and_are_pinned():
    lines = _requirement_lines("requirements-dev.txt")
    assert "-r requirements.txt" in lines
    names = set()
    for line in lines:
        if line.startswith("-r"):
            continue
        assert "==" in line, f"requirements-dev.txt: not pinned: {line!r}"
        names.add(line.split("==")[0].lower())
    assert {"pytest", "hypothesis", "schemathesis", "httpx", "pyyaml"} <= names


# --- CI, Makefile, README --------------------------------------------------------------


def test_ci_run_is_executable_and_runs_make_test():
    path = ROOT / ".ci" / "run"
    assert os.access(path, os.X_OK)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!") and "bash" in text.splitlines()[0]
    assert "set -euo pipefail" in text
    assert re.search(r"^\s*make test\s*$", text, re.M)


def test_makefile_targets():
    text = read("Makefile")
    for target in ("venv", "dev-venv", "run", "test", "bench", "clean"):
        assert re.search(rf"^{re.escape(target)}:", text, re.M), f"Makefile has no {target} target"
    # Loopback unless asked (HOST=0.0.0.0 exposes it), with the connection bounds of every start command.
    assert "uvicorn api:app --host $(HOST) --port $(PORT) $(SERVE)" in text
    assert re.search(r"^HOST\s*\?=\s*127\.0\.0\.1$", text, re.M)
    assert re.search(r"^SERVE\s*:=\s*(.*)$", text, re.M).group(1).split() == list(SERVE_FLAGS)
    assert re.search(r"^PORT\s*\?=\s*8000", text, re.M)
    assert re.search(r"^PYTHON\s*\?=\s*python3", text, re.M)


def test_readme_mentions_make_targets():
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md not written yet")
    text = readme.read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text


# --- dataset_rl ----------------------------------------------------------------------


def test_dataset_files_present():
    for name in DATA_FILES:
        path = ROOT / "dataset_rl" / name
        assert path.is_file(), f"dataset_rl/{name} is missing"
        assert path.stat().st_size > 0


def test_data_md_names_files_sources_and_licenses():
    text = read("dataset_rl/DATA.md")
    for name in DATA_FILES:
        assert name in text, f"DATA.md does not describe {name}"
    assert "MIT" in text
    assert "Contains data from Electricity Maps" in text and "ODbL" in text  # the grid data's required attribution
    assert "CC BY 4.0" in text
    assert "PerinbaBuilds/TaskPilot" in text and "35cd366" in text
    assert "Steel Industry Energy Consumption" in text and "UCI Machine Learning Repository" in text
    assert "proxy" in text.lower()


@pytest.mark.parametrize("command", ["rl.kernel", "scheduler data"])
def test_build_steps_run(command, tmp_path):
    """The deploy build steps (render.yaml, Dockerfile) succeed from the project root; the data check fills the cache."""
    env = {**os.environ, "TASKPILOT_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", *command.split()], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"python -m {command}" in read("render.yaml") and f"python -m {command}" in read("Dockerfile")
    if command == "scheduler data":
        assert "servers" in done.stdout and any(tmp_path.iterdir()), "the data check wrote no cache"
