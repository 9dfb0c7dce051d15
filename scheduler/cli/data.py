"""`python -m scheduler data`: check the shipped data and fill the parsed-data cache (deploy builds run it).

Reads the reference inputs and the grid zones from the configured data directory, as the service will at
start-up, and reports what it found; a missing or malformed file fails with the file's name.
"""

import argparse

from scheduler.data.datasets import load_datasets
from scheduler.data.grid import load_grid
from scheduler.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m scheduler data",
        description="Check the data in TASKPILOT_DATA_DIR and fill the parsed-data cache (TASKPILOT_CACHE_DIR).",
    ).parse_args(argv)
    settings = get_settings()
    loaded = load_datasets(settings.data_dir, settings.cache_dir)
    grid = load_grid(settings.data_dir, settings.cache_dir)
    print(
        f"{settings.data_dir}: {len(loaded.servers.ids)} servers, {len(loaded.steel_usage_kwh)} steel rows, "
        f"{grid.n_hours} grid hours x {len(grid.zones)} zones; cache {settings.cache_dir}"
    )
    return 0
