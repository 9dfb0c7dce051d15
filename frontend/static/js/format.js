/* Numbers and times as the page writes them. Pure functions, no DOM. */

export const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
export const integer = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
export const percent = (x, digits = 0) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)} %` : '–');

// Built here, not per call as toLocaleString would; trailing zeros kept (0.480) so a column reads evenly.
const SIGNIFICANT_3 = new Intl.NumberFormat('en-US', { minimumSignificantDigits: 3, maximumSignificantDigits: 3 });

/** kg CO₂ and kWh: three significant digits below 1,000 (a grid session's job emits grams), whole units above. */
export const amount = (x) => {
  if (!Number.isFinite(x)) return '–';
  return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : SIGNIFICANT_3.format(x || 0);
};

/** A span of minutes in words: "45 min", "2 h 10 min", "3 d 4 h" (rounded to the minute). */
export const minutesText = (m) => {
  if (!Number.isFinite(m)) return '–';
  const total = Math.round(m);
  const days = Math.floor(total / 1440), hours = Math.floor((total % 1440) / 60), minutes = total % 60;
  if (days) return hours ? `${days} d ${hours} h` : `${days} d`;
  if (hours) return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  return `${minutes} min`;
};

/** A count that may be a mean over runs (the deferral study's noisy forecast): whole, or one decimal. */
export const meanCount = (x) => (Number.isInteger(x) ? integer(x) : fixed(x, 1));

const HOUR_MS = 3_600_000;
const ISO_UTC = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?Z$/;

/** An API time ("2023-01-01T19:00Z", UTC) as "2023-01-01 19:00"; anything else unchanged. */
export const clockText = (iso) => {
  const m = ISO_UTC.exec(iso || '');
  return m ? `${m[1]} ${m[2]}` : (iso || '–');
};

/** Hours since 1970 (UTC) of an API time: the carbon charts' x on a grid session's clock. */
export const hoursOf = (iso) => Date.parse(iso) / HOUR_MS;

/** The API's form of a time given in hours since 1970: "2023-01-01T19:00Z". */
export const isoOfHours = (h) => new Date(Math.round(h * 60) * 60_000).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
