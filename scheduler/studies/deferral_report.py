"""The deferral study's document: per-strategy figures, the region and job views, and the table and CSV.

`summarise` folds a strategy's runs (several for the noisy forecast) into one row of figures; the views
say what was run (signal, source, window, the jobs' mix); `format_table`, `to_csv` and `write_outputs`
(results.json, results.csv and a self-contained report.html from deferral_template.html) are the terminal
and file forms that `python -m scheduler.evaluate --study deferral` writes. Kept apart
from the study so the numbers and their presentation change independently.
"""

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from scheduler.core import states
from scheduler.core.energy import ECO, MODES
from scheduler.core.fleet import Fleet
from scheduler.core.units import INTENSITY_UNIT
from scheduler.data.carbon_series import iso
from scheduler.sim.config import DeferralConfig
from scheduler.studies import report_html
from scheduler.studies.deferral_regions import SOURCES, Region
from scheduler.studies.deferral_schedules import Jobs

UNITS = {
    "co2": "kg CO2eq",
    "energy": "kWh",
    "delay": "minutes",
    "intensity": INTENSITY_UNIT,
    "cost": "price x kWh, in the reference price series' unitless currency",
}


STUDY_NOTES = (
    "run_now (FAST at submit) is the baseline of saved_kg and saved_pct.",
    (
        "oracle plans every flexible job with the perfect forecast and lets it interrupt: "
        "a lower bound on the forecast strategies' CO2, not on threshold's (ECO changes the energy)."
    ),
    "Emissions are measured on the actual signal; decisions use the history before the decision slot and a forecast from it on.",
)


def summarise(runs: list[dict[str, float]], baseline_kg: float) -> dict[str, float]:
    """One strategy's figures: the mean over its runs (several for the noisy forecast), sample std of
    CO2 and of the saving; misses and moved critical jobs are the worst run's."""
    co2 = np.array([r["co2_kg"] for r in runs])
    saved_pct = (baseline_kg - co2) / baseline_kg * 100.0 if baseline_kg > 0 else np.zeros(len(runs))
    ddof = 1 if len(runs) > 1 else 0
    out: dict[str, float] = {
        "co2_kg": float(co2.mean()),
        "co2_kg_std": float(co2.std(ddof=ddof)),
        "saved_kg": float(baseline_kg - co2.mean()),
        "saved_pct": float(saved_pct.mean()),
        "saved_pct_std": float(saved_pct.std(ddof=ddof)),
    }
    for key in ("deadline_misses", "feasible_deadlines", "critical_moved"):
        out[key] = max(r[key] for r in runs)
    for key in ("delay_mean_min", "delay_p95_min", "energy_kwh", "cost", "deferred_jobs", "eco_jobs"):
        values = [r[key] for r in runs]
        out[key] = values[0] if len(values) == 1 else float(np.mean(values))
    out["runs"] = len(runs)
    return out


def region_view(region: Region, config: DeferralConfig, first: np.datetime64, jobs: Jobs, strategies: dict[str, Any]) -> dict[str, Any]:
    """The region's entry in the document: its signal and source, the study window and its mean, the figures."""
    source, series = SOURCES[region.name], region.series
    basis = f", {config.basis} emissions" if source.path is None else ""
    last = first + np.timedelta64(round(float(jobs.deadline_min.max()) if len(jobs) else 0.0), "m")
    s0 = int(np.floor(series.slot_of(first)))
    return {
        "signal": source.signal,
        "source": source.label + basis,
        "unit": INTENSITY_UNIT,
        "start": iso(first),
        "end": iso(last),
        "step_min": series.step_min,
        "mean_g_per_kwh": float(series.values[s0 : int(np.ceil(series.slot_of(last)))].mean()),
        "issued_forecasts": region.issued is not None,
        "strategies": strategies,
    }


def region_notes(config: DeferralConfig, region: Region) -> list[str]:
    """What a reader must know to compare this region's figures: reading notes, skipped forecasts, marginal signals."""
    notes = [f"{region.name}: {note}" for note in region.series.notes]
    if "issued" in config.forecasts and region.issued is None:
        notes.append(f"{region.name}: forecast_issued skipped, no issued forecasts for this region (only CAISO_NORTH has them).")
    if SOURCES[region.name].signal == "marginal":
        notes.append(
            f"{region.name}: a marginal signal (emissions of one more kWh); "
            "its savings are not comparable one-to-one with average-intensity regions'."
        )
    return notes


def jobs_view(config: DeferralConfig, jobs: Jobs, fleet: Fleet) -> dict[str, Any]:
    """The jobs' entry in the document: counts by urgency, the server, mean runtime and power per mode."""
    counts = np.bincount(jobs.urgency, minlength=3)
    return {
        "workload": config.workload,
        "count": len(jobs),
        "server": fleet.names[fleet.n_servers // 2],
        **{urgency: int(c) for urgency, c in zip(states.URGENCIES, counts)},
        "interruptible": int(jobs.interruptible.sum()),
        "fast_runtime_mean_min": float(jobs.fast_min.mean()),
        "eco_slowdown": ECO.slowdown,
        "power_mean_w": dict(zip((m.name for m in MODES), jobs.power_w.mean(axis=0).tolist())),
    }


TABLE_COLUMNS = (
    ("region", "region", "s"),
    ("strategy", "strategy", "s"),
    ("co2_kg", "CO2 kg", ",.2f"),
    ("saved_pct", "saved %", ".1f"),
    ("deadline_misses", "misses", ",d"),
    ("delay_mean_min", "delay min", ",.1f"),
    ("delay_p95_min", "p95 min", ",.1f"),
    ("energy_kwh", "energy kWh", ",.1f"),
    ("cost", "cost", ",.1f"),
    ("deferred_jobs", "deferred", ",.0f"),
    ("eco_jobs", "ECO", ",.0f"),
)


def format_table(document: dict[str, Any]) -> str:
    """The region x strategy table for a terminal; noisy figures are means (± their std in saved %)."""
    head = [label for _, label, _ in TABLE_COLUMNS]
    body = []
    for row in document["table"]:
        cells = [format(row[key], spec) for key, _, spec in TABLE_COLUMNS]
        if row["runs"] > 1:
            cells[3] += f" ±{row['saved_pct_std']:.1f}"
        body.append(cells)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_csv(document: dict[str, Any]) -> str:
    """The table as CSV, one row per region x strategy, columns in the document's order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(document["table"][0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(document["table"])
    return out.getvalue()


TEMPLATE = Path(__file__).with_name("deferral_template.html")


def write_outputs(document: dict[str, Any], out_dir: Path) -> None:
    """results.json, results.csv and report.html (self-contained, as the placement study's: report_html.py)."""
    report_html.write_files(out_dir, document, to_csv(document), TEMPLATE)
