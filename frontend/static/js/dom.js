/* Tiny DOM helpers. Everything that comes from outside the page (server and LLM text, file names, CSV
 * fields) reaches the document through textContent or attribute setters only: nothing here, or anywhere
 * in the page's modules, parses a string as markup. */

import { clockText } from './format.js';

export const $ = (id) => document.getElementById(id);

/** An element with text, attributes and children; `text` goes through textContent. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export const setText = (id, text) => { $(id).textContent = text; };

/** Text for a live region, written only when it changes (a rewrite of the same words is announced again). */
export function setLive(id, text) {
  if ($(id).textContent !== text) setText(id, text);
}

/** Switch a button off without taking it out of the focus order (aria-disabled; its handler checks isOff). */
export function setOff(button, off) {
  button.setAttribute('aria-disabled', String(off));
}
export const isOff = (button) => button.getAttribute('aria-disabled') === 'true';

/** A <time> for an API time (its datetime is the API's text), or "–" for none; `short` leaves out the
 * year on screen (the tooltip has it). */
/** An API time as "2023-01-01 19:00" (always with the year: a session's clock may cross one), or "–". */
export const timeEl = (iso) => (iso ? el('time', { datetime: iso, text: clockText(iso) }) : '–');
export const statusEl = (status) => el('span', { class: 'status-pill', 'data-status': status || '', text: status || '–' });
export const modeEl = (mode) => el('span', { class: 'mode-pill', 'data-mode': mode || '', text: mode ? mode.toUpperCase() : '–' });

/** The "given" mark beside a job's energy or CO2 when the figure is the job's own (`energy_source` /
 * `co2_source` "given": its estimated_kwh or co2_kg, used in place of the model's), else nothing. */
const GIVEN_TITLE = {
  energy: "The job's own estimated_kwh, used in place of the model's energy",
  co2: "The job's own co2_kg, its CO₂ wherever and whenever it runs",
};
export const givenMarks = (source, what) => (source === 'given' ? [' ', el('span', { class: 'unit given-mark', title: GIVEN_TITLE[what], text: 'given' })] : []);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
