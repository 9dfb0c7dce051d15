/* The page's colours, point styles and dashes. Every colour that marks data has at least 3:1 contrast on
 * white (WCAG 1.4.11). */

import { TIERS } from '/js/states.js';

export const COLORS = {
  perf: '#6741d9', cost: '#b35c00', co2: '#2b8a3e', lat: '#1864ab', final: '#343a40', energy: '#1864ab', score: '#2b8a3e',
  raw: 'rgba(73, 80, 87, 0.35)', rolling: '#2b8a3e', trend: '#1864ab', carbon: '#862e9c', cumulative: '#c92a2a',
  track: '#e3e8e5', bound: '#868e96', other: '#868e96',
  deferredMark: '#1864ab', ecoMark: '#2b8a3e', window: 'rgba(24, 100, 171, 0.13)',
};

// One colour per tier, in the order of TIERS: the green pool green, the performance pool orange.
const TIER_PALETTE = ['#2b8a3e', '#1864ab', '#c2410c'];
/** A tier's colour (the neutral one for anything else). */
export const tierColor = (tier) => TIER_PALETTE[TIERS.indexOf(tier)] ?? COLORS.final;

export const BAND_COLORS = ['#2b8a3e', '#5c940d', '#c07a00', '#e8590c', '#c92a2a'];
export const GRADE_COLORS = { A: '#2b8a3e', B: '#2b8a3e', C: '#b35c00', D: '#b42318', E: '#b42318' };

// The simulator's policies in its own order (the form's checkboxes), each with the colour report.html gives
// it (two darkened to reach 3:1 on white), plus a point style and a dash so colour is not the only cue.
const POLICY_NAMES = Array.from(document.querySelectorAll('#sim-policies input'), (input) => input.value);
const POLICY_PALETTE = ['#1f77b4', '#c25e00', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#0f766e', '#c03c98', '#7c5e00'];
const POLICY_POINTS = ['circle', 'rect', 'triangle', 'rectRot', 'crossRot', 'star', 'cross', 'rectRounded', 'dash'];
const POLICY_DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [14, 4], [6, 2, 1, 2], [1, 4], [3, 2, 8, 2]];

export const policyColor = (name) => {
  const i = POLICY_NAMES.indexOf(name);
  return i >= 0 ? POLICY_PALETTE[i % POLICY_PALETTE.length] : COLORS.final;
};

/** A policy's colour, point style and dash for a Chart.js dataset. */
export const policyStyle = (name) => {
  const i = Math.max(0, POLICY_NAMES.indexOf(name));
  const color = policyColor(name);
  return { borderColor: color, backgroundColor: color, pointStyle: POLICY_POINTS[i % POLICY_POINTS.length], borderDash: POLICY_DASHES[i % POLICY_DASHES.length] };
};

// The deferral study's strategies, each with a colour of 3:1 on white (the policy palette's).
export const STRATEGY_COLORS = {
  threshold: '#c25e00', forecast_perfect: '#1f77b4', forecast_noisy: '#9467bd', forecast_persistence: '#8c564b',
  forecast_issued: '#c03c98', oracle: '#2ca02c',
};
