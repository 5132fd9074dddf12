#include "cli/report_html.hpp"

#include <fmt/format.h>

namespace danlu {

namespace {

// Drawing code, inline so the page needs nothing else. Each chart counts the
// marks it draws in data-drawn, and the body counts the charts drawn, so a
// headless browser can tell that every chart has data.
const char* kScript = R"JS(
const data = JSON.parse(document.getElementById('danlu-data').textContent);
const NS = 'http://www.w3.org/2000/svg';
const palette = ['#c0392b','#2980b9','#27ae60','#8e44ad','#d35400','#16a085','#7f8c8d','#f1c40f','#2c3e50'];
function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function text(parent, x, y, s, anchor, size) {
  const t = el('text', {x: x, y: y, 'text-anchor': anchor || 'start', 'font-size': size || 12}, parent);
  t.textContent = s;
  return t;
}
function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  return a >= 10 ? v.toFixed(0) : v.toFixed(2);
}
// Five entries a row.
function legend(svg, names, x, y) {
  names.forEach((n, i) => {
    const lx = x + (i % 5) * 120, ly = y + Math.floor(i / 5) * 18;
    el('rect', {x: lx, y: ly - 10, width: 10, height: 10, fill: palette[i % palette.length]}, svg);
    text(svg, lx + 14, ly, n);
  });
}
// Horizontal stacked bars: one row per scenario, one segment per part.
function stacked(id, parts, valueOf, unit, marker) {
  const box = document.getElementById(id);
  const rowH = 28, left = 230, width = 640;
  const svg = el('svg', {width: left + width + 60, height: data.length * rowH + 50 + 18 * Math.ceil(parts.length / 5)}, box);
  let max = 0;
  data.forEach(r => {
    let s = 0;
    parts.forEach(p => s += valueOf(r, p));
    max = Math.max(max, s, marker ? marker(r) : 0);
  });
  let marks = 0;
  data.forEach((r, i) => {
    let x = left;
    const y = 10 + i * rowH;
    text(svg, left - 8, y + 16, r.scenario, 'end');
    parts.forEach((p, k) => {
      const w = valueOf(r, p) / max * width;
      if (w > 0) {
        const rect = el('rect', {x: x, y: y, width: w, height: rowH - 8, fill: palette[k % palette.length]}, svg);
        el('title', {}, rect).textContent = p + ': ' + fmt(valueOf(r, p)) + ' ' + unit;
        marks++;
      }
      x += w;
    });
    if (marker) {
      const mx = left + marker(r) / max * width;
      el('line', {x1: mx, x2: mx, y1: y - 3, y2: y + rowH - 5, stroke: '#000', 'stroke-width': 2}, svg);
      marks++;
    }
    text(svg, x + 4, y + 15, fmt(parts.reduce((s, p) => s + valueOf(r, p), 0)) + ' ' + unit);
  });
  legend(svg, parts, left, data.length * rowH + 35);
  box.dataset.drawn = marks;
}
// Line chart: one series per scenario (and per style).
function lines(id, seriesOf, xLabel, yLabel) {
  const box = document.getElementById(id);
  const W = 760, H = 300, L = 70, B = 40;
  const series = [];
  data.forEach((r, i) => seriesOf(r, i).forEach(s => series.push(s)));
  const legendRows = Math.ceil(series.length / 3);
  const svg = el('svg', {width: W + 40, height: H + 50 + 18 * legendRows,
                         viewBox: '0 -20 ' + (W + 40) + ' ' + (H + 50 + 18 * legendRows)}, box);
  let xmax = 0, ymax = 0;
  series.forEach(s => s.points.forEach(([x, y]) => { xmax = Math.max(xmax, x); ymax = Math.max(ymax, y); }));
  if (xmax <= 0 || ymax <= 0) { box.dataset.drawn = 0; return; }
  const X = x => L + x / xmax * (W - L), Y = y => H - y / ymax * (H - B) ;
  el('line', {x1: L, x2: W, y1: H, y2: H, stroke: '#333'}, svg);
  el('line', {x1: L, x2: L, y1: B - 30, y2: H, stroke: '#333'}, svg);
  for (let k = 0; k <= 4; ++k) {
    text(svg, L - 6, Y(ymax * k / 4) + 4, fmt(ymax * k / 4), 'end', 11);
    text(svg, X(xmax * k / 4), H + 16, fmt(xmax * k / 4), 'middle', 11);
  }
  text(svg, (L + W) / 2, H + 34, xLabel, 'middle');
  text(svg, 10, B - 35, yLabel, 'start');
  let marks = 0;
  series.forEach(s => {
    const d = s.points.map(([x, y], k) => (k ? 'L' : 'M') + X(x).toFixed(1) + ',' + Y(y).toFixed(1)).join(' ');
    el('path', {d: d, fill: 'none', stroke: palette[s.color % palette.length], 'stroke-width': 2,
                'stroke-dasharray': s.dashed ? '6,4' : ''}, svg);
    marks += s.points.length;
  });
  // Three legend entries a row.
  series.forEach((s, i) => {
    const lx = 10 + (i % 3) * 260, ly = H + 50 + Math.floor(i / 3) * 18;
    el('line', {x1: lx, x2: lx + 20, y1: ly, y2: ly, stroke: palette[s.color % palette.length],
                'stroke-dasharray': s.dashed ? '6,4' : '', 'stroke-width': 2}, svg);
    text(svg, lx + 24, ly + 4, s.name, 'start', 11);
  });
  box.dataset.drawn = marks;
}
const kinds = ['tp', 'cp', 'ep', 'pp', 'dp'];
stacked('chart-step', ['compute'].concat(kinds.map(k => 'comm ' + k), ['bubble', 'optimizer']), (r, p) =>
  p === 'compute' ? r.step.compute_s : p === 'bubble' ? r.step.bubble_s : p === 'optimizer' ? r.step.optimizer_s
  : r.step.comm[p.slice(5) + '_s'], 's');
stacked('chart-memory', ['weights', 'gradients', 'optimizer', 'activations', 'other'], (r, p) =>
  r.memory[p + '_bytes'] / 1e9, 'GB', r => r.memory.capacity_bytes / 1e9);
// Power over a step: the DES timeline when the scenario ran on it; otherwise
// the analytic breakdown's states laid end to end (matmul, memory, comm, idle).
lines('chart-power', (r, i) => {
  let pts = [];
  if (r.power.it_profile_mw) {
    const n = r.power.it_profile_mw.length;
    pts = r.power.it_profile_mw.map((w, k) => [k / n * r.step.time_s, w]);
  } else {
    const t = r.step.time_s, p = r.power;
    const busy = r.step.compute_s, comm = r.step.exposed_comm_s;
    pts = [[0, p.peak_it_mw], [busy, p.peak_it_mw], [busy, p.trough_it_mw], [t, p.trough_it_mw]];
  }
  return [{name: r.scenario + (r.power.it_profile_mw ? ' (DES)' : ' (analytic)'), color: i, points: pts}];
}, 'seconds into the step', 'IT power, MW');
lines('chart-cost', (r, i) => {
  const c = r.cost, n = Math.max(1, Math.round(c.horizon_months));
  const rent = [], buy = [];
  for (let m = 0; m <= n; ++m) {
    rent.push([m, c.rent_usd_per_month * m / 1e6]);
    buy.push([m, (c.capex_usd + c.own_usd_per_month * m) / 1e6]);
  }
  return [{name: r.scenario + ' rent', color: i, points: rent},
          {name: r.scenario + ' buy', color: i, dashed: true, points: buy}];
}, 'months of use', 'cumulative cost, M USD');
// Grouped bars: one group per figure, each scaled to its own largest value.
function grouped(id, metrics) {
  const box = document.getElementById(id);
  const barH = 16, left = 230, width = 560, gap = 18;
  const groupH = data.length * barH + gap + 16;
  const svg = el('svg', {width: left + width + 120, height: metrics.length * groupH + 20}, box);
  let marks = 0;
  metrics.forEach(([label, get, unit], g) => {
    const max = Math.max(...data.map(get));
    const y0 = 10 + g * groupH;
    text(svg, 0, y0 + 12, label, 'start', 13);
    data.forEach((r, i) => {
      const v = get(r), y = y0 + 18 + i * barH;
      el('rect', {x: left, y: y, width: max > 0 ? v / max * width : 0, height: barH - 3, fill: palette[i % palette.length]}, svg);
      text(svg, left - 6, y + 11, r.scenario, 'end', 11);
      text(svg, left + (max > 0 ? v / max * width : 0) + 4, y + 11, fmt(v) + ' ' + unit, 'start', 11);
      marks++;
    });
  });
  box.dataset.drawn = marks;
}
grouped('chart-compare', [['step time', r => r.step.time_s, 's'], ['days to train', r => r.training.days, 'days'],
                          ['facility power', r => r.power.facility_mw, 'MW'], ['energy', r => r.power.energy_mwh, 'MWh'],
                          ['cheaper of rent and buy', r => Math.min(r.cost.rent_usd, r.cost.buy_usd), 'USD']]);
document.body.dataset.charts = document.querySelectorAll('.chart[data-drawn]').length;
)JS";

