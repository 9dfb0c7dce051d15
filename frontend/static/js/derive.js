/* Numbers and series computed from the server's data: pure functions, no DOM, no page state. */

import { MODES, STATUSES, TIERS } from '/js/states.js';
import { hoursOf } from './format.js';

// The members of the shared vocabulary (served from scheduler/core/states.py) the page tests for, by
// their place in Python's tuples: a renamed state reaches the page without an edit here.
export const [, DEFERRED, RELEASED] = STATUSES;
export const [, ECO] = MODES;
/** A job whose start the when-policy moved. */
export const MOVED = new Set([DEFERRED, RELEASED]);

const MARKER_POINTS = 1000; // deferred / ECO markers drawn at most (evenly thinned beyond)
const LINE_POINTS = 600; // line charts are decimated (LTTB) to this many points

/** obj[key] when obj has it as its own (a key from outside may be "constructor"), else `fallback`. */
export const own = (obj, key, fallback) => (typeof key === 'string' && Object.hasOwn(obj, key) ? obj[key] : fallback);

/** Everything the charts show, from one pass over the jobs (plus one over the energy column for bands).
 * `servers`: the fleet's server names in order; `scenario`: the session's (an empty session has its unit). */
export function aggregate(jobs, servers, scenario) {
  const n = jobs.length;
  const S = servers.length;
  const serverIndex = new Map(servers.map((name, i) => [name, i]));
  const tierIndex = new Map(TIERS.map((t, i) => [t, i]));
  const count = new Float64Array(S), rewardSum = new Float64Array(S), energy = new Float64Array(S), co2 = new Float64Array(S);
  const routed = TIERS.map(() => new Float64Array(S)); // [tier][server] job counts
  const byTier = new Float64Array(TIERS.length), co2ByTier = new Float64Array(TIERS.length);
  const ids = new Float64Array(n), reward = new Float64Array(n), carbon = new Float64Array(n), cumCo2 = new Float64Array(n), jobEnergy = new Float64Array(n);
  // Grid-scenario sessions carry a real intensity (gCO2eq/kWh) per job; reference ones the 0..1 proxy.
  const gridIntensity = n > 0 ? typeof jobs[0].carbon_intensity_g_per_kwh === 'number' : scenario === 'grid';
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
    const mark = MOVED.has(j.status) || j.mode === ECO
      ? { x, y, job: j.job_id, server: j.chosen_dc, mode: j.mode, status: j.status, finish: hoursOf(j.finish_at) } : null;
    // An interruptible job runs in pieces between its start and finish: longer than its run time.
    if (mark) mark.pieces = (mark.finish - x) * 60 > j.runtime_min + 0.5;
    if (MOVED.has(j.status)) moved.push(mark);
    else { xs[m] = x; ys[m] = y; ids[m] = j.job_id; m++; }
    if (j.mode === ECO) eco.push(mark);
    first = Math.min(first, x);
    last = Math.max(last, mark ? mark.finish : x);
  }
  return { xs: xs.subarray(0, m), ys: ys.subarray(0, m), ids: ids.subarray(0, m), moved, eco, first, last };
}

/** At most `max` of `items`, evenly spaced, the first and last among them. */
export function thin(items, max = MARKER_POINTS) {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, k) => items[Math.round((k * (items.length - 1)) / (max - 1))]);
}

/** Rolling mean over the last `w` values (fewer at the start). */
export function rolling(values, w) {
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
export function lttb(ys, xs, threshold = LINE_POINTS) {
  return lttbRows(ys, xs, threshold).map((i) => ({ x: xs[i], y: ys[i] }));
}

/** The rows lttb keeps, in order. */
export function lttbRows(ys, xs, threshold = LINE_POINTS) {
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

/** Job number at the end of each of `windows` learning-curve windows of `n` jobs (as numpy's array_split). */
export function windowEnds(n, windows) {
  const size = Math.floor(n / windows), extra = n % windows;
  return Array.from({ length: windows }, (_, i) => (i + 1) * size + Math.min(i + 1, extra));
}

/** POST /run gives each job's status as decided; GET /history as it is on the session's clock now: a
 * deferred job whose start the clock has reached (this run moved it on) is released. The rule is the
 * server's (scheduler/service/decisions.py status_codes): deferred while its start is after the clock. */
export function releaseStarted(jobs, clockUtc) {
  const clock = clockUtc ? Date.parse(clockUtc) : NaN;
  if (Number.isNaN(clock)) return jobs;
  for (const j of jobs) if (j.status === DEFERRED && !(Date.parse(j.start_at) > clock)) j.status = RELEASED;
  return jobs;
}

// The rating of a 0-100 score: [lowest score, grade, word]. The ring and the grade's text share its colour
// (palette.js GRADE_COLORS; app.css: .rating strong[data-grade]).
const RATINGS = [[75, 'A', 'Excellent'], [60, 'B', 'Good'], [45, 'C', 'Fair'], [30, 'D', 'Poor'], [-Infinity, 'E', 'Very poor']];
export const rating = (score) => RATINGS.find(([min]) => score >= min);
