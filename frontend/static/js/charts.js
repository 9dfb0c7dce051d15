/* Every chart of the page as a Chart.js spec: created once (createCharts), then given new data
 * (updateChart). Chart.js is the vendored classic script's global `Chart`; without it, updates do nothing. */

import { TIERS } from '/js/states.js';
import { rating, RELEASED } from './derive.js';
import { $ } from './dom.js';
import { clockText, fixed, integer, isoOfHours } from './format.js';
import { BAND_COLORS, COLORS, GRADE_COLORS, tierColor } from './palette.js';
import { state } from './store.js';

const charts = {};

const axisTitle = (text) => ({ display: true, text });
const lineOptions = (xTitle, yTitle, yRange = {}) => ({
  plugins: { legend: { labels: { usePointStyle: true, pointStyle: 'line' } } },
  parsing: false,
  normalized: true,
  interaction: { mode: 'nearest', axis: 'x', intersect: false },
  elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 1.5 } },
  scales: {
    x: { type: 'linear', title: axisTitle(xTitle), ticks: { precision: 0 } },
    y: { title: axisTitle(yTitle), ...yRange },
  },
});
// Bars coloured by the server's tier carry this legend, one entry per tier (the x axis names the servers).
const TIER_LEGEND = {
  onClick: () => {},
  labels: { generateLabels: () => TIERS.map((t) => ({ text: `${t} pool`, fillStyle: tierColor(t), strokeStyle: tierColor(t), lineWidth: 0 })) },
};
const barOptions = (yTitle, { legend = true, y = {}, ...rest } = {}) => ({
  plugins: { legend: legend === 'tiers' ? TIER_LEGEND : { display: legend } },
  scales: { x: { grid: { display: false } }, y: { beginAtZero: true, title: axisTitle(yTitle), ...y } },
  ...rest,
});
const ringOptions = (circumference, rotation) => ({
  cutout: '78%', circumference, rotation,
  plugins: { legend: { display: false }, tooltip: { enabled: false } },
});
export const series = (label, color, extra = {}) => ({ label, data: [], borderColor: color, backgroundColor: color, ...extra });
export const bars = (label, color, extra = {}) => ({ label, data: [], backgroundColor: color, ...extra });
const ring = () => ({ data: [0, 100], backgroundColor: [COLORS.score, COLORS.track], borderWidth: 0 });
export const JOB_AXIS = 'Job id in this session';
export const CLOCK_AXIS = 'Session clock (UTC): each job at its start';
const CARBON_AXIS = 'Carbon factor (unitless 0–1)';
const UNIT_RANGE = { min: 0, max: 1 };

/** A tick of the carbon charts: a job id, or on a grid session's clock its time and date (UTC), the date
 * with its year: the clock wraps from the end of 2023 to 2021, so "01-01" alone would not say which. */
function carbonTick(value, index, ticks) {
  if (!this.chart.$clock) return Chart.Ticks.formatters.numeric.call(this, value, index, ticks);
  const iso = isoOfHours(value);
  return this.options.ticks.stepSize >= 24 ? iso.slice(0, 10) : [iso.slice(11, 16), iso.slice(0, 10)];
}

/** What a point of the carbon charts stands for, in words. */
function carbonLabel(item) {
  const p = item.raw;
  if (!item.chart.$clock) return `${item.dataset.label}: ${fixed(p.y, 4)}`;
  const g = `${fixed(p.y, 0)} gCO₂eq/kWh`;
  if (item.datasetIndex === 0) return `Job ${p.job} ran at submission: ${g}`;
  const start = `${clockText(isoOfHours(p.x))} UTC`;
  if (item.datasetIndex === 1) {
    const now = p.status === RELEASED ? 'started by now' : 'waiting';
    const pieces = p.pieces ? `, in pieces until ${clockText(isoOfHours(p.finish))} UTC` : '';
    return `Job ${p.job} deferred to ${start} (${now}), ${p.mode.toUpperCase()} mode, ${p.server}${pieces}; ${g} over its run`;
  }
  return `Job ${p.job} in ECO mode from ${start} on ${p.server}: ${g}`;
}

