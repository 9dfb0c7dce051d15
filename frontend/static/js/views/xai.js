/* The Explainable AI tab: one job's decision (facts, score breakdown, Q-values) and its explanation.
 * Loading a job is actions/explain.js's; the form and buttons call the handlers main.js gives. */

import { updateChart } from '../charts.js';
import { $, el, givenMarks, modeEl, setOff, setText, statusEl, timeEl } from '../dom.js';
import { amount, clockText, fixed } from '../format.js';
import { COLORS, tierColor } from '../palette.js';
import { state } from '../store.js';

/** The job picker's range and its buttons, from the session's jobs. */
export function renderXaiPicker() {
  const n = state.jobs.length;
  const input = $('xai-job');
  if (n) {
    const first = state.jobs[0].job_id, last = state.jobs[n - 1].job_id;
    input.min = String(first);
    input.max = String(last);
    setText('xai-range', `Jobs ${first} to ${last} of this session. The Explain buttons in Jobs / History open a job here.`);
  } else {
    setText('xai-range', 'No scheduled jobs yet.');
  }
  $('xai-prev').disabled = $('xai-next').disabled = n === 0;
  if (!n && state.xai.jobId === null) clearXai();
}

export function clearXai(text = 'Run some jobs, then pick one to read why it went where it did.') {
  setText('xai-title', 'Explanation');
  $('xai-facts').replaceChildren();
  setText('xai-text', text);
  setText('xai-when', '');
  $('xai-when').hidden = true;
  setText('xai-source', '');
  setOff($('xai-refine'), true);
  updateChart('chart-breakdown', [], [[], [], [], [], []]);
  updateChart('chart-qvalues', [], [[]]);
  renderAttribution(null);
}

