/* The Compare tab's deferral study results: what ran where, the saving per strategy and region, and the
 * table, for all regions or the one chosen. */

import { bars, updateChart } from '../charts.js';
import { own } from '../derive.js';
import { $, el, setText } from '../dom.js';
import { amount, clockText, fixed, integer, meanCount } from '../format.js';
import { COLORS, STRATEGY_COLORS } from '../palette.js';
import { state } from '../store.js';

/** The deferral table's columns: a strategy figure, its heading and unit (a key of the result's `units`,
 * or text), and how it is written. */
const DEFER_COLUMNS = [
  { key: 'saved_pct', label: 'CO₂ saved', text: '% of run_now', format: (row) => (row.runs > 1 ? `${fixed(row.saved_pct, 1)} ± ${fixed(row.saved_pct_std, 1)}` : fixed(row.saved_pct, 1)) },
  { key: 'co2_kg', label: 'CO₂', units: 'co2', format: (row) => amount(row.co2_kg) },
  { key: 'deadline_misses', label: 'Deadline misses', text: 'of feasible', format: (row) => `${integer(row.deadline_misses)} of ${integer(row.feasible_deadlines)}` },
  { key: 'delay_mean_min', label: 'Mean delay', units: 'delay', format: (row) => fixed(row.delay_mean_min, 1) },
  { key: 'delay_p95_min', label: 'p95 delay', units: 'delay', format: (row) => fixed(row.delay_p95_min, 1) },
  { key: 'energy_kwh', label: 'Energy', units: 'energy', format: (row) => amount(row.energy_kwh) },
  { key: 'cost', label: 'Cost', text: 'price × kWh', format: (row) => fixed(row.cost, 2) },
  { key: 'deferred_jobs', label: 'Deferred', text: 'jobs', format: (row) => meanCount(row.deferred_jobs) },
  { key: 'eco_jobs', label: 'ECO', text: 'jobs', format: (row) => meanCount(row.eco_jobs) },
];

/** The deferral study's results: what ran where, then the saving chart and the table (renderDeferralView). */
export function renderDeferralResults(view) {
  const r = view.result;
  state.sim.deferral = r;
  const cfg = r.config;
  const j = r.jobs || {};
  setText('defer-run-id', `run ${view.id}`);
  setText('defer-meta', `${integer(j.count ?? cfg.jobs)} ${cfg.workload} jobs (${integer(j.critical)} critical, ${integer(j.normal)} normal, `
    + `${integer(j.flexible)} flexible, ${integer(j.interruptible)} of them interruptible) arriving over ${integer(cfg.span_h)} h, each on ${j.server || 'one server'}; `
    + `a flexible job may finish ${fixed(cfg.slack_h, 1)} h after its FAST finish. Noisy forecast: ${integer(cfg.seeds)} runs. `
    + `Seed ${r.seed} (enter it to replay this run).`);
  $('defer-region-info').replaceChildren(...Object.entries(r.regions).map(([name, g]) => el('li', {},
    el('strong', { text: name }),
    ` ${g.signal} intensity: ${g.source}; ${clockText(g.start)} to ${clockText(g.end)} UTC in ${integer(g.step_min)}-min steps, mean ${fixed(g.mean_g_per_kwh, 0)} ${g.unit || 'gCO₂eq/kWh'}.`)));
  const select = $('defer-region');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '', text: 'all regions' }), ...Object.keys(r.regions).map((name) => el('option', { value: name, text: name })));
  select.value = own(r.regions, chosen, null) ? chosen : '';
  $('defer-notes').replaceChildren(...(r.notes || []).map((note) => el('li', { text: note })));
  renderDeferralView();
}

/** The saving chart and the table for the chosen region (or all): strategies in the result's order. */
function renderDeferralView() {
  const r = state.sim.deferral;
  if (!r) return;
  const region = $('defer-region').value;
  const regions = own(r.regions, region, null) ? [region] : Object.keys(r.regions);
  const rows = r.table.filter((row) => regions.includes(row.region));
  const strategies = [...new Set(rows.map((row) => row.strategy))].filter((name) => name !== 'run_now');
  const datasets = strategies.map((name) => bars(name, own(STRATEGY_COLORS, name, COLORS.final), {
    data: regions.map((g) => {
      const row = rows.find((x) => x.region === g && x.strategy === name);
      return row ? row.saved_pct : null; // no bar where the strategy did not run (forecast_issued outside CAISO_NORTH)
    }),
  }));
  updateChart('chart-deferral', regions, [], (chart) => { chart.data.datasets = datasets; });
  setText('defer-chart-note', 'Each bar: the CO₂ a strategy saved against running every job at once in FAST mode (run_now, 0 %), in % of run_now\'s CO₂ in that region; '
    + 'noisy: the mean of its runs. Emissions are measured on the actual signal; decisions only use what was known at the time.');
  const unit = (c) => (c.units ? String(r.units[c.units] || '') : c.text);
  $('defer-table-head').replaceChildren(el('tr', {},
    el('th', { scope: 'col', text: 'Region' }), el('th', { scope: 'col', text: 'Strategy' }),
    ...DEFER_COLUMNS.map((c) => el('th', { scope: 'col', class: 'num' }, c.label, el('span', { class: 'unit th-unit', text: unit(c) })))));
  const best = {};
  for (const row of rows) if (row.strategy !== 'run_now' && !(best[row.region] >= row.saved_pct)) best[row.region] = row.saved_pct;
  $('defer-table-body').replaceChildren(...rows.map((row) => {
    const dot = el('span', { class: 'dot' });
    dot.style.backgroundColor = own(STRATEGY_COLORS, row.strategy, COLORS.bound);
    return el('tr', { 'data-region': row.region, 'data-strategy': row.strategy },
      el('td', { text: row.region }),
      el('th', { scope: 'row' }, dot, row.strategy),
      ...DEFER_COLUMNS.map((c) => el('td', {
        class: c.key === 'saved_pct' && row.strategy !== 'run_now' && row.saved_pct === best[row.region] ? 'num best' : 'num',
        text: c.format(row),
      })));
  }));
  setText('defer-table-scope', region ? `region ${region}` : `${integer(regions.length)} regions`);
}

export function bindDeferralResults() {
  $('defer-region').addEventListener('change', renderDeferralView);
}
