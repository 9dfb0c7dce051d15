/* The Compare tab's runs: start one (POST /simulate), follow it (GET /simulate/{id}) until it ends, cancel
 * it (DELETE), and pick up after a reload the run this browser tab started. */

import { ApiError, api } from '../api.js';
import { $, isOff, setLive, setOff, setText, sleep } from '../dom.js';
import { SIM_KEY, state, storeGet, storeSet } from '../store.js';
import { SIM_ACTIVE, renderSimProgress, renderSimResults, setSimButtons } from '../views/compare.js';
import { gpuFractionBody } from '../views/compare-gpu-fraction.js';
import { hideNotice, hideNoticeIf, showError, showNotice } from '../views/notice.js';

const RUN_ID = /^[0-9a-f-]{36}$/;
let startNotice = null; // the notice of a Start the server refused, while it may still be shown
const SIM_POLL_MS = 300;
const SIM_RETRY_MS = [1000, 2000, 4000]; // a poll that fails is tried again after these waits, then given up

/** Start (Compare tab): POST /simulate with the form's options, then follow the run. */
export async function startSimulation(event) {
  event.preventDefault();
  const start = $('sim-start');
  if (isOff(start) || !$('sim-form').reportValidity()) return;
  const config = simConfig();
  if (!config) return;
  startNotice = null;
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
    startNotice = showError(err);
  }
}

/** A change to the options after a refused Start (413: too many jobs, 422: a bad value): the refusal was
 * about the options as they were, so it goes, from the notice and from the status line. A run being
 * followed, or its result, is not touched. */
export function bindSimOptions() {
  const changed = () => {
    if (document.body.dataset.simState !== 'error' || startNotice === null) return;
    hideNoticeIf(startNotice);
    startNotice = null;
    delete document.body.dataset.simState;
    setLive('sim-status', 'Options changed: press Start to run with them.');
  };
  $('sim-form').addEventListener('input', changed);
  $('sim-form').addEventListener('change', changed);
}

/** A seed for a run whose form left it blank, drawn here below 2^53 so the number shown replays the run. */
function randomSeed() {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return (high >>> 11) * 2 ** 32 + low;
}

/** The form's POST /simulate body for the chosen study, or null (said why) when a list is left empty. */
function simConfig() {
  const ticked = (selector) => Array.from(document.querySelectorAll(`${selector} input:checked`), (input) => input.value);
  const seed = $('sim-seed').value;
  const common = { jobs: Number($('sim-jobs').value), seed: seed === '' ? randomSeed() : Number(seed) };
  const study = $('sim-study').value;
  const deferral = study === 'deferral';
  const [list, what, legend] = deferral ? [ticked('#defer-regions'), 'region', 'Regions']
    : [ticked(study === 'gpu-fraction' ? '#gpu-policies' : '#sim-policies'), 'policy', 'Policies'];
  if (!list.length) {
    // Refused here, as a server's refusal would be: the next change of the options clears it (bindSimOptions).
    document.body.dataset.simState = 'error';
    setLive('sim-status', `Not started: choose at least one ${what}.`);
    startNotice = showNotice(`Choose at least one ${what} to compare.`, [`Tick one or more under "${legend}" and press Start again.`]);
    return null;
  }
  if (study === 'gpu-fraction') return gpuFractionBody(list, common);
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
      lostTrack(err);
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

/** The poll gave up: the run is gone from the server (404), or the server cannot be reached. */
function lostTrack(err) {
  document.body.dataset.simState = 'error';
  state.sim.cancelling = false;
  setSimButtons(false);
  setText('sim-detail', '');
  if (err instanceof ApiError && err.status === 404) {
    storeSet(SIM_KEY, null, 'sessionStorage');
    setLive('sim-status', 'The last simulation is no longer on the server (it keeps only the newest finished runs). Press Start to run one.');
  } else {
    setLive('sim-status', `Lost track of the simulation: ${err.message}. Reload the page and open this tab to pick it up again.`);
    showError(err);
  }
}

/** Cancel: DELETE /simulate/{id}; the poll sees the run stop. */
export async function cancelSimulation() {
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
export function restoreSimulation() {
  if (state.sim.restored) return;
  state.sim.restored = true;
  const id = storeGet(SIM_KEY, 'sessionStorage');
  if (!state.sim.id && id && RUN_ID.test(id)) followSimulation(id);
}
