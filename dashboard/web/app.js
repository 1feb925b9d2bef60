// cloudbook dashboard page: agents, live stats, training and results from the JSON API
// (see the dashboard API contract). Plain ES2020, no framework; every string that comes
// from the API reaches the DOM through textContent (the el() helper), never innerHTML,
// because agent ids and hosts are written into the shared folder by other machines.
'use strict';

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

const TOKEN_KEY = 'cloudbook-token';
const MAX_POINTS = 900;  // ~30 minutes at one point every 2 s
const GRANTS = ['LOW', 'MEDIUM', 'HIGH'];
const PALETTE = [
  '#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d',
  '#9333ea'
];

const state = {
  project: new URLSearchParams(location.search).get('project') || '',  // '' = the default
  projects: [],              // every project this dashboard serves
  overview: null,
  serverOffsetMs: 0,         // server clock minus browser clock, for "3 s ago"
  agents: new Map(),         // id -> agent JSON from the last refresh
  dashboards: [],            // other machines' dashboards
  statsSince: 0,             // server time of the last stats response
  machineSeries: new Map(),  // host -> [points]
  agentSeries: new Map(),    // agent id -> [points]
  runs: [],
  selectedRun: null,
  userPickedRun: false,  // once the user picks a run we stop following the newest
  runDetail: null,
  refreshes: 0,
  lastErrorFromRefresh: false,
};

// Every chart on the page by name; the browser test reads it.
window.cloudbookCharts = {};

// ---------------------------------------------------------------------------
// Small helpers: DOM, formatting
// ---------------------------------------------------------------------------

const $ = (selector) => document.querySelector(selector);

// el('td', {class: 'x', dataset: {agentId: id}}, 'text', childNode): strings become text
// nodes, so API data is never parsed as HTML.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      node.className = value;
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (key === 'text') {
      node.textContent = value;
    } else {
      node.setAttribute(key, value === true ? '' : value);
    }
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function serverNow() {
  return Date.now() + state.serverOffsetMs;
}

