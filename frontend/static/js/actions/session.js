/* The session: read its status and history from the server, show it, follow an expiry, start a new one. */

import { HISTORY_PAGE, api } from '../api.js';
import { $ } from '../dom.js';
import { integer } from '../format.js';
import { SESSION_KEY, forgetSessionData, setJobs, state, storeSet } from '../store.js';
import { openAddPanel } from '../views/job-form.js';
import { showError, showNotice } from '../views/notice.js';
import { renderAll } from '../views/tabs.js';
import { clearXai } from '../views/xai.js';
import { exclusive } from './exclusive.js';
import { showJob } from './explain.js';

/** GET /summary, /sustainability and /queue into the state (nothing drawn). */
export async function refreshStatus() {
  const [summary, carbon, queue] = await Promise.all([api.summary(), api.carbon(), api.queue()]);
  state.summary = summary;
  state.carbon = carbon;
  state.queued = summary.queued_jobs;
  state.deferred = { total: queue.deferred_total || 0, jobs: queue.deferred || [], clock: queue.clock_utc || null };
}

/** Jobs from position `from` to `total` of the session's history (GET /history), pages fetched side by side. */
export async function loadHistory(total, from = 0) {
  const offsets = [];
  for (let offset = from; offset < total; offset += HISTORY_PAGE) offsets.push(offset);
  const pages = await Promise.all(offsets.map((offset) => api.history(offset, HISTORY_PAGE)));
  return pages.flatMap((page) => page.jobs);
}

/** After refreshStatus: the session's whole history, then every tab drawn from it. */
export async function showSession() {
  const total = state.summary.total_jobs;
  setJobs(total ? await loadHistory(total) : []);
  $('scenario-select').value = state.summary.scenario === 'grid' ? 'grid' : 'reference';
  if (!total && !state.queued) openAddPanel(true);
  renderAll();
  if (state.jobs.length) showJob(state.jobs[state.jobs.length - 1].job_id);
}

/** The server replaced an expired session with a new, empty one (X-Session-Notice on any answer): drop
 * what the page shows, stop any explanation on its way, and read the new session once. */
export function sessionExpired(notice) {
  state.xai.token++;
  forgetSessionData();
  setJobs([]);
  clearXai();
  renderAll();
  showNotice('Your previous session has expired, so this is a new, empty session.', [notice], 'info');
  if (state.resync) return;
  state.resync = refreshStatus()
    .catch(showError)
    .finally(() => {
      state.resync = null;
      renderAll();
    });
}

/** Start new session: GET /session?scenario=..., then this page uses the new, empty session. */
export function startNewSession(event) {
  event.preventDefault();
  const scenario = $('scenario-select').value;
  exclusive('session', async () => {
    const previous = state.sessionId;
    const previousJobs = state.summary ? state.summary.total_jobs : 0;
    try {
      const { session_id: id } = await api.newSession(scenario);
      state.sessionId = id; // from here on, answers for the previous session are dropped (StaleAnswer)
      storeSet(SESSION_KEY, id);
      forgetSessionData();
      state.xai.token++;
      clearXai();
      await refreshStatus();
      await showSession();
      showNotice(`Started a new ${scenario} session; this page now uses it.`, [
        `Your previous session ${previous} (${integer(previousJobs)} scheduled jobs) is left behind: this page no longer shows it, and the server drops it once it has been idle for a while.`,
      ], 'info');
    } catch (err) {
      showError(err);
    }
  });
}