/** The carbon charts (Overview and Analytics): the line, then markers for moved jobs and ECO jobs. */
const carbonChart = () => ({
  type: 'line',
  datasets: [
    series('Carbon factor', COLORS.carbon, { pointStyle: 'line' }),
    series('Deferred: planned start', COLORS.deferredMark, {
      showLine: false, pointStyle: 'triangle', pointRadius: 6, pointHoverRadius: 8,
    }),
    series('ECO mode', COLORS.ecoMark, { showLine: false, pointStyle: 'rectRot', pointRadius: 4, pointHoverRadius: 6 }),
  ],
  options: (() => {
    const options = lineOptions(JOB_AXIS, CARBON_AXIS, UNIT_RANGE);
    options.plugins = {
      legend: { labels: { usePointStyle: true, filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } },
      tooltip: {
        callbacks: {
          title: (items) => (!items.length ? '' : items[0].chart.$clock ? `${clockText(isoOfHours(items[0].parsed.x))} UTC` : `Job ${items[0].parsed.x}`),
          label: carbonLabel,
        },
      },
    };
    options.scales.x.ticks.callback = carbonTick;
    return options;
  })(),
  plugins: [RUN_WINDOWS],
});

/** Behind the carbon line: each deferred job's run shaded, from its planned start to its finish, and
 * the session's clock now as a dashed line (what lies right of it has not started). */
const RUN_WINDOWS = {
  id: 'runWindows',
  beforeDatasetsDraw(chart) {
    const spans = chart.$runWindows, now = chart.$now;
    const { ctx, chartArea: area } = chart;
    const x = chart.scales.x;
    ctx.save();
    if (spans && chart.isDatasetVisible(1)) {
      ctx.fillStyle = COLORS.window;
      for (const [a, b] of spans) {
        const left = Math.max(area.left, x.getPixelForValue(a)), right = Math.min(area.right, x.getPixelForValue(b));
        if (right >= left) ctx.fillRect(left, area.top, Math.max(1, right - left), area.bottom - area.top);
      }
    }
    const at = Number.isFinite(now) ? x.getPixelForValue(now) : NaN;
    if (at >= area.left && at <= area.right) {
      ctx.strokeStyle = COLORS.bound;
      ctx.fillStyle = '#495057';
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(at, area.top);
      ctx.lineTo(at, area.bottom);
      ctx.stroke();
      ctx.font = `12px ${Chart.defaults.font.family}`;
      ctx.textAlign = at > area.right - 40 ? 'right' : 'left';
      ctx.fillText('now', at + (ctx.textAlign === 'left' ? 4 : -4), area.top + 12);
    }
    ctx.restore();
  },
};

/** On each horizontal bar wide enough for it, its `name` ("enrich #2": a Gantt's task and attempt), in white. */
const BAR_NAMES = {
  id: 'barNames',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.font = `11px ${Chart.defaults.font.family}`;
    ctx.fillStyle = '#fff';
    ctx.textBaseline = 'middle';
    chart.data.datasets.forEach((dataset, i) => {
      if (!chart.isDatasetVisible(i)) return;
      chart.getDatasetMeta(i).data.forEach((bar, k) => {
        const name = dataset.data[k] && dataset.data[k].name;
        const { x, base, y } = bar.getProps(['x', 'base', 'y'], true);
        if (name && ctx.measureText(name).width + 8 <= Math.abs(x - base)) ctx.fillText(name, Math.min(x, base) + 4, y);
      });
    });
    ctx.restore();
  },
};

