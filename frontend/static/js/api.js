/* The one way the page talks to the server (request), and the endpoints it calls. Errors come back as
 * ApiError in plain words; an answer for a session the page has left as StaleAnswer, which callers drop. */

import { SESSION_KEY, state, storeGet, storeSet } from './store.js';

export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const HISTORY_PAGE = 1000; // GET /history's largest page
const QUEUE_PAGE = 100; // deferred jobs listed (GET /queue pages them with the waiting ones)
const WORKFLOW_PAGE = 100; // the newest workflows and dead tasks listed (GET /workflows, /dead-letter)
const STATUS_WORDS = {
  400: 'The server refused the request',
  401: 'This server needs an API key for changes',
  403: 'The server refused the request',
  404: 'Not found',
  413: 'Too large for the server',
  415: 'The server refused the request',
  422: 'The server found invalid input',
  429: 'The server asks you to slow down',
  503: 'The server is busy or full',
};
/** localStorage key of the API key a server with TASKPILOT_API_KEY_HASHES asks of writes (docs/configuration.md):
 * set once per browser, by hand, from the browser's console. */
const API_KEY = 'taskpilot.apiKey';

const REQUEST_TIMEOUT_MS = 30_000;
const LONG_TIMEOUT_MS = 120_000; // POST /run and /upload of a large batch

export class ApiError extends Error {
  constructor(status, title, lines = [], detail = null, truncated = null) {
    super(lines.length ? `${title}: ${lines.join('; ')}` : title);
    this.status = status;
    this.title = title;
    this.lines = lines;
    this.detail = detail;
    this.truncated = truncated; // {shown, more, exact} when the server listed only the first problems
  }
}

/** The answer to a request sent for a session this page has left since: callers drop it without a word. */
export class StaleAnswer extends Error {}

let sessionNotice = () => {};

/** `handler(notice)` runs when an answer says the session expired and was replaced (main.js wires it). */
export function onSessionNotice(handler) {
  sessionNotice = handler;
}

/** Session header out, session notice and errors in. `session: false` for routes that have no session
 * (/info, /session, /simulate). Bodies go as JSON, or as multipart (an upload) beside the X-Session-ID
 * header: the server refuses any other write, and an upload without that header, so that no other site's
 * form or text/plain post can act through a visitor's browser (web/middleware.py, JsonOnly). */
async function request(method, path, { json, form, session = true, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  const sentId = session ? state.sessionId : null;
  const headers = { Accept: 'application/json' };
  if (sentId) headers['X-Session-ID'] = sentId;
  const apiKey = storeGet(API_KEY);
  if (apiKey) headers['X-API-Key'] = apiKey;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const signal = AbortSignal.timeout(timeoutMs);
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: 'no-store', signal });
  } catch (err) {
    if (session && state.sessionId !== sentId) throw new StaleAnswer();
    throw transportError(err, timeoutMs);
  }
  if (session && state.sessionId !== sentId) throw new StaleAnswer();
  if (session) noteSession(response, sentId);
  const current = state.sessionId; // the sent id, or the new one an expiry notice brought
  let payload;
  try {
    payload = response.ok ? await response.json() : await response.text();
  } catch (err) {
    if (session && state.sessionId !== current) throw new StaleAnswer();
    throw transportError(err, timeoutMs);
  }
  if (session && state.sessionId !== current) throw new StaleAnswer();
  if (response.ok) return payload;
  let detail = null;
  let truncated = null;
  try {
    ({ detail = null, truncated = null } = JSON.parse(payload));
  } catch (err) {
    detail = null;
  }
  const title = STATUS_WORDS[response.status] || `The server answered with an error (HTTP ${response.status})`;
  const lines = describeDetail(detail, response.status);
  if (truncated && truncated.more > 0) lines.push(moreProblems(truncated));
  throw new ApiError(response.status, title, lines, detail, truncated);
}

/** A request that got no (readable) answer, in plain words. */
function transportError(err, timeoutMs) {
  if (err && err.name === 'TimeoutError') {
    return new ApiError(0, 'The server took too long to answer',
      [`No answer within ${timeoutMs / 1000} s. The server may be busy: try again in a moment.`]);
  }
  if (err && err.name === 'SyntaxError') return new ApiError(0, 'The server sent an answer the page cannot read', [String(err.message)]);
  return new ApiError(0, 'Cannot reach the TaskPilot server (network error)',
    ['Check your connection and that the server is running, then try again.']);
}

