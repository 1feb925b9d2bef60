// cloudbook dashboard: the model panel of a finished run (docs/dashboard.md "Model"): the
// composed and baseline confusion matrices as SVG heat maps, per-class scores, the model's
// facts and a "try it" box that sends a test sample or a picture to a running cloudbook-serve
// through the dashboard (POST /api/v1/runs/<run>/try). Uses api(), el() and $() of app.js
// (loaded after this file, called only once the page has started). API strings reach the DOM
// as text only.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MAX_PICTURE_BYTES = 3 * 1024 * 1024;  // under the dashboard's max_try_body_bytes in base64

const modelPanel = {
  run: null,     // the run shown
  facts: null,   // GET /api/v1/runs/<run>/model, or {error}
  loading: null  // the run whose facts are being fetched
};

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function className(names, id) {
  return names && typeof names[id] === 'string' && names[id] !== '' ? names[id] : String(id);
}

// A heat map: one cell per [true][predicted] count, shaded by its share of the true class's
// samples (each row sums to 1), the count written in when the cells are large enough.
function confusionSvg(matrix, names) {
  const n = matrix.length;
  const cell = Math.max(8, Math.min(34, Math.floor(420 / Math.max(n, 1))));
  const labels = matrix.map((_, i) => className(names, i));
  const margin = Math.min(140, 12 + 6 * Math.max(...labels.map((l) => l.length), 2));
  const size = margin + n * cell;
  const svg = svgEl('svg', {width: size, height: size, viewBox: `0 0 ${size} ${size}`,
                            role: 'img', class: 'confusion-map'});
  matrix.forEach((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    svg.append(svgEl('text', {x: margin - 4, y: margin + t * cell + cell / 2 + 3,
                              'text-anchor': 'end', class: 'class-label'}, labels[t]));
    row.forEach((count, p) => {
      const share = support ? count / support : 0;
      const color = t === p ? `rgba(22, 163, 74, ${0.08 + 0.92 * share})`
                            : `rgba(220, 38, 38, ${share ? 0.1 + 0.9 * share : 0})`;
      const rect = svgEl('rect', {x: margin + p * cell, y: margin + t * cell, width: cell - 1,
                                  height: cell - 1, fill: color, class: 'cell'});
      rect.append(svgEl('title', {}, `true ${labels[t]}, predicted ${labels[p]}: ${count}` +
                                         (support ? ` (${(share * 100).toFixed(1)} %)` : '')));
      svg.append(rect);
      if (cell >= 22 && count > 0) {
        svg.append(svgEl('text', {x: margin + p * cell + cell / 2, y: margin + t * cell + cell / 2 + 3,
                                  'text-anchor': 'middle', class: 'count'}, String(count)));
      }
    });
  });
  labels.forEach((label, p) => {
    const x = margin + p * cell + cell / 2 + 3, y = margin - 4;
    svg.append(svgEl('text', {x, y, transform: `rotate(-60 ${x} ${y})`, class: 'class-label'},
                     label));
  });
  return svg;
}

function renderConfusion(figureId, section, names) {
  const figure = document.getElementById(figureId);
  for (const old of figure.querySelectorAll('svg, p')) old.remove();
  const matrix = section && Array.isArray(section.confusion) ? section.confusion : null;
  figure.hidden = !matrix && !(section && section.confusion_omitted);
  if (matrix) {
    figure.append(confusionSvg(matrix, names));
  } else if (section && section.confusion_omitted) {
    figure.append(el('p', {class: 'empty', text: `no matrix: ${section.confusion_omitted}`}));
  }
}

function pct(value) {
  return typeof value === 'number' ? `${(value * 100).toFixed(1)} %` : '–';
}

