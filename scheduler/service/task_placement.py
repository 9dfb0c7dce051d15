"""Each task of a workflow goes through TaskPilot's own decisions before it runs: the session places its jobs
(Session.run: the tier agents choose the server, and in grid sessions the when-policy chooses now in FAST or
ECO, or a later, greener start), and this turns each decision into what the executor needs: the worker pool
(the mode), the deferral on the session's clock, the power the energy estimate multiplies, and the zone's
intensity over the planned run.
"""

import numpy as np

from scheduler.core import energy
from scheduler.core.states import DEFER, MODES
from scheduler.execution.admit import Placement
from scheduler.placement.engine import BatchRecord, World


def placements_of(world: World, record: BatchRecord, rows: np.ndarray) -> list[Placement]:
    jobs, chosen, timing = record.jobs.take(rows), record.chosen[rows], record.timing
    work = energy.job_work(jobs.cpu, jobs.memory, jobs.duration_min, jobs.size, jobs.intensity)
    scenario_power = getattr(record.scenario, "power_w", None)  # the grid scenario's, which honours a job's own power_w
    machines = energy.build_machines(world.fleet)
    power = {}
    for mode in energy.MODES:
        table = scenario_power(work, jobs, mode) if scenario_power is not None else energy.power_w(machines, work, mode)
        power[mode.name] = table[np.arange(len(rows)), chosen]
    out = []
    for k, row in enumerate(rows.tolist()):
        mode = MODES[int(timing.mode[row])] if timing is not None else "fast"
        delay_h = 0.0
        if timing is not None and int(timing.action[row]) == DEFER:
            delay_h = max(0.0, float(timing.start_h[row]) - float(record.scenario.hour_at(record.pointer + row)))  # type: ignore[attr-defined]
        out.append(
            Placement(
                int(record.job_ids[row]), world.fleet.names[int(chosen[k])], mode, delay_h, float(power[mode][k]),
                None if timing is None else float(timing.intensity_g[row]),
                None if timing is None else float(timing.co2_now_kg[row]),
                None if timing is None else float(timing.co2_kg[row]),
            )
        )  # fmt: skip
    return out


def plan_co2(placements: list[Placement]) -> dict[str, float] | None:
    """What the when-policy's timing saves against running every task as soon as it is ready, now in FAST mode,
    both on the actual grid signal (grid sessions only)."""
    now = [p.co2_run_now_kg for p in placements]
    planned = [p.co2_planned_kg for p in placements]
    if any(v is None for v in now + planned):
        return None
    run_now, chosen = float(sum(now)), float(sum(planned))  # type: ignore[arg-type]
    return {"run_now_kg": run_now, "planned_kg": chosen, "saved_kg": run_now - chosen}
