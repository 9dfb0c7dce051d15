/* The Workflows tab: the editor's examples, kinds and errors; the session's workflows; the dead-letter list;
 * and the selected workflow (its facts, DAG, Gantt and rollback). Submitting, following and retrying are
 * actions/workflows.js's. Every task id, name and error text reaches the page through textContent. */

import { TASK_STATES, WORKFLOW_STATES } from '/js/states.js';
import { withHint } from '../api.js';
import { $, el, setLive, setOff, setText } from '../dom.js';
import { amount, fixed, integer, minutesText, percent } from '../format.js';
import { drawEdges, renderDag, renderLegend, statePill } from './workflows-dag.js';
import { EXAMPLES } from './workflows-examples.js';
import { renderGantt } from './workflows-gantt.js';

const [PENDING, DEFERRED, QUEUED, RUNNING, RETRYING, SUCCEEDED, DEAD, CANCELLED] = TASK_STATES;
const [WF_RUNNING] = WORKFLOW_STATES;
/** Task states that still move by themselves (the rest are final). */
export const OPEN_STATES = new Set([PENDING, DEFERRED, QUEUED, RUNNING, RETRYING]);
// One colour per workflow state, in the order of WORKFLOW_STATES: running, succeeded, failed, cancelled.
const WORKFLOW_PALETTE = ['#1864ab', '#2b8a3e', '#c92a2a', '#495057'];
const COMPENSATION = 'compensation';

const workflowPill = (state) => {
  const pill = el('span', { class: 'wf-state', 'data-state': state, text: state });
  pill.style.borderColor = WORKFLOW_PALETTE[WORKFLOW_STATES.indexOf(state)] ?? '#343a40';
  return pill;
};
/** Seconds since the epoch (the executor's wall clock) as "2026-12-06 07:01:02 UTC". */
const wallText = (s) => (Number.isFinite(s) ? `${new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC` : '–');
const plural = (n, word) => `${integer(n)} ${word}${n === 1 ? '' : 's'}`;

/** A workflow that still moves: running, or a rollback whose compensations have not all ended. */
export const isMoving = (view) => view.state === WF_RUNNING || view.tasks.some((t) => OPEN_STATES.has(t.state));


/** The kinds a task may name, with their parameters, and the executor's set-up (GET /tasks/kinds). */
export function renderKinds(kinds) {
  const list = kinds.kinds.map((k) => `${k.name}${Object.keys(k.params).length ? ` (${Object.keys(k.params).join(', ')})` : ''}`);
  const pools = Object.entries(kinds.pools).map(([pool, n]) => `${integer(n)} ${pool.toUpperCase()}`).join(', ');
  setText('wf-kinds', `Task kinds: ${list.join('; ')}. Workers: ${pools}; queue order ${kinds.queue_order}. ${clockWords(kinds.clock)}`);
}

/** The executor's clock and its scale in words (docs/execution.md, "The clock"). */
function clockWords(clock) {
  return `Executor clock: ${clock.kind}, scale ${scaleText(clock.scale)}: one second on it is ${minutesText(clock.scale / 60)} on a grid `
    + `session's clock, so a task deferred 1 h starts ${fixed(3600 / clock.scale, 1)} s after submission.`;
}
const scaleText = (scale) => fixed(scale, Number.isInteger(scale) ? 0 : 2);

// --- the editor's errors --------------------------------------------------------------------------

/** The problems of a refused workflow (a 422's or 413's `detail`, or the page's own JSON error), one row each,
 * naming the task (or the workflow) and the field. */
export function showWorkflowErrors(caption, problems) {
  $('wf-error-rows').replaceChildren(...problems.map((p) => el('tr', {},
    el('td', { text: p.task ?? (p.index !== undefined && p.index !== null ? `task ${p.index + 1}` : 'the workflow') }),
    el('td', { text: p.field ?? '–' }),
    el('td', { text: withHint(p) }))));
  setText('wf-errors-caption', caption);
  $('wf-errors').hidden = false;
  $('wf-text').setAttribute('aria-invalid', 'true');
  $('wf-text').setAttribute('aria-describedby', 'wf-errors-caption wf-kinds');
}

export function clearWorkflowErrors() {
  $('wf-errors').hidden = true;
  $('wf-error-rows').replaceChildren();
  $('wf-text').removeAttribute('aria-invalid');
  $('wf-text').setAttribute('aria-describedby', 'wf-kinds');
}

// --- the lists ---------------------------------------------------------------------------------

/** The session's workflows (GET /workflows), each a button that selects it. */
export function renderWorkflowList(page, selected) {
  setText('wf-list-summary', page.total ? `${plural(page.total, 'workflow')}${page.total > page.workflows.length ? `, the newest ${integer(page.workflows.length)} listed` : ''}.`
    : 'No workflows yet: load an example and submit it.');
  $('wf-list').replaceChildren(...page.workflows.map((w) => {
    const button = el('button', { type: 'button', class: 'wf-pick', 'data-id': w.workflow_id },
      el('span', { class: 'wf-name', text: w.name }), workflowPill(w.state),
      el('span', { class: 'muted small', text: `${wallText(w.created_at)}${w.open_tasks ? ` · ${plural(w.open_tasks, 'open task')}` : ''}` }));
    if (w.workflow_id === selected) button.setAttribute('aria-current', 'true');
    return el('li', {}, button);
  }));
}

