/* The Compare tab: a simulator run's progress, and the placement study's results (race, trade-off,
 * learning curve, win/loss, every metric). The deferral study's results are compare-deferral.js's;
 * starting, following and cancelling a run are actions/simulate.js's. */

import { series, updateChart } from '../charts.js';
import { windowEnds } from '../derive.js';
import { $, el, setLive, setOff, setText } from '../dom.js';
import { amount, fixed, integer, percent } from '../format.js';
import { COLORS, policyColor, policyStyle } from '../palette.js';
import { state } from '../store.js';
import { renderDeferralResults } from './compare-deferral.js';
import { renderGpuFractionResults } from './compare-gpu-fraction.js';

export const SIM_ACTIVE = ['queued', 'running']; // a run's statuses while it lasts
const BOUND_LABEL = 'hindsight lower bound';
const REFERENCE_LABEL = 'constrained reference'; // results.json's `reference`: least CO₂ with idle at least_loaded's mean completion
const studyOf = (config) => (config && ['deferral', 'gpu-fraction'].includes(config.study) ? config.study : 'placement');

/** The metrics table's columns: a policy summary key, its heading, the unit (a key of the result's
 * `units`, or text), digits (`amount`: three significant ones), and whether higher is better. */
const SIM_COLUMNS = [
  { key: 'energy_kwh', label: 'Energy', units: 'energy', digits: 'amount' },
  { key: 'co2_kg', label: 'CO₂', units: 'co2', digits: 'amount' },
  { key: 'co2_with_idle_kg', label: 'CO₂ with idle', units: 'co2', digits: 'amount' },
  { key: 'cost', label: 'Cost', units: 'cost', digits: 2 },
  { key: 'completion_mean_min', label: 'Mean completion', units: 'time', digits: 1 },
  { key: 'completion_p95_min', label: 'p95 completion', units: 'time', digits: 1 },
  { key: 'wait_mean_min', label: 'Mean wait', units: 'time', digits: 1 },
  { key: 'throughput_per_h', label: 'Throughput', units: 'throughput', digits: 2, higher: true },
  { key: 'utilisation', label: 'Utilisation', text: 'share of cores', digits: 3, higher: true },
  { key: 'starved', label: 'Starved', text: 'jobs', digits: 0 },
  { key: 'slo_miss', label: 'SLO miss', text: 'share of jobs', digits: 3 },
  { key: 'quality_mean', label: 'Quality', text: '0–1', digits: 3, higher: true },
];

/** The followed run's status line, progress bar and buttons. Only a change of status (or of the policy
 * being run) reaches the live region #sim-status; the running count goes to #sim-detail, which is not live. */
export function renderSimProgress(view) {
  const p = view.progress;
  const active = SIM_ACTIVE.includes(view.status);
  document.body.dataset.simState = view.status;
  $('sim-progress').value = view.status === 'done' ? 1 : p.fraction;
  setSimButtons(active);
  const status = {
    queued: 'Queued: waiting for a free simulation slot on the server.',
    running: p.total ? `Running ${p.policy}.` : {
      deferral: 'Running: building the jobs and reading each region’s signal.', 'gpu-fraction': 'Running: starting the study’s own process.',
    }[studyOf(view.config)] || 'Running: building the workload and the carbon clock.',
    done: `Done: ${doneWhat(view)} on ${studyOf(view.config) === 'gpu-fraction' ? `${integer(view.config.tasks)} tasks per seed` : `${integer(view.config.jobs)} jobs`} in ${fixed(view.elapsed_s, 2)} s.`,
    cancelled: `Cancelled: ${view.error || 'stopped on request'}.`,
    failed: `Failed: ${view.error || 'no reason given'}.`,
  }[view.status] || `Status: ${view.status}`;
  setLive('sim-status', state.sim.cancelling && active ? `Cancelling (the run stops between two chunks of jobs). ${status}` : status);
  const unit = { deferral: 'job plans', 'gpu-fraction': 'task runs' }[studyOf(view.config)] || 'job runs';
  setText('sim-detail', active && p.total ? `${integer(p.done)} of ${integer(p.total)} ${unit} (${percent(p.fraction, 1)}).` : '');
}

