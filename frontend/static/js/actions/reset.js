/* Reset: empty the session's queue and history, after a second press. */

import { api } from '../api.js';
import { $ } from '../dom.js';
import { forgetSessionData, setJobs, state } from '../store.js';
import { showError, showNotice } from '../views/notice.js';
import { renderAll } from '../views/tabs.js';
import { clearXai } from '../views/xai.js';
import { exclusive } from './exclusive.js';
import { refreshStatus } from './session.js';

export function resetSession() {
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
