"""Rebuild dataset_rl/grid/*.csv from ../shared/data (maintainers only; the product never runs this).

Electricity Maps hourly files (2021-2023, one per zone and year) are joined per zone and cut down to the
two intensity columns TaskPilot reads. Values are copied as written, never recomputed, so the shipped
figures equal the source's. Usage: python scripts/ship_grid_data.py [SHARED_DATA_DIR]
"""

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZONES = ("BR", "ES", "NO", "US-CAL-CISO")
YEARS = (2021, 2022, 2023)
DIRECT = "Carbon Intensity gCO\u2082eq/kWh (direct)"
LCA = "Carbon Intensity gCO\u2082eq/kWh (LCA)"


def main(shared: Path) -> None:
    src = shared / "grid-carbon" / "electricitymaps-hourly"
    out = ROOT / "dataset_rl" / "grid"
    out.mkdir(parents=True, exist_ok=True)
    for zone in ZONES:
        rows = []
        for year in YEARS:
            with open(src / f"{zone}_{year}_hourly.csv", encoding="utf-8", newline="") as fh:
                for rec in csv.DictReader(fh):
                    assert rec["Zone Id"] == zone, rec
                    rows.append((rec["Datetime (UTC)"].replace(" ", "T") + "Z", rec[DIRECT], rec[LCA]))
        with open(out / f"{zone}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(("datetime_utc", "direct_g_per_kwh", "lca_g_per_kwh"))
            writer.writerows(rows)
        print(f"{zone}: {len(rows)} hours")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