function renderPerClass(composed, baseline, names) {
  const table = $('#per-class');
  const rows = composed && Array.isArray(composed.per_class) ? composed.per_class : [];
  const base = baseline && Array.isArray(baseline.per_class) ? baseline.per_class : [];
  table.hidden = rows.length === 0;
  const tbody = table.querySelector('tbody');
  tbody.textContent = '';
  for (const row of rows) {
    const other = base.find((b) => b.class === row.class);
    tbody.append(el('tr', {dataset: {class: row.class}},
                    el('td', {text: `${row.class} ${className(names, row.class) !== String(row.class)
                                                       ? className(names, row.class) : ''}`.trim()}),
                    el('td', {class: 'num', text: pct(row.accuracy)}),
                    el('td', {class: 'num', text: pct(row.precision)}),
                    el('td', {class: 'num', text: pct(row.recall)}),
                    el('td', {class: 'num', text: String(row.support)}),
                    el('td', {class: 'num', text: other ? pct(other.accuracy) : '–'})));
  }
}

function renderFacts(facts, results) {
  const list = $('#model-facts');
  list.textContent = '';
  const missing = $('#model-missing');
  missing.hidden = !(facts && facts.error);
  missing.textContent = facts && facts.error ? `No model to try: ${facts.error}` : '';
  const fact = (term, value) => list.append(el('div', {}, el('dt', {text: term}),
                                               el('dd', {text: value})));
  fact('run', modelPanel.run);
  if (results && results.problem) fact('problem', results.problem);
  if (!facts || facts.error) {
    if (results && results.model_error) fact('model not kept', results.model_error);
    return;
  }
  fact('composition', facts.composition);
  fact('subnets', `${facts.subnets} in ${facts.dus} DU(s)`);
  fact('input shape', JSON.stringify(facts.input_shape));
  fact('classes', facts.class_names.length ? facts.class_names.join(', ') : String(facts.classes));
  fact('model', facts.model);
}

// The names of the classes: the model's, else the ids.
function classNames() {
  return modelPanel.facts && Array.isArray(modelPanel.facts.class_names)
             ? modelPanel.facts.class_names : [];
}

async function loadFacts(run) {
  if (modelPanel.loading === run) return;
  modelPanel.loading = run;
  try {
    modelPanel.facts = await api('GET', `/api/v1/runs/${encodeURIComponent(run)}/model`);
  } catch (error) {
    modelPanel.facts = {error: error.reason || error.message};
  }
  modelPanel.loading = null;
  if (modelPanel.run === run) renderModelPanel(state.runDetail);
}

// Called by app.js with the selected run's detail (or null).
function renderModelPanel(detail) {
  const section = $('#model-section');
  const results = detail && detail.state === 'done' ? detail.results : null;
  section.hidden = !results;
  if (!results) return;
  if (modelPanel.run !== detail.run) {
    modelPanel.run = detail.run;
    modelPanel.facts = null;
    $('#try-answer').textContent = '';
    $('#try-truth').textContent = '';
    $('#try-status').textContent = '';
    $('#try-picture').hidden = true;
    $('#try-uploaded').hidden = true;
    loadFacts(detail.run);
  }
  const names = classNames();
  renderFacts(modelPanel.facts, results);
  renderConfusion('confusion-composed', results.composed, names);
  renderConfusion('confusion-baseline', results.baseline, names);
  renderPerClass(results.composed, results.baseline, names);
  const facts = modelPanel.facts;
  $('#try-it').hidden = !facts || Boolean(facts.error);
  if (facts && !facts.error) {
    $('#try-upload').hidden = !facts.image;
    if (typeof facts.test_samples === 'number') $('#try-sample').max = facts.test_samples - 1;
  }
}