/** "… and 1,234 more problems (the first 100 are listed)": the count the server gave of those it left out. */
export function moreProblems(truncated) {
  const more = `${truncated.exact === false ? 'about ' : ''}${truncated.more.toLocaleString('en-US')}`;
  return `… and ${more} more problem${truncated.more === 1 ? '' : 's'} (the first ${truncated.shown} are listed).`;
}

/** What to do about a problem, when the server said: its message with the hint after it. */
export const withHint = (e) => `${e.message ?? e.msg ?? ''}${e.hint ? `. What to do: ${e.hint}` : ''}`;

/** A server `detail` (a list of {loc, field, message, hint?, row|index}, or a sentence) as plain sentences. */
export function describeDetail(detail, status) {
  if (typeof detail === 'string') return [detail];
  if (!Array.isArray(detail)) return status >= 500 ? ['Something went wrong on the server; try again.'] : [];
  return detail.map((e) => {
    if (!e || typeof e !== 'object') return String(e);
    const message = withHint(e);
    const field = e.field ?? (Array.isArray(e.loc) ? e.loc.filter((p) => p !== 'body').join('.') : null);
    if (e.row !== undefined) return `${e.row === null ? 'File' : `Row ${e.row}`}${field ? `, ${field}` : ''}: ${message}`;
    if (e.index !== undefined && e.index !== null) return `Job ${e.index + 1}${field ? `, ${field}` : ''}: ${message}`;
    return `${field ? `${field}: ` : ''}${message}`;
  });
}

/** Every answer names the session. The page takes a new id from it only when it sent none, or when a
 * notice says the old session expired and this one is new and empty (an answer for a session the page
 * has left never gets here: request() drops it). */
function noteSession(response, sentId) {
  const id = response.headers.get('X-Session-ID');
  const notice = response.headers.get('X-Session-Notice');
  if (id && SESSION_ID.test(id) && id !== state.sessionId && (!sentId || notice)) {
    state.sessionId = id;
    storeSet(SESSION_KEY, id);
  }
  if (notice) sessionNotice(notice);
}

export const api = {
  newSession: (scenario) => request('GET', scenario ? `/session?scenario=${encodeURIComponent(scenario)}` : '/session', { session: false }),
  info: () => request('GET', '/info', { session: false }),
  summary: () => request('GET', '/summary'),
  carbon: () => request('GET', '/sustainability'),
  history: (offset, limit) => request('GET', `/history?offset=${offset}&limit=${limit}`),
  queue: () => request('GET', `/queue?limit=${QUEUE_PAGE}`),
  submit: (job) => request('POST', '/submit', { json: job }),
  upload: (file) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request('POST', '/upload', { form, timeoutMs: LONG_TIMEOUT_MS });
  },
  run: () => request('POST', '/run?detail=compact', { timeoutMs: LONG_TIMEOUT_MS }),
  job: (id) => request('GET', `/jobs/${encodeURIComponent(id)}`),
  explanation: (id, llm) => request('GET', `/jobs/${encodeURIComponent(id)}/explanation${llm ? '?llm=true' : ''}`),
  reset: () => request('POST', '/reset'),
  simulate: (config) => request('POST', '/simulate', { json: config, session: false }),
  simulation: (id) => request('GET', `/simulate/${encodeURIComponent(id)}`, { session: false }),
  cancelSimulation: (id) => request('DELETE', `/simulate/${encodeURIComponent(id)}`, { session: false }),
  // Workflows (docs/execution.md); an example is a file under /static/workflows/, read as any answer is.
  submitWorkflow: (body) => request('POST', '/workflows', { json: body }),
  workflows: () => request('GET', `/workflows?limit=${WORKFLOW_PAGE}`),
  workflow: (id) => request('GET', `/workflows/${encodeURIComponent(id)}`),
  cancelWorkflow: (id) => request('POST', `/workflows/${encodeURIComponent(id)}/cancel`),
  taskKinds: () => request('GET', '/tasks/kinds', { session: false }),
  deadLetter: () => request('GET', `/dead-letter?limit=${WORKFLOW_PAGE}`),
  retryJob: (id) => request('POST', `/jobs/${encodeURIComponent(id)}/retry`),
  workflowExample: (url) => request('GET', url, { session: false }),
};
