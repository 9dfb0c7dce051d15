/* TaskPilot dashboard. Plain JavaScript, no build step; Chart.js is vendored in /static/vendor.
 *
 * Sections: dom helpers / api / state / charts / render / events / init.
 * Everything that comes from outside the page (server and LLM text, file names, CSV fields) reaches the
 * document through textContent or attribute setters only; nothing is ever assigned to innerHTML.
 */
'use strict';

(() => {
  // --- dom helpers -------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** An element with text, attributes and children; `text` goes through textContent. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  const setText = (id, text) => { $(id).textContent = text; };
  const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  const integer = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  const percent = (x, digits = 0) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)} %` : '–');
  /** kg CO₂ and kWh: three significant digits below 1,000 (a grid session's job emits grams), whole units above. */
  // Built here, not per call as toLocaleString would; trailing zeros kept (0.480) so a column reads evenly.
  const SIGNIFICANT_3 = new Intl.NumberFormat('en-US', { minimumSignificantDigits: 3, maximumSignificantDigits: 3 });
  const amount = (x) => {
    if (!Number.isFinite(x)) return '–';
    return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : SIGNIFICANT_3.format(x || 0);
  };
  const HOUR_MS = 3_600_000;
  const ISO_UTC = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?Z$/;
  /** An API time ("2023-01-01T19:00Z", UTC) as "2023-01-01 19:00"; anything else unchanged. */
  const clockText = (iso) => {
    const m = ISO_UTC.exec(iso || '');
    return m ? `${m[1]} ${m[2]}` : (iso || '–');
  };
  /** Hours since 1970 (UTC) of an API time: the carbon charts' x on a grid session's clock. */
  const hoursOf = (iso) => Date.parse(iso) / HOUR_MS;
  /** The API's form of a time given in hours since 1970: "2023-01-01T19:00Z". */
  const isoOfHours = (h) => new Date(Math.round(h * 60) * 60_000).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
  /** A <time> for an API time (its datetime is the API's text), or "–" for none; `short` leaves out the
   * year on screen (the tooltip has it). */
  const timeEl = (iso, short = false) => {
    if (!iso) return '–';
    const text = clockText(iso);
    return el('time', short ? { datetime: iso, title: `${text} UTC`, text: text.slice(5) } : { datetime: iso, text });
  };
  const statusEl = (status) => el('span', { class: 'status-pill', 'data-status': status || '', text: status || '–' });
  const modeEl = (mode) => el('span', { class: 'mode-pill', 'data-mode': mode || '', text: mode ? mode.toUpperCase() : '–' });
  /** A count that may be a mean over runs (the deferral study's noisy forecast): whole, or one decimal. */
  const meanCount = (x) => (Number.isInteger(x) ? integer(x) : fixed(x, 1));
  /** obj[key] when obj has it as its own (a key from outside may be "constructor"), else `fallback`. */
  const own = (obj, key, fallback) => (typeof key === 'string' && Object.hasOwn(obj, key) ? obj[key] : fallback);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

  // --- api ---------------------------------------------------------------------------------------

  const SESSION_KEY = 'taskpilot.session';
  const SEEN_KEY = 'taskpilot.jobsSeen';
  const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
  const HISTORY_PAGE = 1000; // GET /history's largest page
  const QUEUE_PAGE = 100; // deferred jobs listed (GET /queue pages them with the waiting ones)
  const STATUS_WORDS = {
    400: 'The server refused the request',
    404: 'Not found',
    413: 'Too large for the server',
    422: 'The server found invalid input',
    429: 'Too many simulations are running',
    503: 'The server is busy or full',
  };

  const REQUEST_TIMEOUT_MS = 30_000;
  const LONG_TIMEOUT_MS = 120_000; // POST /run and /upload of a large batch

  class ApiError extends Error {
    constructor(status, title, lines = [], detail = null) {
      super(lines.length ? `${title}: ${lines.join('; ')}` : title);
      this.status = status;
      this.title = title;
      this.lines = lines;
      this.detail = detail;
    }
  }

  /** The answer to a request sent for a session this page has left since: callers drop it without a word. */
  class StaleAnswer extends Error {}

  /** The one way the page talks to the server: session header out, session notice and errors in.
   * `session: false` for routes that have no session (/info, /session, /simulate). */
  async function request(method, path, { json, form, session = true, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    const sentId = session ? state.sessionId : null;
    const headers = { Accept: 'application/json' };
    if (sentId) headers['X-Session-ID'] = sentId;
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
    try {
      detail = JSON.parse(payload).detail;
    } catch (err) {
      detail = null;
    }
    const title = STATUS_WORDS[response.status] || `The server answered with an error (HTTP ${response.status})`;
    throw new ApiError(response.status, title, describeDetail(detail, response.status), detail);
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

  /** A server `detail` (a string, or a list of {row|index|loc, field, message}) as plain sentences. */
  function describeDetail(detail, status) {
    if (typeof detail === 'string') return [detail];
    if (!Array.isArray(detail)) return status >= 500 ? ['Something went wrong on the server; try again.'] : [];
    return detail.map((e) => {
      if (!e || typeof e !== 'object') return String(e);
      const message = e.message ?? e.msg ?? '';
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
    if (notice) sessionExpired(notice);
  }

  /** Web storage that may be missing (private mode): `area` is 'localStorage' or 'sessionStorage'. */
  function storeGet(key, area = 'localStorage') {
    try { return window[area].getItem(key); } catch (err) { return null; }
  }

  /** Set `key` (remove it when `value` is null); without storage the value lasts this page view. */
  function storeSet(key, value, area = 'localStorage') {
    try {
      if (value === null) window[area].removeItem(key);
      else window[area].setItem(key, value);
    } catch (err) { /* private mode */ }
  }

  const api = {
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
  };

  // --- state -------------------------------------------------------------------------------------

  const TIERS = ['green', 'balanced', 'performance'];
  const LATENCY_ORDER = { low: 0, medium: 1, high: 2 };
  const COLORS = {
    green: '#2b8a3e', balanced: '#1864ab', performance: '#c2410c',
    perf: '#6741d9', cost: '#b35c00', co2: '#2b8a3e', lat: '#1864ab', final: '#343a40',
    raw: 'rgba(73, 80, 87, 0.35)', rolling: '#2b8a3e', trend: '#1864ab', carbon: '#862e9c', cumulative: '#c92a2a',
    track: '#e3e8e5', bound: '#868e96', other: '#868e96',
    deferred: '#1864ab', eco: '#2b8a3e', window: 'rgba(24, 100, 171, 0.13)',
  };
  const MARKER_POINTS = 1000; // deferred / ECO markers drawn at most (evenly thinned beyond)
  const MOVED = new Set(['deferred', 'released']); // a job whose start the when-policy moved
  const URGENCY_ORDER = { critical: 0, normal: 1, flexible: 2 };
  const STATUS_ORDER = { scheduled: 0, deferred: 1, released: 2 };
  const HISTORY_FILTERS = {
    all: { test: null, words: '' },
    moved: { test: (j) => MOVED.has(j.status), words: 'deferred or released' },
    eco: { test: (j) => j.mode === 'eco', words: 'in ECO mode' },
  };
  // Every colour that marks data has at least 3:1 contrast on white (WCAG 1.4.11).
  const BAND_COLORS = ['#2b8a3e', '#5c940d', '#c07a00', '#e8590c', '#c92a2a'];
  const BAND_NAMES = ['Very low', 'Low', 'Medium', 'High', 'Very high'];
  const LINE_POINTS = 600; // line charts are decimated (LTTB) to this many points
  const SIM_KEY = 'taskpilot.simulation'; // sessionStorage: the id of the last simulation this tab started
  const RUN_ID = /^[0-9a-f-]{36}$/;
  const SIM_ACTIVE = ['queued', 'running'];
  const SIM_POLL_MS = 300;
  const SIM_RETRY_MS = [1000, 2000, 4000]; // a poll that fails is tried again after these waits, then given up
  // The simulator's policies in its own order (the form's checkboxes), each with the colour report.html gives
  // it (two darkened to reach 3:1 on white), plus a point style and a dash so colour is not the only cue.
  const POLICY_NAMES = Array.from(document.querySelectorAll('#sim-policies input'), (input) => input.value);
  const POLICY_PALETTE = ['#1f77b4', '#c25e00', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#c03c98'];
  const POLICY_POINTS = ['circle', 'rect', 'triangle', 'rectRot', 'crossRot', 'star', 'rectRounded'];
  const POLICY_DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [14, 4], [1, 4]];
  const BOUND_LABEL = 'hindsight lower bound';
  // The deferral study's strategies, each with a colour of 3:1 on white (the policy palette's).
  const STRATEGY_COLORS = {
    threshold: '#c25e00', forecast_perfect: '#1f77b4', forecast_noisy: '#9467bd', forecast_persistence: '#8c564b',
    forecast_issued: '#c03c98', oracle: '#2ca02c',
  };
  const studyOf = (config) => (config && config.study === 'deferral' ? 'deferral' : 'placement');

  const state = {
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
    sim: { id: null, token: 0, result: null, deferral: null, cancelling: false, restored: false, shown: { placement: false, deferral: false } }, // the followed POST /simulate run
    busy: null, // the state-changing action under way: 'run' | 'reset' | 'add' | 'upload' | 'session' (see exclusive)
    action: null, // its promise
    resync: null, // the re-read after a session expired, while it runs
    resetArmed: null,
  };

  /** Everything the charts show, from one pass over the jobs (plus one over the energy column for bands). */
  function aggregate(jobs) {
    const n = jobs.length;
    const S = state.servers.length;
    const serverIndex = new Map(state.servers.map((name, i) => [name, i]));
    const tierIndex = new Map(TIERS.map((t, i) => [t, i]));
    const count = new Float64Array(S), rewardSum = new Float64Array(S), energy = new Float64Array(S), co2 = new Float64Array(S);
    const routed = TIERS.map(() => new Float64Array(S)); // [tier][server] job counts
    const byTier = new Float64Array(TIERS.length), co2ByTier = new Float64Array(TIERS.length);
    const ids = new Float64Array(n), reward = new Float64Array(n), carbon = new Float64Array(n), cumCo2 = new Float64Array(n), jobEnergy = new Float64Array(n);
    // Grid-scenario sessions carry a real intensity (gCO2eq/kWh) per job; reference ones the 0..1 proxy.
    // An empty session has the unit of its scenario.
    const gridIntensity = n > 0 ? typeof jobs[0].carbon_intensity_g_per_kwh === 'number' : Boolean(state.summary && state.summary.scenario === 'grid');
    let total = 0, minE = Infinity, maxE = -Infinity;
    for (let i = 0; i < n; i++) {
      const j = jobs[i];
      const s = serverIndex.get(j.chosen_dc) ?? -1;
      const t = tierIndex.get(j.priority) ?? -1;
      ids[i] = j.job_id;
      reward[i] = j.reward;
      carbon[i] = gridIntensity ? j.carbon_intensity_g_per_kwh : j.carbon_factor;
      jobEnergy[i] = j.energy_kwh;
      total += j.co2_kg;
      cumCo2[i] = total;
      if (j.energy_kwh < minE) minE = j.energy_kwh;
      if (j.energy_kwh > maxE) maxE = j.energy_kwh;
      if (s >= 0) {
        count[s] += 1; rewardSum[s] += j.reward; energy[s] += j.energy_kwh; co2[s] += j.co2_kg;
        if (t >= 0) routed[t][s] += 1;
      }
      if (t >= 0) { byTier[t] += 1; co2ByTier[t] += j.co2_kg; }
    }
    // Five equal-width energy bands; when every job used the same energy there is no width to split.
    const bandWidth = (maxE - minE) / 5;
    const bands = new Float64Array(5);
    if (bandWidth > 0) for (let i = 0; i < n; i++) bands[Math.min(4, Math.floor((jobEnergy[i] - minE) / bandWidth))] += 1;
    const edges = bandWidth > 0 ? Array.from({ length: 6 }, (_, k) => minE + k * bandWidth) : null;
    const sameEnergy = n && !(bandWidth > 0) ? minE : null;
    const clock = gridIntensity && n > 0 && typeof jobs[0].start_at === 'string' ? onClock(jobs) : null;
    return { n, count, rewardSum, energy, co2, routed, byTier, co2ByTier, ids, reward, carbon, gridIntensity, cumCo2, bands, edges, sameEnergy, clock };
  }

  /** A grid session's jobs on its clock (hours since 1970, UTC), for the carbon charts: the jobs that ran
   * at submission draw the line (in job order, so their starts increase); the jobs the when-policy moved
   * to a later start, and those run in ECO mode, become markers at their start. */
  function onClock(jobs) {
    const n = jobs.length;
    const xs = new Float64Array(n), ys = new Float64Array(n), ids = new Float64Array(n);
    const moved = [], eco = [];
    let m = 0, first = Infinity, last = -Infinity;
    for (let i = 0; i < n; i++) {
      const j = jobs[i];
      const x = hoursOf(j.start_at), y = j.carbon_intensity_g_per_kwh;
      const mark = MOVED.has(j.status) || j.mode === 'eco'
        ? { x, y, job: j.job_id, server: j.chosen_dc, mode: j.mode, status: j.status, finish: hoursOf(j.finish_at) } : null;
      // An interruptible job runs in pieces between its start and finish: longer than its run time.
      if (mark) mark.pieces = (mark.finish - x) * 60 > j.runtime_min + 0.5;
      if (MOVED.has(j.status)) moved.push(mark);
      else { xs[m] = x; ys[m] = y; ids[m] = j.job_id; m++; }
      if (j.mode === 'eco') eco.push(mark);
      first = Math.min(first, x);
      last = Math.max(last, mark ? mark.finish : x);
    }
    return { xs: xs.subarray(0, m), ys: ys.subarray(0, m), ids: ids.subarray(0, m), moved, eco, first, last };
  }

  /** At most `max` of `items`, evenly spaced, the first and last among them. */
  function thin(items, max = MARKER_POINTS) {
    if (items.length <= max) return items;
    return Array.from({ length: max }, (_, k) => items[Math.round((k * (items.length - 1)) / (max - 1))]);
  }

  /** Rolling mean over the last `w` values (fewer at the start). */
  function rolling(values, w) {
    const out = new Float64Array(values.length);
    let sum = 0;
    for (let i = 0; i < values.length; i++) {
      sum += values[i];
      if (i >= w) sum -= values[i - w];
      out[i] = sum / Math.min(i + 1, w);
    }
    return out;
  }

  /** Largest-triangle-three-buckets: at most `threshold` {x, y} points that keep the shape, the first and
   * last among them. `xs` must increase (job ids do: a run schedules the whole queue in submission order). */
  function lttb(ys, xs, threshold = LINE_POINTS) {
    return lttbRows(ys, xs, threshold).map((i) => ({ x: xs[i], y: ys[i] }));
  }

  /** The rows lttb keeps, in order. */
  function lttbRows(ys, xs, threshold = LINE_POINTS) {
    const n = ys.length;
    if (n <= threshold) return Array.from(ys, (y, i) => i);
    const out = [0];
    const every = (n - 2) / (threshold - 2);
    let a = 0;
    for (let i = 0; i < threshold - 2; i++) {
      const avgStart = Math.floor((i + 1) * every) + 1;
      const avgEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
      let avgX = 0, avgY = 0;
      for (let j = avgStart; j < avgEnd; j++) { avgX += xs[j]; avgY += ys[j]; }
      const len = Math.max(1, avgEnd - avgStart);
      avgX /= len; avgY /= len;
      const from = Math.floor(i * every) + 1, to = Math.floor((i + 1) * every) + 1;
      let best = from, bestArea = -1;
      for (let j = from; j < to; j++) {
        const area = Math.abs((xs[a] - avgX) * (ys[j] - ys[a]) - (xs[a] - xs[j]) * (avgY - ys[a]));
        if (area > bestArea) { bestArea = area; best = j; }
      }
      out.push(best);
      a = best;
    }
    out.push(n - 1);
    return out;
  }

  function forgetSessionData() {
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

  const policyColor = (name) => {
    const i = POLICY_NAMES.indexOf(name);
    return i >= 0 ? POLICY_PALETTE[i % POLICY_PALETTE.length] : COLORS.final;
  };

  /** A policy's colour, point style and dash for a Chart.js dataset. */
  const policyStyle = (name) => {
    const i = Math.max(0, POLICY_NAMES.indexOf(name));
    const color = policyColor(name);
    return { borderColor: color, backgroundColor: color, pointStyle: POLICY_POINTS[i % POLICY_POINTS.length], borderDash: POLICY_DASHES[i % POLICY_DASHES.length] };
  };

  /** Job number at the end of each of `windows` learning-curve windows of `n` jobs (as numpy's array_split). */
  function windowEnds(n, windows) {
    const size = Math.floor(n / windows), extra = n % windows;
    return Array.from({ length: windows }, (_, i) => (i + 1) * size + Math.min(i + 1, extra));
  }

  /** A seed for a run whose form left it blank, drawn here below 2^53 so the number shown replays the run. */
  function randomSeed() {
    const [high, low] = crypto.getRandomValues(new Uint32Array(2));
    return (high >>> 11) * 2 ** 32 + low;
  }

  function setJobs(jobs) {
    state.jobs = jobs;
    state.agg = aggregate(jobs);
    state.table.order = null;
    storeSet(SEEN_KEY, String(jobs.length));
  }

  // --- charts ------------------------------------------------------------------------------------

  const charts = {};

  const axisTitle = (text) => ({ display: true, text });
  const lineOptions = (xTitle, yTitle, yRange = {}) => ({
    plugins: { legend: { labels: { usePointStyle: true, pointStyle: 'line' } } },
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 1.5 } },
    scales: {
      x: { type: 'linear', title: axisTitle(xTitle), ticks: { precision: 0 } },
      y: { title: axisTitle(yTitle), ...yRange },
    },
  });
  // Bars coloured by the server's tier carry this legend, one entry per tier (the x axis names the servers).
  const TIER_LEGEND = {
    onClick: () => {},
    labels: { generateLabels: () => TIERS.map((t) => ({ text: `${t} pool`, fillStyle: COLORS[t], strokeStyle: COLORS[t], lineWidth: 0 })) },
  };
  const barOptions = (yTitle, { legend = true, y = {}, ...rest } = {}) => ({
    plugins: { legend: legend === 'tiers' ? TIER_LEGEND : { display: legend } },
    scales: { x: { grid: { display: false } }, y: { beginAtZero: true, title: axisTitle(yTitle), ...y } },
    ...rest,
  });
  const ringOptions = (circumference, rotation) => ({
    cutout: '78%', circumference, rotation,
    plugins: { legend: { display: false }, tooltip: { enabled: false } },
  });
  const series = (label, color, extra = {}) => ({ label, data: [], borderColor: color, backgroundColor: color, ...extra });
  const bars = (label, color, extra = {}) => ({ label, data: [], backgroundColor: color, ...extra });
  const ring = () => ({ data: [0, 100], backgroundColor: [COLORS.green, COLORS.track], borderWidth: 0 });
  const JOB_AXIS = 'Job id in this session';
  const CLOCK_AXIS = 'Session clock (UTC): each job at its start';
  const CARBON_AXIS = 'Carbon factor (unitless 0–1)';
  const UNIT_RANGE = { min: 0, max: 1 };
  const CLOCK_STEPS_H = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 2160, 4380, 8760];

  /** A tick of the carbon charts: a job id, or on a grid session's clock its time and date (UTC). */
  function carbonTick(value, index, ticks) {
    if (!this.chart.$clock) return Chart.Ticks.formatters.numeric.call(this, value, index, ticks);
    const iso = isoOfHours(value);
    return this.options.ticks.stepSize >= 24 ? iso.slice(5, 10) : [iso.slice(11, 16), iso.slice(5, 10)];
  }

  /** What a point of the carbon charts stands for, in words. */
  function carbonLabel(item) {
    const p = item.raw;
    if (!item.chart.$clock) return `${item.dataset.label}: ${fixed(p.y, 4)}`;
    const g = `${fixed(p.y, 0)} gCO₂eq/kWh`;
    if (item.datasetIndex === 0) return `Job ${p.job} ran at submission: ${g}`;
    const start = `${clockText(isoOfHours(p.x))} UTC`;
    if (item.datasetIndex === 1) {
      const now = p.status === 'released' ? 'started by now' : 'waiting';
      const pieces = p.pieces ? `, in pieces until ${clockText(isoOfHours(p.finish))} UTC` : '';
      return `Job ${p.job} deferred to ${start} (${now}), ${p.mode.toUpperCase()} mode, ${p.server}${pieces}; ${g} over its run`;
    }
    return `Job ${p.job} in ECO mode from ${start} on ${p.server}: ${g}`;
  }

  /** The carbon charts (Overview and Analytics): the line, then markers for moved jobs and ECO jobs. */
  const carbonChart = () => ({
    type: 'line',
    datasets: [
      series('Carbon factor', COLORS.carbon, { pointStyle: 'line' }),
      series('Deferred: planned start', COLORS.deferred, {
        showLine: false, pointStyle: 'triangle', pointRadius: 6, pointHoverRadius: 8,
      }),
      series('ECO mode', COLORS.eco, { showLine: false, pointStyle: 'rectRot', pointRadius: 4, pointHoverRadius: 6 }),
    ],
    options: (() => {
      const options = lineOptions(JOB_AXIS, CARBON_AXIS, UNIT_RANGE);
      options.plugins = {
        legend: { labels: { usePointStyle: true, filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } },
        tooltip: {
          callbacks: {
            title: (items) => (!items.length ? '' : items[0].chart.$clock ? `${clockText(isoOfHours(items[0].parsed.x))} UTC` : `Job ${items[0].parsed.x}`),
            label: carbonLabel,
          },
        },
      };
      options.scales.x.ticks.callback = carbonTick;
      return options;
    })(),
    plugins: [RUN_WINDOWS],
  });

  /** Behind the carbon line: each deferred job's run shaded, from its planned start to its finish, and
   * the session's clock now as a dashed line (what lies right of it has not started). */
  const RUN_WINDOWS = {
    id: 'runWindows',
    beforeDatasetsDraw(chart) {
      const spans = chart.$runWindows, now = chart.$now;
      const { ctx, chartArea: area } = chart;
      const x = chart.scales.x;
      ctx.save();
      if (spans && chart.isDatasetVisible(1)) {
        ctx.fillStyle = COLORS.window;
        for (const [a, b] of spans) {
          const left = Math.max(area.left, x.getPixelForValue(a)), right = Math.min(area.right, x.getPixelForValue(b));
          if (right >= left) ctx.fillRect(left, area.top, Math.max(1, right - left), area.bottom - area.top);
        }
      }
      const at = Number.isFinite(now) ? x.getPixelForValue(now) : NaN;
      if (at >= area.left && at <= area.right) {
        ctx.strokeStyle = COLORS.bound;
        ctx.fillStyle = '#495057';
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
        ctx.stroke();
        ctx.font = `12px ${Chart.defaults.font.family}`;
        ctx.textAlign = at > area.right - 40 ? 'right' : 'left';
        ctx.fillText('now', at + (ctx.textAlign === 'left' ? 4 : -4), area.top + 12);
      }
      ctx.restore();
    },
  };

  /** Every chart of the page: canvas id -> its type, datasets and options. Created once, then updated. */
  const CHART_SPECS = {
    'chart-score': { type: 'doughnut', datasets: [ring()], options: ringOptions(360, 0) },
    'chart-reward': {
      type: 'line',
      datasets: [
        series('Reward (raw)', COLORS.raw, { borderWidth: 1 }),
        series('3-job rolling mean', COLORS.rolling),
        series('10-job trend', COLORS.trend, { borderDash: [6, 4], borderWidth: 2 }),
      ],
      options: lineOptions(JOB_AXIS, 'Quality score (0–1)', UNIT_RANGE),
    },
    'chart-servers': { type: 'bar', datasets: [bars('Jobs', [])], options: barOptions('Jobs', { legend: 'tiers', y: { ticks: { precision: 0 } } }) },
    'chart-priority-mix': {
      type: 'doughnut', datasets: [bars('Jobs', TIERS.map((t) => COLORS[t]))], options: { plugins: { legend: { position: 'right' } } },
    },
    'chart-carbon-overview': carbonChart(),
    'chart-avg-reward': { type: 'bar', datasets: [bars('Average reward (0–1)', [])], options: barOptions('Average quality score (0–1)', { legend: 'tiers' }) },
    'chart-energy-co2': {
      type: 'bar',
      datasets: [bars('Energy (kWh)', COLORS.balanced, { yAxisID: 'y' }), bars('CO₂ (kg)', COLORS.green, { yAxisID: 'y1' })],
      options: {
        scales: {
          x: { grid: { display: false } },
          y: { beginAtZero: true, position: 'left', title: axisTitle('Energy (kWh)') },
          y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: axisTitle('CO₂ (kg)') },
        },
      },
    },
    'chart-routing': { type: 'bar', datasets: TIERS.map((t) => bars(t, COLORS[t])), options: barOptions("% of the priority's jobs", { skipNull: true }) },
    'chart-energy-bands': { type: 'bar', datasets: [bars('Jobs', BAND_COLORS)], options: barOptions('Jobs', { legend: false, y: { ticks: { precision: 0 } } }) },
    'chart-carbon': carbonChart(),
    'chart-breakdown': {
      type: 'bar',
      datasets: [
        bars('Performance', COLORS.perf), bars('Cost', COLORS.cost), bars('CO₂', COLORS.co2),
        bars('Latency', COLORS.lat), bars('Final score', COLORS.final),
      ],
      options: barOptions('Score (0–1, higher is better)', { y: UNIT_RANGE }),
    },
    'chart-qvalues': { type: 'bar', datasets: [bars('Q-value', [])], options: barOptions('Q-value', { legend: false, y: { beginAtZero: false } }) },
    'chart-gauge': { type: 'doughnut', datasets: [ring()], options: ringOptions(180, 270) },
    'chart-cum-co2': {
      type: 'line', datasets: [series('Cumulative CO₂ (kg)', COLORS.cumulative, { borderWidth: 2 })], options: lineOptions(JOB_AXIS, 'CO₂ (kg, cumulative)', { beginAtZero: true }),
    },
    'chart-co2-priority': { type: 'bar', datasets: [bars('CO₂ (kg)', TIERS.map((t) => COLORS[t]))], options: barOptions('CO₂ (kg)', { legend: false }) },
    'chart-energy-server': { type: 'bar', datasets: [bars('Energy (kWh)', [])], options: barOptions('Energy (kWh)', { legend: 'tiers' }) },
    'chart-race': {
      type: 'bar',
      datasets: [bars('Metric', [])],
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, title: axisTitle('') }, y: { grid: { display: false }, ticks: { autoSkip: false } } },
      },
    },
    'chart-tradeoff': { // one dataset per policy, set when a result arrives
      type: 'scatter',
      datasets: [],
      options: {
        parsing: false,
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } } },
        scales: {
          // Logarithmic: policies that hold jobs back for clean hours finish 10-100 times later than the rest.
          x: {
            type: 'logarithmic', title: axisTitle('Mean completion time (min, logarithmic scale)'), ticks: { maxRotation: 0, autoSkipPadding: 14 },
            afterDataLimits: (scale) => { scale.min /= 1.25; scale.max *= 1.25; }, // room for the outermost points
          },
          y: { beginAtZero: true, grace: '8%', title: axisTitle('CO₂ (kg)') },
        },
      },
    },
    'chart-deferral': { // one dataset per strategy, set when a deferral study's result arrives
      type: 'bar',
      datasets: [],
      options: barOptions('CO₂ saved against run_now (%)', {
        y: { beginAtZero: true, grace: '5%' }, skipNull: true,
        plugins: {
          legend: { position: 'bottom' },
          tooltip: { callbacks: { label: (item) => deferralLabel(item) } },
        },
      }),
    },
    'chart-learning': { // one dataset per policy, set when a result arrives; the legend shows each policy's point style
      type: 'line',
      datasets: [],
      options: {
        ...lineOptions('Jobs (end of each window)', 'Mean quality score (0–1)', { suggestedMin: 0, suggestedMax: 1 }),
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } } },
      },
    },
  };

  function createCharts() {
    Chart.defaults.animation = false; // big sessions redraw at once; nothing waits on a tween
    Chart.defaults.responsive = true;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
    Chart.defaults.color = '#3b4741';
    for (const [id, spec] of Object.entries(CHART_SPECS)) {
      charts[id] = new Chart($(id), { type: spec.type, data: { labels: [], datasets: spec.datasets }, options: spec.options, plugins: spec.plugins || [] });
    }
  }

  /** New labels and dataset values, then one redraw (nothing when the chart library did not load). */
  function updateChart(id, labels, values, extra) {
    const chart = charts[id];
    if (!chart) return;
    if (labels) chart.data.labels = labels;
    values.forEach((data, k) => { chart.data.datasets[k].data = data; });
    if (extra) extra(chart);
    chart.update('none');
  }

  const tierColors = (names) => names.map((name) => COLORS[state.tierOf[name]] || COLORS.final);

  // The rating of a 0-100 score: [lowest score, grade, word]. The ring and the grade's text share its colour
  // (app.css: .rating strong[data-grade]).
  const RATINGS = [[75, 'A', 'Excellent'], [60, 'B', 'Good'], [45, 'C', 'Fair'], [30, 'D', 'Poor'], [-Infinity, 'E', 'Very poor']];
  const GRADE_COLORS = { A: '#2b8a3e', B: '#2b8a3e', C: '#b35c00', D: '#b42318', E: '#b42318' };
  const rating = (score) => RATINGS.find(([min]) => score >= min);

  function updateRing(id, score) {
    const value = Math.max(0, Math.min(100, score || 0));
    updateChart(id, ['score', 'rest'], [[value, 100 - value]], (chart) => {
      chart.data.datasets[0].backgroundColor = [GRADE_COLORS[rating(value)[1]], COLORS.track];
    });
  }

  // --- render ------------------------------------------------------------------------------------

  /** The tabs of the page, in order. A tab is its <section id="tab-ID"> plus one entry here: `render`
   * (optional) redraws its non-chart parts when the session's data changes, `onShow` (optional) runs each
   * time it is selected. Its charts go in CHART_SPECS; renderCharts updates them. */
  const TABS = [
    { id: 'overview', label: 'Overview', render: renderOverview },
    { id: 'history', label: 'Jobs / History', render: renderHistory },
    { id: 'analytics', label: 'Analytics' },
    { id: 'xai', label: 'Explainable AI', render: renderXaiPicker, onShow: showLatestJobIfNone },
    { id: 'sustainability', label: 'Sustainability', render: renderSustainability },
    // No `render`: the Compare tab shows simulator runs, not the session, so a Run does no work here.
    { id: 'compare', label: 'Compare', onShow: restoreSimulation },
  ];

  function buildTabs() {
    const list = $('tablist');
    for (const tab of TABS) {
      const panel = $(`tab-${tab.id}`);
      const button = el('button', {
        type: 'button', role: 'tab', id: `tabbtn-${tab.id}`, class: 'tab',
        'aria-controls': panel.id, 'aria-selected': 'false', tabindex: '-1', 'data-tab': tab.id, text: tab.label,
      });
      panel.setAttribute('aria-labelledby', button.id);
      list.append(button);
    }
    selectTab(state.activeTab, false);
  }

  function selectTab(id, focus = true) {
    state.activeTab = id;
    for (const tab of TABS) {
      const selected = tab.id === id;
      const button = $(`tabbtn-${tab.id}`);
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      $(`tab-${tab.id}`).hidden = !selected;
      if (selected && focus) button.focus();
    }
    const tab = TABS.find((t) => t.id === id);
    if (tab.onShow) tab.onShow();
  }

  function renderAll() {
    renderStatus();
    renderCharts();
    for (const tab of TABS) if (tab.render) tab.render();
  }

  const isGrid = () => Boolean(state.summary && state.summary.scenario === 'grid');

  /** Parts of the page that only a grid session has (when to run: urgency, deadlines, deferral, modes). */
  function renderScenarioParts() {
    const grid = isGrid();
    document.body.dataset.scenario = grid ? 'grid' : 'reference';
    $('history-table').classList.toggle('when-table', grid);
    for (const node of document.querySelectorAll('.grid-only')) node.hidden = !grid;
    $('job-when').disabled = !grid; // its controls are neither sent nor validated in a reference session
    if (!grid && state.table.filter !== 'all') {
      state.table.filter = 'all';
      state.table.order = null;
      $('history-filter').value = 'all';
    }
  }

  /** Top bar, sidebar and KPI numbers: from /summary and /sustainability. */
  function renderStatus() {
    renderScenarioParts();
    const s = state.summary;
    setText('session-id', state.sessionId || '…');
    setText('session-scenario', s && s.scenario ? `Scenario: ${s.scenario}` : '');
    setText('queue-count', integer(state.queued));
    setText('side-jobs', integer(s ? s.total_jobs : 0));
    setText('side-reward', s && s.total_jobs ? fixed(s.avg_reward, 3) : '–');
    setText('side-energy', s && s.total_jobs ? `${amount(s.total_energy_kwh)} kWh` : '–');
    setText('side-co2', s && s.total_jobs ? `${amount(s.total_co2_kg)} kg` : '–');
    setText('side-green', s && s.total_jobs ? percent(s.green_ratio) : '–');
    setText('side-score', s && s.total_jobs ? `${fixed(s.sustainability_score, 1)} / 100` : '–');
    const c = state.carbon;
    for (const id of ['carbon-badge', 'carbon-hint-badge']) {
      const badge = $(id);
      badge.dataset.band = c ? c.carbon_band : 'unknown';
      badge.textContent = c ? `Carbon: ${c.carbon_band} (${fixed(c.carbon_factor, 2)})` : 'Carbon: unknown';
      badge.title = c ? `Carbon factor ${fixed(c.carbon_factor, 4)}: ${c.signal}` : '';
    }
    setText('side-carbon-message', c ? c.message : '…');
    setText('carbon-hint-message', c ? `${c.message}. Recommended priority now: ${c.recommendation}.` : '…');
    // A grid session's factor is a fleet-wide average (the server says how it is made); a reference
    // session's is the proxy value the next job will see.
    const basis = c && c.carbon_factor_basis;
    setText('carbon-hint-signal', !c ? '' : basis
      ? `Carbon factor ${fixed(c.carbon_factor, 4)} (0–1): ${basis}. Signal: ${c.signal}.`
      : `Carbon factor ${fixed(c.carbon_factor, 4)} (0–1) for the next job; signal: ${c.signal}.`);
    setText('side-carbon-signal', !c ? '' : basis
      ? `The carbon factor (${fixed(c.carbon_factor, 2)}, 0–1) is the ${basis}.`
      : `The carbon factor (${fixed(c.carbon_factor, 2)}) is on a 0–1 scale; signal: ${c.signal}.`);
    const zones = c && c.carbon_intensity_g_per_kwh ? Object.entries(c.carbon_intensity_g_per_kwh) : [];
    setText('carbon-hint-zones', zones.length
      ? `Average grid intensity now${c.clock_utc ? ` (${c.clock_utc})` : ''}: ${zones.map(([zone, g]) => `${zone} ${fixed(g, 0)} gCO₂eq/kWh`).join(', ')}.`
      : '');
    const units = s && s.units;
    setText('sus-units', units ? `CO₂ figures are in ${units.co2}; energy in ${units.energy}.` : '');
    renderQueue();
  }

  function renderQueue() {
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

  function renderCharts() {
    const a = state.agg || aggregate([]);
    const names = state.servers;
    const colors = tierColors(names);
    const s = state.summary;
    updateRing('chart-score', s ? s.sustainability_score : 0);
    updateRing('chart-gauge', s ? s.sustainability_score : 0);
    updateChart('chart-reward', null, [lttb(a.reward, a.ids), lttb(rolling(a.reward, 3), a.ids), lttb(rolling(a.reward, 10), a.ids)]);
    updateChart('chart-servers', names, [Array.from(a.count)], (chart) => { chart.data.datasets[0].backgroundColor = colors; });
    updateChart('chart-priority-mix', TIERS, [Array.from(a.byTier)]);
    renderCarbonCharts(a);
    updateChart('chart-avg-reward', names, [Array.from(a.rewardSum, (sum, i) => (a.count[i] ? sum / a.count[i] : 0))],
      (chart) => { chart.data.datasets[0].backgroundColor = colors; });
    updateChart('chart-energy-co2', names, [Array.from(a.energy), Array.from(a.co2)]);
    // A server outside a priority's pool can never take its jobs: null (no bar) rather than a 0 % bar.
    const routing = a.routed.map((row, t) => Array.from(row, (c, i) => (state.tierOf[names[i]] !== TIERS[t] ? null : a.byTier[t] ? (100 * c) / a.byTier[t] : 0)));
    updateChart('chart-routing', names, routing);
    if (a.sameEnergy !== null) {
      const jobs = a.n === 1 ? 'The one job' : `All ${integer(a.n)} jobs`;
      updateChart('chart-energy-bands', [[jobs, `${amount(a.sameEnergy)} kWh`]], [[a.n]]);
      setText('bands-note', `${a.n === 1 ? 'The one job' : 'All jobs'} used ${amount(a.sameEnergy)} kWh, so there is no spread to split into bands.`);
    } else {
      const bandLabels = a.edges ? BAND_NAMES.map((name, k) => [name, `${amount(a.edges[k])}–${amount(a.edges[k + 1])} kWh`]) : BAND_NAMES;
      updateChart('chart-energy-bands', bandLabels, [Array.from(a.bands)]);
      setText('bands-note', a.edges ? 'Five bands of equal width between the lowest and the highest energy of a job.' : '');
    }
    updateChart('chart-cum-co2', null, [lttb(a.cumCo2, a.ids)]);
    updateChart('chart-co2-priority', TIERS, [Array.from(a.co2ByTier)]);
    updateChart('chart-energy-server', names, [Array.from(a.energy)], (chart) => { chart.data.datasets[0].backgroundColor = colors; });
  }

  /** The carbon charts: per job (reference sessions), or on the session's clock with the chosen windows
   * marked (grid sessions). */
  function renderCarbonCharts(a) {
    const c = a.clock;
    const line = c
      ? lttbRows(c.ys, c.xs).map((i) => ({ x: c.xs[i], y: c.ys[i], job: c.ids[i] }))
      : lttb(a.carbon, a.ids);
    const moved = c ? thin(c.moved) : [], eco = c ? thin(c.eco) : [];
    const windows = moved.filter((p) => !p.pieces).map((p) => [p.x, p.finish]); // pieces: not known here (GET /jobs/{id} has them)
    const span = c ? c.last - c.first : 0;
    const step = c ? CLOCK_STEPS_H.find((h) => span / h <= 8) || CLOCK_STEPS_H[CLOCK_STEPS_H.length - 1] : undefined;
    const carbonAxis = (chart) => {
      const { x, y } = chart.options.scales;
      y.title.text = a.gridIntensity ? 'Average grid carbon intensity (gCO₂eq/kWh)' : 'Carbon factor (unitless 0–1)';
      y.max = a.gridIntensity ? undefined : 1;
      x.title.text = c ? CLOCK_AXIS : JOB_AXIS;
      x.ticks.stepSize = step;
      chart.$clock = Boolean(c);
      chart.$runWindows = windows;
      chart.$now = c && state.deferred.clock ? hoursOf(state.deferred.clock) : NaN;
      chart.data.datasets[0].label = !a.gridIntensity ? 'Carbon factor'
        : c ? 'Ran at submission' : 'Carbon intensity of the chosen server’s zone';
    };
    updateChart('chart-carbon-overview', null, [line, moved, eco], carbonAxis);
    updateChart('chart-carbon', null, [line.slice(), moved.slice(), eco.slice()], carbonAxis);
    for (const id of ['carbon-unit-overview', 'carbon-unit-analytics']) {
      setText(id, a.gridIntensity ? 'average gCO₂eq/kWh of the chosen server’s grid zone' : 'carbon factor, unitless 0–1 proxy');
    }
    setText('carbon-title-overview', c ? 'Carbon intensity over time' : 'Carbon per job');
    $('carbon-card-overview').classList.toggle('span-all', Boolean(c)); // room for the clock and its markers
    const label = c ? `Grid carbon intensity of each job's server zone over the session's clock; ${c.moved.length} deferred jobs and ${c.eco.length} ECO jobs marked`
      : a.gridIntensity ? 'Grid carbon intensity per job' : 'Carbon factor per job';
    $('chart-carbon-overview').setAttribute('aria-label', label);
    $('chart-carbon').setAttribute('aria-label', label);
    const note = c ? marksNote(c, moved, eco) : '';
    setText('carbon-marks-overview', note);
    setText('carbon-marks-analytics', note);
  }

  /** The carbon charts' markers in words (under each chart; the canvas itself says nothing to a reader). */
  function marksNote(c, moved, eco) {
    if (!c.moved.length && !c.eco.length) return 'No job was deferred or run in ECO mode: every job ran at submission in FAST mode.';
    const shown = (all, drawn) => (drawn.length < all.length ? ` (${integer(drawn.length)} of them drawn, evenly spread)` : '');
    return `Line: jobs that ran at submission. Triangles: the planned start of each of the ${integer(c.moved.length)} jobs deferred to greener hours${shown(c.moved, moved)}, `
      + 'their runs shaded (not those that run in pieces: the Explainable AI tab lists their pieces). '
      + `Diamonds: the ${integer(c.eco.length)} jobs run now in ECO mode${shown(c.eco, eco)}. Dashed line: the session's clock now.`;
  }

  /** The Overview's "Carbon saved by timing" card (GET /summary `timing`, grid sessions). */
  function renderTiming() {
    const s = state.summary;
    const t = s && s.timing;
    const has = Boolean(t && s.total_jobs);
    const kg = (x) => (has ? `${amount(x)} kg` : '–');
    setText('timing-saved', has ? amount(t.co2_saved_kg) : '–');
    setText('timing-pct', has ? `${fixed(t.co2_saved_pct, 2)} %` : '');
    $('timing-pct').dataset.sign = has && t.co2_saved_kg < 0 ? 'negative' : '';
    setText('timing-deferred', has ? integer(t.deferred_jobs) : '–');
    setText('timing-eco', has ? integer(t.eco_jobs) : '–');
    setText('timing-fast', has ? integer(t.fast_jobs) : '–');
    setText('timing-expected', kg(t && t.co2_saved_expected_kg));
    setText('timing-measured', kg(t && t.co2_saved_kg));
    setText('timing-run-now', kg(t && t.co2_run_now_kg));
    setText('timing-deferral', has && t.deferred_jobs ? `${fixed(t.mean_deferral_h, 1)} h` : '–');
    setText('timing-misses', has ? integer(t.deadline_misses) : '–');
    let note = 'Run some jobs in this grid session to see what choosing when to run them saved.';
    if (has) {
      const ratio = t.co2_saved_expected_kg > 0 ? ` Measured on the actual grid, the saving is ${percent(t.co2_saved_kg / t.co2_saved_expected_kg)} of what the forecasts expected at decision time.` : '';
      note = `Saved against running every job at submission in FAST mode on the same server: deferred jobs wait for greener hours, ECO jobs run slower at lower power.${ratio}`;
    }
    setText('timing-note', note);
    $('timing-show-deferred').hidden = !state.deferred.total;
    setText('timing-show-deferred', `Show the ${integer(state.deferred.total)} deferred job${state.deferred.total === 1 ? '' : 's'}`);
  }

  function renderOverview() {
    renderTiming();
    const s = state.summary;
    const has = Boolean(s && s.total_jobs);
    setText('score-value', has ? fixed(s.sustainability_score, 1) : '–');
    const weights = s && s.score_weights ? Object.entries(s.score_weights) : [];
    setText('score-note', weights.length ? `Weighted: ${weights.map(([k, w]) => `${SCORE_PARTS[k] || k} ${Math.round(100 * w)} %`).join(', ')}.` : '');
    setText('kpi-jobs', integer(s ? s.total_jobs : 0));
    setText('kpi-reward', has ? fixed(s.avg_reward, 3) : '–');
    setText('kpi-energy', has ? amount(s.total_energy_kwh) : '–');
    setText('kpi-co2', has ? amount(s.total_co2_kg) : '–');
    setText('kpi-avoided', has ? amount(s.co2_avoided_kg) : '–');
    setText('kpi-cost', has ? fixed(s.total_cost, 2) : '–');
    setText('kpi-green', has ? percent(s.green_ratio) : '–');
    const a = state.agg;
    const map = $('pool-map');
    map.replaceChildren(...TIERS.map((tier) => el('div', { class: 'pool', 'data-tier': tier },
      el('h4', { text: `${tier} pool` }),
      el('ul', {}, ...(state.pools[tier] || []).map((name) => {
        const jobs = a ? a.count[state.servers.indexOf(name)] : 0;
        return el('li', { class: 'chip' }, el('span', { text: name }), el('span', { class: 'chip-count', text: `${integer(jobs)} jobs` }));
      })))));
    $('side-pools').replaceChildren(...TIERS.map((tier) => el('li', { 'data-tier': tier },
      el('strong', { text: tier }), el('span', { text: ` ${(state.pools[tier] || []).join(', ')}` }))));
  }

  const TABLE_KEYS = {
    job_id: (j) => j.job_id,
    chosen_dc: (j) => state.servers.indexOf(j.chosen_dc),
    priority: (j) => TIERS.indexOf(j.priority),
    latency: (j) => (j.latency in LATENCY_ORDER ? LATENCY_ORDER[j.latency] : -1),
    reward: (j) => j.reward,
    energy_kwh: (j) => j.energy_kwh,
    co2_kg: (j) => j.co2_kg,
    cost: (j) => j.cost,
    urgency: (j) => own(URGENCY_ORDER, j.urgency, -1),
    status: (j) => own(STATUS_ORDER, j.status, -1),
    mode: (j) => (j.mode === 'eco' ? 1 : j.mode === 'fast' ? 0 : -1),
    start_at: (j) => (j.start_at ? Date.parse(j.start_at) : -1),
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

  function renderHistory() {
    const t = state.table;
    const grid = isGrid();
    const order = tableOrder();
    const n = order.length;
    const pages = Math.max(1, Math.ceil(n / t.size));
    t.page = Math.min(t.page, pages - 1);
    const start = t.page * t.size;
    const rows = [];
    for (let k = start; k < Math.min(n, start + t.size); k++) {
      const j = state.jobs[order[k]];
      const explain = el('button', { type: 'button', class: 'btn btn-small', 'data-job': String(j.job_id), 'aria-label': `Explain job ${j.job_id}`, text: 'Explain' });
      rows.push(el('tr', {},
        el('td', { text: String(j.job_id) }),
        el('td', {}, el('span', { class: 'dot', 'data-tier': state.tierOf[j.chosen_dc] || '' }), j.chosen_dc),
        el('td', { text: j.priority }),
        el('td', { text: j.latency ?? '–' }),
        el('td', { class: 'num', text: fixed(j.reward, 4) }),
        el('td', { class: 'num', text: amount(j.energy_kwh) }),
        el('td', { class: 'num', text: amount(j.co2_kg) }),
        el('td', { class: 'num', text: fixed(j.cost, 4) }),
        ...(grid ? whenCells(j) : []),
        el('td', {}, explain)));
    }
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

  /** A grid job's urgency, status, mode, start and deadline cells in the history table. */
  function whenCells(j) {
    return [
      el('td', { text: j.urgency ?? '–' }),
      el('td', {}, statusEl(j.status)),
      el('td', {}, modeEl(j.mode)),
      el('td', {}, timeEl(j.start_at, true)),
      el('td', {}, timeEl(j.deadline_at, true)),
    ];
  }

  function renderXaiPicker() {
    const n = state.jobs.length;
    const input = $('xai-job');
    if (n) {
      const first = state.jobs[0].job_id, last = state.jobs[n - 1].job_id;
      input.min = String(first);
      input.max = String(last);
      setText('xai-range', `Jobs ${first} to ${last} of this session. The Explain buttons in Jobs / History open a job here.`);
    } else {
      setText('xai-range', 'No scheduled jobs yet.');
    }
    $('xai-prev').disabled = $('xai-next').disabled = n === 0;
    if (!n && state.xai.jobId === null) clearXai();
  }

  function showLatestJobIfNone() {
    if (state.xai.jobId === null && state.jobs.length) showJob(state.jobs[state.jobs.length - 1].job_id);
  }

  function clearXai(text = 'Run some jobs, then pick one to read why it went where it did.') {
    setText('xai-title', 'Explanation');
    $('xai-facts').replaceChildren();
    setText('xai-text', text);
    setText('xai-when', '');
    $('xai-when').hidden = true;
    setText('xai-source', '');
    setOff($('xai-refine'), true);
    updateChart('chart-breakdown', [], [[], [], [], [], []]);
    updateChart('chart-qvalues', [], [[]]);
  }

  /** One job in the XAI tab: its full decision (breakdown, Q-values) and its template explanation
   * (`explanation` when the caller has it already). */
  async function showJob(jobId, explanation = null) {
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

  function renderDecision(job) {
    setText('xai-title', `Job ${job.job_id}: ${job.priority} → ${job.chosen_dc}`);
    const facts = [
      ['Server', job.chosen_dc], ['Priority', job.priority], ['Latency', job.latency ?? 'not set'],
      ['Reward (quality, 0–1)', fixed(job.reward, 4)], ['Training reward', fixed(job.rl_reward, 4)],
      ['Energy', `${amount(job.power_kwh)} kWh`], ['CO₂', `${amount(job.co2)} kg`], ['Cost', `${fixed(job.cost, 4)} price units`],
      ['Carbon factor (0–1)', fixed(job.state && job.state.carbon_factor, 4)],
      ['Energy price', fixed(job.state && job.state.energy_price, 4)],
    ];
    const st = job.state || {};
    if (typeof st.load === 'number') facts.push(['Load', fixed(st.load, 4)]);
    if (typeof st.carbon_intensity_g_per_kwh === 'number') {
      // A grid job's figure is the mean over the hours it runs (a deferred job's: the hours it was moved to).
      facts.push([job.status ? 'Grid intensity over its run' : 'Average grid intensity', `${fixed(st.carbon_intensity_g_per_kwh, 1)} gCO₂eq/kWh`]);
    }
    if (typeof st.runtime_min === 'number') facts.push(['Run time', `${fixed(st.runtime_min, 1)} min`]);
    if (job.status) facts.push(...whenFacts(job));
    else if (st.clock_utc) facts.push(['Clock (UTC)', st.clock_utc]);
    $('xai-facts').replaceChildren(...facts.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', {}, v))));
    const pool = Object.entries(job.score_breakdown || {}).filter(([, b]) => b.in_pool);
    const names = pool.map(([name]) => name);
    const part = (key) => pool.map(([, b]) => b[key]);
    updateChart('chart-breakdown', names, [part('perf_score'), part('cost_score'), part('co2_score'), part('lat_score'), part('final')]);
    const q = Object.entries(job.rl_q_values || {});
    updateChart('chart-qvalues', q.map(([name]) => name), [q.map(([, v]) => v)], (chart) => {
      chart.data.datasets[0].backgroundColor = q.map(([name]) => (name === job.chosen_dc ? COLORS[job.priority] || COLORS.final : COLORS.other));
    });
  }

  /** When and how a grid job runs, as facts of the XAI tab (GET /jobs/{id}). */
  function whenFacts(job) {
    const runs = Array.isArray(job.runs) ? job.runs : [];
    const facts = [
      ['Urgency', job.urgency], ['Status', statusEl(job.status)], ['Mode', modeEl(job.mode)],
      ['Carbon band at submission', job.carbon_band],
      ['Submitted (UTC)', timeEl(job.state && job.state.clock_utc)], ['Start (UTC)', timeEl(job.start_at)],
      ['Finish (UTC)', timeEl(job.finish_at)], ['Deadline (UTC)', job.deadline_at ? timeEl(job.deadline_at) : 'none'],
    ];
    const piece = ([a, b]) => {
      const from = clockText(a), to = clockText(b);
      return `${from}–${to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to}`;
    };
    if (runs.length > 1) facts.push([`Runs (${runs.length} pieces)`, runs.map(piece).join('; ')]);
    facts.push(['Expected saving', `${amount(job.co2_saved_kg)} kg CO₂`], ['CO₂ had it run now', `${amount(job.co2_run_now_kg)} kg`]);
    return facts;
  }

  const WHEN_SENTENCE = /\s(When: [\s\S]*)$/; // the grid explanation's last part: when and how the job runs

  function renderExplanation(explanation) {
    const text = explanation.explanation;
    const when = WHEN_SENTENCE.exec(text);
    setText('xai-text', when ? text.slice(0, when.index) : text);
    setText('xai-when', when ? when[1] : '');
    $('xai-when').hidden = !when;
    const source = explanation.source;
    if (source === 'template') {
      setText('xai-source', explanation.note
        ? `Template explanation: the LLM was not used (${explanation.note}).`
        : 'Template explanation (deterministic, from the decision\'s numbers).');
    } else {
      setText('xai-source', source === 'llm-cache' ? 'Refined by the LLM (a cached answer for this server, priority and carbon band).' : 'Refined by the LLM.');
    }
  }

  /** Refine with the LLM. The button stays focusable while it asks (aria-disabled), and a job change or a
   * reset meanwhile (a new xai token) leaves the answer, and the button, to whatever shows now. */
  async function refineExplanation() {
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

  const ADVICE = {
    avg_reward: 'Decisions scored low on quality: the agents learn per session, so more runs help, and priorities should match what each job needs.',
    green_ratio: 'Few jobs are marked green: mark jobs that are not urgent as green so they run on the efficient pool.',
    carbon_score: 'Many jobs ran while the carbon factor was high: run flexible work when the badge shows low carbon.',
    co2_efficiency: 'Little CO₂ was avoided against the all-performance baseline: move jobs that do not need the fastest servers to the balanced or green pools.',
  };
  const SCORE_PARTS = { avg_reward: 'average reward', green_ratio: 'green share', carbon_score: 'clean-time running', co2_efficiency: 'CO₂ avoided' };

  function renderSustainability() {
    const s = state.summary;
    const has = Boolean(s && s.total_jobs);
    setText('gauge-value', has ? fixed(s.sustainability_score, 1) : '–');
    if (has) {
      const [, grade, word] = rating(s.sustainability_score);
      setText('rating-grade', grade);
      $('rating-grade').dataset.grade = grade;
      setText('rating-word', word);
      // The advice names the part of the score that costs the most points.
      const weakest = Object.keys(s.score_weights).reduce((worst, key) =>
        (s.score_weights[key] * (1 - s.score_parts[key]) > s.score_weights[worst] * (1 - s.score_parts[worst]) ? key : worst));
      setText('rating-advice', ADVICE[weakest] || '');
    } else {
      setText('rating-grade', '–');
      $('rating-grade').dataset.grade = '';
      setText('rating-word', '');
      setText('rating-advice', 'Run some jobs to get a rating.');
    }
    const share = has && s.co2_baseline_kg > 0 ? ` (${percent(s.co2_avoided_kg / s.co2_baseline_kg, 1)} of the baseline)` : '';
    setText('sus-avoided', has ? `${amount(s.co2_avoided_kg)} kg${share}` : '–');
    setText('sus-baseline', has ? `${amount(s.co2_baseline_kg)} kg` : '–');
    setText('sus-co2', has ? `${amount(s.total_co2_kg)} kg` : '–');
    setText('sus-green', has ? percent(s.green_ratio, 1) : '–');
    const a = state.agg;
    let best = -1;
    if (a) {
      for (let i = 0; i < a.count.length; i++) {
        if (a.count[i] && (best < 0 || a.co2[i] / a.count[i] < a.co2[best] / a.count[best])) best = i;
      }
    }
    setText('sus-best', best >= 0 ? `${state.servers[best]}: ${amount(a.co2[best] / a.count[best])} kg CO₂ per job` : '–');
  }

  /** The metrics table's columns: a policy summary key, its heading, the unit (a key of the result's
   * `units`, or text), digits (`amount`: three significant ones), and whether higher is better. */
  const SIM_COLUMNS = [
    { key: 'energy_kwh', label: 'Energy', units: 'energy', digits: 'amount' },
    { key: 'co2_kg', label: 'CO₂', units: 'co2', digits: 'amount' },
    { key: 'co2_with_idle_kg', label: 'CO₂ with idle', units: 'co2', digits: 'amount' },
    { key: 'cost', label: 'Cost', units: 'cost', digits: 2 },
    { key: 'completion_mean_min', label: 'Mean completion', units: 'time', digits: 1 },
    { key: 'completion_p95_min', label: 'p95 completion', units: 'time', digits: 1 },
    { key: 'wait_mean_min', label: 'Mean wait', units: 'time', digits: 1 },
    { key: 'throughput_per_h', label: 'Throughput', units: 'throughput', digits: 2, higher: true },
    { key: 'utilisation', label: 'Utilisation', text: 'share of cores', digits: 3, higher: true },
    { key: 'starved', label: 'Starved', text: 'jobs', digits: 0 },
    { key: 'slo_miss', label: 'SLO miss', text: 'share of jobs', digits: 3 },
    { key: 'quality_mean', label: 'Quality', text: '0–1', digits: 3, higher: true },
  ];

  /** The followed run's status line, progress bar and buttons. Only a change of status (or of the policy
   * being run) reaches the live region #sim-status; the running count goes to #sim-detail, which is not live. */
  function renderSimProgress(view) {
    const p = view.progress;
    const active = SIM_ACTIVE.includes(view.status);
    document.body.dataset.simState = view.status;
    $('sim-progress').value = view.status === 'done' ? 1 : p.fraction;
    setSimButtons(active);
    const status = {
      queued: 'Queued: waiting for a free simulation slot on the server.',
      running: p.total ? `Running ${p.policy}.` : studyOf(view.config) === 'deferral' ? 'Running: building the jobs and reading each region’s signal.' : 'Running: building the workload and the carbon clock.',
      done: `Done: ${doneWhat(view)} on ${integer(view.config.jobs)} jobs in ${fixed(view.elapsed_s, 2)} s.`,
      cancelled: `Cancelled: ${view.error || 'stopped on request'}.`,
      failed: `Failed: ${view.error || 'no reason given'}.`,
    }[view.status] || `Status: ${view.status}`;
    setLive('sim-status', state.sim.cancelling && active ? `Cancelling (the run stops between two chunks of jobs). ${status}` : status);
    const unit = studyOf(view.config) === 'deferral' ? 'job plans' : 'job runs';
    setText('sim-detail', active && p.total ? `${integer(p.done)} of ${integer(p.total)} ${unit} (${percent(p.fraction, 1)}).` : '');
  }

  /** What a finished run compared: "3 policies", or "6 strategies in 2 regions". */
  function doneWhat(view) {
    const plural = (k, word, words) => `${integer(k)} ${k === 1 ? word : words}`;
    if (studyOf(view.config) === 'placement') return plural(view.config.policies.length, 'policy', 'policies');
    const table = (view.result && view.result.table) || [];
    return `${plural(new Set(table.map((row) => row.strategy)).size, 'strategy', 'strategies')} in ${plural(view.config.regions.length, 'region', 'regions')}`;
  }

  /** Start and Cancel follow the run; focus moves with them (Start to Cancel, and back) instead of
   * being dropped on a button that switches off. */
  function setSimButtons(active) {
    const start = $('sim-start'), cancel = $('sim-cancel');
    setOff(start, active);
    setOff(cancel, !active || state.sim.cancelling);
    if (active && !state.sim.cancelling && document.activeElement === start) cancel.focus();
    if (!active && document.activeElement === cancel) start.focus();
  }

  /** A finished run's document (GET /simulate/{id} `result`), drawn in its study's part of the Compare tab. */
  function renderSimResults(view) {
    const study = studyOf(view.config);
    if (study === 'deferral') renderDeferralResults(view);
    else renderPlacementResults(view);
    state.sim.shown[study] = true;
    if ($('sim-study').value !== study) $('sim-study').value = study;
    selectStudy(study);
  }

  /** The Compare form and results of one study: the other study's fields are hidden and switched off
   * (so neither sent nor validated); each study's last results stay, shown with their study. */
  function selectStudy(study) {
    for (const node of document.querySelectorAll('#tab-compare [data-study]')) {
      const off = node.dataset.study !== study;
      node.hidden = off;
      for (const control of node.querySelectorAll('input, select')) control.disabled = off;
      if (node.matches('input, select')) node.disabled = off;
    }
    setText('sim-title', study === 'deferral' ? 'Compare when-to-run strategies in the simulator' : 'Compare placement policies in the simulator');
    $('sim-results').hidden = !(study === 'placement' && state.sim.shown.placement);
    $('defer-results').hidden = !(study === 'deferral' && state.sim.shown.deferral);
  }

  /** The placement study's results: text, charts and tables. */
  function renderPlacementResults(view) {
    const r = view.result;
    state.sim.result = r;
    const wl = r.workload;
    const loads = Object.entries(wl.offered_load).map(([tier, load]) => `${tier} ${fixed(load, 2)}`).join(', ');
    setText('sim-run-id', `run ${view.id}`);
    setText('sim-meta', `${wl.name}: ${integer(wl.jobs)} jobs over ${fixed(wl.span_h, 1)} h of simulated time; scenario ${r.clock.scenario}; `
      + `seed ${r.seed} (enter it to replay this run); offered load ${loads}.`);
    const proxy = r.clock.carbon_kind.startsWith('proxy');
    const badge = $('sim-carbon-badge');
    badge.dataset.kind = proxy ? 'proxy' : 'average';
    badge.textContent = proxy ? 'Carbon: proxy' : 'Carbon: average grid intensity';
    setText('sim-carbon-kind', proxy
      ? `CO₂ here is computed from a proxy, not from grid data: ${r.clock.carbon_kind}.`
      : `CO₂ here is computed from real grid data: ${r.clock.carbon_kind}.`);
    const metric = $('race-metric');
    for (const option of metric.options) option.hidden = option.disabled = !(option.value in r.policies[0]);
    if (metric.selectedOptions[0].disabled) metric.value = 'co2_kg';
    renderRace();
    renderTradeoff(r);
    renderLearning(r);
    renderWinLoss(r);
    renderSimTable(r);
  }

  /** The deferral study's results: what ran where, then the saving chart and the table (renderDeferralView). */
  function renderDeferralResults(view) {
    const r = view.result;
    state.sim.deferral = r;
    const cfg = r.config;
    const j = r.jobs || {};
    setText('defer-run-id', `run ${view.id}`);
    setText('defer-meta', `${integer(j.count ?? cfg.jobs)} ${cfg.workload} jobs (${integer(j.critical)} critical, ${integer(j.normal)} normal, `
      + `${integer(j.flexible)} flexible, ${integer(j.interruptible)} of them interruptible) arriving over ${integer(cfg.span_h)} h, each on ${j.server || 'one server'}; `
      + `a flexible job may finish ${fixed(cfg.slack_h, 1)} h after its FAST finish. Noisy forecast: ${integer(cfg.seeds)} runs. `
      + `Seed ${r.seed} (enter it to replay this run).`);
    $('defer-region-info').replaceChildren(...Object.entries(r.regions).map(([name, g]) => el('li', {},
      el('strong', { text: name }),
      ` ${g.signal} intensity: ${g.source}; ${clockText(g.start)} to ${clockText(g.end)} UTC in ${integer(g.step_min)}-min steps, mean ${fixed(g.mean_g_per_kwh, 0)} ${g.unit || 'gCO₂eq/kWh'}.`)));
    const select = $('defer-region');
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '', text: 'all regions' }), ...Object.keys(r.regions).map((name) => el('option', { value: name, text: name })));
    select.value = own(r.regions, chosen, null) ? chosen : '';
    $('defer-notes').replaceChildren(...(r.notes || []).map((note) => el('li', { text: note })));
    renderDeferralView();
  }

  /** The deferral table's columns: a strategy figure, its heading and unit (a key of the result's `units`,
   * or text), and how it is written. */
  const DEFER_COLUMNS = [
    { key: 'saved_pct', label: 'CO₂ saved', text: '% of run_now', format: (row) => (row.runs > 1 ? `${fixed(row.saved_pct, 1)} ± ${fixed(row.saved_pct_std, 1)}` : fixed(row.saved_pct, 1)) },
    { key: 'co2_kg', label: 'CO₂', units: 'co2', format: (row) => amount(row.co2_kg) },
    { key: 'deadline_misses', label: 'Deadline misses', text: 'of feasible', format: (row) => `${integer(row.deadline_misses)} of ${integer(row.feasible_deadlines)}` },
    { key: 'delay_mean_min', label: 'Mean delay', units: 'delay', format: (row) => fixed(row.delay_mean_min, 1) },
    { key: 'delay_p95_min', label: 'p95 delay', units: 'delay', format: (row) => fixed(row.delay_p95_min, 1) },
    { key: 'energy_kwh', label: 'Energy', units: 'energy', format: (row) => amount(row.energy_kwh) },
    { key: 'cost', label: 'Cost', text: 'price × kWh', format: (row) => fixed(row.cost, 2) },
    { key: 'deferred_jobs', label: 'Deferred', text: 'jobs', format: (row) => meanCount(row.deferred_jobs) },
    { key: 'eco_jobs', label: 'ECO', text: 'jobs', format: (row) => meanCount(row.eco_jobs) },
  ];

  /** The saving chart and the table for the chosen region (or all): strategies in the result's order. */
  function renderDeferralView() {
    const r = state.sim.deferral;
    if (!r) return;
    const region = $('defer-region').value;
    const regions = own(r.regions, region, null) ? [region] : Object.keys(r.regions);
    const rows = r.table.filter((row) => regions.includes(row.region));
    const strategies = [...new Set(rows.map((row) => row.strategy))].filter((name) => name !== 'run_now');
    const datasets = strategies.map((name) => bars(name, own(STRATEGY_COLORS, name, COLORS.final), {
      data: regions.map((g) => {
        const row = rows.find((x) => x.region === g && x.strategy === name);
        return row ? row.saved_pct : null; // no bar where the strategy did not run (forecast_issued outside CAISO_NORTH)
      }),
    }));
    updateChart('chart-deferral', regions, [], (chart) => { chart.data.datasets = datasets; });
    setText('defer-chart-note', 'Each bar: the CO₂ a strategy saved against running every job at once in FAST mode (run_now, 0 %), in % of run_now\'s CO₂ in that region; '
      + 'noisy: the mean of its runs. Emissions are measured on the actual signal; decisions only use what was known at the time.');
    const unit = (c) => (c.units ? String(r.units[c.units] || '') : c.text);
    $('defer-table-head').replaceChildren(el('tr', {},
      el('th', { scope: 'col', text: 'Region' }), el('th', { scope: 'col', text: 'Strategy' }),
      ...DEFER_COLUMNS.map((c) => el('th', { scope: 'col', class: 'num' }, c.label, el('span', { class: 'unit th-unit', text: unit(c) })))));
    const best = {};
    for (const row of rows) if (row.strategy !== 'run_now' && !(best[row.region] >= row.saved_pct)) best[row.region] = row.saved_pct;
    $('defer-table-body').replaceChildren(...rows.map((row) => {
      const dot = el('span', { class: 'dot' });
      dot.style.backgroundColor = own(STRATEGY_COLORS, row.strategy, COLORS.bound);
      return el('tr', { 'data-region': row.region, 'data-strategy': row.strategy },
        el('td', { text: row.region }),
        el('th', { scope: 'row' }, dot, row.strategy),
        ...DEFER_COLUMNS.map((c) => el('td', {
          class: c.key === 'saved_pct' && row.strategy !== 'run_now' && row.saved_pct === best[row.region] ? 'num best' : 'num',
          text: c.format(row),
        })));
    }));
    setText('defer-table-scope', region ? `region ${region}` : `${integer(regions.length)} regions`);
  }

  /** A bar's tooltip: the saving, with the spread of the noisy forecast's runs. */
  function deferralLabel(item) {
    const r = state.sim.deferral;
    const row = r && r.table.find((x) => x.region === item.label && x.strategy === item.dataset.label);
    const spread = row && row.runs > 1 ? ` ± ${fixed(row.saved_pct_std, 2)} (${row.runs} runs)` : '';
    const extra = row ? `; ${integer(row.deadline_misses)} deadline misses, mean delay ${fixed(row.delay_mean_min, 0)} min` : '';
    return `${item.dataset.label}: ${fixed(item.parsed.y, 2)} % saved${spread}${extra}`;
  }

  /** One bar per policy for the chosen metric (shorter is better); the CO2 race adds the lower bound. */
  function renderRace() {
    const r = state.sim.result;
    if (!r) return;
    const key = $('race-metric').value;
    const title = $('race-metric').selectedOptions[0].textContent;
    let rows = r.policies.map((p) => [p.policy, p[key]]);
    if ($('race-sort').checked) rows = rows.slice().sort((a, b) => a[1] - b[1]);
    const bound = key === 'co2_kg' ? r.lower_bound.co2_kg : null;
    if (bound !== null) rows.unshift([BOUND_LABEL, bound]);
    updateChart('chart-race', rows.map(([name]) => name), [rows.map(([, value]) => value)], (chart) => {
      chart.data.datasets[0].label = title;
      chart.data.datasets[0].backgroundColor = rows.map(([name]) => (name === BOUND_LABEL ? COLORS.bound : policyColor(name)));
      chart.options.scales.x.title.text = `${title}: shorter is better`;
    });
    setText('race-bound', bound !== null
      ? `Grey bar: the hindsight lower bound on the jobs' CO₂, ${amount(bound)} kg. No policy can emit less: it holds for ${r.lower_bound.holds_for}, so it is usually out of reach.`
      : 'The hindsight lower bound applies to the jobs\' CO₂ and is shown with that metric.');
  }

  function renderTradeoff(r) {
    const xs = r.policies.map((p) => p.completion_mean_min);
    const bound = r.lower_bound.co2_kg;
    const datasets = r.policies.map((p) => ({
      label: p.policy, data: [{ x: p.completion_mean_min, y: p.co2_kg }],
      ...policyStyle(p.policy), borderDash: [], borderWidth: 2, pointRadius: 7, pointHoverRadius: 9,
    }));
    datasets.push({
      label: BOUND_LABEL, type: 'line', data: [{ x: Math.min(...xs), y: bound }, { x: Math.max(...xs), y: bound }],
      borderColor: COLORS.bound, backgroundColor: COLORS.bound, borderDash: [6, 4], pointRadius: 0, pointStyle: 'line',
    });
    updateChart('chart-tradeoff', null, [], (chart) => { chart.data.datasets = datasets; });
  }

  function renderLearning(r) {
    const curve = r.learning_curve;
    const names = Object.keys(curve.quality);
    const ends = windowEnds(r.workload.jobs, names.length ? curve.quality[names[0]].length : 0);
    const points = (values) => values.map((y, i) => ({ x: ends[i], y }));
    const datasets = names.map((name) => series(name, policyColor(name), { ...policyStyle(name), data: points(curve.quality[name]), pointRadius: 3.5 }));
    if (curve.agent_reward) {
      datasets.push(series('tier_agents training reward', policyColor('tier_agents'), {
        data: points(curve.agent_reward), borderDash: [2, 2], pointStyle: 'line', pointRadius: 4,
      }));
    }
    updateChart('chart-learning', null, [], (chart) => { chart.data.datasets = datasets; });
    setText('learning-note', `Each point: the mean quality score (the seed's tier-weighted performance, cost, CO₂ and latency, 0–1) of the chosen servers over about ${integer(curve.window_jobs)} jobs, in arrival order. `
      + `Greedy picks the best score for every job, so it is the ceiling.${curve.agent_reward ? ' In tier_agents\' colour with flat dash marks: the agents\' training reward (quality minus the overload penalty).' : ''}`);
  }

  /** wins[i][j]: the share of jobs on which policy i emitted less CO2 than policy j; shown with its count. */
  function renderWinLoss(r) {
    const { policies, wins } = r.win_loss;
    const n = r.workload.jobs;
    setText('winloss-caption', `Each cell: on how many of the ${integer(n)} jobs the row policy emitted less CO₂ than the column policy; the rest are losses or ties. Darker means more wins.`);
    $('winloss-head').replaceChildren(el('tr', {},
      el('th', { scope: 'col', text: 'Row beats column' }), ...policies.map((name) => el('th', { scope: 'col', text: name }))));
    $('winloss-body').replaceChildren(...policies.map((row, i) => el('tr', {},
      el('th', { scope: 'row', text: row }),
      ...policies.map((column, j) => {
        if (i === j) return el('td', { class: 'wl-self', text: '–' });
        const share = wins[i][j];
        const count = Math.round(share * n);
        const cell = el('td', { 'data-count': String(count), title: `${row} beats ${column} on ${integer(count)} of ${integer(n)} jobs` },
          el('strong', { text: percent(share) }), el('span', { class: 'wl-count', text: `${integer(count)} jobs` }));
        cell.style.backgroundColor = `rgba(43, 138, 62, ${(0.8 * share).toFixed(3)})`; // CSSOM: allowed by the CSP; dark text stays readable
        return cell;
      }))));
  }

  function renderSimTable(r) {
    const columns = SIM_COLUMNS.filter((c) => c.key in r.policies[0]);
    const unit = (c) => (c.units ? String(r.units[c.units] || '').split(/ \(|, /)[0] : c.text);
    $('sim-table-head').replaceChildren(el('tr', {},
      el('th', { scope: 'col', text: 'Policy' }),
      ...columns.map((c) => el('th', { scope: 'col', class: 'num' }, c.label, el('span', { class: 'unit th-unit', text: unit(c) })))));
    const best = columns.map((c) => {
      const values = r.policies.map((p) => p[c.key]);
      return c.higher ? Math.max(...values) : Math.min(...values);
    });
    $('sim-table-body').replaceChildren(...r.policies.map((p) => {
      const dot = el('span', { class: 'dot' });
      dot.style.backgroundColor = policyColor(p.policy);
      return el('tr', {}, el('th', { scope: 'row' }, dot, p.policy), ...columns.map((c, k) => el('td', {
        class: p[c.key] === best[k] ? 'num best' : 'num',
        text: c.digits === 'amount' ? amount(p[c.key]) : c.digits ? fixed(p[c.key], c.digits) : integer(p[c.key]),
      })));
    }));
    setText('sim-units', `Units of the result: ${Object.entries(r.units).map(([name, text]) => `${name} in ${text}`).join('; ')}.`);
  }

  // --- notices and the overlay -------------------------------------------------------------------

  /** One notice at a time, in one of two live regions that are always in the page: errors in the
   * role=alert one, information in the role=status one (polite). The title and lines move to the right
   * region, emptied first, so a repeated message is announced again. */
  function showNotice(title, lines = [], kind = 'error') {
    clearNotice();
    $(kind === 'error' ? 'notice-alert' : 'notice-status').append($('notice-title'), $('notice-lines'));
    setText('notice-title', title);
    $('notice-lines').replaceChildren(...lines.slice(0, 50).map((line) => el('li', { text: line })));
    if (lines.length > 50) $('notice-lines').append(el('li', { text: `… and ${lines.length - 50} more.` }));
    $('notice').dataset.kind = kind;
    $('notice-close').hidden = false;
  }

  function showError(err) {
    if (err instanceof StaleAnswer) return; // an answer for a session the page has left
    if (err instanceof ApiError) showNotice(err.title, err.lines);
    else showNotice('Something went wrong in the page', [String(err && err.message ? err.message : err)]);
    console.warn('TaskPilot:', err); // eslint-disable-line no-console
  }

  function clearNotice() {
    setText('notice-title', '');
    $('notice-lines').replaceChildren();
  }

  function hideNotice() {
    const close = $('notice-close');
    if (document.activeElement === close) $('main').focus(); // Dismiss goes away: the focus goes to the content
    clearNotice();
    $('notice').dataset.kind = '';
    close.hidden = true;
  }

  const noticeShown = () => $('notice').dataset.kind !== '';

  /** Text for a live region, written only when it changes (a rewrite of the same words is announced again). */
  function setLive(id, text) {
    if ($(id).textContent !== text) setText(id, text);
  }

  /** Switch a button off without taking it out of the focus order (aria-disabled; its handler checks isOff). */
  function setOff(button, off) {
    button.setAttribute('aria-disabled', String(off));
  }
  const isOff = (button) => button.getAttribute('aria-disabled') === 'true';

  /** The Run steps in a native modal <dialog>: showModal() makes the rest of the page inert and keeps
   * focus inside. Escape cannot close it while the run lasts. */
  const overlay = {
    held: false,
    open(title) {
      setText('overlay-title', title);
      for (const li of document.querySelectorAll('#overlay-steps li')) {
        li.dataset.state = 'pending';
        li.querySelector('.step-detail').textContent = '';
      }
      this.held = true;
      const dialog = $('overlay');
      if (!dialog.open) dialog.showModal();
      dialog.focus();
    },
    step(name, stepState, detail = '') {
      const li = document.querySelector(`#overlay-steps li[data-step="${name}"]`);
      li.dataset.state = stepState;
      li.querySelector('.step-detail').textContent = detail;
    },
    close() {
      this.held = false;
      const dialog = $('overlay');
      if (dialog.open) dialog.close();
      $('btn-run').focus();
    },
  };

  // --- actions -----------------------------------------------------------------------------------

  /** Run `action` as the page's one state-changing action (run, reset, add, upload, new session): while
   * it lasts the others are refused. Returns its promise, or null when another action is under way. */
  function exclusive(name, action) {
    if (state.busy) return null;
    state.busy = name;
    document.body.dataset.busy = name;
    state.action = (async () => {
      try {
        return await action();
      } finally {
        state.busy = null;
        state.action = null;
        delete document.body.dataset.busy;
      }
    })();
    return state.action;
  }

  async function refreshStatus() {
    const [summary, carbon, queue] = await Promise.all([api.summary(), api.carbon(), api.queue()]);
    state.summary = summary;
    state.carbon = carbon;
    state.queued = summary.queued_jobs;
    state.deferred = { total: queue.deferred_total || 0, jobs: queue.deferred || [], clock: queue.clock_utc || null };
  }

  /** The server replaced an expired session with a new, empty one (X-Session-Notice on any answer): drop
   * what the page shows, stop any explanation on its way, and read the new session once. */
  function sessionExpired(notice) {
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

  /** Jobs from position `from` to `total` of the session's history (GET /history), pages fetched side by side. */
  async function loadHistory(total, from = 0) {
    const offsets = [];
    for (let offset = from; offset < total; offset += HISTORY_PAGE) offsets.push(offset);
    const pages = await Promise.all(offsets.map((offset) => api.history(offset, HISTORY_PAGE)));
    return pages.flatMap((page) => page.jobs);
  }

  function addJob(event) {
    event.preventDefault();
    const form = event.target;
    clearFieldErrors();
    if (!form.reportValidity()) return;
    const job = { priority: $('job-priority').value, cpu: Number($('job-cpu').value), memory: Number($('job-memory').value) };
    if ($('job-latency').value) job.latency = $('job-latency').value;
    if (!$('job-when').disabled) Object.assign(job, whenFields());
    exclusive('add', async () => {
      try {
        const { job_id: id } = await api.submit(job);
        state.queued += 1;
        state.queueLog.push({ count: 1, text: `Job ${id}: ${job.priority}, latency ${job.latency || 'not set'}, cpu ${job.cpu} %, memory ${job.memory} %${whenWords(job)}` });
        renderQueue();
        if (!state.resync) hideNotice();
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 422 && Array.isArray(err.detail)) {
          showFieldErrors(err);
        } else {
          showError(err);
        }
        return false;
      }
    });
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

  /** A refused job (a 422 of /submit): the server's reasons in the notice, and at each field it names
   * (marked invalid, the first one focused). Without "Job 1": /submit sends one job, so its index names
   * nothing the user sees. */
  function showFieldErrors(err) {
    const detail = err.detail.map((e) => (e && typeof e === 'object' ? { ...e, index: null } : e));
    showNotice(err.title, describeDetail(detail, err.status));
    let first = null;
    for (const e of detail) {
      const [control, message] = own(FIELD_CONTROLS, e && e.field, []);
      if (!control) continue;
      const input = $(typeof control === 'function' ? control() : control);
      input.setAttribute('aria-invalid', 'true');
      if (message) {
        $(message).hidden = false;
        $(message).textContent = `${e.field}: ${e.message ?? ''}`;
      }
      first = first || input;
    }
    if (first) first.focus();
  }

  function clearFieldErrors() {
    for (const node of document.querySelectorAll('#job-form [aria-invalid]')) node.removeAttribute('aria-invalid');
    for (const node of document.querySelectorAll('#job-form .field-error')) {
      node.hidden = true;
      node.textContent = '';
    }
  }

  /** The deadline's input follows its kind: minutes after submission, or a time (first offered six hours
   * after the session's clock). The hidden one is switched off. */
  function syncDeadlineFields() {
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

  function showCsvErrors(err, fileName) {
    const rows = Array.isArray(err.detail) ? err.detail : [{ row: null, field: null, message: err.lines.join('; ') || err.title }];
    $('csv-error-rows').replaceChildren(...rows.map((e) => el('tr', {},
      el('td', { text: e.row === null || e.row === undefined ? '–' : String(e.row) }),
      el('td', { text: e.field ?? '–' }),
      el('td', { text: e.message ?? e.msg ?? '' }))));
    setText('csv-errors-caption', `${fileName}: ${rows.length} problem${rows.length === 1 ? '' : 's'}; nothing from this file was queued`);
    $('csv-errors').hidden = false;
  }

  /** POST /upload of `file`; on success the file is queued whole, on 422 every bad row is listed. The file
   * stops being the pending one as the upload starts (so a second Upload or a Run cannot queue it again)
   * and is pending again if the upload fails. */
  async function uploadFile(file) {
    $('csv-errors').hidden = true;
    setText('csv-status', `Uploading ${file.name}…`);
    if (state.pendingFile === file) state.pendingFile = null;
    try {
      const result = await api.upload(file);
      state.queued += result.count;
      const ids = result.job_ids;
      state.queueLog.push({ count: result.count, text: `Jobs ${ids[0]}–${ids[ids.length - 1]} (${integer(result.count)}) from ${file.name}` });
      if ($('csv-file').files[0] === file) $('csv-file').value = '';
      setText('csv-status', `Queued ${integer(result.count)} jobs from ${file.name}.`);
      renderQueue();
      if (!state.resync) hideNotice();
      return result;
    } catch (err) {
      if (err instanceof StaleAnswer) throw err;
      if (state.pendingFile === null && $('csv-file').files[0] === file) state.pendingFile = file;
      setText('csv-status', '');
      if (err instanceof ApiError && err.status === 422) {
        showCsvErrors(err, file.name);
        showNotice(`The file ${file.name} was not queued`, ['Fix the rows listed under "Upload a job CSV" and upload it again.']);
        openAddPanel(true);
      } else {
        showError(err);
      }
      throw err;
    }
  }

  /** Upload and queue. A second press while the file is on its way does nothing; the button says so. */
  function onCsvSubmit(event) {
    event.preventDefault();
    if (state.busy === 'upload') return;
    const file = $('csv-file').files[0];
    if (!file) {
      setText('csv-status', 'Choose a CSV file first.');
      return;
    }
    const button = $('csv-upload');
    exclusive('upload', async () => {
      setOff(button, true);
      try {
        return await uploadFile(file);
      } catch (err) {
        return null; // shown on the page
      } finally {
        setOff(button, false);
      }
    });
  }

  function openAddPanel(open) {
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

  /** Run scheduler: (upload a chosen file,) POST /run?detail=compact, refresh the KPIs, render. An Add or
   * Upload still on its way is waited for first: its jobs belong to this run. */
  async function runScheduler(event) {
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
      // The overlay stays a moment so the steps can be read; the timing above has already stopped.
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

  /** POST /run gives each job's status as decided; GET /history as it is on the session's clock now: a
   * deferred job whose start the clock has reached (this run moved it on) is "released". The rule is the
   * server's (scheduler/service/decisions.py status_codes): deferred while its start is after the clock. */
  function releaseStarted(jobs, clockUtc) {
    const clock = clockUtc ? Date.parse(clockUtc) : NaN;
    if (Number.isNaN(clock)) return jobs;
    for (const j of jobs) if (j.status === 'deferred' && !(Date.parse(j.start_at) > clock)) j.status = 'released';
    return jobs;
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

  function resetSession() {
    const button = $('btn-reset');
    if (state.busy) return;
    if (!state.resetArmed) {
      // A two-step button instead of confirm(): the session can hold thousands of jobs.
      button.textContent = 'Click again to reset';
      state.resetArmed = setTimeout(() => { state.resetArmed = null; button.textContent = 'Reset'; }, 5000);
      return;
    }
    clearTimeout(state.resetArmed);
    state.resetArmed = null;
    button.textContent = 'Reset';
    exclusive('reset', async () => {
      try {
        await api.reset();
        forgetSessionData();
        state.xai.token++;
        await refreshStatus();
        setJobs([]);
        clearXai();
        renderAll();
        showNotice('The session was reset: queue and history are empty.', [], 'info');
      } catch (err) {
        showError(err);
      }
    });
  }

  /** Start new session: GET /session?scenario=..., then this page uses the new, empty session. */
  function startNewSession(event) {
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

  /** Start (Compare tab): POST /simulate with the form's options, then follow the run. */
  async function startSimulation(event) {
    event.preventDefault();
    const start = $('sim-start');
    if (isOff(start) || !$('sim-form').reportValidity()) return;
    const config = simConfig();
    if (!config) return;
    state.sim.token++; // stop following an earlier run
    setOff(start, true);
    $('sim-progress').value = 0;
    document.body.dataset.simState = 'starting';
    setLive('sim-status', 'Starting…');
    setText('sim-detail', '');
    try {
      const { id } = await api.simulate(config);
      hideNotice();
      storeSet(SIM_KEY, id, 'sessionStorage');
      followSimulation(id);
    } catch (err) {
      document.body.dataset.simState = 'error';
      setOff(start, false);
      setLive('sim-status', `Not started: ${err instanceof ApiError ? err.message : 'the page failed'}.`);
      showError(err);
    }
  }

  /** The form's POST /simulate body for the chosen study, or null (said why) when a list is left empty. */
  function simConfig() {
    const ticked = (selector) => Array.from(document.querySelectorAll(`${selector} input:checked`), (input) => input.value);
    const seed = $('sim-seed').value;
    const common = { jobs: Number($('sim-jobs').value), seed: seed === '' ? randomSeed() : Number(seed) };
    const deferral = $('sim-study').value === 'deferral';
    const [list, what, legend] = deferral ? [ticked('#defer-regions'), 'region', 'Regions'] : [ticked('#sim-policies'), 'policy', 'Policies'];
    if (!list.length) {
      setLive('sim-status', `Not started: choose at least one ${what}.`);
      showNotice(`Choose at least one ${what} to compare.`, [`Tick one or more under "${legend}" and press Start again.`]);
      return null;
    }
    if (!deferral) return { workload: $('sim-workload').value, scenario: $('sim-scenario').value, ...common, policies: list };
    return {
      study: 'deferral', workload: $('defer-workload').value, regions: list, forecasts: ticked('#defer-forecasts'), ...common,
      seeds: Number($('defer-seeds').value), slack_h: Number($('defer-slack').value),
    };
  }

  /** Poll GET /simulate/{id} every SIM_POLL_MS until the run is done, failed or cancelled. A poll that
   * gets no answer (network, time-out, 5xx) is tried again after 1, 2 and 4 s before the page gives up. */
  async function followSimulation(id) {
    const sim = state.sim;
    const token = ++sim.token;
    sim.id = id;
    sim.cancelling = false;
    let failures = 0;
    for (;;) {
      let view;
      try {
        view = await api.simulation(id);
        failures = 0;
      } catch (err) {
        if (token !== sim.token) return;
        const passing = err instanceof ApiError && (err.status === 0 || err.status >= 500);
        if (passing && failures < SIM_RETRY_MS.length) {
          const wait = SIM_RETRY_MS[failures++];
          setLive('sim-status', `No answer from the server about the simulation; trying again in ${wait / 1000} s (attempt ${failures} of ${SIM_RETRY_MS.length}).`);
          await sleep(wait);
          if (token !== sim.token) return;
          continue;
        }
        document.body.dataset.simState = 'error';
        sim.cancelling = false;
        setSimButtons(false);
        setText('sim-detail', '');
        if (err instanceof ApiError && err.status === 404) {
          storeSet(SIM_KEY, null, 'sessionStorage');
          setLive('sim-status', 'The last simulation is no longer on the server (it keeps only the newest finished runs). Press Start to run one.');
        } else {
          setLive('sim-status', `Lost track of the simulation: ${err.message}. Reload the page and open this tab to pick it up again.`);
          showError(err);
        }
        return;
      }
      if (token !== sim.token) return;
      renderSimProgress(view);
      if (!SIM_ACTIVE.includes(view.status)) {
        sim.cancelling = false;
        if (view.status === 'done') renderSimResults(view);
        if (view.status === 'failed') showNotice('The simulation failed', [view.error || 'The server gave no reason.']);
        return;
      }
      await sleep(SIM_POLL_MS);
    }
  }

  /** Cancel: DELETE /simulate/{id}; the poll sees the run stop. */
  async function cancelSimulation() {
    const id = state.sim.id;
    const cancel = $('sim-cancel');
    if (!id || isOff(cancel)) return;
    state.sim.cancelling = true;
    setOff(cancel, true);
    try {
      await api.cancelSimulation(id);
    } catch (err) {
      state.sim.cancelling = false;
      setOff(cancel, false);
      showError(err);
    }
  }

  /** The first time the Compare tab opens, pick up the run this browser tab started before a reload. */
  function restoreSimulation() {
    if (state.sim.restored) return;
    state.sim.restored = true;
    const id = storeGet(SIM_KEY, 'sessionStorage');
    if (!state.sim.id && id && RUN_ID.test(id)) followSimulation(id);
  }

  // --- events ------------------------------------------------------------------------------------

  function bindEvents() {
    $('btn-new-job').addEventListener('click', () => openAddPanel($('add-panel').hidden));
    $('btn-run').addEventListener('click', runScheduler);
    $('btn-reset').addEventListener('click', resetSession);
    $('notice-close').addEventListener('click', hideNotice);
    // Escape would close the Run dialog: not while the run lasts (Chromium may close it anyway after a
    // second Escape, so a close while held reopens it).
    $('overlay').addEventListener('cancel', (event) => event.preventDefault());
    $('overlay').addEventListener('close', () => { if (overlay.held) $('overlay').showModal(); });
    $('job-form').addEventListener('submit', addJob);
    $('csv-form').addEventListener('submit', onCsvSubmit);
    $('scenario-form').addEventListener('submit', startNewSession);
    $('sim-form').addEventListener('submit', startSimulation);
    $('sim-cancel').addEventListener('click', cancelSimulation);
    $('race-metric').addEventListener('change', renderRace);
    $('sim-study').addEventListener('change', (event) => selectStudy(event.target.value));
    $('defer-region').addEventListener('change', renderDeferralView);
    $('job-deadline-kind').addEventListener('change', syncDeadlineFields);
    $('job-form').addEventListener('input', (event) => {
      if (event.target.getAttribute('aria-invalid') === 'true') clearFieldErrors();
    });
    $('deferred-pill').addEventListener('click', showDeferred);
    $('timing-show-deferred').addEventListener('click', showDeferred);
    $('deferred-body').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-job]');
      if (!button) return;
      selectTab('xai');
      showJob(Number(button.dataset.job));
    });
    $('history-filter').addEventListener('change', (event) => {
      state.table.filter = own(HISTORY_FILTERS, event.target.value, null) ? event.target.value : 'all';
      state.table.order = null;
      state.table.page = 0;
      renderHistory();
    });
    $('race-sort').addEventListener('change', renderRace);
    $('csv-file').addEventListener('change', (event) => {
      state.pendingFile = event.target.files[0] || null;
      $('csv-errors').hidden = true;
      setText('csv-status', state.pendingFile ? `${state.pendingFile.name} chosen: upload it now, or press Run scheduler to upload and run it.` : '');
    });

    const tablist = $('tablist');
    tablist.addEventListener('click', (event) => {
      const button = event.target.closest('[role="tab"]');
      if (button) selectTab(button.dataset.tab);
    });
    tablist.addEventListener('keydown', (event) => {
      const i = TABS.findIndex((t) => t.id === state.activeTab);
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length].id);
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
      if (!button) return;
      selectTab('xai');
      showJob(Number(button.dataset.job));
    });
    const pageTo = (page) => { state.table.page = page; renderHistory(); };
    $('page-first').addEventListener('click', () => pageTo(0));
    $('page-prev').addEventListener('click', () => pageTo(Math.max(0, state.table.page - 1)));
    $('page-next').addEventListener('click', () => pageTo(state.table.page + 1));
    $('page-last').addEventListener('click', () => pageTo(Number.MAX_SAFE_INTEGER));
    $('page-size').addEventListener('change', (event) => { state.table.size = Number(event.target.value); state.table.page = 0; renderHistory(); });

    $('xai-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = Number($('xai-job').value);
      if (Number.isInteger(id) && id >= 1) showJob(id);
    });
    const step = (delta) => {
      if (!state.jobs.length) return;
      const first = state.jobs[0].job_id, last = state.jobs[state.jobs.length - 1].job_id;
      const current = state.xai.jobId ?? first - delta;
      showJob(Math.min(last, Math.max(first, current + delta)));
    };
    $('xai-prev').addEventListener('click', () => step(-1));
    $('xai-next').addEventListener('click', () => step(1));
    $('xai-refine').addEventListener('click', refineExplanation);
  }

  // --- init --------------------------------------------------------------------------------------

  /** After refreshStatus: the session's whole history, then every tab drawn from it. */
  async function showSession() {
    const total = state.summary.total_jobs;
    setJobs(total ? await loadHistory(total) : []);
    $('scenario-select').value = state.summary.scenario === 'grid' ? 'grid' : 'reference';
    if (!total && !state.queued) openAddPanel(true);
    renderAll();
    if (state.jobs.length) showJob(state.jobs[state.jobs.length - 1].job_id);
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
})();
