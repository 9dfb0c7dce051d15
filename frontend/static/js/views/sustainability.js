/* The Sustainability tab's text: the rating, its advice and the CO₂ figures (the gauge and its charts are
 * drawn with the others in analytics.js). */

import { rating } from '../derive.js';
import { $, setText } from '../dom.js';
import { amount, fixed, percent } from '../format.js';
import { state } from '../store.js';

/** What to change, for the part of the score that costs the most points. */
const ADVICE = {
  avg_reward: 'Decisions scored low on quality: the agents learn per session, so more runs help, and priorities should match what each job needs.',
  green_ratio: 'Few jobs are marked green: mark jobs that are not urgent as green so they run on the efficient pool.',
  carbon_score: 'Many jobs ran while the carbon factor was high: run flexible work when the badge shows low carbon.',
  co2_efficiency: 'Little CO₂ was avoided against the all-performance baseline: move jobs that do not need the fastest servers to the balanced or green pools.',
};

export function renderSustainability() {
  const s = state.summary;
  const has = Boolean(s && s.total_jobs);
  setText('gauge-value', has ? fixed(s.sustainability_score, 1) : '–');
  if (has) {
    const [, grade, word] = rating(s.sustainability_score);
    setText('rating-grade', grade);
    $('rating-grade').dataset.grade = grade;
    setText('rating-word', word);
    const weakest = Object.keys(s.score_weights).reduce((worst, key) =>
      (s.score_weights[key] * (1 - s.score_parts[key]) > s.score_weights[worst] * (1 - s.score_parts[worst]) ? key : worst));
    setText('rating-advice', ADVICE[weakest] || '');
  } else {
    setText('rating-grade', '–');
    $('rating-grade').dataset.grade = '';
    setText('rating-word', '');
    setText('rating-advice', 'Run some jobs to get a rating.');
  }
  const share = has && s.co2_baseline_kg > 0 ? ` (${percent(s.co2_avoided_kg / s.co2_baseline_kg, 1)} of the baseline)` : '';
  setText('sus-avoided', has ? `${amount(s.co2_avoided_kg)} kg${share}` : '–');
  setText('sus-baseline', has ? `${amount(s.co2_baseline_kg)} kg` : '–');
  setText('sus-co2', has ? `${amount(s.total_co2_kg)} kg` : '–');
  setText('sus-green', has ? percent(s.green_ratio, 1) : '–');
  setText('sus-best', bestServer());
}

/** The server with the least CO₂ per job in this session, in words. */
function bestServer() {
  const a = state.agg;
  let best = -1;
  if (a) {
    for (let i = 0; i < a.count.length; i++) {
      if (a.count[i] && (best < 0 || a.co2[i] / a.count[i] < a.co2[best] / a.count[best])) best = i;
    }
  }
  return best >= 0 ? `${state.servers[best]}: ${amount(a.co2[best] / a.count[best])} kg CO₂ per job` : '–';
}