// A raw sample of an image shape ([H, W] or [H, W, C]) drawn on the canvas, its values
// stretched from their own range to 0..255.
function drawSample(sample) {
  const canvas = $('#try-picture');
  const shape = sample.shape;
  canvas.hidden = !sample.image;
  if (!sample.image) return;
  const [height, width] = shape;
  const channels = shape.length === 3 ? shape[2] : 1;
  const values = sample.values;
  let low = Infinity, high = -Infinity;
  for (const v of values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  const span = high > low ? high - low : 1;
  const picture = new ImageData(width, height);
  for (let i = 0; i < width * height; ++i) {
    for (let c = 0; c < 3; ++c) {
      const v = values[i * channels + (channels === 3 ? c : 0)];
      picture.data[i * 4 + c] = Math.round(((v - low) / span) * 255);
    }
    picture.data[i * 4 + 3] = 255;
  }
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(picture, 0, 0);
}

function renderAnswer(answer) {
  const box = $('#try-answer');
  box.textContent = '';
  if (Array.isArray(answer.values)) {
    box.append(el('p', {text: `outputs: ${answer.values.map(fmtNumber).join(', ')}`}));
    return;
  }
  const label = answer.name ? `${answer.class} ${answer.name}` : String(answer.class);
  box.append(el('p', {class: 'try-class'}, el('strong', {text: `predicted: ${label}`})));
  for (const [rank, top] of (answer.top || []).entries()) {
    box.append(el('div', {class: rank === 0 ? 'prob-row top' : 'prob-row'},
                  el('span', {class: 'prob-name', text: top.name ? `${top.class} ${top.name}`
                                                                 : String(top.class)}),
                  el('div', {class: 'prob-bar'},
                     el('div', {class: 'prob-fill',
                                style: `width:${Math.max(0, Math.min(1, top.probability)) * 100}%`})),
                  el('span', {class: 'muted', text: pct(top.probability)})));
  }
  $('#try-status').textContent = `answered by ${answer.server} (${answer.mode})`;
}

function showTryError(error) {
  const status = $('#try-status');
  status.textContent = error.reason || error.message;
  const start = error.data && error.data.start;
  if (start) {
    status.append(el('br'), 'Start one: ', el('code', {text: start}));
  }
}

async function sendTry(body) {
  const run = modelPanel.run;
  $('#try-answer').textContent = '';
  $('#try-status').textContent = 'asking the model server…';
  try {
    const answer = await api('POST', `/api/v1/runs/${encodeURIComponent(run)}/try`, body);
    if (run === modelPanel.run) renderAnswer(answer);
  } catch (error) {
    if (run === modelPanel.run) showTryError(error);
  }
}

async function onTrySample(event) {
  event.preventDefault();
  const run = modelPanel.run;
  const index = Number($('#try-sample').value);
  if (!run || !Number.isInteger(index) || index < 0) return;
  $('#try-uploaded').hidden = true;
  try {
    const sample = await api('GET', `/api/v1/runs/${encodeURIComponent(run)}/samples/${index}`);
    if (run !== modelPanel.run) return;
    drawSample(sample);
    $('#try-sample').max = sample.samples - 1;
    $('#try-truth').textContent = sample.label === null ? `sample ${index}`
        : `sample ${index}, true class ${sample.label}${sample.label_name ? ' ' + sample.label_name : ''}`;
  } catch (error) {
    showTryError(error);
    return;
  }
  await sendTry({sample: index});
}

function onTryFile(event) {
  const file = event.target.files && event.target.files[0];
  if (!file) return;
  if (file.size > MAX_PICTURE_BYTES) {
    $('#try-status').textContent =
        `${file.name} is ${fmtBytes(file.size)}: send a picture under ${fmtBytes(MAX_PICTURE_BYTES)}`;
    return;
  }
  const picture = $('#try-uploaded');
  if (picture.src) URL.revokeObjectURL(picture.src);
  picture.src = URL.createObjectURL(file);
  picture.hidden = false;
  $('#try-picture').hidden = true;
  $('#try-truth').textContent = file.name;
  const reader = new FileReader();
  reader.onload = () => {
    const text = String(reader.result);
    sendTry({image: text.slice(text.indexOf(',') + 1)});  // data:<type>;base64,<bytes>
  };
  reader.onerror = () => { $('#try-status').textContent = `cannot read ${file.name}`; };
  reader.readAsDataURL(file);
}

function startModelPanel() {
  $('#try-form').addEventListener('submit', onTrySample);
  $('#try-file').addEventListener('change', onTryFile);
}
