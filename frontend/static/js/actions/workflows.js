/* The Workflows tab's actions: load an example, submit the editor's workflow (POST /workflows), read the
 * session's workflows and dead-letter list, follow the selected workflow (GET /workflows/{id} every POLL_MS
 * while it moves and the tab is open), cancel it, and retry a dead task (POST /jobs/{id}/retry). */

import { ApiError, api, describeDetail, moreProblems } from '../api.js';
import { $, isOff, setLive, setOff, sleep } from '../dom.js';
import { state } from '../store.js';
import { hideNoticeIf, showError } from '../views/notice.js';
import { bindWorkflowsView, clearWorkflow, clearWorkflowErrors, isMoving, renderDeadLetter, renderKinds, renderWorkflow, renderWorkflowList, showWorkflowErrors } from '../views/workflows.js';
import { exampleUrl } from '../views/workflows-examples.js';
import { exclusive } from './exclusive.js';

const POLL_MS = 400;
let refusal = null; // the notice of the last refused submission, while its errors are shown
let listed = new Map(); // workflow id -> {name, state} as the lists were last read

/** Each time the tab opens: the kinds (once), this session's workflows and dead tasks, and the selected
 * workflow followed again (a new session forgets the last one's selection). */
export async function showWorkflows() {
  const wf = state.wf;
  if (wf.sessionId !== state.sessionId) {
    wf.sessionId = state.sessionId;
    wf.selected = null;
    wf.token++;
    clearWorkflow();
  }
  try {
    if (!wf.kinds) {
      wf.kinds = await api.taskKinds();
      renderKinds(wf.kinds);
    }
    const page = await refreshLists();
    if (!wf.selected && page.workflows.length) wf.selected = page.workflows[0].workflow_id;
    if (wf.selected) followWorkflow(wf.selected);
  } catch (err) {
    showError(err);
  }
}

/** The session's data changed (renderAll): read the tab again if it is open (another session forgets the
 * selection); a closed tab is read when it opens. */
export function renderWorkflows() {
  if (state.activeTab === 'workflows') showWorkflows();
}

/** GET /workflows and GET /dead-letter, drawn; returns the page of workflows. */
async function refreshLists() {
  const [page, dead] = await Promise.all([api.workflows(), api.deadLetter()]);
  listed = new Map(page.workflows.map((w) => [w.workflow_id, w]));
  renderWorkflowList(page, state.wf.selected);
  renderDeadLetter(dead, new Map(page.workflows.map((w) => [w.workflow_id, w.name])));
  return page;
}

/** Follow workflow `id`: draw it, and while it moves and this tab is open, draw it again every POLL_MS. A
 * newer follow (another workflow picked, the tab left and opened again) stops this one. When it has stopped
 * moving, the lists are read again if they may be out of date (it moved while followed, or they show it in
 * another state: it may have ended between the lists' reading and the first poll), for its state and the
 * tasks that died. */
