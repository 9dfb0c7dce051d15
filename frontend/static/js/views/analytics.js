/* The charts drawn from the session's jobs: the Analytics tab's, and the Overview's and Sustainability's
 * (score rings, reward, servers, priorities, carbon, cumulative CO₂), all updated at once by renderCharts. */

import { TIERS } from '/js/states.js';
import { CLOCK_AXIS, JOB_AXIS, updateChart, updateRing } from '../charts.js';
import { lttb, lttbRows, rolling, thin } from '../derive.js';
import { $, setText } from '../dom.js';
import { amount, hoursOf, integer } from '../format.js';
import { tierColor } from '../palette.js';
import { sessionAggregate, state } from '../store.js';

const BAND_NAMES = ['Very low', 'Low', 'Medium', 'High', 'Very high']; // the five energy bands
const CLOCK_STEPS_H = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 2160, 4380, 8760];

export function renderCharts() {
  const a = state.agg || sessionAggregate([]);
  const names = state.servers;
  const colors = names.map((name) => tierColor(state.tierOf[name]));
  const s = state.summary;
  updateRing('chart-score', s ? s.sustainability_score : 0);
  updateRing('chart-gauge', s ? s.sustainability_score : 0);
  updateChart('chart-reward', null, [lttb(a.reward, a.ids), lttb(rolling(a.reward, 3), a.ids), lttb(rolling(a.reward, 10), a.ids)]);
  updateChart('chart-servers', names, [Array.from(a.count)], (chart) => { chart.data.datasets[0].backgroundColor = colors; });
  updateChart('chart-priority-mix', TIERS, [Array.from(a.byTier)]);
  renderCarbonCharts(a);
  updateChart('chart-avg-reward', names, [Array.from(a.rewardSum, (sum, i) => (a.count[i] ? sum / a.count[i] : 0))],
    (chart) => { chart.data.datasets[0].backgroundColor = colors; });
  updateChart('chart-energy-co2', names, [Array.from(a.energy), Array.from(a.co2)]);
  // A server outside a priority's pool can never take its jobs: null (no bar) rather than a 0 % bar.
  const routing = a.routed.map((row, t) => Array.from(row, (c, i) => (state.tierOf[names[i]] !== TIERS[t] ? null : a.byTier[t] ? (100 * c) / a.byTier[t] : 0)));
  updateChart('chart-routing', names, routing);
  renderEnergyBands(a);
  updateChart('chart-cum-co2', null, [lttb(a.cumCo2, a.ids)]);
  updateChart('chart-co2-priority', TIERS, [Array.from(a.co2ByTier)]);
  updateChart('chart-energy-server', names, [Array.from(a.energy)], (chart) => { chart.data.datasets[0].backgroundColor = colors; });
}

/** Jobs in five kWh bands, or the one energy every job used. */
function renderEnergyBands(a) {
  if (a.sameEnergy !== null) {
    const jobs = a.n === 1 ? 'The one job' : `All ${integer(a.n)} jobs`;
    updateChart('chart-energy-bands', [[jobs, `${amount(a.sameEnergy)} kWh`]], [[a.n]]);
    setText('bands-note', `${a.n === 1 ? 'The one job' : 'All jobs'} used ${amount(a.sameEnergy)} kWh, so there is no spread to split into bands.`);
  } else {
    const bandLabels = a.edges ? BAND_NAMES.map((name, k) => [name, `${amount(a.edges[k])}–${amount(a.edges[k + 1])} kWh`]) : BAND_NAMES;
    updateChart('chart-energy-bands', bandLabels, [Array.from(a.bands)]);
    setText('bands-note', a.edges ? 'Five bands of equal width between the lowest and the highest energy of a job.' : '');
  }
}

/** The carbon charts: per job (reference sessions), or on the session's clock with the chosen windows
 * marked (grid sessions). */
function renderCarbonCharts(a) {
  const c = a.clock;
  const line = c
    ? lttbRows(c.ys, c.xs).map((i) => ({ x: c.xs[i], y: c.ys[i], job: c.ids[i] }))
    : lttb(a.carbon, a.ids);
  const moved = c ? thin(c.moved) : [], eco = c ? thin(c.eco) : [];
  const windows = moved.filter((p) => !p.pieces).map((p) => [p.x, p.finish]); // pieces: not known here (GET /jobs/{id} has them)
  const span = c ? c.last - c.first : 0;
  const step = c ? CLOCK_STEPS_H.find((h) => span / h <= 8) || CLOCK_STEPS_H[CLOCK_STEPS_H.length - 1] : undefined;
  const carbonAxis = (chart) => {
    const { x, y } = chart.options.scales;
    y.title.text = a.gridIntensity ? 'Average grid carbon intensity (gCO₂eq/kWh)' : 'Carbon factor (unitless 0–1)';
    y.max = a.gridIntensity ? undefined : 1;
    x.title.text = c ? CLOCK_AXIS : JOB_AXIS;
    x.ticks.stepSize = step;
    chart.$clock = Boolean(c);
    chart.$runWindows = windows;
    chart.$now = c && state.deferred.clock ? hoursOf(state.deferred.clock) : NaN;
    chart.data.datasets[0].label = !a.gridIntensity ? 'Carbon factor'
      : c ? 'Ran at submission' : 'Carbon intensity of the chosen server’s zone';
  };
  updateChart('chart-carbon-overview', null, [line, moved, eco], carbonAxis);
  updateChart('chart-carbon', null, [line.slice(), moved.slice(), eco.slice()], carbonAxis);
  for (const id of ['carbon-unit-overview', 'carbon-unit-analytics']) {
    setText(id, a.gridIntensity ? 'average gCO₂eq/kWh of the chosen server’s grid zone' : 'carbon factor, unitless 0–1 proxy');
  }
  setText('carbon-title-overview', c ? 'Carbon intensity over time' : 'Carbon per job');
  $('carbon-card-overview').classList.toggle('span-all', Boolean(c)); // room for the clock and its markers
  const label = c ? `Grid carbon intensity of each job's server zone over the session's clock; ${c.moved.length} deferred jobs and ${c.eco.length} ECO jobs marked`
    : a.gridIntensity ? 'Grid carbon intensity per job' : 'Carbon factor per job';
  $('chart-carbon-overview').setAttribute('aria-label', label);
  $('chart-carbon').setAttribute('aria-label', label);
  const note = c ? marksNote(c, moved, eco) : '';
  setText('carbon-marks-overview', note);
  setText('carbon-marks-analytics', note);
}

/** The carbon charts' markers in words (under each chart; the canvas itself says nothing to a reader). */
function marksNote(c, moved, eco) {
  if (!c.moved.length && !c.eco.length) return 'No job was deferred or run in ECO mode: every job ran at submission in FAST mode.';
  const shown = (all, drawn) => (drawn.length < all.length ? ` (${integer(drawn.length)} of them drawn, evenly spread)` : '');
  return `Line: jobs that ran at submission. Triangles: the planned start of each of the ${integer(c.moved.length)} jobs deferred to greener hours${shown(c.moved, moved)}, `
    + 'their runs shaded (not those that run in pieces: the Explainable AI tab lists their pieces). '
    + `Diamonds: the ${integer(c.eco.length)} jobs run now in ECO mode${shown(c.eco, eco)}. Dashed line: the session's clock now.`;
}
