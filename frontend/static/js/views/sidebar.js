/* The top bar and the sidebar: session, KPIs, carbon badge and recommendation; and the parts of the page
 * that only a grid session shows. From GET /summary and GET /sustainability. */

import { $, setText } from '../dom.js';
import { amount, fixed, integer, percent } from '../format.js';
import { isGrid, state } from '../store.js';
import { renderQueue } from './queue.js';

/** Parts of the page that only a grid session has (when to run: urgency, deadlines, deferral, modes). */
function renderScenarioParts() {
  const grid = isGrid();
  document.body.dataset.scenario = grid ? 'grid' : 'reference';
  $('history-table').classList.toggle('when-table', grid);
  for (const node of document.querySelectorAll('.grid-only')) node.hidden = !grid;
  $('job-when').disabled = !grid; // its controls are neither sent nor validated in a reference session
  if (!grid && state.table.filter !== 'all') {
    state.table.filter = 'all';
    state.table.order = null;
    $('history-filter').value = 'all';
  }
}

/** Top bar, sidebar and KPI numbers: from /summary and /sustainability. */
export function renderStatus() {
  renderScenarioParts();
  const s = state.summary;
  setText('session-id', state.sessionId || '…');
  setText('session-scenario', s && s.scenario ? `Scenario: ${s.scenario}` : '');
  setText('queue-count', integer(state.queued));
  setText('side-jobs', integer(s ? s.total_jobs : 0));
  setText('side-reward', s && s.total_jobs ? fixed(s.avg_reward, 3) : '–');
  setText('side-energy', s && s.total_jobs ? `${amount(s.total_energy_kwh)} kWh` : '–');
  setText('side-co2', s && s.total_jobs ? `${amount(s.total_co2_kg)} kg` : '–');
  setText('side-green', s && s.total_jobs ? percent(s.green_ratio) : '–');
  setText('side-score', s && s.total_jobs ? `${fixed(s.sustainability_score, 1)} / 100` : '–');
  renderCarbon(state.carbon);
  const units = s && s.units;
  setText('sus-units', units ? `CO₂ figures are in ${units.co2}; energy in ${units.energy}.` : '');
  renderQueue();
}

/** A grid session's zones as the next job's decision will band them: "ES 74 gCO₂eq/kWh (medium)". */
const zoneBands = (c) => Object.entries(c.carbon_bands || {})
  .map(([zone, z]) => `${zone} ${fixed(z.reading_g_per_kwh, 0)} gCO₂eq/kWh (${z.band})`);

/** The carbon badges, the recommendation and the signal (GET /sustainability `c`, or null). The band is read
 * on the scale the next job's decision uses (`band_scale`): in a grid session each zone has its own, and the
 * badge says how many servers' grids are in the band it shows. */
function renderCarbon(c) {
  for (const id of ['carbon-badge', 'carbon-hint-badge']) {
    const badge = $(id);
    badge.dataset.band = c ? c.carbon_band : 'unknown';
    if (!c) {
      badge.textContent = 'Carbon: unknown';
      badge.title = '';
    } else if (c.servers_by_band) {
      const n = Object.values(c.servers_by_band).reduce((a, b) => a + b, 0);
      badge.textContent = `Carbon: ${c.carbon_band} on ${c.servers_by_band[c.carbon_band]} of ${n} servers`;
      badge.title = `${zoneBands(c).join('; ')}. Bands: ${c.band_scale}.`;
    } else {
      badge.textContent = `Carbon: ${c.carbon_band} (${fixed(c.carbon_factor, 2)})`;
      badge.title = `Carbon factor ${fixed(c.carbon_factor, 4)} on the ${c.band_scale}: ${c.signal}`;
    }
  }
  setText('side-carbon-message', c ? c.message : '…');
  setText('carbon-hint-message', c ? `${c.message}. Recommended priority now: ${c.recommendation}.` : '…');
  // A grid session's factor is a fleet-wide average (the server says how it is made); a reference
  // session's is the proxy value the next job will see.
  const basis = c && c.carbon_factor_basis;
  setText('carbon-hint-signal', !c ? '' : basis
    ? `Carbon factor ${fixed(c.carbon_factor, 4)} (0–1): ${basis}. Signal: ${c.signal}.`
    : `Carbon factor ${fixed(c.carbon_factor, 4)} (0–1) for the next job; signal: ${c.signal}.`);
  setText('side-carbon-signal', !c ? '' : basis
    ? `The carbon factor (${fixed(c.carbon_factor, 2)}, 0–1) is the ${basis}.`
    : `The carbon factor (${fixed(c.carbon_factor, 2)}) is on a 0–1 scale; signal: ${c.signal}.`);
  const zones = c && c.carbon_bands ? zoneBands(c) : [];
  setText('carbon-hint-zones', zones.length
    ? `Each grid's latest reading${c.clock_utc ? ` before ${c.clock_utc}` : ''} and its band (${c.band_scale}), as the next job's decision will read them: ${zones.join(', ')}.`
    : '');
}
