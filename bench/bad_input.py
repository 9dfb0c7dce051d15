"""`python -m bench.bad_input [--only CASE]`: what one bad request costs the server (issue 11's cases).

Each case starts a fresh server (bench/live.py, default settings), sends one request that is wrong in a
large way, and prints its status, the answer's size, the wall time from sending to the last byte read,
and the server's peak RSS (VmHWM, /proc) before and after. MB = 10^6 bytes. Not part of `python -m bench`
(no targets; it exists to measure the error bounds of docs/API.md "Errors").
"""

import argparse
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench.live import live_server

SESSION = {"X-Session-ID": "bench-bad-input"}
JSON = {**SESSION, "content-type": "application/json"}
BAD_JOB = {
    "priority": "x", "latency": "x", "cpu": -1, "memory": -1, "estimated_kwh": -1, "co2_kg": -1, "duration_min": -1, "size": -1,
    "intensity": 2, "power_w": -1, "urgency": "x", "interruptible": "x", "job_id": 1.5,
}  # fmt: skip
"""13 bad fields."""


def _batch_of_bad_jobs() -> tuple[str, dict[str, Any]]:
    return "/submit_batch", {"content": orjson.dumps([BAD_JOB] * 80_000), "headers": JSON}


def _unknown_keys() -> tuple[str, dict[str, Any]]:
    job = {"priority": "green", "cpu": 1, "memory": 1, **{f"k{i}": 0 for i in range(1_300_000)}}
    return "/submit", {"content": orjson.dumps(job), "headers": JSON}


def _csv_of_bad_rows(rows: int) -> Any:
    def case() -> tuple[str, dict[str, Any]]:
        data = b"priority,cpu,memory\n" + b"x,-1,-1\n" * rows
        return "/upload", {"files": {"file": ("bad.csv", data, "text/csv")}, "headers": SESSION}

    return case


def _simulate_echo() -> tuple[str, dict[str, Any]]:
    return "/simulate", {"content": orjson.dumps({"study": "x" * 8_000_000}), "headers": JSON}


ZONE_DAY = {"zone": "ES", "start": "2021-01-01T00:00Z", "end": "2021-01-02T00:00Z"}


def _plan_echo() -> tuple[str, dict[str, Any]]:
    job = {"job_id": "a", "submit_time": "x" * 8_000_000, "duration_min": 5}
    return "/plan", {"content": orjson.dumps({**ZONE_DAY, "jobs": [job]}), "headers": JSON}


def _plan_keys() -> tuple[str, dict[str, Any]]:
    return "/plan", {"content": orjson.dumps({**ZONE_DAY, "jobs": [], **{f"k{i}": 0 for i in range(1_000_000)}}), "headers": JSON}


def _plan_values() -> tuple[str, dict[str, Any]]:
    carbon = {"times": ["2021-01-01T00:00Z"] * 3, "values": [True] * 1_000_000}
    return "/plan", {"content": orjson.dumps({"carbon": carbon, "jobs": []}), "headers": JSON}


def _simulate_keys() -> tuple[str, dict[str, Any]]:
    return "/simulate", {"content": orjson.dumps({f"k{i}": 0 for i in range(1_000_000)}), "headers": JSON}


CASES: dict[str, Callable[[], tuple[str, dict[str, Any]]]] = {
    "batch_80k_jobs_13_bad_fields": _batch_of_bad_jobs,
    "job_1.3M_unknown_keys": _unknown_keys,
    "csv_6MB_bad_rows": _csv_of_bad_rows(750_000),
    "csv_99999_bad_rows": _csv_of_bad_rows(99_999),
    "simulate_8MB_string": _simulate_echo,
    "plan_8MB_string": _plan_echo,
    "plan_1M_unknown_keys": _plan_keys,
    "plan_1M_bad_values": _plan_values,
    "simulate_1M_unknown_keys": _simulate_keys,
}


def measure(name: str) -> dict[str, Any]:
    path, request = CASES[name]()
    with live_server() as server, server.client(timeout=600) as client:
        before = server.status_mb("VmHWM")
        started = time.perf_counter()
        with client.stream("POST", path, **request) as response:
            size = sum(len(chunk) for chunk in response.iter_bytes())
        wall = time.perf_counter() - started
        return {"case": name, "status": response.status_code, "answer_bytes": size, "wall_s": round(wall, 2),
                "hwm_before_mb": round(before), "hwm_after_mb": round(server.status_mb("VmHWM"))}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bad_input", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(CASES), help="run only this case (repeatable)")
    args = parser.parse_args(argv)
    print("| case | status | answer bytes | wall s | VmHWM before -> after MB |\n|---|---|---|---|---|")
    for name in args.only or list(CASES):
        r = measure(name)
        print(
            f"| {r['case']} | {r['status']} | {r['answer_bytes']:,} | {r['wall_s']} | {r['hwm_before_mb']} -> {r['hwm_after_mb']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
