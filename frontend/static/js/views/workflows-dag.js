/* The Workflows tab's DAG: one column per layer (the API's `layer`: 0 for a task without dependencies, else one
 * more than its deepest parent, so a column is the longest path from a first task), one box per task coloured
 * by its state, and the edges drawn on a canvas behind the boxes (no SVG: the page inserts no markup but
 * text). Each box also says its parents in words, for those who do not see the lines. */

import { TASK_STATES } from '/js/states.js';
import { $, el } from '../dom.js';
import { integer } from '../format.js';

// One colour per task state, in the order of TASK_STATES: pending, deferred, queued, running, retrying,
// succeeded, dead, cancelled, upstream_failed, rolled_back. Each is 3:1 or more on white; the state is also
// written in the box, so colour is never the only cue.
const STATE_PALETTE = ['#6c757d', '#b35c00', '#6741d9', '#1864ab', '#c2410c', '#2b8a3e', '#c92a2a', '#495057', '#a61e4d', '#0b7285'];
export const stateColor = (state) => STATE_PALETTE[TASK_STATES.indexOf(state)] ?? '#343a40';
const [, DEFERRED, , , , , DEAD] = TASK_STATES;
const stateWords = (state) => state.replace('_', ' ');
const EDGE = '#868e96';

/** A task state as a small coloured pill with its name. */
export const statePill = (state) => {
  const pill = el('span', { class: 'wf-state', 'data-state': state, text: stateWords(state) });
  pill.style.borderColor = stateColor(state); // CSSOM: allowed by the CSP
  return pill;
};

/** The legend: every task state with its colour. */
export function renderLegend() {
  $('wf-legend').replaceChildren(...TASK_STATES.map((state) => el('li', {}, statePill(state))));
}

function taskBox(task) {
  const attempts = task.max_attempts > 1 || task.attempts_made > 1
    ? `attempt ${integer(task.attempts_made)} of ${integer(task.max_attempts)}` : `${integer(task.attempts_made)} attempt${task.attempts_made === 1 ? '' : 's'}`;
  const box = el('li', { class: 'dag-box', 'data-state': task.state, 'data-layer': String(task.layer) },
    el('strong', { class: 'dag-name', text: task.task }),
    el('span', { class: 'dag-kind', text: `${task.kind} · ${task.mode.toUpperCase()}${task.server ? ` · ${task.server}` : ''}` }),
    statePill(task.state),
    el('span', { class: 'dag-attempts', text: attempts }));
  if (task.deferred_h > 0) box.append(el('span', { class: 'dag-note', text: `deferred ${task.deferred_h.toFixed(1)} h on the session's clock` }));
  if (task.state === DEFERRED && task.not_before) {
    box.append(el('span', { class: 'dag-note', text: `released at ${new Date(task.not_before * 1000).toISOString().slice(11, 19)} UTC` }));
  }
  if (task.error) box.append(el('span', { class: 'dag-error', text: `${task.state === DEAD ? 'Error' : 'Last failure'}: ${task.error}` }));
  if (task.depends_on.length) box.append(el('span', { class: 'sr-only', text: `after ${task.depends_on.join(', ')}` }));
  box.style.borderLeftColor = stateColor(task.state);
  return box;
}

let drawn = []; // the tasks whose edges the canvas shows, to draw them again when the boxes move
const boxes = new Map(); // task id -> its box

/** The DAG of a workflow's tasks (its compensations are the rollback table's). */
export function renderDag(view) {
  const tasks = view.tasks.filter((t) => t.role !== 'compensation');
  const layers = [];
  for (const task of tasks) (layers[task.layer] ||= []).push(task);
  boxes.clear();
  const box = (task) => {
    const made = taskBox(task);
    boxes.set(task.task, made);
    return made;
  };
  $('wf-dag').replaceChildren(...Array.from(layers, (column = [], i) => el('li', { class: 'dag-layer' },
    el('span', { class: 'dag-layer-title', text: `Layer ${i}` }),
    el('ol', { class: 'dag-column' }, ...column.map(box)))));
  drawn = tasks;
  drawEdges();
}

/** Lines from each parent's right edge to its child's left edge, on the canvas under the boxes. */
export function drawEdges() {
  const wrap = $('wf-dag').parentElement, canvas = $('wf-dag-edges');
  canvas.style.width = '0px'; // measured without the last drawing, which may be larger than the boxes now
  canvas.style.height = '0px';
  const width = wrap.scrollWidth, height = wrap.scrollHeight;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  if (!width) return; // a hidden tab has no layout: drawn again when it shows
  const origin = wrap.getBoundingClientRect();
  const at = (box, side) => {
    const r = box.getBoundingClientRect();
    return [(side === 'right' ? r.right : r.left) - origin.left + wrap.scrollLeft, r.top + r.height / 2 - origin.top + wrap.scrollTop];
  };
  ctx.strokeStyle = EDGE;
  ctx.fillStyle = EDGE;
  ctx.lineWidth = 1.5;
  for (const task of drawn) {
    const child = boxes.get(task.task);
    for (const parent of task.depends_on) {
      const from = boxes.get(parent);
      if (!child || !from) continue;
      const [x1, y1] = at(from, 'right'), [x2, y2] = at(child, 'left');
      const bend = Math.max(12, (x2 - x1) / 2);
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.bezierCurveTo(x1 + bend, y1, x2 - bend, y2, x2 - 6, y2);
      ctx.stroke();
      ctx.beginPath(); // the arrow head, pointing at the child
      ctx.moveTo(x2, y2);
      ctx.lineTo(x2 - 7, y2 - 4);
      ctx.lineTo(x2 - 7, y2 + 4);
      ctx.fill();
    }
  }
}
