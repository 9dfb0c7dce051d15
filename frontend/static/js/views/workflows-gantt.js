/* The Workflows tab's Gantt: every attempt of every task (compensations included) as a floating bar on the
 * row of the worker that ran it, coloured by its outcome, so retries and failures show as red bars before
 * the green one. Times are seconds since the workflow's submission on the executor's clock. */

import { ATTEMPT_OUTCOMES, MODES } from '/js/states.js';
import { updateChart } from '../charts.js';
import { setText } from '../dom.js';
import { amount, fixed, integer } from '../format.js';

// One colour per outcome, in the order of ATTEMPT_OUTCOMES (succeeded, failed, timed out, interrupted,
// cancelled), each 3:1 or more on white; an attempt still running is blue. Failed and timed-out bars also get
// a dark border, so a failure is told by more than its hue.
const OUTCOME_COLORS = ['#2b8a3e', '#c92a2a', '#b35c00', '#6c757d', '#495057'];
const FAILING = new Set(ATTEMPT_OUTCOMES.slice(1, 3));
const RUNNING_COLOR = '#1864ab';
const RUNNING_LABEL = 'running now';
const outcomeWords = (outcome) => (outcome ? outcome.replace('_', ' ') : RUNNING_LABEL);

/** Workers in pool order (FAST before ECO, as MODES), then by number: fast-0, fast-1, eco-0. */
function workerOrder(a, b) {
  const [poolA, nA] = a.split('-'), [poolB, nB] = b.split('-');
  const rank = (pool) => (MODES.includes(pool) ? MODES.indexOf(pool) : MODES.length);
  return rank(poolA) - rank(poolB) || Number(nA) - Number(nB) || a.localeCompare(b);
}

/** The tooltip of one attempt: task, attempt number, outcome, error, runtime, energy and CO2. */
function tip(task, attempt, view) {
  const lines = [
    `Attempt ${attempt.n} of ${task.max_attempts}: ${outcomeWords(attempt.outcome)}`,
    `Worker ${attempt.worker}${task.server ? `, placed on ${task.server}` : ''}`,
  ];
  if (attempt.error) lines.push(`Error: ${attempt.error}`);
  if (attempt.runtime_s !== null) lines.push(`Runtime ${fixed(attempt.runtime_s, 3)} s (measured)`);
  if (attempt.energy_kwh !== null) lines.push(`Energy ${amount(attempt.energy_kwh)} kWh (${view.footprint.label})`);
  if (attempt.co2_kg !== null) lines.push(`CO₂ ${amount(attempt.co2_kg)} kg (${view.footprint.label})`);
  if (attempt.cpu_energy_j !== null) lines.push(`CPU energy ${fixed(attempt.cpu_energy_j, 1)} J (measured)`);
  return { title: task.role === 'compensation' ? `${task.task} (compensation)` : task.task, lines };
}

/** The Gantt of a workflow (GET /workflows/{id}); an attempt still running ends at the clock's now. */
export function renderGantt(view) {
  const t0 = view.created_at;
  const groups = [...ATTEMPT_OUTCOMES, null].map((outcome) => ({ outcome, bars: [] }));
  const workers = new Set();
  let failures = 0, attempts = 0;
  for (const task of view.tasks) {
    for (const attempt of task.attempts) {
      const end = attempt.ended_at ?? Math.max(view.clock.now, attempt.started_at);
      const group = groups.find((g) => g.outcome === attempt.outcome) || groups[groups.length - 1];
      group.bars.push({ x: [attempt.started_at - t0, end - t0], y: attempt.worker, name: `${task.task} #${attempt.n}`, ...tip(task, attempt, view) });
      workers.add(attempt.worker);
      attempts += 1;
      if (FAILING.has(attempt.outcome)) failures += 1;
    }
  }
  const datasets = groups.map(({ outcome, bars }, i) => {
    const color = outcome === null ? RUNNING_COLOR : OUTCOME_COLORS[i];
    return {
      label: outcomeWords(outcome), data: bars, backgroundColor: color, grouped: false, barPercentage: 0.7, categoryPercentage: 1,
      // Failures outlined dark; the others in white, so two attempts one after the other on a worker stay two bars.
      borderColor: FAILING.has(outcome) ? '#3d0a0a' : '#fff', borderWidth: FAILING.has(outcome) ? 2 : 1, borderSkipped: false, minBarLength: 3,
    };
  });
  updateChart('chart-gantt', [...workers].sort(workerOrder), [], (chart) => { chart.data.datasets = datasets; });
  const retried = view.tasks.filter((t) => t.attempts.length > 1).map((t) => t.task);
  setText('gantt-note', attempts === 0 ? 'No attempt has started yet.'
    : `${integer(attempts)} attempt${attempts === 1 ? '' : 's'} on ${integer(workers.size)} worker${workers.size === 1 ? '' : 's'}; `
      + `${integer(failures)} failed or timed out${retried.length ? `; retried: ${retried.join(', ')}` : ''}. Hover a bar for its attempt, error, energy and CO₂.`);
}
