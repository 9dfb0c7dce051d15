/* One state-changing action at a time (run, reset, add, upload, new session). */

import { state } from '../store.js';

/** Run `action` as the page's one state-changing action: while it lasts the others are refused (the body's
 * data-busy names it). Returns its promise, or null when another action is under way. */
export function exclusive(name, action) {
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
