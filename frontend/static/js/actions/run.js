/* Run scheduler: (upload a chosen file,) POST /run?detail=compact, read the session's status, draw it,
 * with each step shown in the Run dialog. */

import { ApiError, api } from '../api.js';
import { releaseStarted } from '../derive.js';
import { nextFrame, sleep } from '../dom.js';
import { integer } from '../format.js';
import { setJobs, state } from '../store.js';
import { openAddPanel } from '../views/job-form.js';
import { hideNotice, showError, showNotice } from '../views/notice.js';
import { overlay } from '../views/overlay.js';
import { renderAll } from '../views/tabs.js';
import { exclusive } from './exclusive.js';
import { showJob } from './explain.js';
import { loadHistory, refreshStatus } from './session.js';
import { uploadFile } from './upload.js';

/** An Add or Upload still on its way is waited for first: its jobs belong to this run. */
export async function runScheduler(event) {
  const timing = { clickAt: event && event.timeStamp ? event.timeStamp : performance.now() };
  if ((state.busy === 'add' || state.busy === 'upload') && !(await state.action)) return;
  await exclusive('run', () => schedule(timing));
}

async function schedule(timing) {
  const file = state.pendingFile;
  if (!state.queued && !file) {
    showNotice('Nothing to run: the queue is empty', ['Add a job or upload a CSV first (New job).']);
    openAddPanel(true);
    return;
  }
  document.body.dataset.runState = 'running';
  hideNotice();
  const queued = `${integer(state.queued)} job${state.queued === 1 ? '' : 's'}`;
  overlay.open(`Scheduling ${file ? `the queue and ${file.name}` : queued}`);
  let step = 'parse';
  try {
    if (file) {
      const rows = (await file.text()).split(/\r?\n/).filter((line) => line.trim()).length - 1;
      overlay.step('parse', 'done', `${integer(Math.max(rows, 0))} rows in ${file.name}`);
      step = 'submit';
      overlay.step('submit', 'active');
      const result = await uploadFile(file);
      overlay.step('submit', 'done', `${integer(result.count)} jobs queued`);
    } else {
      overlay.step('parse', 'done', `${queued} already validated in the queue`);
      overlay.step('submit', 'skipped', 'nothing new to submit');
    }
    step = 'schedule';
    overlay.step('schedule', 'active');
    const result = await api.run();
    const batch = result.scheduled_jobs;
    timing.responseAt = performance.now();
    overlay.step('schedule', 'done', `${integer(batch.length)} jobs placed`);
    step = 'explain';
    overlay.step('explain', 'active');
    const explained = batch.length ? api.explanation(batch[0].job_id, false) : Promise.resolve(null);
    const [explanation] = await Promise.all([explained, refreshStatus()]);
    const jobs = releaseStarted(await sessionJobs(batch), state.deferred.clock);
    overlay.step('explain', 'done', explanation ? `job ${batch[0].job_id} explained; every job has its reason` : 'no jobs');
    step = 'render';
    await draw(jobs, batch, explanation, timing);
    // The overlay stays a moment so the steps can be read; the timing has already stopped.
    await sleep(500);
  } catch (err) {
    overlay.step(step, 'error', err instanceof ApiError ? err.title : 'failed');
    document.body.dataset.runState = 'error';
    if (!(err instanceof ApiError && err.status === 422 && step === 'submit')) showError(err);
    await sleep(300);
  } finally {
    overlay.close();
  }
}

/** The render step: every tab drawn from the session's jobs, then the run's timing (window.taskpilotTiming,
 * and the body's data-run-state and data-runs, which the browser tests wait on). */
async function draw(jobs, batch, explanation, timing) {
  overlay.step('render', 'active');
  timing.renderAt = performance.now();
  state.queueLog = [];
  openAddPanel(false);
  setJobs(jobs);
  renderAll();
  if (batch.length && state.xai.jobId === null) showJob(batch[0].job_id, explanation);
  await nextFrame();
  timing.drawnAt = performance.now();
  timing.jobs = batch.length;
  timing.totalMs = timing.drawnAt - timing.clickAt;
  timing.renderMs = timing.drawnAt - timing.renderAt;
  timing.fetchMs = timing.responseAt - timing.clickAt;
  overlay.step('render', 'done', `${(timing.totalMs / 1000).toFixed(2)} s from click to charts`);
  window.taskpilotTiming = timing;
  document.body.dataset.runState = 'done';
  document.body.dataset.runs = String(Number(document.body.dataset.runs || 0) + 1);
}

/** The session's jobs after a run placed `batch`: this page's copy plus the batch when /summary agrees
 * on the count; otherwise another tab ran jobs of this session too, and the history past this page's
 * copy comes from GET /history (all of it when the session shrank, as after a reset elsewhere). */
async function sessionJobs(batch) {
  const total = state.summary.total_jobs;
  const known = state.jobs.length;
  if (total === known + batch.length) return state.jobs.concat(batch);
  if (total > known + batch.length) return state.jobs.concat(await loadHistory(total, known));
  return loadHistory(total);
}
