"""How much each benchmark does: FULL is what results.json reports, QUICK is a smoke run."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Plan:
    repeats: int
    """Runs per fast figure (engine, run_full, run_compact, concurrency)."""
    big_repeats: int
    """Fresh servers per detail level for the peak-RSS figures."""
    batch_jobs: int
    """Jobs per run for the engine and run_* figures."""
    big_batch_jobs: int
    """Jobs in the one run whose peak RSS is measured."""
    starts: int
    """Fresh server starts for the start-up figures."""
    concurrency_jobs: int
    """Jobs per compact run in the concurrency figures."""
    concurrency_runs: int
    """Runs each client makes per repeat in the concurrency figures."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


FULL = Plan(repeats=5, big_repeats=2, batch_jobs=10_000, big_batch_jobs=100_000, starts=5, concurrency_jobs=2_000, concurrency_runs=10)
QUICK = Plan(repeats=1, big_repeats=1, batch_jobs=2_000, big_batch_jobs=20_000, starts=1, concurrency_jobs=2_000, concurrency_runs=3)
