/* The Sustainability tab's text: the rating, its advice and the CO₂ figures (the gauge and its charts are
 * drawn with the others in analytics.js). */

import { rating } from '../derive.js';
import { $, setText } from '../dom.js';
import { amount, fixed, percent } from '../format.js';
import { state } from '../store.js';

export function renderSustainability() {
  const s = state.summary;
  const has = Boolean(s && s.total_jobs);
  setText('gauge-value', has ? fixed(s.sustainability_score, 1) : '–');
  if (has) {
    const [, grade, word] = rating(s.sustainability_score);
    setText('rating-grade', grade);
    $('rating-grade').dataset.grade = grade;
    setText('rating-word', word);
    // The server's advice comes from the session's own numbers and never recommends a pool that emits more.
    setText('rating-advice', s.advice ? s.advice.text : '');
  } else {
    setText('rating-grade', '–');
    $('rating-grade').dataset.grade = '';
    setText('rating-word', '');
    setText('rating-advice', 'Run some jobs to get a rating.');
  }
  setText('sus-avoided', has ? avoided(s) : '–');
  setText('sus-baseline', has ? `${amount(s.co2_baseline_kg)} kg` : '–');
  setText('sus-co2', has ? `${amount(s.total_co2_kg)} kg` : '–');
  setText('sus-green', has ? percent(s.green_ratio, 1) : '–');
  setText('sus-carbon', has ? fixed(s.score_parts.carbon_score, 4) : '–');
  setText('sus-carbon-basis', has && s.carbon_score_basis ? `What the carbon score measured: ${carbonBasis(s.carbon_score_basis)}.` : '');
  setText('sus-best', bestServer());
}

/** GET /summary's carbon_score_basis without its leading "carbon score X: " (the figure is shown above it). */
const carbonBasis = (text) => text.replace(/^carbon score [\d.]+: /, '');

/** CO₂ avoided against the all-performance baseline; a session that emitted more says so in words. */
function avoided(s) {
  const share = s.co2_baseline_kg > 0 ? percent(Math.abs(s.co2_avoided_kg) / s.co2_baseline_kg, 1) : '';
  if (s.co2_avoided_kg >= 0) return `${amount(s.co2_avoided_kg)} kg${share ? ` (${share} of the baseline)` : ''}`;
  return `none: ${amount(-s.co2_avoided_kg)} kg more than the baseline${share ? ` (${share} more)` : ''}`;
}

/** The server that would have used the least energy per unit of work on this session's jobs (GET /summary `efficiency`). */
function bestServer() {
  const e = state.summary && state.summary.efficiency;
  setText('sus-best-unit', e ? e.unit.split(' (')[0] + ", on this session's jobs" : "least energy per unit of work, on this session's jobs");
  return e ? `${e.most_efficient_server}: ${amount(e.by_server[e.most_efficient_server])} ${e.unit.split(' (')[0]}` : '–';
}