async function followWorkflow(id) {
  const wf = state.wf;
  const token = ++wf.token;
  wf.selected = id;
  for (const button of $('wf-list').querySelectorAll('.wf-pick')) {
    if (button.dataset.id === id) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
  let moved = false;
  for (;;) {
    let view;
    try {
      view = await api.workflow(id);
    } catch (err) {
      if (token !== wf.token) return;
      if (err instanceof ApiError && err.status === 404) {
        wf.selected = null;
        clearWorkflow();
      }
      showError(err);
      return;
    }
    if (token !== wf.token) return;
    if (state.activeTab !== 'workflows') break;
    renderWorkflow(view);
    if (!isMoving(view)) {
      document.body.dataset.workflowFollow = 'idle';
      if (moved || !listed.has(id) || listed.get(id).state !== view.state) await refreshLists().catch(showError);
      return;
    }
    moved = true;
    document.body.dataset.workflowFollow = 'polling';
    await sleep(POLL_MS);
    if (token !== wf.token) return;
    if (state.activeTab !== 'workflows') break;
  }
  document.body.dataset.workflowFollow = 'stopped'; // the tab was left: showWorkflows follows it again
}

/** Load into the editor the example the select names (a file under /static/workflows/). */
async function loadExample() {
  const file = $('wf-example').value;
  try {
    const body = await api.workflowExample(exampleUrl(file));
    $('wf-text').value = JSON.stringify(body, null, 2);
    editorChanged();
    setLive('wf-status', `Example loaded: ${$('wf-example').selectedOptions[0].textContent}. Press Submit workflow to run it.`);
  } catch (err) {
    showError(err);
  }
}

/** Submit workflow: the editor's JSON (parsed here, so a typo is named with its place), then POST /workflows. */
function submitWorkflow(event, onSubmitted) {
  event.preventDefault();
  const submit = $('wf-submit');
  if (isOff(submit)) return;
  let body;
  try {
    body = JSON.parse($('wf-text').value);
  } catch (err) {
    refuse(null, 'The workflow is not valid JSON; nothing was sent.', [{ task: null, field: 'JSON', message: err.message }]);
    return;
  }
  const started = exclusive('workflow', async () => {
    setOff(submit, true);
    setLive('wf-status', 'Submitting…');
    try {
      const created = await api.submitWorkflow(body);
      clearWorkflowErrors();
      hideNoticeIf(refusal);
      refusal = null;
      const tasks = Object.keys(created.tasks).length;
      setLive('wf-status', `Submitted: ${tasks} task${tasks === 1 ? '' : 's'}, stored before the answer came. Following it below.`);
      // Stored: what follows is reading, whose failure is shown as such (not as a refused submission).
      refreshLists().catch(showError).then(() => followWorkflow(created.workflow_id));
      Promise.resolve(onSubmitted()).catch(showError);
    } catch (err) {
      if (err instanceof ApiError && Array.isArray(err.detail) && (err.status === 422 || err.status === 413)) {
        const more = err.truncated && err.truncated.more > 0 ? ` ${moreProblems(err.truncated)}` : '';
        refuse(err, `${err.title} (HTTP ${err.status}); nothing was stored.${more}`, err.detail);
      } else if (err instanceof ApiError && err.status === 413) {
        refuse(err, `${err.title} (HTTP 413); nothing was stored.`, describeDetail(err.detail, 413).map((message) => ({ task: null, message })));
      } else {
        setLive('wf-status', `Not submitted: ${err.message}.`);
        refusal = showError(err);
      }
    } finally {
      setOff(submit, false);
    }
  });
  if (!started) setLive('wf-status', 'Not submitted: another action is under way; submit again when it has ended.');
}

/** A refused workflow: its problems in the table under the editor, and in the notice. */
function refuse(err, caption, problems) {
  showWorkflowErrors(caption, problems);
  setLive('wf-status', `Not submitted: ${problems.length === 1 ? 'one problem' : `${problems.length} problems`}, listed below. Edit the workflow and submit again.`);
  refusal = err ? showError(err) : null;
}

/** Any edit of the workflow after a refusal: the errors were about the text as it was, so they go. */
function editorChanged() {
  if ($('wf-errors').hidden && refusal === null) return;
  clearWorkflowErrors();
  hideNoticeIf(refusal);
  refusal = null;
  setLive('wf-status', 'Edited: press Submit workflow to send it.');
}

/** Retry (dead-letter list): POST /jobs/{id}/retry, then the lists and the workflow followed again. */
async function retryDead(button) {
  if (isOff(button)) return;
  setOff(button, true);
  setLive('dead-status', `Retrying job ${button.dataset.job}…`);
  try {
    const out = await api.retryJob(button.dataset.job);
    setLive('dead-status', `${out.task} (job ${out.job_id}) is ${out.state} again, with a fresh set of attempts.`);
    await refreshLists();
    followWorkflow(out.workflow_id);
  } catch (err) {
    setOff(button, false);
    setLive('dead-status', `Not retried: ${err.message}.`);
    showError(err);
  }
}

/** Cancel workflow: POST /workflows/{id}/cancel; its running tasks are stopped, the rest never start. */
async function cancelSelected() {
  const button = $('wf-cancel');
  const id = state.wf.selected;
  if (!id || isOff(button)) return;
  setOff(button, true);
  try {
    await api.cancelWorkflow(id);
    await refreshLists();
    followWorkflow(id);
  } catch (err) {
    setOff(button, false);
    showError(err);
  }
}

/** Wire the tab's controls; `onSubmitted` reads the session again (a workflow's tasks are its jobs). */
export function bindWorkflows(onSubmitted) {
  bindWorkflowsView();
  $('wf-load').addEventListener('click', loadExample);
  $('wf-form').addEventListener('submit', (event) => submitWorkflow(event, onSubmitted));
  $('wf-text').addEventListener('input', editorChanged);
  $('wf-list').addEventListener('click', (event) => {
    const button = event.target.closest('.wf-pick');
    if (button) followWorkflow(button.dataset.id);
  });
  $('dead-body').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-job]');
    if (button) retryDead(button);
  });
  $('wf-cancel').addEventListener('click', cancelSelected);
}
