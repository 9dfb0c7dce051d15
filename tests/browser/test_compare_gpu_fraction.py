"""The Compare tab's GPU-fraction study (frontend/static/js/views/compare-gpu-fraction.js): the form's body,
the run followed to its end, and the results as the server's document has them, in a browser."""

from __future__ import annotations

import json

import httpx

from .conftest import Dashboard

SETTLED = "() => ['done', 'failed', 'cancelled', 'error'].includes(document.body.dataset.simState)"
TASKS, SEED, SEEDS = 400, 7, 2
CHOSEN = ("hybrid_ml", "greedy", "round_robin")


def test_the_compare_tab_runs_the_gpu_fraction_study(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    page.select_option("#sim-study", "gpu-fraction")
    assert page.is_visible("#gpu-policies") and page.is_hidden("#sim-policies") and page.is_hidden("#defer-regions")
    assert dashboard.text("#sim-title") == "Compare GPU fractions on one CPU and four GPUs"
    page.fill("#sim-jobs", str(TASKS))
    page.fill("#sim-seed", str(SEED))
    page.fill("#gpu-seeds", str(SEEDS))
    for name in page.eval_on_selector_all("#gpu-policies input", "(els) => els.map((e) => e.value)"):
        page.set_checked(f"#gpu-policies input[value='{name}']", name in CHOSEN)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.post_data or "") if r.method == "POST" and r.url.endswith("/simulate") else None)
    page.click("#sim-start")
    page.wait_for_function(SETTLED)
    assert page.get_attribute("body", "data-sim-state") == "done", dashboard.text("#sim-status")
    assert json.loads(posts[0]) == {
        "study": "gpu-fraction",
        "tasks": TASKS,
        "seed": SEED,
        "seeds": SEEDS,
        "load": 1,
        "policies": list(CHOSEN),
        "warmup": TASKS // 2,
    }
    run_id = page.evaluate("() => sessionStorage.getItem('taskpilot.simulation')")
    result = httpx.get(f"{dashboard.base}/simulate/{run_id}", trust_env=False, timeout=30).json()["result"]
    assert dashboard.text("#sim-status").startswith(f"Done: 4 policies on {TASKS} tasks per seed in ")
    assert page.is_visible("#gpu-results") and page.is_hidden("#sim-results") and page.is_hidden("#defer-results")
    assert dashboard.text("#gpu-run-id") == f"run {run_id}" and f"seeds {SEED}, {SEED + 1} " in dashboard.text("#gpu-meta")
    rows = page.eval_on_selector_all("#gpu-table-body tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))")
    assert [r[0] for r in rows] == ["oracle", *CHOSEN] == result["policies"]
    for cells, row in zip(rows, result["table"]):
        assert cells[1] == f"{row['time_after_s']:.2f} ± {row['time_after_s_ci']:.2f}"
        assert cells[2] == f"{row['efficiency_time']:.3f} ± {row['efficiency_time_ci']:.3f}"
    goals = dashboard.text("#gpu-goals")
    assert f"hybrid_ml reaches {100 * result['goals']['hybrid_efficiency_time']:.1f} %" in goals
    matrix = page.eval_on_selector_all("#gpu-winloss-body tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))")
    assert matrix[1][0] == "hybrid_ml" and matrix[1][2] == "–" and matrix[1][1] == f"{100 * result['win_loss']['time'][1][0]:.0f} %"
    # Each study keeps its own part: the placement study's is empty until a placement run.
    page.select_option("#sim-study", "placement")
    assert page.is_hidden("#gpu-results") and page.is_visible("#sim-policies")
    page.select_option("#sim-study", "gpu-fraction")
    assert page.is_visible("#gpu-results")
    assert not dashboard.page_errors and not dashboard.console_errors
