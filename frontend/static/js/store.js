/* The page's state: one object, read by the views and changed by the actions; plus what outlives a page
 * view in web storage. */

import { aggregate } from './derive.js';

export const SESSION_KEY = 'taskpilot.session';
export const SEEN_KEY = 'taskpilot.jobsSeen';
export const SIM_KEY = 'taskpilot.simulation'; // sessionStorage: the id of the last simulation this tab started

export const state = {
  sessionId: null,
  servers: [], // server names in fleet order (by CPU)
  tierOf: {}, // server name -> tier
  pools: {}, // tier -> server names
  summary: null, // GET /summary
  carbon: null, // GET /sustainability
  jobs: [], // compact decisions of the session, oldest first (POST /run?detail=compact, GET /history)
  agg: null, // aggregate(jobs)
  queued: 0, // jobs waiting on the server
  queueLog: [], // what this page queued since the last run, for the queue list
  deferred: { total: 0, jobs: [], clock: null }, // GET /queue: jobs deferred past the session's clock, and the clock
  pendingFile: null, // a chosen CSV not yet uploaded (taken as soon as its upload starts)
  activeTab: 'overview',
  table: { key: 'job_id', dir: 1, page: 0, size: 50, order: null, filter: 'all' },
  xai: { jobId: null, token: 0 },
  wf: { sessionId: null, selected: null, token: 0, kinds: null }, // the Workflows tab: its session, followed workflow, task kinds
  sim: { id: null, token: 0, result: null, deferral: null, cancelling: false, restored: false, shown: { placement: false, deferral: false } }, // the followed POST /simulate run
  busy: null, // the state-changing action under way: 'run' | 'reset' | 'add' | 'upload' | 'session' (see actions/exclusive.js)
  action: null, // its promise
  resync: null, // the re-read after a session expired, while it runs
  resetArmed: null,
};

export const isGrid = () => Boolean(state.summary && state.summary.scenario === 'grid');

/** The session's aggregate as the charts need it (an empty one before any job). */
export const sessionAggregate = (jobs = state.jobs) => aggregate(jobs, state.servers, state.summary && state.summary.scenario);

export function setJobs(jobs) {
  state.jobs = jobs;
  state.agg = sessionAggregate(jobs);
  state.table.order = null;
  storeSet(SEEN_KEY, String(jobs.length));
}

export function forgetSessionData() {
  state.jobs = [];
  state.agg = null;
  state.queued = 0;
  state.queueLog = [];
  state.deferred = { total: 0, jobs: [], clock: null };
  state.table.order = null;
  state.table.page = 0;
  state.xai.jobId = null;
  storeSet(SEEN_KEY, '0');
}

/** Web storage that may be missing (private mode): `area` is 'localStorage' or 'sessionStorage'. */
export function storeGet(key, area = 'localStorage') {
  try { return window[area].getItem(key); } catch (err) { return null; }
}

/** Set `key` (remove it when `value` is null); without storage the value lasts this page view. */
export function storeSet(key, value, area = 'localStorage') {
  try {
    if (value === null) window[area].removeItem(key);
    else window[area].setItem(key, value);
  } catch (err) { /* private mode */ }
}