/** A job's full decision (GET /jobs/{id}): its facts, the pool's score breakdown and the agent's Q-values. */
export function renderDecision(job) {
  setText('xai-title', `Job ${job.job_id}: ${job.priority} → ${job.chosen_dc}`);
  const facts = [
    ['Server', job.chosen_dc], ['Priority', job.priority], ['Latency', job.latency ?? 'not set'],
    ['Reward (quality, 0–1)', fixed(job.reward, 4)], ['Training reward', fixed(job.rl_reward, 4)],
    ['Energy', figure(`${amount(job.power_kwh)} kWh`, job.energy_source, 'energy')],
    ['CO₂', figure(`${amount(job.co2)} kg`, job.co2_source, 'co2')], ...givenBeside(job), ['Cost', `${fixed(job.cost, 4)} price units`],
    ['Carbon factor (0–1)', fixed(job.state && job.state.carbon_factor, 4)],
    ['Energy price', fixed(job.state && job.state.energy_price, 4)],
  ];
  const st = job.state || {};
  if (typeof st.load === 'number') facts.push(['Load', fixed(st.load, 4)]);
  if (typeof st.carbon_intensity_g_per_kwh === 'number') {
    // A grid job's figure is the mean over the hours it runs (a deferred job's: the hours it was moved to).
    facts.push([job.status ? 'Grid intensity over its run' : 'Average grid intensity', `${fixed(st.carbon_intensity_g_per_kwh, 1)} gCO₂eq/kWh`]);
  }
  if (typeof st.runtime_min === 'number') facts.push(['Run time', `${fixed(st.runtime_min, 1)} min`]);
  if (job.status) facts.push(...whenFacts(job));
  else if (st.clock_utc) facts.push(['Clock (UTC)', st.clock_utc]);
  $('xai-facts').replaceChildren(...facts.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', {}, v))));
  const pool = Object.entries(job.score_breakdown || {}).filter(([, b]) => b.in_pool);
  const names = pool.map(([name]) => name);
  const part = (key) => pool.map(([, b]) => b[key]);
  updateChart('chart-breakdown', names, [part('perf_score'), part('cost_score'), part('co2_score'), part('lat_score'), part('final')]);
  const q = Object.entries(job.rl_q_values || {});
  updateChart('chart-qvalues', q.map(([name]) => name), [q.map(([, v]) => v)], (chart) => {
    chart.data.datasets[0].backgroundColor = q.map(([name]) => (name === job.chosen_dc ? tierColor(job.priority) : COLORS.other));
  });
  renderAttribution(job);
}

/** A figure of the job, marked "given" when it is the job's own. */
const figure = (text, source, what) => el('span', {}, text, ...givenMarks(source, what));

/** The figures a job gave that its decision does not use, answered beside the model's (never dropped):
 * a reference session keeps the seed's figures; a grid job's co2_kg beside its estimated_kwh gives way
 * to that energy x the intensity where and when it runs. */
function givenBeside(job) {
  const why = job.status ? 'its CO₂ is the given energy × the intensity where and when it runs' : 'a reference session keeps the seed\'s figures';
  const facts = [];
  if (typeof job.given_energy_kwh === 'number' && job.energy_source !== 'given') facts.push(['Energy the job gave', `${amount(job.given_energy_kwh)} kWh (not used: ${why})`]);
  if (typeof job.given_co2_kg === 'number' && job.co2_source !== 'given') facts.push(['CO₂ the job gave', `${amount(job.given_co2_kg)} kg (not used: ${why})`]);
  return facts;
}

/** The agent's preference split by feature (a full decision's `attribution`): each term of
 * Q(chosen) − Q(versus), where versus is the best-scored other server the job could take. */
function renderAttribution(job) {
  const att = job && job.attribution;
  const terms = att && att.versus ? Object.entries(att.terms) : [];
  updateChart('chart-attribution', terms.map(([name]) => name), [terms.map(([, v]) => v)], (chart) => {
    chart.data.datasets[0].backgroundColor = terms.map(([, v]) => (v >= 0 ? tierColor(job.priority) : COLORS.other));
  });
  if (!job) {
    setText('attribution-title', 'Why the agent preferred the chosen server');
    setText('attribution-note', '');
    return;
  }
  if (!terms.length) {
    setText('attribution-title', `Why ${job.chosen_dc}`);
    setText('attribution-note', 'The job could take no other server of its pool, so there is no preference to split.');
    return;
  }
  const q = job.rl_q_values || {};
  const gap = terms.reduce((sum, [, v]) => sum + v, 0);
  setText('attribution-title', `Why ${job.chosen_dc} over ${att.versus}`);
  setText('attribution-note', `Q(${job.chosen_dc}) − Q(${att.versus}) = ${fixed(q[job.chosen_dc], 3)} − ${fixed(q[att.versus], 3)} = ${fixed(gap, 3)}, `
    + `the sum of these terms: each is the difference of the two servers' learned weights times the feature's value. ${att.versus} is the best-scored `
    + 'other server the job could take; bars right of zero favoured the chosen server.'
    + (explored(job.job_id) ? ' This job was an exploration step: the agent picked at random, whatever these terms say.' : ''));
}

/** Whether the session's compact row of a job says it was an exploration step (full decisions keep the reference's fields). */
function explored(jobId) {
  const jobs = state.jobs;
  const first = jobs.length ? jobs[0].job_id : 0;
  const row = jobs[jobId - first]?.job_id === jobId ? jobs[jobId - first] : jobs.find((j) => j.job_id === jobId);
  return Boolean(row && row.explored);
}

/** When and how a grid job runs, as facts of the XAI tab (GET /jobs/{id}). */
function whenFacts(job) {
  const runs = Array.isArray(job.runs) ? job.runs : [];
  const facts = [
    ['Urgency', job.urgency], ['Status', statusEl(job.status)], ['Mode', modeEl(job.mode)],
    ['Carbon band at submission', job.carbon_band],
    ['Submitted (UTC)', timeEl(job.state && job.state.clock_utc)], ['Start (UTC)', timeEl(job.start_at)],
    ['Finish (UTC)', timeEl(job.finish_at)], ['Deadline (UTC)', job.deadline_at ? timeEl(job.deadline_at) : 'none'],
  ];
  const piece = ([a, b]) => {
    const from = clockText(a), to = clockText(b);
    return `${from}–${to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to}`;
  };
  if (runs.length > 1) facts.push([`Runs (${runs.length} pieces)`, runs.map(piece).join('; ')]);
  facts.push(['Expected saving', `${amount(job.co2_saved_kg)} kg CO₂`], ['CO₂ had it run now', figure(`${amount(job.co2_run_now_kg)} kg`, job.co2_source, 'co2')]);
  return facts;
}

const WHEN_SENTENCE = /\s(When: [\s\S]*)$/; // the grid explanation's last part: when and how the job runs

/** An explanation (GET /jobs/{id}/explanation): its text, its When sentence apart, and where it came from. */
export function renderExplanation(explanation) {
  const text = explanation.explanation;
  const when = WHEN_SENTENCE.exec(text);
  setText('xai-text', when ? text.slice(0, when.index) : text);
  setText('xai-when', when ? when[1] : '');
  $('xai-when').hidden = !when;
  const source = explanation.source;
  if (source === 'template') {
    setText('xai-source', explanation.note
      ? `Template explanation: the LLM was not used (${explanation.note}).`
      : 'Template explanation (deterministic, from the decision\'s numbers).');
  } else {
    setText('xai-source', source === 'llm-cache' ? 'Refined by the LLM (its answer for an earlier job whose choice had the same cause; the carbon sentence is this job\'s own).' : 'Refined by the LLM.');
  }
}

/** The picker (a job number), Previous / Next and Refine: `showJob(jobId)` and `refine()`. */
export function bindXai(showJob, refine) {
  $('xai-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = Number($('xai-job').value);
    if (Number.isInteger(id) && id >= 1) showJob(id);
  });
  const step = (delta) => {
    if (!state.jobs.length) return;
    const first = state.jobs[0].job_id, last = state.jobs[state.jobs.length - 1].job_id;
    const current = state.xai.jobId ?? first - delta;
    showJob(Math.min(last, Math.max(first, current + delta)));
  };
  $('xai-prev').addEventListener('click', () => step(-1));
  $('xai-next').addEventListener('click', () => step(1));
  $('xai-refine').addEventListener('click', refine);
}
