/* The Run steps in a native modal <dialog>: showModal() makes the rest of the page inert and keeps
 * focus inside. Escape cannot close it while the run lasts. */

import { $, setText } from '../dom.js';

export const overlay = {
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

export function bindOverlay() {
  // Escape would close the Run dialog: not while the run lasts (Chromium may close it anyway after a
  // second Escape, so a close while held reopens it).
  $('overlay').addEventListener('cancel', (event) => event.preventDefault());
  $('overlay').addEventListener('close', () => { if (overlay.held) $('overlay').showModal(); });
}
