/* The New job panel: the one-job form (its when-to-run fields in grid sessions, and the server's reasons
 * at each field it refuses), the CSV form's rejected rows, and opening the panel. Adding and uploading
 * are actions/submit.js's and actions/upload.js's. */

import { describeDetail, withHint } from '../api.js';
import { own } from '../derive.js';
import { $, el, setText } from '../dom.js';
import { clockText, hoursOf, isoOfHours } from '../format.js';
import { state } from '../store.js';
import { hideNoticeIf, showError, showNotice } from './notice.js';

/** The one-job form as POST /submit takes it (its when-to-run fields only where the session has them). */
export function formJob() {
  const job = { priority: $('job-priority').value, cpu: Number($('job-cpu').value), memory: Number($('job-memory').value) };
  if ($('job-latency').value) job.latency = $('job-latency').value;
  if (!$('job-when').disabled) Object.assign(job, whenFields());
  return job;
}

/** The New job form's when-to-run fields (grid sessions) as the API takes them; blanks left out. */
function whenFields() {
  const out = { urgency: $('job-urgency').value };
  const number = (id) => ($(id).value === '' ? null : Number($(id).value));
  const duration = number('job-duration'), power = number('job-power');
  if (duration !== null) out.duration_min = duration;
  if (power !== null) out.power_w = power;
  const kind = $('job-deadline-kind').value;
  if (kind === 'minutes') out.deadline = number('job-deadline-min');
  if (kind === 'time') out.deadline = `${$('job-deadline-at').value.slice(0, 16)}Z`; // datetime-local, read as UTC
  if ($('job-interruptible').checked) out.interruptible = true;
  return out;
}

/** A queued job's line in the queue list. */
export function jobWords(id, job) {
  return `Job ${id}: ${job.priority}, latency ${job.latency || 'not set'}, cpu ${job.cpu} %, memory ${job.memory} %${whenWords(job)}`;
}

/** The when-to-run part of a queued job's line in the queue list. */
function whenWords(job) {
  if (!job.urgency) return '';
  const deadline = typeof job.deadline === 'number' ? `, deadline ${job.deadline} min after submission`
    : job.deadline ? `, deadline ${clockText(job.deadline)} UTC` : '';
  return `, ${job.urgency}${job.duration_min ? `, ${job.duration_min} min` : ''}${deadline}${job.interruptible ? ', interruptible' : ''}`;
}

/** The form control, and its message element, of each field /submit may name in a 422. */
const FIELD_CONTROLS = {
  priority: ['job-priority'], latency: ['job-latency'], cpu: ['job-cpu'], memory: ['job-memory'], urgency: ['job-urgency'],
  duration_min: ['job-duration', 'job-duration-error'], power_w: ['job-power', 'job-power-error'],
  deadline: [() => ($('job-deadline-kind').value === 'time' ? 'job-deadline-at' : 'job-deadline-min'), 'job-deadline-error'],
};

let formNotice = null; // the id of the notice showing the form's last refusal, while it may still be shown

/** A refused job (a 422 of /submit): the server's reasons in the notice, and at each field it names
 * (marked invalid, the first one focused). Without "Job 1": /submit sends one job, so its index names
 * nothing the user sees. */
export function showFieldErrors(err) {
  const detail = err.detail.map((e) => (e && typeof e === 'object' ? { ...e, index: null } : e));
  formNotice = showNotice(err.title, describeDetail(detail, err.status));
  let first = null;
  for (const e of detail) {
    const [control, message] = own(FIELD_CONTROLS, e && e.field, []);
    if (!control) continue;
    const input = $(typeof control === 'function' ? control() : control);
    input.setAttribute('aria-invalid', 'true');
    if (message) {
      $(message).hidden = false;
      $(message).textContent = `${e.field}: ${withHint(e)}`;
    }
    first = first || input;
  }
  if (first) first.focus();
}

/** Any other refusal of the form's job (too large, the server full or unreachable): in the notice, which
 * goes when the form changes, as the field errors do. */
export function showFormError(err) {
  formNotice = showError(err);
}

/** The form's error marks, and its notice if that is still shown: once the input changes they describe a
 * job that is no longer the one in the form. */
export function clearFieldErrors() {
  for (const node of document.querySelectorAll('#job-form [aria-invalid]')) node.removeAttribute('aria-invalid');
  for (const node of document.querySelectorAll('#job-form .field-error')) {
    node.hidden = true;
    node.textContent = '';
  }
  hideNoticeIf(formNotice);
  formNotice = null;
}

/** The deadline's input follows its kind: minutes after submission, or a time (first offered six hours
 * after the session's clock). The hidden one is switched off. */
export function syncDeadlineFields() {
  const kind = $('job-deadline-kind').value;
  for (const [name, id] of [['minutes', 'job-deadline-min'], ['time', 'job-deadline-at']]) {
    const on = kind === name;
    $(`${id}-field`).hidden = !on;
    $(id).disabled = !on;
    $(id).required = on;
  }
  const at = $('job-deadline-at');
  if (kind === 'time' && !at.value && state.deferred.clock) at.value = isoOfHours(hoursOf(state.deferred.clock) + 6).slice(0, 16);
}

/** A refused file (a 422 of /upload): every bad row, under the CSV form. */
export function showCsvErrors(err, fileName) {
  const rows = Array.isArray(err.detail) ? err.detail : [{ row: null, field: null, message: err.lines.join('; ') || err.title }];
  $('csv-error-rows').replaceChildren(...rows.map((e) => el('tr', {},
    el('td', { text: e.row === null || e.row === undefined ? '–' : String(e.row) }),
    el('td', { text: e.field ?? '–' }),
    el('td', { text: withHint(e) }))));
  const more = err.truncated && err.truncated.more > 0 ? err.truncated.more : 0; // the server lists the first ones only
  const total = `${more && err.truncated.exact === false ? 'about ' : ''}${(rows.length + more).toLocaleString('en-US')}`;
  const listed = more ? ` (the first ${rows.length} listed)` : '';
  setText('csv-errors-caption', `${fileName}: ${total} problem${rows.length + more === 1 ? '' : 's'}${listed}; nothing from this file was queued`);
  $('csv-errors').hidden = false;
}

export function openAddPanel(open) {
  $('add-panel').hidden = !open;
  $('btn-new-job').setAttribute('aria-expanded', String(open));
  $('deferred-pill').setAttribute('aria-expanded', String(open));
}

/** The Deferred pill and the Overview's button: open the queue panel at the Deferred list. */
function showDeferred() {
  openAddPanel(true);
  const title = $('deferred-title');
  title.scrollIntoView({ block: 'start' });
  title.focus();
}

/** The panel's own controls: New job opens and closes it, the Deferred buttons open it at that list, the
 * deadline's kind picks its input, and any edit of the form clears its errors (the marks and the notice). */
export function bindJobForm() {
  $('btn-new-job').addEventListener('click', () => openAddPanel($('add-panel').hidden));
  $('deferred-pill').addEventListener('click', showDeferred);
  $('timing-show-deferred').addEventListener('click', showDeferred);
  $('job-deadline-kind').addEventListener('change', syncDeadlineFields);
  const edited = () => {
    if (formNotice !== null || document.querySelector('#job-form [aria-invalid]')) clearFieldErrors();
  };
  $('job-form').addEventListener('input', edited);
  $('job-form').addEventListener('change', edited); // selects and checkboxes
}