/** The dead-letter list (GET /dead-letter), each with a Retry button that names its task. */
export function renderDeadLetter(dead, names) {
  setText('dead-summary', dead.total ? `${plural(dead.total, 'dead task')}: out of attempts, or failed with an error that is not retried.` : 'No dead tasks.');
  $('dead-body').replaceChildren(...dead.tasks.map((t) => {
    const retry = el('button', { type: 'button', class: 'btn btn-small', 'data-job': String(t.job_id), 'aria-label': `Retry ${t.task}`, text: 'Retry' });
    if (t.job_id === null) setOff(retry, true);
    return el('tr', { 'data-task': t.task },
      el('td', {}, el('strong', { text: t.task }), el('span', { class: 'muted small', text: ` ${t.kind}${t.role === COMPENSATION ? ', compensation' : ''}` })),
      el('td', { text: names.get(t.workflow_id) ?? t.workflow_id.slice(0, 8) }),
      el('td', { class: 'num', text: integer(t.attempts_made) }),
      el('td', { class: 'wf-error', text: t.error ?? '–' }),
      el('td', {}, retry));
  }));
}

// --- the selected workflow ---------------------------------------------------------------------

export function clearWorkflow() {
  for (const id of ['wf-detail', 'wf-gantt-card', 'wf-rollback-card']) $(id).hidden = true;
}

/** A workflow (GET /workflows/{id}): its facts, DAG, Gantt and rollback. */
export function renderWorkflow(view) {
  $('wf-detail').hidden = false;
  $('wf-gantt-card').hidden = false;
  $('wf-detail').dataset.id = view.workflow_id;
  $('wf-detail').dataset.state = view.state;
  setText('wf-title', view.name);
  const counts = TASK_STATES.filter((s) => view.counts[s]).map((s) => `${integer(view.counts[s])} ${s.replace('_', ' ')}`);
  $('wf-state-line').replaceChildren(workflowPill(view.state), ` ${counts.join(', ')}${isMoving(view) ? ' · updating as it runs' : ''}`);
  setOff($('wf-cancel'), view.state !== WF_RUNNING);
  renderFacts(view);
  renderDag(view);
  renderGantt(view);
  renderRollback(view);
}

function renderFacts(view) {
  const fp = view.footprint;
  const path = view.critical_path;
  const facts = [
    ['Submitted', wallText(view.created_at)],
    ['Ended', view.finished_at ? wallText(view.finished_at) : 'not yet'],
    ['Critical path', `${path.tasks.join(' → ')} (${minutesText(path.length_min)})`],
    ['Deadline', view.deadline_min === null ? 'none' : `${minutesText(view.deadline_min)} after submission`],
    ['CO₂ saved by carbon-aware timing', savedWords(fp.plan)],
    [`Energy (${fp.label})`, fp.energy_kwh === null ? '–' : `${amount(fp.energy_kwh)} kWh`],
    [`CO₂ (${fp.label})`, fp.co2_kg === null ? (view.scenario === 'grid' ? '–' : 'no gCO₂/kWh in a reference session') : `${amount(fp.co2_kg)} kg`],
    ['CPU energy', fp.cpu_energy_j === null ? fp.cpu_energy_label : `${fixed(fp.cpu_energy_j, 1)} J (${fp.cpu_energy_label})`],
    ['Executor clock', `${view.clock.kind}, scale ${scaleText(view.clock.scale)}: 1 s on it is ${minutesText(view.clock.scale / 60)} of a grid session's clock`],
    ['Session', `${view.scenario ?? '–'}${view.session_clock_utc ? `, its clock at submission ${view.session_clock_utc}` : ''}; seed ${view.seed}`],
  ];
  $('wf-facts').replaceChildren(...facts.map(([k, v]) => el('div', { 'data-fact': k }, el('dt', { text: k }), el('dd', { text: v }))));
}

/** footprint.plan: the when-policy's timing against running every task as soon as it is ready, in FAST mode. */
function savedWords(plan) {
  if (!plan) return 'no plan: only grid sessions time tasks by the grid';
  const share = plan.run_now_kg > 0 ? ` (${percent(plan.saved_kg / plan.run_now_kg, 1)})` : '';
  return `${amount(plan.saved_kg)} kg${share} less than the ${amount(plan.run_now_kg)} kg of running every task as soon as it is ready`;
}

/** The compensations that ran after a failure: the task each undoes, its state, attempts and error. */
function renderRollback(view) {
  const undo = view.tasks.filter((t) => t.role === COMPENSATION);
  $('wf-rollback-card').hidden = undo.length === 0;
  if (!undo.length) return;
  const open = undo.filter((t) => OPEN_STATES.has(t.state)).length;
  const failed = undo.filter((t) => t.state === DEAD || t.state === CANCELLED).length;
  const done = undo.filter((t) => t.state === SUCCEEDED).map((t) => t.compensates);
  setLive('wf-rollback-summary', open ? `Rolling back: ${integer(undo.length - open)} of ${plural(undo.length, 'compensation')} ended.`
    : failed ? `Rollback incomplete: ${plural(failed, 'compensation')} did not succeed (the dead-letter list has it; Retry runs it again).`
      : `Rolled back: ${done.join(', ')} undone by their compensations, in reverse dependency order.`);
  $('wf-rollback-body').replaceChildren(...undo.map((t) => el('tr', { 'data-task': t.compensates ?? '' },
    el('td', { text: t.compensates ?? '–' }),
    el('td', { text: t.kind }),
    el('td', {}, statePill(t.state)),
    el('td', { class: 'num', text: `${integer(t.attempts_made)} of ${integer(t.max_attempts)}` }),
    el('td', { class: 'wf-error', text: t.error ?? '–' }))));
}

/** Once: the examples to pick, the states' legend, and the DAG's lines following its boxes when the layout
 * changes (the tab shown, the window resized). */
export function bindWorkflowsView() {
  $('wf-example').replaceChildren(...EXAMPLES.map((x) => el('option', { value: x.file, text: x.label })));
  renderLegend();
  new ResizeObserver(() => drawEdges()).observe($('wf-dag'));
}
