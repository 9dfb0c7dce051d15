/* The tabs of the page, and renderAll: every view drawn again from the state. */

import { restoreSimulation } from '../actions/simulate.js';
import { renderWorkflows, showWorkflows } from '../actions/workflows.js';
import { showLatestJobIfNone } from '../actions/explain.js';
import { $, el } from '../dom.js';
import { state } from '../store.js';
import { renderCharts } from './analytics.js';
import { renderHistory } from './history.js';
import { renderOverview } from './overview.js';
import { renderStatus } from './sidebar.js';
import { renderSustainability } from './sustainability.js';
import { renderXaiPicker } from './xai.js';

/** The tabs of the page, in order. A tab is its <section id="tab-ID"> plus one entry here: `render`
 * (optional) redraws its non-chart parts when the session's data changes, `onShow` (optional) runs each
 * time it is selected. Its charts go in charts.js CHART_SPECS; renderCharts updates them. */
const TABS = [
  { id: 'overview', label: 'Overview', render: renderOverview },
  { id: 'history', label: 'Jobs / History', render: renderHistory },
  { id: 'analytics', label: 'Analytics' },
  { id: 'xai', label: 'Explainable AI', render: renderXaiPicker, onShow: showLatestJobIfNone },
  { id: 'sustainability', label: 'Sustainability', render: renderSustainability },
  // No `render`: the Compare tab shows simulator runs, not the session, so a Run does no work here.
  { id: 'compare', label: 'Compare', onShow: restoreSimulation },
  // Workflows are read when the tab opens, and followed while it stays open; `render` reads them again if the
  // tab is open when the session changes (a new one, a reset, an expiry).
  { id: 'workflows', label: 'Workflows', render: renderWorkflows, onShow: showWorkflows },
];

export function buildTabs() {
  const list = $('tablist');
  for (const tab of TABS) {
    const panel = $(`tab-${tab.id}`);
    const button = el('button', {
      type: 'button', role: 'tab', id: `tabbtn-${tab.id}`, class: 'tab',
      'aria-controls': panel.id, 'aria-selected': 'false', tabindex: '-1', 'data-tab': tab.id, text: tab.label,
    });
    panel.setAttribute('aria-labelledby', button.id);
    list.append(button);
  }
  selectTab(state.activeTab, false);
}

export function selectTab(id, focus = true) {
  state.activeTab = id;
  for (const tab of TABS) {
    const selected = tab.id === id;
    const button = $(`tabbtn-${tab.id}`);
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`tab-${tab.id}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  const tab = TABS.find((t) => t.id === id);
  if (tab.onShow) tab.onShow();
}

export function renderAll() {
  renderStatus();
  renderCharts();
  for (const tab of TABS) if (tab.render) tab.render();
}

/** A click on a tab selects it; the arrow keys, Home and End move along the tabs. */
export function bindTabs() {
  const tablist = $('tablist');
  tablist.addEventListener('click', (event) => {
    const button = event.target.closest('[role="tab"]');
    if (button) selectTab(button.dataset.tab);
  });
  tablist.addEventListener('keydown', (event) => {
    const i = TABS.findIndex((t) => t.id === state.activeTab);
    const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length].id);
  });
}