/** What a finished run compared: "3 policies", or "6 strategies in 2 regions". */
function doneWhat(view) {
  const plural = (k, word, words) => `${integer(k)} ${k === 1 ? word : words}`;
  if (studyOf(view.config) !== 'deferral') return plural(view.config.policies.length, 'policy', 'policies');
  const table = (view.result && view.result.table) || [];
  return `${plural(new Set(table.map((row) => row.strategy)).size, 'strategy', 'strategies')} in ${plural(view.config.regions.length, 'region', 'regions')}`;
}

/** Start and Cancel follow the run; focus moves with them (Start to Cancel, and back) instead of
 * being dropped on a button that switches off. */
export function setSimButtons(active) {
  const start = $('sim-start'), cancel = $('sim-cancel');
  setOff(start, active);
  setOff(cancel, !active || state.sim.cancelling);
  if (active && !state.sim.cancelling && document.activeElement === start) cancel.focus();
  if (!active && document.activeElement === cancel) start.focus();
}

/** A finished run's document (GET /simulate/{id} `result`), drawn in its study's part of the Compare tab. */
export function renderSimResults(view) {
  const study = studyOf(view.config);
  if (study === 'deferral') renderDeferralResults(view);
  else if (study === 'gpu-fraction') renderGpuFractionResults(view);
  else renderPlacementResults(view);
  state.sim.shown[study] = true;
  if ($('sim-study').value !== study) $('sim-study').value = study;
  selectStudy(study);
}

/** The Compare form and results of one study: the other study's fields are hidden and switched off
 * (so neither sent nor validated); each study's last results stay, shown with their study. */
export function selectStudy(study) {
  for (const node of document.querySelectorAll('#tab-compare [data-study]')) {
    const off = node.dataset.study !== study;
    node.hidden = off;
    for (const control of node.querySelectorAll('input, select')) control.disabled = off;
    if (node.matches('input, select')) node.disabled = off;
  }
  const titles = { deferral: 'Compare when-to-run strategies in the simulator', 'gpu-fraction': 'Compare GPU fractions on one CPU and four GPUs' };
  setText('sim-title', titles[study] || 'Compare placement policies in the simulator');
  $('sim-results').hidden = !(study === 'placement' && state.sim.shown.placement);
  $('defer-results').hidden = !(study === 'deferral' && state.sim.shown.deferral);
  $('gpu-results').hidden = !(study === 'gpu-fraction' && state.sim.shown['gpu-fraction']);
}

/** The placement study's results: text, charts and tables. */
function renderPlacementResults(view) {
  const r = view.result;
  state.sim.result = r;
  const wl = r.workload;
  const loads = Object.entries(wl.offered_load).map(([tier, load]) => `${tier} ${fixed(load, 2)}`).join(', ');
  setText('sim-run-id', `run ${view.id}`);
  setText('sim-meta', `${wl.name}: ${integer(wl.jobs)} jobs over ${fixed(wl.span_h, 1)} h of simulated time; scenario ${r.clock.scenario}; `
    + `seed ${r.seed} (enter it to replay this run); offered load ${loads}.`);
  const proxy = r.clock.carbon_kind.startsWith('proxy');
  const badge = $('sim-carbon-badge');
  badge.dataset.kind = proxy ? 'proxy' : 'average';
  badge.textContent = proxy ? 'Carbon: proxy' : 'Carbon: average grid intensity';
  setText('sim-carbon-kind', proxy
    ? `CO₂ here is computed from a proxy, not from grid data: ${r.clock.carbon_kind}.`
    : `CO₂ here is computed from real grid data: ${r.clock.carbon_kind}.`);
  const metric = $('race-metric');
  for (const option of metric.options) option.hidden = option.disabled = !(option.value in r.policies[0]);
  if (metric.selectedOptions[0].disabled) metric.value = 'co2_kg';
  renderRace();
  renderTradeoff(r);
  renderLearning(r);
  renderWinLoss(r);
  renderSimTable(r);
}

/** One bar per policy for the chosen metric (shorter is better); the CO2 race adds the lower bound, the CO2
 * with idle race the constrained reference (a run without one has `reference: null`). */
