/* The Jobs / History tab: the session's jobs in a sortable, filterable, paged table. Sorting, filtering
 * and paging are this view's own; an Explain button calls the handler main.js gives it. */

import { LATENCIES, MODES, STATUSES, TIERS, URGENCIES } from '/js/states.js';
import { ECO, MOVED, own } from '../derive.js';
import { $, el, givenMarks, modeEl, setText, statusEl, timeEl } from '../dom.js';
import { amount, fixed, integer, minutesText } from '../format.js';
import { isGrid, state } from '../store.js';

/** The filter menu's choices (its option values): which jobs each keeps, and how the count line says so. */
const HISTORY_FILTERS = {
  all: { test: null, words: '' },
  moved: { test: (j) => MOVED.has(j.status), words: 'deferred or released' },
  [ECO]: { test: (j) => j.mode === ECO, words: 'in ECO mode' },
  late: { test: (j) => lateMin(j) > 0, words: 'that missed their deadline' },
};

/** Minutes a grid job finishes after its deadline (<= 0: on time); NaN without a deadline or a finish. */
const lateMin = (j) => (j.deadline_at && j.finish_at ? (Date.parse(j.finish_at) - Date.parse(j.deadline_at)) / 60_000 : NaN);

/** Each sortable column's key as a number; the vocabulary sorts in Python's order, anything else first. */
const TABLE_KEYS = {
  job_id: (j) => j.job_id,
  chosen_dc: (j) => state.servers.indexOf(j.chosen_dc),
  priority: (j) => TIERS.indexOf(j.priority),
  latency: (j) => LATENCIES.indexOf(j.latency),
  reward: (j) => j.reward,
  energy_kwh: (j) => j.energy_kwh,
  co2_kg: (j) => j.co2_kg,
  cost: (j) => j.cost,
  urgency: (j) => URGENCIES.indexOf(j.urgency),
  status: (j) => STATUSES.indexOf(j.status),
  mode: (j) => MODES.indexOf(j.mode),
  start_at: (j) => (j.start_at ? Date.parse(j.start_at) : -1),
  finish_at: (j) => (j.finish_at ? Date.parse(j.finish_at) : -1),
  deadline_at: (j) => (j.deadline_at ? Date.parse(j.deadline_at) : Number.MAX_VALUE), // no deadline: the latest
};

/** Row order for the current sort and filter: an index array, made once per change (stable, ties by job). */
function tableOrder() {
  const t = state.table;
  if (t.order) return t.order;
  const keyOf = TABLE_KEYS[t.key];
  const keys = Float64Array.from(state.jobs, keyOf);
  const test = HISTORY_FILTERS[t.filter].test;
  let order = Array.from(state.jobs.keys());
  if (test) order = order.filter((i) => test(state.jobs[i]));
  order.sort((i, j) => (keys[i] - keys[j]) * t.dir || i - j);
  t.order = order;
  return order;
}

