/* The notice box: one message at a time, errors announced at once, information politely. */

import { ApiError, StaleAnswer } from '../api.js';
import { $, el, setText } from '../dom.js';

let shown = 0; // counts the notices shown: hideNoticeIf(id) leaves a later one alone

/** One notice at a time, in one of two live regions that are always in the page: errors in the
 * role=alert one, information in the role=status one (polite). The title and lines move to the right
 * region, emptied first, so a repeated message is announced again. Returns the notice's id. */
export function showNotice(title, lines = [], kind = 'error') {
  clearNotice();
  $(kind === 'error' ? 'notice-alert' : 'notice-status').append($('notice-title'), $('notice-lines'));
  setText('notice-title', title);
  $('notice-lines').replaceChildren(...lines.slice(0, 50).map((line) => el('li', { text: line })));
  if (lines.length > 50) $('notice-lines').append(el('li', { text: `… and ${lines.length - 50} more.` }));
  $('notice').dataset.kind = kind;
  $('notice-close').hidden = false;
  shown += 1;
  return shown;
}

/** The error in the notice; its id (null for an answer the page drops). */
export function showError(err) {
  if (err instanceof StaleAnswer) return null; // an answer for a session the page has left
  console.warn('TaskPilot:', err); // eslint-disable-line no-console
  if (err instanceof ApiError) return showNotice(err.title, err.lines);
  return showNotice('Something went wrong in the page', [String(err && err.message ? err.message : err)]);
}

/** Hide notice `id` if it is still the one shown: an error about input the person has since changed is
 * stale, but a newer notice (about something else) stays. */
export function hideNoticeIf(id) {
  if (id !== null && id === shown && noticeShown()) hideNotice();
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