function renderRace() {
  const r = state.sim.result;
  if (!r) return;
  const key = $('race-metric').value;
  const title = $('race-metric').selectedOptions[0].textContent;
  let rows = r.policies.map((p) => [p.policy, p[key]]);
  if ($('race-sort').checked) rows = rows.slice().sort((a, b) => a[1] - b[1]);
  const bound = key === 'co2_kg' ? r.lower_bound.co2_kg : null;
  const ref = key === 'co2_with_idle_kg' && r.reference ? r.reference.summary.co2_with_idle_kg : null;
  if (bound !== null) rows.unshift([BOUND_LABEL, bound]);
  if (ref !== null) rows.unshift([REFERENCE_LABEL, ref]);
  const colour = (name) => ({ [BOUND_LABEL]: COLORS.bound, [REFERENCE_LABEL]: COLORS.final }[name] || policyColor(name));
  updateChart('chart-race', rows.map(([name]) => name), [rows.map(([, value]) => value)], (chart) => {
    chart.data.datasets[0].label = title;
    chart.data.datasets[0].backgroundColor = rows.map(([name]) => colour(name));
    chart.options.scales.x.title.text = `${title}: shorter is better`;
  });
  setText('race-bound', bound !== null
    ? `Grey bar: the hindsight lower bound on the jobs' CO₂, ${amount(bound)} kg. No policy can emit less: it holds for ${r.lower_bound.holds_for}, so it is usually out of reach.`
    : ref !== null
      ? `Dark bar: the constrained reference, ${amount(ref)} kg: the least CO₂ with idle found with hindsight at a mean completion no worse than least_loaded's. No policy of this comparison that finishes jobs as fast emits less; see the table's gaps.`
      : 'The hindsight lower bound applies to the jobs\' CO₂ and is shown with that metric; the constrained reference to CO₂ with idle.');
}

function renderTradeoff(r) {
  const xs = r.policies.map((p) => p.completion_mean_min);
  const bound = r.lower_bound.co2_kg;
  const datasets = r.policies.map((p) => ({
    label: p.policy, data: [{ x: p.completion_mean_min, y: p.co2_kg }],
    ...policyStyle(p.policy), borderDash: [], borderWidth: 2, pointRadius: 7, pointHoverRadius: 9,
  }));
  datasets.push({
    label: BOUND_LABEL, type: 'line', data: [{ x: Math.min(...xs), y: bound }, { x: Math.max(...xs), y: bound }],
    borderColor: COLORS.bound, backgroundColor: COLORS.bound, borderDash: [6, 4], pointRadius: 0, pointStyle: 'line',
  });
  updateChart('chart-tradeoff', null, [], (chart) => { chart.data.datasets = datasets; });
}

function renderLearning(r) {
  const curve = r.learning_curve;
  const names = Object.keys(curve.quality);
  const ends = windowEnds(r.workload.jobs, names.length ? curve.quality[names[0]].length : 0);
  const points = (values) => values.map((y, i) => ({ x: ends[i], y }));
  const datasets = names.map((name) => series(name, policyColor(name), { ...policyStyle(name), data: points(curve.quality[name]), pointRadius: 3.5 }));
  if (curve.agent_reward) {
    datasets.push(series('tier_agents training reward', policyColor('tier_agents'), {
      data: points(curve.agent_reward), borderDash: [2, 2], pointStyle: 'line', pointRadius: 4,
    }));
  }
  updateChart('chart-learning', null, [], (chart) => { chart.data.datasets = datasets; });
  setText('learning-note', `Each point: the mean quality score (the seed's tier-weighted performance, cost, CO₂ and latency, 0–1) of the chosen servers over about ${integer(curve.window_jobs)} jobs, in arrival order. `
    + `Greedy picks the best score for every job, so it is the ceiling.${curve.agent_reward ? ' In tier_agents\' colour with flat dash marks: the agents\' training reward (quality minus the overload penalty).' : ''}`);
}

/** wins[i][j]: the share of jobs on which policy i emitted less CO2 than policy j; shown with its count. */
function renderWinLoss(r) {
  const { policies, wins } = r.win_loss;
  const n = r.workload.jobs;
  setText('winloss-caption', `Each cell: on how many of the ${integer(n)} jobs the row policy emitted less CO₂ than the column policy; the rest are losses or ties. Darker means more wins.`);
  $('winloss-head').replaceChildren(el('tr', {},
    el('th', { scope: 'col', text: 'Row beats column' }), ...policies.map((name) => el('th', { scope: 'col', text: name }))));
  $('winloss-body').replaceChildren(...policies.map((row, i) => el('tr', {},
    el('th', { scope: 'row', text: row }),
    ...policies.map((column, j) => {
      if (i === j) return el('td', { class: 'wl-self', text: '–' });
      const share = wins[i][j];
      const count = Math.round(share * n);
      const cell = el('td', { 'data-count': String(count), title: `${row} beats ${column} on ${integer(count)} of ${integer(n)} jobs` },
        el('strong', { text: percent(share) }), el('span', { class: 'wl-count', text: `${integer(count)} jobs` }));
      cell.style.backgroundColor = `rgba(43, 138, 62, ${(0.8 * share).toFixed(3)})`; // CSSOM: allowed by the CSP; dark text stays readable
      return cell;
    }))));
}

