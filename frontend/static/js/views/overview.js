/* The Overview tab's text: score, KPIs, the "Carbon saved by timing" card and the tier pool map (its
 * charts are drawn with the others in analytics.js). */

import { TIERS } from '/js/states.js';
import { $, el, setText } from '../dom.js';
import { amount, fixed, integer, percent } from '../format.js';
import { state } from '../store.js';

/** The parts of the sustainability score, as the score note names them. */
const SCORE_PARTS = { avg_reward: 'average reward', green_ratio: 'green share', carbon_score: 'carbon score (low-carbon hours run)', co2_efficiency: 'CO₂ avoided' };

/** The Overview's "Carbon saved by timing" card (GET /summary `timing`, grid sessions). */
function renderTiming() {
  const s = state.summary;
  const t = s && s.timing;
  const has = Boolean(t && s.total_jobs);
  const kg = (x) => (has ? `${amount(x)} kg` : '–');
  setText('timing-saved', has ? amount(t.co2_saved_kg) : '–');
  setText('timing-pct', has ? `${fixed(t.co2_saved_pct, 2)} %` : '');
  $('timing-pct').dataset.sign = has && t.co2_saved_kg < 0 ? 'negative' : '';
  setText('timing-deferred', has ? integer(t.deferred_jobs) : '–');
  setText('timing-eco', has ? integer(t.eco_jobs) : '–');
  setText('timing-fast', has ? integer(t.fast_jobs) : '–');
  setText('timing-expected', kg(t && t.co2_saved_expected_kg));
  setText('timing-measured', kg(t && t.co2_saved_kg));
  setText('timing-run-now', kg(t && t.co2_run_now_kg));
  setText('timing-deferral', has && t.deferred_jobs ? `${fixed(t.mean_deferral_h, 1)} h` : '–');
  setText('timing-misses', has ? integer(t.deadline_misses) : '–');
  let note = 'Run some jobs in this grid session to see what choosing when to run them saved.';
  if (has) {
    const ratio = t.co2_saved_expected_kg > 0 ? ` Measured on the actual grid, the saving is ${percent(t.co2_saved_kg / t.co2_saved_expected_kg)} of what the forecasts expected at decision time.` : '';
    note = `Saved against running every job at submission in FAST mode on the same server: deferred jobs wait for greener hours, ECO jobs run slower at lower power.${ratio}`;
  }
  setText('timing-note', note);
  $('timing-show-deferred').hidden = !state.deferred.total;
  setText('timing-show-deferred', `Show the ${integer(state.deferred.total)} deferred job${state.deferred.total === 1 ? '' : 's'}`);
}

export function renderOverview() {
  renderTiming();
  const s = state.summary;
  const has = Boolean(s && s.total_jobs);
  setText('score-value', has ? fixed(s.sustainability_score, 1) : '–');
  const weights = s && s.score_weights ? Object.entries(s.score_weights) : [];
  setText('score-note', weights.length ? `Weighted: ${weights.map(([k, w]) => `${SCORE_PARTS[k] || k} ${Math.round(100 * w)} %`).join(', ')}.` : '');
  setText('kpi-jobs', integer(s ? s.total_jobs : 0));
  setText('kpi-reward', has ? fixed(s.avg_reward, 3) : '–');
  setText('kpi-energy', has ? amount(s.total_energy_kwh) : '–');
  setText('kpi-co2', has ? amount(s.total_co2_kg) : '–');
  setText('kpi-avoided', has ? amount(s.co2_avoided_kg) : '–');
  setText('kpi-cost', has ? fixed(s.total_cost, 2) : '–');
  setText('kpi-green', has ? percent(s.green_ratio) : '–');
  renderPools();
}

/** The tier pool map (Overview) and the sidebar's pool list. Each pool is described by what the session's
 * own jobs would use on it (GET /summary `efficiency`), not by a name: on the grid model the small servers
 * are slower, and use more energy per unit of work. */
function renderPools() {
  const a = state.agg;
  const e = state.summary && state.summary.total_jobs ? state.summary.efficiency : null;
  const unit = e ? e.unit.split(' (')[0] : '';
  $('pool-map').replaceChildren(...TIERS.map((tier) => el('div', { class: 'pool', 'data-tier': tier },
    el('h4', { text: `${tier} pool` }),
    el('p', { class: 'muted small pool-energy', text: e ? `${amount(e.by_pool[tier])} ${unit} (mean server, this session's jobs)` : '' }),
    el('ul', {}, ...(state.pools[tier] || []).map((name) => {
      const jobs = a ? a.count[state.servers.indexOf(name)] : 0;
      return el('li', { class: 'chip' }, el('span', { text: name }), el('span', { class: 'chip-count', text: `${integer(jobs)} jobs` }));
    })))));
  $('side-pools').replaceChildren(...TIERS.map((tier) => el('li', { 'data-tier': tier },
    el('strong', { text: tier }), el('span', { text: ` ${(state.pools[tier] || []).join(', ')}` }))));
}
