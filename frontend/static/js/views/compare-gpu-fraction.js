/* The Compare tab's GPU-fraction study (docs/gpu-fraction.md): the POST /simulate body its form makes, and
 * its results: the goals, every policy's figures against the oracle (means ± 95 % CI over the seeds) and
 * the win/loss matrix on time. Text only ever through textContent (dom.js's el). */

import { $, el, setText } from '../dom.js';
import { fixed, integer, percent } from '../format.js';
import { state } from '../store.js';

/** The table's columns: a figure of the document's table, its heading, and its digits. */
const COLUMNS = [
  { key: 'time_after_s', label: 'Mean completion (s)', digits: 2 },
  { key: 'efficiency_time', label: 'Efficiency: time', digits: 3 },
  { key: 'energy_kj', label: 'Energy (kJ)', digits: 0 },
  { key: 'efficiency_energy', label: 'Efficiency: energy', digits: 3 },
  { key: 'cost_usd', label: 'Cost (USD)', digits: 2 },
  { key: 'efficiency_cost', label: 'Efficiency: cost', digits: 3 },
  { key: 'fraction_mean', label: 'Mean GPU fraction', digits: 2 },
  { key: 'split_share', label: 'Share split', digits: 2 },
  { key: 'fraction_r2', label: 'R² vs oracle', digits: 2 },
];

/** The form's body for this study: the tasks come from the Jobs field; the warm-up is the study's 1,000
 * tasks, or half the tasks of a smaller run (the study needs tasks after it). */
export function gpuFractionBody(policies, common) {
  const tasks = common.jobs;
  return {
    study: 'gpu-fraction', tasks, seed: common.seed, seeds: Number($('gpu-seeds').value), load: Number($('gpu-load').value),
    policies, warmup: Math.min(1000, Math.floor(tasks / 2)),
  };
}

const withCi = (row, key, digits, seeds) => (seeds > 1 ? `${fixed(row[key], digits)} ± ${fixed(row[`${key}_ci`], digits)}` : fixed(row[key], digits));

/** A finished study's document (GET /simulate/{id} `result`), drawn in #gpu-results. */
export function renderGpuFractionResults(view) {
  const r = view.result;
  const cfg = r.config;
  const seeds = r.seeds.length;
  setText('gpu-run-id', `run ${view.id}`);
  setText('gpu-meta', `${integer(cfg.tasks)} tasks per seed at load ${fixed(cfg.load, 2)} on one CPU and four GPUs; seed${seeds > 1 ? 's' : ''} `
    + `${r.seeds.join(', ')} (enter the first to replay this run); figures after the first ${integer(cfg.warmup)} tasks`
    + `${seeds > 1 ? `, means ± the 95 % confidence interval over ${seeds} seeds` : ''}. Efficiency: the oracle's figure over the policy's (1 is the oracle's; higher is better).`);
  const g = r.goals;
  const goals = [];
  if (g.hybrid_efficiency_time !== undefined) {
    goals.push(`hybrid_ml reaches ${percent(g.hybrid_efficiency_time, 1)} of the oracle's efficiency on time: the goal of ${percent(g.hybrid_target, 0)} is ${g.hybrid_met ? 'met' : 'missed'}.`);
  }
  if (g.dqn_beats_greedy !== undefined) goals.push(`dqn is ${g.dqn_beats_greedy ? 'ahead of' : 'behind'} greedy on mean completion time.`);
  $('gpu-goals').replaceChildren(...goals.map((text) => el('li', { text })));
  $('gpu-table-head').replaceChildren(el('tr', {}, el('th', { scope: 'col', text: 'Policy' }), ...COLUMNS.map((c) => el('th', { scope: 'col', class: 'num', text: c.label }))));
  $('gpu-table-body').replaceChildren(...r.table.map((row) => el('tr', {},
    el('th', { scope: 'row', text: row.policy }),
    ...COLUMNS.map((c) => el('td', { class: 'num', text: withCi(row, c.key, c.digits, seeds) })))));
  const names = r.policies;
  const wins = r.win_loss.time;
  $('gpu-winloss-head').replaceChildren(el('tr', {}, el('th', { scope: 'col', text: 'Row beats column' }), ...names.map((n) => el('th', { scope: 'col', class: 'num', text: n }))));
  $('gpu-winloss-body').replaceChildren(...names.map((name, i) => el('tr', {},
    el('th', { scope: 'row', text: name }),
    ...wins[i].map((share, j) => el('td', { class: 'num', text: i === j ? '–' : percent(share, 0) })))));
  $('gpu-notes').replaceChildren(...(r.notes || []).map((note) => el('li', { text: note })));
  state.sim.gpuFraction = r;
}
