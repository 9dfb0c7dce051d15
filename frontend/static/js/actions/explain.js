/* Explaining a job: load its decision and explanation into the Explainable AI tab, or ask the LLM to
 * refine the explanation. A newer request (or a reset) bumps state.xai.token; older answers are dropped. */

import { ApiError, api } from '../api.js';
import { $, isOff, setOff, setText } from '../dom.js';
import { state } from '../store.js';
import { showError } from '../views/notice.js';
import { clearXai, renderDecision, renderExplanation } from '../views/xai.js';

/** One job in the XAI tab: its full decision (breakdown, Q-values) and its template explanation
 * (`explanation` when the caller has it already). */
export async function showJob(jobId, explanation = null) {
  const token = ++state.xai.token;
  state.xai.jobId = jobId;
  $('xai-job').value = String(jobId);
  setText('xai-source', `Loading job ${jobId}…`);
  try {
    const [job, text] = await Promise.all([api.job(jobId), explanation || api.explanation(jobId, false)]);
    if (token !== state.xai.token) return;
    renderDecision(job);
    renderExplanation(text);
    setOff($('xai-refine'), false);
  } catch (err) {
    if (token !== state.xai.token) return;
    if (err instanceof ApiError && err.status === 404) clearXai(`There is no scheduled job ${jobId} in this session.`);
    else setText('xai-source', '');
    showError(err);
  }
}

/** The tab opened with no job chosen: the session's latest. */
export function showLatestJobIfNone() {
  if (state.xai.jobId === null && state.jobs.length) showJob(state.jobs[state.jobs.length - 1].job_id);
}

/** Refine with the LLM. The button stays focusable while it asks (aria-disabled), and a job change or a
 * reset meanwhile (a new xai token) leaves the answer, and the button, to whatever shows now. */
export async function refineExplanation() {
  const jobId = state.xai.jobId;
  const button = $('xai-refine');
  if (jobId === null || isOff(button)) return;
  const token = state.xai.token;
  setOff(button, true);
  setText('xai-source', 'Asking the LLM…');
  try {
    const explanation = await api.explanation(jobId, true);
    if (token === state.xai.token) renderExplanation(explanation);
  } catch (err) {
    if (token !== state.xai.token) return;
    setText('xai-source', '');
    showError(err);
  } finally {
    if (token === state.xai.token) setOff(button, false);
  }
}
