"""`python -m bench.readme`: rewrite docs/speed.md's benchmark block from bench/results.json.

docs/speed.md quotes only figures a full `python -m bench` run wrote, with the machine they came from.
"""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = (
    ("engine.decisions_per_s", "engine alone, 10,000-job batch (decisions/s)"),
    ("engine.bytes_per_job", "memory a session keeps per scheduled job (bytes)"),
    ("agent_loop.kernel_steps_per_s", "agent loop, C kernel (steps/s)"),
    ("agent_loop.python_steps_per_s", "agent loop, plain Python fallback (steps/s)"),
    ("run_full.jobs_per_s", "`POST /run`, full detail, 10,000 jobs over HTTP (jobs/s)"),
    ("run_full.kb_per_job", "full-detail response size (KB per job)"),
    ("run_compact.jobs_per_s", "`POST /run?detail=compact`, 10,000 jobs over HTTP (jobs/s)"),
    ("peak_rss.full_mb", "100,000-job run, full detail: server peak RSS (MB)"),
    ("peak_rss.full_wall_s", "100,000-job run, full detail: wall time (s)"),
    ("peak_rss.compact_mb", "100,000-job run, compact: server peak RSS (MB)"),
    ("startup.ready_s", "process start to first 200 on `/health` (s)"),
    ("startup.idle_rss_mb", "idle RSS after start (MB)"),
    ("concurrency.jobs_per_s_1c", "compact runs, 1 client (jobs/s)"),
    ("concurrency.jobs_per_s_4c", "compact runs, 4 clients at once (jobs/s)"),
    ("simulate.wall_s", "simulator: 100,000 jobs x 7 policies, grid scenario (s)"),
    ("plan.wall_s", "planner: 3,000 jobs of 2-12 h over a year of 30-min data, perfect + noisy x 10 + persistence (s)"),
    ("dashboard.run_to_drawn_s", "dashboard: 10,000 jobs, Run click to last chart drawn, headless Chromium (s)"),
    ("dashboard.reload_s", "dashboard: reload of a 10,000-job session from `/history` (s)"),
    ("health.p99_ms_idle", "`/health` p99, idle server (ms)"),
    ("health.p99_ms_plans", "`/health` p99, both plan workers busy and their line full (ms)"),
    ("health.p99_ms_llm", "`/health` p99, the shared pool full of LLM calls that never answer (ms)"),
    ("health.p99_ms_run", "`/health` p99, 100,000-job runs one after the other (ms)"),
    ("health.p99_ms_all", "`/health` p99, all three at once (ms)"),
    ("health.rss_mb_all", "server peak RSS, all three at once (MB)"),
    ("workflow_throughput.tasks_per_s", "workflows: 10,000 no-op single-task workflows on the durable store (tasks/s)"),
    ("workflow_throughput.huey_tasks_per_s", "the same through Huey's SqliteHuey and its consumer, at its defaults (tasks/s)"),
    ("workflow_throughput.vs_huey", "workflows: TaskPilot / Huey (x)"),
    ("workflow_latency.p99_ms", "workflows: ready to running with a worker free, p99 (ms)"),
    ("workflow_dag.total_s", "workflows: a 10,000-task DAG of depth 50 validated and planned (s)"),
    ("workflow_crash.lost", "workflows: tasks lost to a kill -9 with 1,000 in flight"),
)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def block(results: dict) -> str:
    figures = {f["name"]: f for f in results["figures"]}
    m = results["machine"]
    lines = [
        f"Measured by `make bench` (`python -m bench`): {m['cores']} cores, {m['memory_total_mb'] / 1024:.0f} GiB, {m['cpu_model']},",
        f"Python {m['python']}, numpy {m['numpy']}; commit `{results['commit'][:7]}`, {results['date'][:10]}. The benchmark starts its own",
        "server on 127.0.0.1; the client shares the machine's cores with it. Figures are medians of 5 runs (2 for",
        "the 100,000-job runs).",
        "",
        "| figure | median | min .. max | target | met |",
        "|---|---|---|---|---|",
    ]
    for name, label in ROWS:
        f = figures.get(name)
        if f is None:
            continue
        target = f"{f['target']['op']} {_number(f['target']['value'])}" if f["target"] else "-"
        met = {True: "yes", False: "**no**", None: "-"}[f["pass"]]
        lines.append(f"| {label} | {_number(f['median'])} | {_number(f['min'])} .. {_number(f['max'])} | {target} | {met} |")
    return "\n".join(lines)


def main() -> None:
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    readme = ROOT / "docs" / "speed.md"
    text = readme.read_text()
    pattern = re.compile(r"(<!-- bench:start[^>]*-->\n).*?(<!-- bench:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit("docs/speed.md has no <!-- bench:start --> ... <!-- bench:end --> block")
    readme.write_text(pattern.sub(lambda m: m.group(1) + block(results) + "\n" + m.group(2), text))


if __name__ == "__main__":
    main()