const char* kStyle = R"CSS(
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }
td:first-child, th:first-child { text-align: left; } .note { color: #666; font-size: 0.9em; }
)CSS";

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string report_html(const std::vector<Json>& results, const std::string& title) {
  std::string rows;
  for (const auto& r : results)
    rows += fmt::format(
        "<tr><td>{}</td><td>{} x {}</td><td>{:.3f}</td><td>{:.1f}%</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.0f}</td>"
        "<td>{:.1f}M / {:.1f}M</td></tr>\n",
        escape(r["scenario"].get<std::string>()), r["gpus"].get<int>(), escape(r["accelerator"].get<std::string>()),
        r["step"]["time_s"].get<double>(), 100 * r["step"]["mfu"].get<double>(), r["training"]["days"].get<double>(),
        r["power"]["facility_mw"].get<double>(), r["power"]["energy_mwh"].get<double>(),
        r["cost"]["rent_usd"].get<double>() / 1e6, r["cost"]["buy_usd"].get<double>() / 1e6);
  // Inside a script element "</script" ends it early and "<!--<script"
  // swallows its end tag; as \u003c in a JSON string, '<' means the same to
  // the parser and nothing to HTML.
  std::string blob;
  for (const char c : Json(results).dump()) {
    if (c == '<') blob += "\\u003c";
    else blob += c;
  }
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{0}</title><style>{1}</style></head>
<body>
<h1>{0}</h1>
<p class="note">danlu report: {2} scenario(s). Figures as in docs/report.md; hover a bar for its value.</p>
<table><tr><th>scenario</th><th>cluster</th><th>step s</th><th>MFU</th><th>days</th><th>facility MW</th><th>MWh</th><th>rent / buy USD</th></tr>
{3}</table>
<h2>Where the step goes</h2><div class="chart" id="chart-step"></div>
<h2>Memory per GPU against the HBM ceiling</h2><div class="chart" id="chart-memory"></div>
<h2>Power over one step</h2><p class="note">From the DES timeline where the scenario ran on it; otherwise the analytic breakdown's busy and waiting phases laid end to end.</p><div class="chart" id="chart-power"></div>
<h2>Renting versus buying over the horizon</h2><p class="note">Solid: renting the fleet's useful GPU-hours; dashed: capital up front, then maintenance and electricity.</p><div class="chart" id="chart-cost"></div>
<h2>Side by side</h2><div class="chart" id="chart-compare"></div>
<script type="application/json" id="danlu-data">{4}</script>
<script>{5}</script>
</body></html>
)",
                     escape(title), kStyle, results.size(), rows, blob, kScript);
}

}  // namespace danlu
