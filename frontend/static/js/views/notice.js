/* The notice box: one message at a time, errors announced at once, information politely. */

import { ApiError, StaleAnswer } from '../api.js';
import { $, el, setText } from '../dom.js';

/** One notice at a time, in one of two live regions that are always in the page: errors in the
 * role=alert one, information in the role=status one (polite). The title and lines move to the right
 * region, emptied first, so a repeated message is announced again. */
export function showNotice(title, lines = [], kind = 'error') {
  clearNotice();
  $(kind === 'error' ? 'notice-alert' : 'notice-status').append($('notice-title'), $('notice-lines'));
  setText('notice-title', title);
  $('notice-lines').replaceChildren(...lines.slice(0, 50).map((line) => el('li', { text: line })));
  if (lines.length > 50) $('notice-lines').append(el('li', { text: `… and ${lines.length - 50} more.` }));
  $('notice').dataset.kind = kind;
  $('notice-close').hidden = false;
}

export function showError(err) {
  if (err instanceof StaleAnswer) return; // an answer for a session the page has left
  if (err instanceof ApiError) showNotice(err.title, err.lines);
  else showNotice('Something went wrong in the page', [String(err && err.message ? err.message : err)]);
  console.warn('TaskPilot:', err); // eslint-disable-line no-console
}

function clearNotice() {
  setText('notice-title', '');
  $('notice-lines').replaceChildren();
}

export function hideNotice() {
  const close = $('notice-close');
  if (document.activeElement === close) $('main').focus(); // Dismiss goes away: the focus goes to the content
  clearNotice();
  $('notice').dataset.kind = '';
  close.hidden = true;
}

export const noticeShown = () => $('notice').dataset.kind !== '';

export function bindNotice() {
  $('notice-close').addEventListener('click', hideNotice);
}