/** One row per policy (the best value of each column in bold), then the constrained reference's row, and each
 * policy's gap to it on CO₂ with idle, "slower" when its mean completion is over least_loaded's. */
function renderSimTable(r) {
  const columns = SIM_COLUMNS.filter((c) => c.key in r.policies[0]);
  const ref = r.reference;
  const unit = (c) => (c.units ? String(r.units[c.units] || '').split(/ \(|, /)[0] : c.text);
  $('sim-table-head').replaceChildren(el('tr', {},
    el('th', { scope: 'col', text: 'Policy' }),
    ...columns.map((c) => el('th', { scope: 'col', class: 'num' }, c.label, el('span', { class: 'unit th-unit', text: unit(c) }))),
    ...(ref ? [el('th', { scope: 'col', class: 'num' }, 'Gap to reference', el('span', { class: 'unit th-unit', text: '% CO₂ with idle' }))] : [])));
  const best = columns.map((c) => {
    const values = r.policies.map((p) => p[c.key]);
    return c.higher ? Math.max(...values) : Math.min(...values);
  });
  const cells = (p, bold) => columns.map((c, k) => el('td', {
    class: bold && p[c.key] === best[k] ? 'num best' : 'num',
    text: c.digits === 'amount' ? amount(p[c.key]) : c.digits ? fixed(p[c.key], c.digits) : integer(p[c.key]),
  }));
  const gaps = ref ? Object.fromEntries(ref.gaps.map((g) => [g.policy, g])) : {};
  const gapText = (g) => `${g.percent >= 0 ? '+' : ''}${fixed(g.percent, 1)} %${g.meets_completion ? '' : ' (slower)'}`;
  const rows = r.policies.map((p) => {
    const dot = el('span', { class: 'dot' });
    dot.style.backgroundColor = policyColor(p.policy);
    return el('tr', {}, el('th', { scope: 'row' }, dot, p.policy), ...cells(p, true),
      ...(ref ? [el('td', { class: 'num', text: gapText(gaps[p.policy]) })] : []));
  });
  if (ref) {
    const dot = el('span', { class: 'dot' });
    dot.style.backgroundColor = COLORS.final;
    rows.push(el('tr', { class: 'ref-row' }, el('th', { scope: 'row' }, dot, REFERENCE_LABEL), ...cells(ref.summary, false),
      el('td', { class: 'num', text: '0.0 %' })));
  }
  $('sim-table-body').replaceChildren(...rows);
  setText('sim-reference', ref ? referenceText(ref) : 'No constrained reference in this run.');
  setText('sim-units', `Units of the result: ${Object.entries(r.units).map(([name, text]) => `${name} in ${text}`).join('; ')}.`);
}

/** What the reference row is, where it came from, and what it is not. */
function referenceText(ref) {
  const via = ref.weight_g_per_min === null
    ? `${ref.source}'s own schedule (no search run did better)`
    : `the hindsight search (a price of ${fixed(ref.weight_g_per_min, 4)} g CO₂ per minute of completion)`;
  return `Constrained reference: the least CO₂ with idle found with hindsight at a mean completion no worse than least_loaded's `
    + `${fixed(ref.target_completion_mean_min, 1)} min, from ${via}. It is a heuristic with hindsight, not a bound: no policy of this comparison `
    + 'that finishes jobs as fast emits less, because each of their schedules is a candidate. Gap: a policy\'s CO₂ with idle above it; '
    + '"slower": its mean completion is over the target. The oracle is the job-CO₂ oracle: it ignores completion. '
    + `Lower bound at the same completion (a Lagrangian relaxation that ignores capacity): ${amount(ref.lower_bound.co2_with_idle_kg)} kg; `
    + 'no schedule that finishes jobs as fast can emit less, so the best possible lies between the two.';
}

/** The results' own controls: the race's metric and order, and the study menu. */
export function bindCompare() {
  $('race-metric').addEventListener('change', renderRace);
  $('race-sort').addEventListener('change', renderRace);
  $('sim-study').addEventListener('change', (event) => selectStudy(event.target.value));
}