/** A deferral bar's tooltip: the saving, with the spread of the noisy forecast's runs. */
function deferralLabel(item) {
  const r = state.sim.deferral;
  const row = r && r.table.find((x) => x.region === item.label && x.strategy === item.dataset.label);
  const spread = row && row.runs > 1 ? ` ± ${fixed(row.saved_pct_std, 2)} (${row.runs} runs)` : '';
  const extra = row ? `; ${integer(row.deadline_misses)} deadline misses, mean delay ${fixed(row.delay_mean_min, 0)} min` : '';
  return `${item.dataset.label}: ${fixed(item.parsed.y, 2)} % saved${spread}${extra}`;
}

/** Every chart of the page: canvas id -> its type, datasets and options. Created once, then updated. */
const CHART_SPECS = {
  'chart-score': { type: 'doughnut', datasets: [ring()], options: ringOptions(360, 0) },
  'chart-reward': {
    type: 'line',
    datasets: [
      series('Reward (raw)', COLORS.raw, { borderWidth: 1 }),
      series('3-job rolling mean', COLORS.rolling),
      series('10-job trend', COLORS.trend, { borderDash: [6, 4], borderWidth: 2 }),
    ],
    options: lineOptions(JOB_AXIS, 'Quality score (0–1)', UNIT_RANGE),
  },
  'chart-servers': { type: 'bar', datasets: [bars('Jobs', [])], options: barOptions('Jobs', { legend: 'tiers', y: { ticks: { precision: 0 } } }) },
  'chart-priority-mix': {
    type: 'doughnut', datasets: [bars('Jobs', TIERS.map(tierColor))], options: { plugins: { legend: { position: 'right' } } },
  },
  'chart-carbon-overview': carbonChart(),
  'chart-avg-reward': { type: 'bar', datasets: [bars('Average reward (0–1)', [])], options: barOptions('Average quality score (0–1)', { legend: 'tiers' }) },
  'chart-energy-co2': {
    type: 'bar',
    datasets: [bars('Energy (kWh)', COLORS.energy, { yAxisID: 'y' }), bars('CO₂ (kg)', COLORS.co2, { yAxisID: 'y1' })],
    options: {
      scales: {
        x: { grid: { display: false } },
        y: { beginAtZero: true, position: 'left', title: axisTitle('Energy (kWh)') },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: axisTitle('CO₂ (kg)') },
      },
    },
  },
  'chart-routing': { type: 'bar', datasets: TIERS.map((t) => bars(t, tierColor(t))), options: barOptions("% of the priority's jobs", { skipNull: true }) },
  'chart-energy-bands': { type: 'bar', datasets: [bars('Jobs', BAND_COLORS)], options: barOptions('Jobs', { legend: false, y: { ticks: { precision: 0 } } }) },
  'chart-carbon': carbonChart(),
  'chart-breakdown': {
    type: 'bar',
    datasets: [
      bars('Performance', COLORS.perf), bars('Cost', COLORS.cost), bars('CO₂', COLORS.co2),
      bars('Latency', COLORS.lat), bars('Final score', COLORS.final),
    ],
    options: barOptions('Score (0–1, higher is better)', { y: UNIT_RANGE }),
  },
  // From zero: an axis from the smallest value would give that server's bar no height at all.
  'chart-qvalues': { type: 'bar', datasets: [bars('Q-value', [])], options: barOptions('Estimated discounted return (Q)', { legend: false }) },
  'chart-attribution': {
    type: 'bar',
    datasets: [bars('Term', [])],
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: {
        x: { beginAtZero: true, title: axisTitle('Term of Q(chosen) − Q(compared): positive favours the chosen server') },
        y: { grid: { display: false }, ticks: { autoSkip: false } },
      },
    },
  },
  'chart-gauge': { type: 'doughnut', datasets: [ring()], options: ringOptions(180, 270) },
  'chart-cum-co2': {
    type: 'line', datasets: [series('Cumulative CO₂ (kg)', COLORS.cumulative, { borderWidth: 2 })], options: lineOptions(JOB_AXIS, 'CO₂ (kg, cumulative)', { beginAtZero: true }),
  },
  'chart-co2-priority': { type: 'bar', datasets: [bars('CO₂ (kg)', TIERS.map(tierColor))], options: barOptions('CO₂ (kg)', { legend: false }) },
  'chart-energy-server': { type: 'bar', datasets: [bars('Energy (kWh)', [])], options: barOptions('Energy (kWh)', { legend: 'tiers' }) },
  'chart-race': {
    type: 'bar',
    datasets: [bars('Metric', [])],
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, title: axisTitle('') }, y: { grid: { display: false }, ticks: { autoSkip: false } } },
    },
  },
  'chart-tradeoff': { // one dataset per policy, set when a result arrives
    type: 'scatter',
    datasets: [],
    options: {
      parsing: false,
      plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } } },
      scales: {
        // Logarithmic: policies that hold jobs back for clean hours finish 10-100 times later than the rest.
        x: {
          type: 'logarithmic', title: axisTitle('Mean completion time (min, logarithmic scale)'), ticks: { maxRotation: 0, autoSkipPadding: 14 },
          afterDataLimits: (scale) => { scale.min /= 1.25; scale.max *= 1.25; }, // room for the outermost points
        },
        y: { beginAtZero: true, grace: '8%', title: axisTitle('CO₂ (kg)') },
      },
    },
  },
  'chart-deferral': { // one dataset per strategy, set when a deferral study's result arrives
    type: 'bar',
    datasets: [],
    options: barOptions('CO₂ saved against run_now (%)', {
      y: { beginAtZero: true, grace: '5%' }, skipNull: true,
      plugins: {
        legend: { position: 'bottom' },
        tooltip: { callbacks: { label: (item) => deferralLabel(item) } },
      },
    }),
  },
  'chart-gantt': { // floating bars [start, end] on a worker's row, one dataset per attempt outcome, set when a workflow is
    // shown (views/workflows-gantt.js); each bar carries its name, and its tooltip's title and lines
    type: 'bar',
    plugins: [BAR_NAMES],
    datasets: [],
    options: {
      indexAxis: 'y',
      plugins: {
        legend: { position: 'bottom', labels: { filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } },
        tooltip: { callbacks: { title: (items) => (items.length ? items[0].raw.title : ''), label: (item) => item.raw.lines } },
      },
      scales: {
        x: { type: 'linear', beginAtZero: true, title: axisTitle("Seconds since the workflow was submitted (executor's clock)") },
        y: { grid: { display: false }, ticks: { autoSkip: false }, title: axisTitle('Worker') },
      },
    },
  },
  'chart-learning': { // one dataset per policy, set when a result arrives; the legend shows each policy's point style
    type: 'line',
    datasets: [],
    options: {
      ...lineOptions('Jobs (end of each window)', 'Mean quality score (0–1)', { suggestedMin: 0, suggestedMax: 1 }),
      plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } } },
    },
  },
};

export function createCharts() {
  Chart.defaults.animation = false; // big sessions redraw at once; nothing waits on a tween
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  Chart.defaults.color = '#3b4741';
  for (const [id, spec] of Object.entries(CHART_SPECS)) {
    charts[id] = new Chart($(id), { type: spec.type, data: { labels: [], datasets: spec.datasets }, options: spec.options, plugins: spec.plugins || [] });
  }
}

/** New labels and dataset values, then one redraw (nothing when the chart library did not load). */
export function updateChart(id, labels, values, extra) {
  const chart = charts[id];
  if (!chart) return;
  if (labels) chart.data.labels = labels;
  values.forEach((data, k) => { chart.data.datasets[k].data = data; });
  if (extra) extra(chart);
  chart.update('none');
}

/** A 0-100 score ring, in the colour of its grade. */
export function updateRing(id, score) {
  const value = Math.max(0, Math.min(100, score || 0));
  updateChart(id, ['score', 'rest'], [[value, 100 - value]], (chart) => {
    chart.data.datasets[0].backgroundColor = [GRADE_COLORS[rating(value)[1]], COLORS.track];
  });
}
