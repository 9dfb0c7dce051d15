/* TaskPilot dashboard: ES modules, no build step; Chart.js is the vendored classic script loaded before
 * this one (global `Chart`). This module wires the page: views render and bind their own controls,
 * actions change the session (actions/*), and the session is read once at start.
 *
 *   api.js      the one request() helper and the endpoints      store.js   the state, and web storage
 *   derive.js   numbers and series from the server's data       format.js  numbers and times as text
 *   charts.js   Chart.js specs: created once, then updated      dom.js     tiny DOM helpers (text only)
 *   palette.js  colours and point styles                        /js/states.js  the status vocabulary, from Python
 */

import { TIERS } from '/js/states.js';
import { SESSION_ID, api, onSessionNotice } from './api.js';
import { refineExplanation, showJob } from './actions/explain.js';
import { resetSession } from './actions/reset.js';
import { runScheduler } from './actions/run.js';
import { refreshStatus, sessionExpired, showSession, startNewSession } from './actions/session.js';
import { bindSimOptions, cancelSimulation, startSimulation } from './actions/simulate.js';
import { addJob } from './actions/submit.js';
import { bindWorkflows } from './actions/workflows.js';
import { onCsvChosen, onCsvSubmit } from './actions/upload.js';
import { createCharts } from './charts.js';
import { $ } from './dom.js';
import { integer } from './format.js';
import { SEEN_KEY, SESSION_KEY, state, storeGet, storeSet } from './store.js';
import { bindCompare, selectStudy } from './views/compare.js';
import { bindDeferralResults } from './views/compare-deferral.js';
import { bindHistory } from './views/history.js';
import { bindJobForm, syncDeadlineFields } from './views/job-form.js';
import { bindNotice, noticeShown, showError, showNotice } from './views/notice.js';
import { bindOverlay } from './views/overlay.js';
import { bindDeferredJobs } from './views/queue.js';
import { bindTabs, buildTabs, renderAll, selectTab } from './views/tabs.js';
import { bindXai } from './views/xai.js';

/** A job's Explain button (Jobs / History, the Deferred list): the job in the Explainable AI tab. */
function openJob(jobId) {
  selectTab('xai');
  showJob(jobId);
}

function bindEvents() {
  onSessionNotice(sessionExpired);
  $('btn-run').addEventListener('click', runScheduler);
  $('btn-reset').addEventListener('click', resetSession);
  $('job-form').addEventListener('submit', addJob);
  $('csv-form').addEventListener('submit', onCsvSubmit);
  $('csv-file').addEventListener('change', onCsvChosen);
  $('scenario-form').addEventListener('submit', startNewSession);
  $('sim-form').addEventListener('submit', startSimulation);
  bindSimOptions();
  $('sim-cancel').addEventListener('click', cancelSimulation);
  bindNotice();
  bindOverlay();
  bindJobForm();
  bindTabs();
  bindCompare();
  bindDeferralResults();
  bindDeferredJobs(openJob);
  bindHistory(openJob);
  bindXai(showJob, refineExplanation);
  bindWorkflows(() => refreshStatus().then(showSession)); // a workflow's tasks are jobs of the session: the other tabs show them
}

/** The session id from localStorage (or a new one from GET /session); the history from GET /history.
 * Without the chart library the page still works (forms, tables, explanations), minus the charts. */
async function init() {
  buildTabs();
  selectStudy($('sim-study').value); // a reload may bring back the form's last choice
  syncDeadlineFields();
  if (typeof Chart === 'undefined') {
    showNotice('The chart library did not load', ['/static/vendor/chart.umd.min.js is missing, so the page shows no charts; everything else works.']);
  } else {
    createCharts();
  }
  bindEvents();
  const stored = storeGet(SESSION_KEY);
  state.sessionId = stored && SESSION_ID.test(stored) ? stored : null;
  try {
    if (!state.sessionId) {
      const { session_id: id } = await api.newSession();
      state.sessionId = id;
      storeSet(SESSION_KEY, id);
    }
    const [info] = await Promise.all([api.info(), refreshStatus()]);
    state.servers = info.server_ids;
    state.pools = info.tier_pools;
    state.tierOf = Object.fromEntries(TIERS.flatMap((tier) => (info.tier_pools[tier] || []).map((name) => [name, tier])));
    const seen = Number(storeGet(SEEN_KEY) || 0);
    if (seen > 0 && state.summary.total_jobs === 0 && !noticeShown()) {
      showNotice('This session has no jobs on the server any more.', [`This browser last saw ${integer(seen)} scheduled jobs; the server may have restarted. Add jobs to start again.`], 'info');
    }
    await showSession();
  } catch (err) {
    showError(err);
    renderAll();
  }
  document.body.dataset.ready = 'true';
}

init();
