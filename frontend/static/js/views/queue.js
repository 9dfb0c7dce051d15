/* The queue and the Deferred list (New job panel), and the Deferred count on the top bar. */

import { $, el, modeEl, setLive, setText, timeEl } from '../dom.js';
import { amount, clockText, integer } from '../format.js';
import { state } from '../store.js';

/** The jobs waiting for Run scheduler, as this page queued them since the last run. */
export function renderQueue() {
  setText('queue-count', integer(state.queued));
  const listed = state.queueLog.reduce((sum, entry) => sum + entry.count, 0);
  const list = $('queue-list');
  list.replaceChildren(...state.queueLog.slice(-20).map((entry) => el('li', { text: entry.text })));
  let summary = state.queued ? `${integer(state.queued)} job${state.queued === 1 ? '' : 's'} waiting for Run scheduler.` : 'The queue is empty.';
  if (state.queued > listed) summary += ` ${integer(state.queued - listed)} of them were queued earlier and are not listed.`;
  setText('queue-summary', summary);
  renderDeferred();
}

/** The Deferred list (GET /queue `deferred`): jobs placed but waiting for a start still ahead of the
 * session's clock, earliest first; and the count on the top bar. */
function renderDeferred() {
  const d = state.deferred;
  setText('deferred-count', integer(d.total));
  setText('deferred-count-top', integer(d.total));
  $('deferred-pill').dataset.count = String(d.total);
  $('deferred-body').replaceChildren(...d.jobs.map((j) => el('tr', {},
    el('td', {}, el('button', { type: 'button', class: 'link-button', 'data-job': String(j.job_id), 'aria-label': `Explain job ${j.job_id}`, text: `Job ${j.job_id}` })),
    el('td', {}, timeEl(j.start_at)),
    el('td', {}, modeEl(j.mode)),
    el('td', { text: j.chosen_dc }),
    el('td', {}, timeEl(j.deadline_at)),
    el('td', { class: 'num', text: amount(j.co2_saved_kg) }))));
  $('deferred-table').hidden = d.jobs.length === 0;
  const clock = d.clock ? ` The session's clock is at ${clockText(d.clock)} UTC.` : '';
  const listed = d.total > d.jobs.length ? ` The ${integer(d.jobs.length)} earliest are listed.` : '';
  setLive('deferred-summary', d.total
    ? `${integer(d.total)} job${d.total === 1 ? ' waits' : 's wait'} for a greener start.${listed}${clock}`
    : `No job is waiting for a later start.${clock}`);
  setText('job-clock', d.clock ? `Session clock: ${clockText(d.clock)} UTC. A new job is submitted then, or later when jobs are waiting before it.` : '');
}

/** A job's button in the Deferred list: `handler(jobId)` (main.js opens it in the Explainable AI tab). */
export function bindDeferredJobs(handler) {
  $('deferred-body').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-job]');
    if (button) handler(Number(button.dataset.job));
  });
}
