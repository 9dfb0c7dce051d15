"""The registry of benchmarks: name -> function (plan in, figures out), in the order a full run takes them.

Imports go one way: this module imports the case modules, and they import only shared helpers
(bench.sizes, bench.report, bench.server, bench.live, bench.workload, bench.inprocess), never this one.
The dashboard case needs Playwright and Chromium, which its module imports only when the case runs.
"""

from collections.abc import Callable

from bench.case_budgets import budgets
from bench.case_caps import caps
from bench.case_concurrency import concurrency
from bench.case_dashboard import dashboard
from bench.case_dqn import dqn_run
from bench.case_engine import agent_loop, engine
from bench.case_gpu_fraction import gpu_fraction
from bench.case_health import health
from bench.case_http import peak_rss, run_compact, run_full, startup
from bench.case_plan import plan_case
from bench.case_simulate import simulate
from bench.case_workflows import latency as workflow_latency
from bench.case_workflows import throughput as workflow_throughput
from bench.case_workflows_crash import crash as workflow_crash
from bench.case_workflows_dag import large_dag as workflow_dag
from bench.report import Figure
from bench.sizes import Plan

BENCHMARKS: dict[str, Callable[[Plan], list[Figure]]] = {
    "engine": engine,
    "agent_loop": agent_loop,
    "run_full": run_full,
    "run_compact": run_compact,
    "peak_rss": peak_rss,
    "startup": startup,
    "concurrency": concurrency,
    "simulate": simulate,
    "dqn_run": dqn_run,
    "gpu_fraction": gpu_fraction,
    "plan": plan_case,
    "dashboard": dashboard,
    "health": health,
    "budgets": budgets,
    "caps": caps,
    "workflow_throughput": workflow_throughput,
    "workflow_latency": workflow_latency,
    "workflow_dag": workflow_dag,
    "workflow_crash": workflow_crash,
}