function fmtAgo(ms) {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((serverNow() - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function fmtBytes(bytes) {
  if (bytes === null || bytes === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

function fmtPercent(p) {
  return p === null || p === undefined ? '–' : `${p.toFixed(1)} %`;
}

// Metrics: 0.842, 0.0123, 12.35, 201.4
function fmtNumber(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a >= 0.1) return v.toFixed(3);
  return v.toPrecision(3);
}

function fmtSeconds(seconds) {
  return typeof seconds === 'number' ? seconds.toFixed(1) : '–';
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function fmtClock(ms) {
  return new Date(ms).toLocaleTimeString(
      [], {hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'});
}

function fmtClockShort(ms) {
  return new Date(ms).toLocaleTimeString(
      [], {hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
}

// 2026-12-04 16:15, local time
function fmtDate(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
      `${two(d.getHours())}:${two(d.getMinutes())}`;
}

function badge(word) {
  return el('span', {class: `badge badge-${word}`, text: word});
}

// ---------------------------------------------------------------------------
// API access: token, fetch, errors
// ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(method, url, status, message, data = null) {
    super(`${method} ${url}: ${status ? status + ' ' : ''}${message}`);
    this.status = status;
    this.reason = message;
    this.data = data;  // the answer's JSON, when it had one
  }
}

// The token comes once from /?token=...; keep it for the tab and drop it from the address
// bar so it does not end up in bookmarks or screenshots.
function readTokenFromUrl() {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    params.delete('token');
    const query = params.toString();
    history.replaceState(null, '', location.pathname + (query ? `?${query}` : '') + location.hash);
  }
}

// target: {base: '' or 'http://other:port', token: string|null, project: name or ''}
async function api(method, path, body, target = localTarget()) {
  let url = target.base + path;
  if (target.project && path !== '/api/v1/projects') {
    url += `${url.includes('?') ? '&' : '?'}project=${encodeURIComponent(target.project)}`;
  }
  const headers = {Accept: 'application/json'};
  if (target.token) headers.Authorization = `Bearer ${target.token}`;
  const init = {method, headers};
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';  // the server refuses others (CSRF)
    if (method !== 'DELETE') init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ApiError(method, url, 0, `unreachable (${e.message})`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || response.statusText || 'error';
    throw new ApiError(method, url, response.status, message, data);
  }
  return data;
}

function localTarget() {
  return {base: '', token: sessionStorage.getItem(TOKEN_KEY), project: state.project};
}

function recordError(error, fromRefresh) {
  document.body.dataset.lastError = error.message;
  state.lastErrorFromRefresh = fromRefresh;
  console.warn(error.message);
}

function clearError() {
  document.body.dataset.lastError = '';
}

// ---------------------------------------------------------------------------
// Header and connection state
// ---------------------------------------------------------------------------

function renderOverview(ov) {
  document.title = `${ov.project} · cloudbook`;
  $('#project-name').textContent = ov.project;
  $('#host-name').textContent = ov.host;
  $('#distributed-folder').textContent = ov.distributed_folder;
  $('#distributed-folder').title = ov.project_folder;
  $('#du-count').textContent = ov.dus ? String(ov.dus) : '0 (the maker has not run)';
  const a = ov.assignment;
  $('#assignment').textContent =
      a ? `v${a.version} · ${a.dus.map((d) => `DU ${d.du} → ${d.agent}`).join(', ')}` : 'none yet';
  const needToken = ov.token_required && !sessionStorage.getItem(TOKEN_KEY);
  $('#token-form').hidden = !needToken;
}

function showConnected() {
  const conn = $('#connection');
  conn.className = 'connection ok';
  conn.textContent = `connected · refreshed ${fmtClock(Date.now())}`;
  $('#error-banner').hidden = true;
}

function showConnectionError(error) {
  const conn = $('#connection');
  conn.className = 'connection bad';
  conn.textContent = `disconnected · ${fmtClock(Date.now())}`;
  const banner = $('#error-banner');
  banner.hidden = false;
  if (error.status === 401) {
    banner.textContent = 'token needed: open /?token=... (or enter the token below)';
    $('#token-form').hidden = false;
  } else {
    banner.textContent = `The dashboard API failed: ${error.message}`;
  }
}

function onTokenSubmit(event) {
  event.preventDefault();
  const token = event.target.elements.token.value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  event.target.reset();
  $('#token-form').hidden = true;
  refreshNow();
}

// ---------------------------------------------------------------------------
// Messages (results of actions)
// ---------------------------------------------------------------------------

function showMessage(text, kind = 'info', extra = null) {
  const box = $('#messages');
  const item =
      el('div', {class: `message ${kind}`}, el('span', {text}), extra,
         el('button', {class: 'link close', type: 'button', title: 'dismiss'}, '×'));
  item.querySelector('.close').addEventListener('click', () => item.remove());
  box.prepend(item);
  while (box.children.length > 4) box.lastChild.remove();
  if (kind === 'info') setTimeout(() => item.remove(), 15000);
}

// ---------------------------------------------------------------------------
// Agents: where actions go (this dashboard, another machine's, or nowhere)
// ---------------------------------------------------------------------------

function isThisMachine(host) {
  return !host || (state.overview && host === state.overview.host);
}

// Only entries this page's own server verified (signed by an agent of that machine whose
// signed announcement names the same key and host) are used; the token goes to their origin.
function remoteDashboard(agent) {
  return state.dashboards.find((d) => d.host === agent.host && !d.self && d.verified === true &&
                                   typeof d.origin === 'string' && d.origin) || null;
}

// Agents of other machines come with actions [] here; their own dashboard decides for
// real, we just offer what the status suggests.
function actionsFromStatus(status) {
  if (status === 'running' || status === 'starting') return ['stop', 'edit'];
  if (status === 'stopped' || status === 'stale') return ['launch', 'edit', 'remove'];
  return ['edit'];
}

// -> {mode: 'local'|'remote'|'none', actions, dashboard}
function agentControl(agent) {
  if (agent.local) return {mode: 'local', actions: agent.actions || [], dashboard: null};
  const dashboard = remoteDashboard(agent);
  if (dashboard) return {mode: 'remote', actions: actionsFromStatus(agent.status), dashboard};
  return {mode: 'none', actions: [], dashboard: null};
}

// Another machine's token is kept per verified origin: a token given for one origin is never
// sent to another, whatever a later entry for the same host says.
function remoteTokenKey(origin) {
  return `${TOKEN_KEY}:${origin}`;
}

// Asks once per tab for another machine's token; null when the user cancels.
function remoteTarget(dashboard) {
  const base = dashboard.origin;
  let token = sessionStorage.getItem(remoteTokenKey(base));
  if (!token && dashboard.token_required) {
    token = prompt(`Token for the dashboard on ${dashboard.host} (${base}):`);
    if (!token) return null;
    sessionStorage.setItem(remoteTokenKey(base), token.trim());
  }
  return {base, token, project: dashboard.project || ''};
}

function targetFor(agent) {
  const control = agentControl(agent);
  return control.mode === 'remote' ? remoteTarget(control.dashboard) : localTarget();
}

// ---------------------------------------------------------------------------
// Agents: actions (launch, stop, remove, grant, add)
// ---------------------------------------------------------------------------

const ACTION_REQUESTS = {
  launch: (id) => ['POST', `/api/v1/agents/${encodeURIComponent(id)}/launch`],
  stop: (id) => ['POST', `/api/v1/agents/${encodeURIComponent(id)}/stop`],
  remove: (id) => ['DELETE', `/api/v1/agents/${encodeURIComponent(id)}`],
};

async function runAgentAction(id, action, body = {}) {
  const agent = state.agents.get(id) || {id, local: true};
  if (action === 'remove' && !confirm(`Remove agent ${id}? Its keys and files are deleted.`)) {
    return;
  }
  const target = targetFor(agent);
  if (!target) {  // the user gave no token for the agent's machine
    showMessage(`${action} ${id}: not sent (no token for the dashboard on ${agent.host})`, 'error');
    return;
  }
  const [method, path] = action === 'grant' ?
      ['PUT', `/api/v1/agents/${encodeURIComponent(id)}/grant`] :
      ACTION_REQUESTS[action](id);
  try {
    const result = await api(method, path, body, target);
    clearError();
    showMessage(describeResult(action, id, body, result), 'info');
  } catch (error) {
    // A rejected token for another machine: forget it so the next click asks again.
    if (error.status === 401 && target.base) sessionStorage.removeItem(remoteTokenKey(target.base));
    recordError(error, false);
    showMessage(`${action} ${id} failed: ${error.message}`, 'error');
  }
  refreshNow();
}

function describeResult(action, id, body, result) {
  const r = result || {};
  if (action === 'launch') {
    return `${id}: launching${r.pid ? ` (pid ${r.pid})` : ''}${r.log ? `, log ${r.log}` : ''}`;
  }
  const what = action === 'grant' ? `grant ${body.grant}` : action;
  return `${id}: ${what}: ${r.message || 'done'}`;
}

async function onAddAgent(event) {
  event.preventDefault();
  const form = event.target;
  const body = {grant: form.elements.grant.value, agent_0: form.elements.agent_0.checked};
  const button = $('#add-agent-submit');
  button.disabled = true;
  try {
    const result = await api('POST', '/api/v1/agents', body);
    clearError();
    const launch = el(
        'button', {type: 'button', class: 'small', dataset: {offerLaunch: result.id}}, 'launch it');
    launch.addEventListener('click', () => {
      launch.disabled = true;
      runAgentAction(result.id, 'launch');
    });
    showMessage(
        `created ${result.id} (${body.grant}${body.agent_0 ? ', agent 0' : ''})`, 'info', launch);
    form.elements.agent_0.checked = false;
  } catch (error) {
    recordError(error, false);
    showMessage(`add agent failed: ${error.message}`, 'error');
  } finally {
    button.disabled = false;
  }
  refreshNow();
}

function onAgentsClick(event) {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  runAgentAction(button.dataset.agentId, button.dataset.action);
}

function onAgentsChange(event) {
  const select = event.target.closest('select[data-action="grant"]');
  if (!select) return;
  select.blur();  // let the next refresh show the grant the server really has
  runAgentAction(select.dataset.agentId, 'grant', {grant: select.value});
}

// ---------------------------------------------------------------------------
// Agents: table per machine. Rows are kept and patched in place so an open grant
// <select> survives the refresh every two seconds.
// ---------------------------------------------------------------------------

const AGENT_COLUMNS = [
  'id', 'status', 'grant', 'DUs', 'endpoint', 'last seen', 'CPU', 'RSS', 'current DU', 'actions'
];

function groupAgentsByMachine(agents) {
  const here = state.overview ? state.overview.host : '';
  const groups = new Map([[here, []]]);  // this machine first
  for (const agent of agents) {
    const host = isThisMachine(agent.host) ? here : agent.host;
    if (!groups.has(host)) groups.set(host, []);
    groups.get(host).push(agent);
  }
  if (groups.get(here).length === 0) groups.delete(here);
  return groups;
}

function machineGroup(host) {
  const container = $('#agent-groups');
  let group = [...container.children].find((g) => g.dataset.host === host);
  if (group) return group;
  const label = isThisMachine(host) ? `${host || 'this machine'} (this machine)` : host;
  const head = el('tr', {}, ...AGENT_COLUMNS.map((c) => el('th', {text: c})));
  group =
      el('div', {class: 'machine-group', dataset: {host}},
         el('h3', {}, el('span', {text: label}), el('span', {class: 'manage muted'})),
         el('table', {class: 'grid agents'}, el('thead', {}, head), el('tbody')));
  container.append(group);
  return group;
}

function createAgentRow(id) {
  const cells = AGENT_COLUMNS.map((c) => el('td', {class: c.replace(/\s+/g, '-').toLowerCase()}));
  return el('tr', {dataset: {agentId: id}}, ...cells);
}

function renderAgents(agents) {
  const rows = new Map();
  document.querySelectorAll('#agent-groups tr[data-agent-id]')
      .forEach((row) => rows.set(row.dataset.agentId, row));
  const groups = groupAgentsByMachine(agents);
  for (const [host, members] of groups) {
    const group = machineGroup(host);
    const tbody = group.querySelector('tbody');
    renderGroupNote(group, host, members);
    members.forEach((agent, index) => {
      const row = rows.get(agent.id) || createAgentRow(agent.id);
      rows.delete(agent.id);
      updateAgentRow(row, agent);
      if (tbody.children[index] !== row) tbody.insertBefore(row, tbody.children[index] || null);
    });
  }
  rows.forEach((row) => row.remove());  // agents that are gone
  document.querySelectorAll('#agent-groups .machine-group').forEach((g) => {
    if (!groups.has(g.dataset.host)) g.remove();
  });
  $('#agents-empty').hidden = agents.length > 0;
}

function renderGroupNote(group, host, members) {
  const note = group.querySelector('.manage');
  const dashboard = members.length ? remoteDashboard(members[0]) : null;
  if (isThisMachine(host)) {
    note.textContent = '';
  } else if (dashboard) {
    note.textContent = ` · actions go to ${dashboard.url}`;
  } else {
    note.textContent = ` · manage on ${host}`;
  }
}

function updateAgentRow(row, agent) {
  const cell = (name) => row.querySelector(`td.${name}`);
  const control = agentControl(agent);
  const idCell = cell('id');
  idCell.textContent = agent.id;
  if (agent.agent_0) idCell.append(' ', el('span', {class: 'tag', title: 'agent 0'}, 'agent 0'));
  if (agent.pid) idCell.title = `pid ${agent.pid}`;
  cell('status').textContent = agent.status;
  cell('status').className = `status status-${agent.status}`;
  updateGrantCell(cell('grant'), agent, control);
  cell('dus').textContent = (agent.dus || []).join(', ') || '–';
  cell('endpoint').textContent = agent.endpoint || '–';
  cell('last-seen').textContent = fmtAgo(agent.last_seen);
  cell('last-seen').title = agent.last_seen ? new Date(agent.last_seen).toLocaleString() : '';
  const stats = agent.stats;
  cell('cpu').textContent = stats ? fmtPercent(stats.cpu_percent) : '–';
  cell('rss').textContent = stats ? fmtBytes(stats.rss_bytes) : '–';
  cell('current-du').textContent = stats ? describeProgress(stats.du_progress) : '–';
  updateActionsCell(cell('actions'), agent, control);
}

function describeProgress(progress) {
  if (!progress || progress.length === 0) return 'idle';
  // Before its first epoch ends a DU has no loss yet (the agent reports 0).
  return progress
      .map((p) => p.epoch > 0 ? `DU ${p.du}: epoch ${p.epoch}, loss ${fmtNumber(p.loss)}` :
                                `DU ${p.du}: first epoch`)
      .join('; ');
}

function updateGrantCell(td, agent, control) {
  const editable = control.actions.includes('edit');
  let select = td.querySelector('select');
  if (!editable) {
    td.textContent = agent.grant;
    return;
  }
  if (!select) {
    td.textContent = '';
    select =
        el('select', {dataset: {action: 'grant', agentId: agent.id}},
           ...GRANTS.map((g) => el('option', {value: g, text: g})));
    td.append(select);
  }
  // Do not fight the user while they are choosing.
  if (document.activeElement !== select) select.value = agent.grant;
}

function updateActionsCell(td, agent, control) {
  const buttons = control.actions.filter((a) => a in ACTION_REQUESTS);
  const signature = `${control.mode}:${buttons.join(',')}`;
  if (td.dataset.signature === signature) return;
  td.dataset.signature = signature;
  td.textContent = '';
  if (control.mode === 'none') {
    td.append(el('span', {class: 'muted', text: `manage on ${agent.host}`}));
    return;
  }
  for (const action of buttons) {
    td.append(
        el('button', {
          type: 'button',
          class: `small action-${action}`,
          dataset: {action, agentId: agent.id},
          title: control.mode === 'remote' ? `via ${control.dashboard.url}` : null,
        },
           action));
  }
}

// ---------------------------------------------------------------------------
// Charts: one factory, a registry by name
// ---------------------------------------------------------------------------

function chartOptions(xKind, yTitle, yMin) {
  const x = xKind === 'time' ?
      {
        type: 'linear',
        ticks: {maxTicksLimit: 5, maxRotation: 0, callback: (v) => fmtClockShort(v)}
      } :
      {type: 'linear', title: {display: true, text: 'epoch'}, ticks: {precision: 0}};
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: {mode: 'nearest', axis: 'x', intersect: false},
    elements: {point: {radius: 0, hitRadius: 6}, line: {borderWidth: 1.5, tension: 0}},
    scales: {
      x,
      y: {min: yMin, title: {display: Boolean(yTitle), text: yTitle}, beginAtZero: true},
    },
    plugins: {
      legend: {labels: {boxWidth: 12, font: {size: 11}}},
      tooltip: {
        callbacks: {
          title: (items) => items.length === 0 ? '' :
              xKind === 'time'                 ? fmtClock(items[0].parsed.x) :
                                                 `epoch ${items[0].parsed.x}`,
        },
      },
    },
  };
}

// Creates (once) a chart box in `parent` and returns the Chart registered under `name`.
function ensureChart(name, parent, title, {xKind = 'time', yTitle = '', yMin} = {}) {
  if (window.cloudbookCharts[name]) return window.cloudbookCharts[name];
  const canvas = el('canvas', {dataset: {xKind}});
  const box =
      el('div', {class: 'chart-box', dataset: {chart: name}}, el('h4', {text: title}),
         el('div', {class: 'canvas-wrap'}, canvas));
  parent.append(box);
  const chart = new Chart(canvas, {
    type: 'line',
    data: {datasets: []},
    options: chartOptions(xKind, yTitle, yMin),
  });
  window.cloudbookCharts[name] = chart;
  return chart;
}

function destroyChart(name) {
  const chart = window.cloudbookCharts[name];
  if (!chart) return;
  const box = chart.canvas.closest('.chart-box');
  chart.destroy();
  delete window.cloudbookCharts[name];
  if (box && box.dataset.chart) box.remove();  // boxes from index.html stay
}

// series: [{label, data: [{x, y}], dashed?, color?}]
function setSeries(chart, series) {
  chart.data.datasets = series.map((s, i) => {
    const color = s.color || PALETTE[i % PALETTE.length];
    return {
      label: s.label,
      data: s.data,
      borderColor: color,
      backgroundColor: color,
      borderDash: s.dashed ? [5, 4] : [],
      spanGaps: true,
    };
  });
  chart.options.plugins.legend.display = series.length > 1;
  if (chart.canvas.dataset.xKind === 'time') fitTimeAxis(chart, series);
  chart.update('none');
}

// A linear axis rounds its ends to nice ticks (up to minutes of empty space); the clock
// axis should end where the samples do.
function fitTimeAxis(chart, series) {
  const xs = series.flatMap((s) => s.data.map((p) => p.x));
  chart.options.scales.x.min = xs.length ? Math.min(...xs) : undefined;
  chart.options.scales.x.max = xs.length ? Math.max(...xs) : undefined;
}

function points(series, field, scale = 1) {
  return series.map(
      (p) =>
          ({x: p.time, y: p[field] === null || p[field] === undefined ? null : p[field] * scale}));
}

// ---------------------------------------------------------------------------
// Live stats: keep the history, draw per machine and per agent
// ---------------------------------------------------------------------------

function appendPoints(store, key, newPoints) {
  const series = store.get(key) || [];
  const last = series.length ? series[series.length - 1].time : -Infinity;
  for (const p of newPoints) {
    if (p.time > last) series.push(p);
  }
  if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS);
  store.set(key, series);
}

function mergeStats(stats) {
  for (const [host, pts] of Object.entries(stats.machines || {})) {
    appendPoints(state.machineSeries, host, pts);
  }
  for (const [id, pts] of Object.entries(stats.agents || {})) {
    appendPoints(state.agentSeries, id, pts);
  }
  if (stats.time) state.statsSince = stats.time;
}

function statsBlock(host) {
  const container = $('#stats-machines');
  let block = [...container.children].find((b) => b.dataset.host === host);
  if (block) return block;
  const label = isThisMachine(host) ? `${host} (this machine)` : host;
  block =
      el('div', {class: 'stats-machine', dataset: {host}}, el('h3', {text: label}),
         el('div', {class: 'chart-grid machine-charts'}), el('div', {class: 'agent-charts'}));
  container.append(block);
  return block;
}

function renderMachineCharts(host, series) {
  const grid = statsBlock(host).querySelector('.machine-charts');
  const GB = 1 / (1024 * 1024 * 1024);
  const KB = 1 / 1024;
  setSeries(
      ensureChart(`machine-cpu:${host}`, grid, 'CPU %', {yTitle: '%'}),
      [{label: 'CPU %', data: points(series, 'cpu_percent')}]);
  const memory = ensureChart(`machine-memory:${host}`, grid, 'Memory used (GB)', {yTitle: 'GB'});
  const last = series[series.length - 1];
  if (last && last.memory_total_bytes) {
    memory.canvas.closest('.chart-box').querySelector('h4').textContent =
        `Memory used (GB of ${(last.memory_total_bytes * GB).toFixed(1)})`;
  }
  setSeries(memory, [{label: 'used', data: points(series, 'memory_used_bytes', GB)}]);
  setSeries(ensureChart(`machine-net:${host}`, grid, 'Network (KB/s)', {yTitle: 'KB/s'}), [
    {label: 'rx', data: points(series, 'rx_bytes_per_s', KB)},
    {label: 'tx', data: points(series, 'tx_bytes_per_s', KB)},
  ]);
  const hasGpu = series.some((p) => p.gpu_percent !== null && p.gpu_percent !== undefined);
  if (hasGpu) {
    setSeries(
        ensureChart(`machine-gpu:${host}`, grid, 'GPU %', {yTitle: '%'}),
        [{label: 'GPU %', data: points(series, 'gpu_percent')}]);
  }
}

function agentChartsBox(host, id) {
  const holder = statsBlock(host).querySelector('.agent-charts');
  let box = [...holder.children].find((b) => b.dataset.agentId === id);
  if (box) return box;
  box =
      el('div', {class: 'agent-stats', dataset: {agentId: id}}, el('h4', {text: `agent ${id}`}),
         el('div', {class: 'chart-grid'}));
  holder.append(box);
  return box;
}

function renderAgentCharts(id, host, series) {
  const box = agentChartsBox(host, id);
  const grid = box.querySelector('.chart-grid');
  setSeries(
      ensureChart(`agent-cpu:${id}`, grid, 'process CPU %', {yTitle: '%'}),
      [{label: 'CPU %', data: points(series, 'cpu_percent')}]);
  setSeries(
      ensureChart(`agent-rss:${id}`, grid, 'RSS (MB)', {yTitle: 'MB'}),
      [{label: 'RSS MB', data: points(series, 'rss_bytes', 1 / (1024 * 1024))}]);
}

// Agents that were removed lose their charts; agents moving machines (first announce) get
// their charts rebuilt under the right machine.
function dropAgentCharts(id) {
  destroyChart(`agent-cpu:${id}`);
  destroyChart(`agent-rss:${id}`);
  document.querySelectorAll('.agent-stats').forEach((b) => {
    if (b.dataset.agentId === id) b.remove();
  });
}

function renderStats() {
  if (typeof Chart === 'undefined') return;
  const here = state.overview ? state.overview.host : '';
  // This machine first, then the others by name.
  const hosts = [...state.machineSeries.keys()].sort(
      (a, b) => Number(isThisMachine(b)) - Number(isThisMachine(a)) || a.localeCompare(b));
  for (const host of hosts) renderMachineCharts(host, state.machineSeries.get(host));
  for (const [id, series] of state.agentSeries) {
    const agent = state.agents.get(id);
    if (!agent) {
      dropAgentCharts(id);
      continue;
    }
    const host = isThisMachine(agent.host) ? here : agent.host;
    const existing = document.querySelector(`.agent-stats[data-agent-id="${CSS.escape(id)}"]`);
    if (existing && existing.closest('.stats-machine').dataset.host !== host) dropAgentCharts(id);
    renderAgentCharts(id, host, series);
  }
  $('#stats-empty').hidden = state.machineSeries.size + state.agentSeries.size > 0;
}

// ---------------------------------------------------------------------------
// Training: run selector, DU progress, per-subnet curves
// ---------------------------------------------------------------------------

function renderRunSelect(runs) {
  const select = $('#run-select');
  if (!state.userPickedRun || !runs.some((r) => r.run === state.selectedRun)) {
    state.selectedRun = runs.length ? runs[0].run : null;  // the newest: the live one
  }
  const signature = runs.map((r) => `${r.run}:${r.state}`).join('|');
  if (select.dataset.signature !== signature) {
    select.dataset.signature = signature;
    select.textContent = '';
    for (const r of runs) {
      select.append(el('option', {value: r.run, text: `${r.run} (${r.state})`}));
    }
  }
  if (document.activeElement !== select && state.selectedRun) select.value = state.selectedRun;
  $('#training-empty').hidden = runs.length > 0;
}

function onRunSelect(event) {
  state.userPickedRun = event.target.value !== (state.runs[0] && state.runs[0].run);
  state.selectedRun = event.target.value;
  state.runDetail = null;
  refreshTraining().catch((error) => recordError(error, false));
}

// Fetch the selected run while it is running, when first selected, or when the list says
// its state changed (running -> done).
function needRunDetail() {
  if (!state.selectedRun) return false;
  const detail = state.runDetail;
  if (!detail || detail.run !== state.selectedRun) return true;
  if (detail.state === 'running') return true;
  const listed = state.runs.find((r) => r.run === state.selectedRun);
  return Boolean(listed && listed.state !== detail.state);
}

async function refreshTraining() {
  state.runs = (await api('GET', '/api/v1/runs')) || [];
  renderRunSelect(state.runs);
  renderResults(state.runs);
  if (needRunDetail()) {
    const run = state.selectedRun;
    const detail = await api('GET', `/api/v1/runs/${encodeURIComponent(run)}`);
    if (run === state.selectedRun) state.runDetail = detail;
  }
  renderRunDetail(state.selectedRun ? state.runDetail : null);
}

function renderRunDetail(detail) {
  const stateBox = $('#run-state');
  stateBox.textContent = '';
  $('#du-progress').hidden = !detail;
  if (!detail) {
    $('#run-meta').textContent = '';
    $('#run-error').hidden = true;
    $('#run-notes').hidden = true;
    renderCurves([]);
    renderModelPanel(null);
    return;
  }
  stateBox.append(badge(detail.state));
  $('#run-meta').textContent = `started ${fmtDate(detail.started)} · elapsed ` +
      `${fmtDuration(detail.elapsed_seconds)} · updated ${fmtAgo(detail.updated)}`;
  $('#run-error').hidden = !detail.error;
  $('#run-error').textContent = detail.error ? `error: ${detail.error}` : '';
  renderDuProgress(detail.dus || []);
  renderCurves(detail.subnets || []);
  renderNotes(detail.notes || []);
  renderModelPanel(detail);  // model_panel.js
}

function renderDuProgress(dus) {
  const tbody = $('#du-progress tbody');
  tbody.textContent = '';
  for (const du of dus) {
    const epochs = du.epochs || 0;
    const epoch = Math.min(du.epoch || 0, epochs || Infinity);
    const fraction = epochs ? epoch / epochs : 0;
    const bar =
        el('div', {class: 'bar', title: `${Math.round(fraction * 100)} %`},
           el('div', {class: `fill fill-${du.state}`, style: `width:${fraction * 100}%`}));
    tbody.append(
        el('tr', {dataset: {du: du.du}}, el('td', {text: `DU ${du.du}`}),
           el('td', {text: du.agent || '–'}), el('td', {}, badge(du.state)),
           el('td', {class: 'progress'}, bar,
              el('span', {class: 'muted', text: ` epoch ${epoch}/${epochs || '?'}`})),
           el('td', {text: du.state === 'training' ? fmtDuration(du.eta_seconds) : '–'})));
  }
}

// One line per subnet and metric: train solid, validation dashed, same colour per subnet.
function curveSeries(subnets, trainKey, valKey) {
  const series = [];
  subnets.forEach((subnet, i) => {
    const color = PALETTE[i % PALETTE.length];
    const history = subnet.history || [];
    for (const [key, dashed] of [[trainKey, false], [valKey, true]]) {
      const data =
          history.filter((h) => typeof h[key] === 'number').map((h) => ({x: h.epoch, y: h[key]}));
      if (data.length) series.push({label: `subnet ${subnet.subnet} ${key}`, data, dashed, color});
    }
  });
  return series;
}

function renderCurve(name, boxId, series) {
  const box = $(`#${boxId}`);
  if (series.length === 0) {
    destroyChart(name);
    box.hidden = true;
    return;
  }
  box.hidden = false;
  let chart = window.cloudbookCharts[name];
  if (!chart) {
    chart = new Chart(box.querySelector('canvas'), {
      type: 'line',
      data: {datasets: []},
      options: chartOptions('epoch', name === 'train-loss' ? 'loss' : 'accuracy'),
    });
    chart.options.elements.point.radius = 2;
    window.cloudbookCharts[name] = chart;
  }
  setSeries(chart, series);
}

function renderCurves(subnets) {
  if (typeof Chart === 'undefined') return;
  renderCurve('train-loss', 'train-loss-box', curveSeries(subnets, 'train_loss', 'val_loss'));
  renderCurve(
      'train-accuracy', 'train-accuracy-box', curveSeries(subnets, 'accuracy', 'val_accuracy'));
}

function renderNotes(notes) {
  const details = $('#run-notes');
  details.hidden = notes.length === 0;
  const list = details.querySelector('ul');
  list.textContent = '';
  for (const note of notes) list.append(el('li', {text: note}));
}

// ---------------------------------------------------------------------------
// Results of past runs
// ---------------------------------------------------------------------------

// "accuracy 0.842 vs 0.851, loss 0.450": every numeric key of either metrics object.
function describeMetrics(composed, baseline) {
  if (!composed && !baseline) return '–';
  const keys =
      [...new Set([...Object.keys(composed || {}), ...Object.keys(baseline || {})])].filter(
          (k) =>
              typeof (composed || {})[k] === 'number' || typeof (baseline || {})[k] === 'number');
  return keys
      .map((k) => {
        const c = composed && typeof composed[k] === 'number' ? fmtNumber(composed[k]) : '–';
        const b =
            baseline && typeof baseline[k] === 'number' ? ` vs ${fmtNumber(baseline[k])}` : '';
        return `${k} ${c}${b}`;
      })
      .join(', ');
}

function renderResults(runs) {
  const tbody = $('#results tbody');
  tbody.textContent = '';
  for (const r of runs) {
    const row =
        el('tr', {dataset: {run: r.run}, class: r.run === state.selectedRun ? 'selected' : ''},
           el('td', {class: 'mono', text: r.run}), el('td', {text: fmtDate(r.started)}),
           el('td', {}, badge(r.state)), el('td', {text: describeMetrics(r.composed, r.baseline)}),
           el('td', {class: 'num', text: fmtSeconds(r.elapsed_seconds)}));
    row.title = 'show this run in Training';
    tbody.append(row);
  }
  $('#results-empty').hidden = runs.length > 0;
}

function onResultsClick(event) {
  const row = event.target.closest('tr[data-run]');
  if (!row) return;
  const select = $('#run-select');
  select.value = row.dataset.run;
  onRunSelect({target: select});
  $('#training-section').scrollIntoView({behavior: 'smooth'});
}

// ---------------------------------------------------------------------------
// Refresh loop: overview, agents, dashboards, stats, then training
// ---------------------------------------------------------------------------

let refreshTimer = null;
let refreshing = false;
let refreshAgain = false;  // an action asked for a refresh while one was running

// The project picker: shown when this dashboard serves more than one project (--home).
function renderProjects(projects) {
  const select = $('#project-select');
  const current = state.project || (projects.find((p) => p.default) || {}).name || '';
  const names = projects.map((p) => p.name);
  if (select.dataset.names !== names.join('\n')) {
    select.replaceChildren(...projects.map((p) => el('option', {value: p.name}, p.name)));
    select.dataset.names = names.join('\n');
  }
  select.value = current;
  $('#project-picker').hidden = projects.length < 2;
}

// Another project: a fresh page (its own charts, runs and history).
function onProjectSelect(event) {
  const params = new URLSearchParams(location.search);
  params.set('project', event.target.value);
  location.search = params.toString();
}

async function refreshLive() {
  state.projects = (await api('GET', '/api/v1/projects')) || [];
  renderProjects(state.projects);
  const overview = await api('GET', '/api/v1/overview');
  state.overview = overview;
  state.serverOffsetMs = overview.time - Date.now();
  renderOverview(overview);
  const [agents, dashboards, stats] = await Promise.all([
    api('GET', '/api/v1/agents'),
    // Other dashboards only route actions; without them the page still works.
    api('GET', '/api/v1/dashboards').catch((error) => {
      console.warn(error.message);
      return state.dashboards;
    }),
    api('GET', `/api/v1/stats?since=${state.statsSince}`),
  ]);
  state.agents = new Map(agents.map((a) => [a.id, a]));
  state.dashboards = dashboards || [];
  renderAgents(agents);
  mergeStats(stats);
  renderStats();
}

async function refresh() {
  refreshing = true;
  try {
    await refreshLive();
    state.refreshes++;
    document.body.dataset.refreshes = String(state.refreshes);
    if (state.lastErrorFromRefresh) clearError();
    showConnected();
  } catch (error) {
    recordError(error, true);
    showConnectionError(error);
    refreshing = false;
    return;  // the server is down or wants a token: training would fail the same way
  }
  try {
    await refreshTraining();
  } catch (error) {
    recordError(error, true);
  }
  refreshing = false;
}

function scheduleNext() {
  const seconds = (state.overview && state.overview.refresh_interval_s) || 2;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(tick, seconds * 1000);
}

async function tick() {
  do {
    refreshAgain = false;
    await refresh();
  } while (refreshAgain);
  scheduleNext();
}

// After an action: refresh at once instead of waiting for the next tick.
function refreshNow() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  clearTimeout(refreshTimer);
  tick();
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

function start() {
  readTokenFromUrl();
  $('#token-form').addEventListener('submit', onTokenSubmit);
  $('#add-agent-form').addEventListener('submit', onAddAgent);
  $('#agent-groups').addEventListener('click', onAgentsClick);
  $('#agent-groups').addEventListener('change', onAgentsChange);
  $('#run-select').addEventListener('change', onRunSelect);
  $('#project-select').addEventListener('change', onProjectSelect);
  $('#results tbody').addEventListener('click', onResultsClick);
  startModelPanel();  // model_panel.js
  if (typeof Chart === 'undefined') {
    recordError(new Error('Chart.js did not load (/vendor/chart.min.js)'), false);
  } else {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = '#4b5563';
  }
  tick();
}

document.addEventListener('DOMContentLoaded', start);