export function renderHistory() {
  const t = state.table;
  const order = tableOrder();
  const n = order.length;
  const pages = Math.max(1, Math.ceil(n / t.size));
  t.page = Math.min(t.page, pages - 1);
  const start = t.page * t.size;
  const grid = isGrid();
  const rows = [];
  for (let k = start; k < Math.min(n, start + t.size); k++) rows.push(jobRow(state.jobs[order[k]], grid));
  $('history-body').replaceChildren(...rows);
  const all = state.jobs.length;
  const showing = `showing ${integer(start + 1)}–${integer(Math.min(n, start + t.size))}`;
  setText('history-count', !all ? 'No jobs yet: add some and press Run scheduler.'
    : t.filter !== 'all' ? `${integer(n)} of ${integer(all)} jobs ${HISTORY_FILTERS[t.filter].words}${n ? `, ${showing}` : ''}.`
      : `${integer(n)} jobs, ${showing}.`);
  setText('page-info', `Page ${integer(t.page + 1)} of ${integer(pages)}`);
  const focused = document.activeElement;
  $('page-first').disabled = $('page-prev').disabled = t.page === 0;
  $('page-last').disabled = $('page-next').disabled = t.page >= pages - 1;
  // A pager button that just switched itself off hands the focus to the one that still works.
  if (focused && focused.disabled && focused.closest('.pager')) {
    const other = $(t.page === 0 ? 'page-next' : 'page-prev');
    (other.disabled ? $('page-size') : other).focus();
  }
  for (const th of document.querySelectorAll('#history-table th[data-sort]')) {
    th.setAttribute('aria-sort', th.dataset.sort === t.key ? (t.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
}

/** One job's row; a grid session's rows add when and how the job runs. */
function jobRow(j, grid) {
  const explain = el('button', { type: 'button', class: 'btn btn-small', 'data-job': String(j.job_id), 'aria-label': `Explain job ${j.job_id}`, text: 'Explain' });
  return el('tr', {},
    el('td', { text: String(j.job_id) }),
    el('td', {}, el('span', { class: 'dot', 'data-tier': state.tierOf[j.chosen_dc] || '' }), j.chosen_dc),
    el('td', { text: j.priority }),
    el('td', { text: j.latency ?? '–' }),
    el('td', { class: 'num', text: fixed(j.reward, 4) }),
    el('td', { class: 'num' }, amount(j.energy_kwh), ...givenMarks(j.energy_source, 'energy')),
    el('td', { class: 'num' }, amount(j.co2_kg), ...givenMarks(j.co2_source, 'co2')),
    el('td', { class: 'num', text: fixed(j.cost, 4) }),
    ...(grid ? whenCells(j) : []),
    el('td', {}, explain));
}

/** A grid job's urgency, status, mode, start, finish and deadline cells in the history table; times carry
 * the year (a session's clock may cross one), and a missed deadline says so in words, not colour alone. */
function whenCells(j) {
  const late = lateMin(j);
  return [
    el('td', { text: j.urgency ?? '–' }),
    el('td', {}, statusEl(j.status)),
    el('td', {}, modeEl(j.mode)),
    el('td', {}, timeEl(j.start_at)),
    el('td', {}, timeEl(j.finish_at)),
    el('td', late > 0 ? { class: 'late' } : {}, timeEl(j.deadline_at),
      ...(late > 0 ? [el('span', { class: 'late-mark', text: `missed by ${minutesText(late)}` })] : [])),
  ];
}

/** The table's own controls (filter, sort, pages); an Explain button calls `onExplain(jobId)`. */
export function bindHistory(onExplain) {
  $('history-filter').addEventListener('change', (event) => {
    state.table.filter = own(HISTORY_FILTERS, event.target.value, null) ? event.target.value : 'all';
    state.table.order = null;
    state.table.page = 0;
    renderHistory();
  });
  document.querySelector('#history-table thead').addEventListener('click', (event) => {
    const th = event.target.closest('th[data-sort]');
    if (!th) return;
    const t = state.table;
    t.dir = t.key === th.dataset.sort ? -t.dir : 1;
    t.key = th.dataset.sort;
    t.order = null;
    t.page = 0;
    renderHistory();
  });
  $('history-body').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-job]');
    if (button) onExplain(Number(button.dataset.job));
  });
  const pageTo = (page) => { state.table.page = page; renderHistory(); };
  $('page-first').addEventListener('click', () => pageTo(0));
  $('page-prev').addEventListener('click', () => pageTo(Math.max(0, state.table.page - 1)));
  $('page-next').addEventListener('click', () => pageTo(state.table.page + 1));
  $('page-last').addEventListener('click', () => pageTo(Number.MAX_SAFE_INTEGER));
  $('page-size').addEventListener('change', (event) => { state.table.size = Number(event.target.value); state.table.page = 0; renderHistory(); });
}
