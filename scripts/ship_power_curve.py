"""Rebuild dataset_rl/power_curve.csv from ../shared/data/power/specpower_curves.csv (maintainers only).

Each SPECpower_ssj2008 result gives wall power at active idle and at 10 %..100 % load. Normalising each
to its own idle and full-load power, (P(u) - P_idle) / (P_100 - P_idle), and taking the median over all
results gives one curve shape: the fraction of a server's dynamic power range drawn at utilisation u.
TaskPilot scales it to each server's P_idle and P_peak. Usage: python scripts/ship_power_curve.py [SHARED_DATA_DIR]
"""

import csv
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEVELS = ("watts_idle", *(f"watts_{p}pct" for p in range(10, 101, 10)))


def main(shared: Path) -> None:
    with open(shared / "power" / "specpower_curves.csv", encoding="utf-8", newline="") as fh:
        results = [[float(row[c]) for c in LEVELS] for row in csv.DictReader(fh)]
    shapes = [[(w - r[0]) / (r[-1] - r[0]) for w in r] for r in results if r[-1] > r[0]]
    median = [statistics.median(s[i] for s in shapes) for i in range(len(LEVELS))]
    with open(ROOT / "dataset_rl" / "power_curve.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("utilisation", "dynamic_fraction"))
        writer.writerows((f"{i / 10:.1f}", f"{m:.4f}") for i, m in enumerate(median))
    print(f"median of {len(shapes)} SPECpower results: {[round(m, 3) for m in median]}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
