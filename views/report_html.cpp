#include "views/report_html.hpp"

#include <functional>

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
function text(parent, x, y, s, anchor, size, color) {
  const t = el('text', {x: x, y: y, 'text-anchor': anchor || 'start', 'font-size': size || 12,
                        fill: color || '#222'}, parent);
  t.textContent = s;
  return t;
}
// Width in pixels of `s` as the svg would draw it.
function measure(svg, s, size) {
  const t = text(svg, 0, 0, s, 'start', size);
  const w = t.getComputedTextLength();
  svg.removeChild(t);
  return w;
}
function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  return a >= 10 ? v.toFixed(0) : v.toFixed(2);
}
// A round step for about `n` ticks up to max: 1, 2, 2.5 or 5 times a power of ten.
function niceStep(max, n) {
  const raw = max / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
function tickLabel(v, step) {
  const d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return Math.abs(v) >= 1e3 ? fmt(v) : v.toFixed(Math.min(d + (step % Math.pow(10, -d) ? 1 : 0), 3));
}
// Legend entries laid left to right, wrapping at `width`; returns the height used.
function legend(svg, items, x, y, width, swatch) {
  let lx = x, ly = y;
  items.forEach((item, i) => {
    const w = 24 + measure(svg, item.name, 11) + 18;
    if (lx > x && lx + w > x + width) { lx = x; ly += 18; }
    swatch(lx, ly, item, i);
    text(svg, lx + 24, ly + 4, item.name, 'start', 11);
    lx += w;
  });
  return ly - y + 18;
}
// The svg's size and viewBox set to what was drawn, with a margin: nothing
// drawn falls outside it.
function fit(svg) {
  const b = svg.getBBox(), m = 6;
  svg.setAttribute('viewBox', [b.x - m, b.y - m, b.width + 2 * m, b.height + 2 * m].join(' '));
  svg.setAttribute('width', b.width + 2 * m);
  svg.setAttribute('height', b.height + 2 * m);
}
function labelWidth(svg, names, size) {
  return Math.max(...names.map(n => measure(svg, n, size))) + 12;
}
// Horizontal stacked bars: one row per scenario, one segment per part, each
// segment's value printed on it where it fits and the total after the bar;
// `marker` draws a limit line and `flag` a red note after the total.
function stacked(id, parts, valueOf, show, marker, flag) {
  const box = document.getElementById(id);
  const svg = el('svg', {width: 900, height: 100}, box);
  const rowH = 28, width = 560, left = labelWidth(svg, data.map(r => r.scenario), 12);
  let max = 0;
  data.forEach(r => {
    let s = 0;
    parts.forEach(p => s += valueOf(r, p) || 0);
    max = Math.max(max, s, marker ? marker(r) : 0);
  });
  let marks = 0;
  data.forEach((r, i) => {
    let x = left;
    const y = 10 + i * rowH;
    text(svg, left - 8, y + 15, r.scenario, 'end');
    let total = 0;
    parts.forEach((p, k) => {
      const v = valueOf(r, p) || 0;
      total += v;
      const w = max > 0 ? v / max * width : 0;
      if (w > 0) {
        const rect = el('rect', {x: x, y: y, width: w, height: rowH - 8, fill: palette[k % palette.length]}, svg);
        el('title', {}, rect).textContent = p + ': ' + show(v);
        const label = show(v, true);
        if (measure(svg, label, 10) + 6 < w) text(svg, x + w / 2, y + 14, label, 'middle', 10, '#fff');
        marks++;
      }
      x += w;
    });
    let after = x + 4;
    if (marker) {
      const mx = left + marker(r) / max * width;
      el('line', {x1: mx, x2: mx, y1: y - 3, y2: y + rowH - 5, stroke: '#000', 'stroke-width': 2}, svg);
      after = Math.max(after, mx + 4);
      marks++;
    }
    // The total (of the limit, where there is one), then any note in red.
    const totalText = total > 0 ? show(total) + (marker ? ' of ' + show(marker(r)) : '') : '';
    if (totalText) text(svg, after, y + 15, totalText);
    const note = flag ? flag(r) : '';
    if (note) text(svg, after + (totalText ? measure(svg, totalText, 12) + 8 : 0), y + 15, note, 'start', 12, '#c0392b');
  });
  legend(svg, parts.map(p => ({name: p})), left, data.length * rowH + 25, width,
         (lx, ly, item, i) => el('rect', {x: lx, y: ly - 6, width: 18, height: 10,
                                          fill: palette[i % palette.length]}, svg));
  fit(svg);
  box.dataset.drawn = marks;
}
// Line chart: one series per scenario (and per style), round ticks.
function lines(id, seriesOf, xLabel, yLabel) {
  const box = document.getElementById(id);
  const svg = el('svg', {width: 900, height: 400}, box);
  const W = 760, H = 300, L = 70, B = 40;
  const series = [];
  data.forEach((r, i) => seriesOf(r, i).forEach(s => series.push(s)));
  let xmax = 0, ymax = 0;
  series.forEach(s => s.points.forEach(([x, y]) => { xmax = Math.max(xmax, x); ymax = Math.max(ymax, y); }));
  if (xmax <= 0 || ymax <= 0) { box.dataset.drawn = 0; return; }
  const xs = niceStep(xmax, 5), ys = niceStep(ymax, 4);
  const xtop = Math.ceil(xmax / xs - 1e-9) * xs, ytop = Math.ceil(ymax / ys - 1e-9) * ys;
  const X = x => L + x / xtop * (W - L), Y = y => H - y / ytop * (H - B);
  el('line', {x1: L, x2: W, y1: H, y2: H, stroke: '#333'}, svg);
  el('line', {x1: L, x2: L, y1: B, y2: H, stroke: '#333'}, svg);
  for (let v = 0; v <= ytop + 1e-9 * ytop; v += ys) {
    text(svg, L - 6, Y(v) + 4, tickLabel(v, ys), 'end', 11);
    el('line', {x1: L, x2: W, y1: Y(v), y2: Y(v), stroke: '#eee'}, svg);
  }
  for (let v = 0; v <= xtop + 1e-9 * xtop; v += xs) text(svg, X(v), H + 16, tickLabel(v, xs), 'middle', 11);
  text(svg, (L + W) / 2, H + 34, xLabel, 'middle');
  text(svg, L, B - 12, yLabel, 'start');
  let marks = 0;
  series.forEach(s => {
    const d = s.points.map(([x, y], k) => (k ? 'L' : 'M') + X(x).toFixed(1) + ',' + Y(y).toFixed(1)).join(' ');
    el('path', {d: d, fill: 'none', stroke: palette[s.color % palette.length], 'stroke-width': 2,
                'stroke-dasharray': s.dashed ? '6,4' : ''}, svg);
    marks += s.points.length;
  });
  legend(svg, series, L, H + 56, W - L, (lx, ly, s) =>
    el('line', {x1: lx, x2: lx + 18, y1: ly, y2: ly, stroke: palette[s.color % palette.length],
                'stroke-dasharray': s.dashed ? '6,4' : '', 'stroke-width': 2}, svg));
  fit(svg);
  box.dataset.drawn = marks;
}
// Grouped bars: one group per figure, each scaled to its own largest value,
// the value (and what it is) printed after each bar.
function grouped(id, metrics) {
  const box = document.getElementById(id);
  const svg = el('svg', {width: 900, height: 100}, box);
  const barH = 16, width = 480, gap = 18;
  const left = labelWidth(svg, data.map(r => r.scenario), 11);
  const groupH = data.length * barH + gap + 16;
  let marks = 0;
  metrics.forEach(([label, get, show], g) => {
    const max = Math.max(...data.map(get));
    const y0 = 10 + g * groupH;
    text(svg, 0, y0 + 12, label, 'start', 13);
    data.forEach((r, i) => {
      const v = get(r), y = y0 + 18 + i * barH, w = max > 0 ? v / max * width : 0;
      el('rect', {x: left, y: y, width: w, height: barH - 3, fill: palette[i % palette.length]}, svg);
      text(svg, left - 6, y + 11, r.scenario, 'end', 11);
      text(svg, left + w + 4, y + 11, show(r, v), 'start', 11);
      marks++;
    });
  });
  fit(svg);
  box.dataset.drawn = marks;
}
const GB = 1e9;
// A bar's value: short on the bar itself, with its unit after it.
const seconds = (v, short) => fmt(v) + (short ? '' : ' s');
const gigabytes = (v, short) => fmt(v) + (short ? '' : ' GB');
const dollars = v => '$' + (v >= 1e9 ? (v / 1e9).toFixed(2) + 'B' : fmt(v));
const kinds = ['tp', 'cp', 'ep', 'pp', 'dp'];
stacked('chart-step', ['compute', 'waiting for the host'].concat(kinds.map(k => 'comm ' + k), ['bubble', 'optimizer']),
  (r, p) => p === 'compute' ? r.step.compute_s - r.step.host_wait_s : p === 'waiting for the host' ? r.step.host_wait_s
  : p === 'bubble' ? r.step.bubble_s : p === 'optimizer' ? r.step.optimizer_s : r.step.comm[p.slice(5) + '_s'],
  seconds);
stacked('chart-memory', ['weights', 'gradients', 'optimizer', 'activations', 'other'], (r, p) =>
  r.memory[p + '_bytes'] / GB, gigabytes, r => r.memory.capacity_bytes / GB,
  r => r.fits ? '' : 'DOES NOT FIT: ' + (r.memory.shortfall_bytes / GB).toFixed(1) + ' GB over the HBM line');
stacked('chart-capex', ['servers', 'network', 'facility'], (r, p) =>
  r.cost.buy_possible ? r.cost.capex_parts[p + '_usd'] : 0, dollars, null,
  r => r.cost.buy_possible ? '' : 'not sold: rent only');
// Power over a step: the DES timeline when the scenario ran on it; otherwise
// the analytic breakdown's states laid end to end (busy, then waiting).
lines('chart-power', (r, i) => {
  let pts = [];
  if (r.power.it_profile_mw) {
    const n = r.power.it_profile_mw.length;
    pts = r.power.it_profile_mw.map((w, k) => [k / n * r.step.time_s, w]);
  } else {
    const t = r.step.time_s, p = r.power, busy = r.step.compute_s;
    pts = [[0, p.peak_it_mw], [busy, p.peak_it_mw], [busy, p.trough_it_mw], [t, p.trough_it_mw]];
  }
  return [{name: r.scenario + (r.power.it_profile_mw ? ' (DES)' : ' (analytic)'), color: i, points: pts}];
}, 'seconds into the step', 'IT power, MW');
lines('chart-cost', (r, i) => {
  const c = r.cost, n = Math.max(1, Math.round(c.horizon_months));
  const rent = [], buy = [];
  for (let m = 0; m <= n; ++m) {
    rent.push([m, c.rent_usd_per_month * m / 1e6]);
    if (c.buy_possible) buy.push([m, (c.capex_usd + c.own_usd_per_month * m) / 1e6]);
  }
  const out = [{name: r.scenario + ' rent', color: i, points: rent}];
  if (c.buy_possible) out.push({name: r.scenario + ' buy', color: i, dashed: true, points: buy});
  return out;
}, 'months of use', 'cumulative cost, M USD');
grouped('chart-compare', [
  ['step time', r => r.step.time_s, (r, v) => fmt(v) + ' s'],
  ['days to train', r => r.training.days, (r, v) => fmt(v) + ' days'],
  ['facility power', r => r.power.facility_mw, (r, v) => fmt(v) + ' MW'],
  ['energy', r => r.power.energy_mwh, (r, v) => fmt(v) + ' MWh'],
  ['the run at the cheaper of renting and buying', r => r.cost.cheaper === 'buy' ? r.cost.buy_usd : r.cost.rent_usd,
   (r, v) => dollars(v) + ' to ' + r.cost.cheaper + (r.cost.buy_possible ? '' : ' (not sold)')],
  ['USD per million tokens', r => r.cost.usd_per_million_tokens, (r, v) => '$' + v.toFixed(2)]]);
document.body.dataset.charts = document.querySelectorAll('.chart[data-drawn]').length;
// Layout check (read by the test suite in headless Chromium): text that
// overlaps other text, or falls outside its chart, is counted and listed.
(function () {
  const problems = [];
  document.querySelectorAll('.chart svg').forEach(svg => {
    const vb = svg.viewBox.baseVal;
    const boxes = [...svg.querySelectorAll('text')].map(t => ({t: t.textContent, b: t.getBBox()}));
    boxes.forEach(({t, b}) => {
      if (b.x < vb.x || b.y < vb.y || b.x + b.width > vb.x + vb.width || b.y + b.height > vb.y + vb.height)
        problems.push('clipped: ' + t);
    });
    for (let i = 0; i < boxes.length; ++i)
      for (let j = i + 1; j < boxes.length; ++j) {
        const a = boxes[i].b, b = boxes[j].b;
        const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
        const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
        if (w > 1 && h > 1) problems.push('overlap: ' + boxes[i].t + ' / ' + boxes[j].t);
      }
  });
  // Nothing wider than the page: a printout would cut it.
  const room = document.body.clientWidth;
  document.querySelectorAll('table, .chart svg').forEach(e => {
    const w = e.getBoundingClientRect().width;
    if (w > room + 1) problems.push('wider than the page (' + Math.round(w) + ' > ' + room + ' px): ' +
                                    (e.id || e.parentElement.id || e.tagName));
  });
  document.body.dataset.layoutProblems = problems.length;
  document.getElementById('layout-problems').textContent = problems.join('\n');
})();
)JS";

const char* kStyle = R"CSS(
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }
td:first-child, th:first-child { text-align: left; } .note { color: #666; font-size: 0.9em; }
.bad { color: #c0392b; font-weight: bold; } h3 { font-size: 1em; margin-bottom: 0.2em; }
)CSS";

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

// A money figure for the tables: $12.3M, $965M, $2.35.
std::string money(double usd) {
  if (usd >= 1e9) return fmt::format("${:.2f}B", usd / 1e9);
  if (usd >= 1e6) return fmt::format("${:.1f}M", usd / 1e6);
  if (usd >= 1e4) return fmt::format("${:.0f}k", usd / 1e3);
  return fmt::format("${:.2f}", usd);
}
std::string money_or_na(const Json& v) { return v.is_null() ? "n/a" : money(v.get<double>()); }

// The summary: one row per scenario, with what it must not hide: whether it
// fits in memory.
std::string summary_rows(const std::vector<Json>& results) {
  std::string rows;
  for (const auto& r : results) {
    const std::string fits = r["fits"].get<bool>()
                                 ? "fits"
                                 : fmt::format("<span class=\"bad\">DOES NOT FIT: {:.1f} GB over</span>",
                                               r["memory"]["shortfall_bytes"].get<double>() / 1e9);
    rows +=
        fmt::format("<tr><td>{}</td><td>{} x {}</td><td>{}</td><td>{:.3f}</td><td>{:.1f}%</td><td>{:.1f}</td></tr>\n",
                    escape(r["scenario"].get<std::string>()), r["gpus"].get<int>(),
                    escape(r["accelerator"].get<std::string>()), fits, r["step"]["time_s"].get<double>(),
                    100 * r["step"]["mfu"].get<double>(), r["training"]["days"].get<double>());
  }
  return rows;
}

// Power and money, one row per scenario: racks and cooling, which option is
// cheaper (rent where the system is not sold), and the capital it takes.
std::string money_rows(const std::vector<Json>& results) {
  std::string rows;
  for (const auto& r : results) {
    const Json& c = r["cost"];
    const Json& p = r["power"];
    const std::string cheaper =
        c["buy_possible"].get<bool>() ? c["cheaper"].get<std::string>() : std::string("rent (not sold)");
    rows += fmt::format(
        "<tr><td>{}</td><td>{:.1f}</td><td>{} x {:.0f} kW, {}</td><td>{:.0f}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>${:.2f}</td><td>{}</td></tr>\n",
        escape(r["scenario"].get<std::string>()), p["facility_mw"].get<double>(), p["racks"].get<int>(),
        p["rack_kw"].get<double>(),
        escape(p["cooling"].get<std::string>()) +
            (p["coolable"].get<bool>() ? "" : " <span class=\"bad\">(cannot cool)</span>"),
        p["energy_mwh"].get<double>(), money(c["rent_usd"].get<double>()), money_or_na(c["buy_usd"]), escape(cheaper),
        c["usd_per_million_tokens"].get<double>(), money_or_na(c["capex_usd"]));
  }
  return rows;
}

// What the figures assume, one column per scenario.
std::string assumption_rows(const std::vector<Json>& results) {
  struct Row {
    const char* label;
    std::function<std::string(const Json&)> show;
  };
  auto num = [](const char* key, const char* format) {
    return [key, format](const Json& a) {
      return a[key].is_null() ? std::string("n/a") : fmt::format(fmt::runtime(format), a[key].get<double>());
    };
  };
  auto pct = [](const char* key) {
    return [key](const Json& a) { return fmt::format("{:.0f}%", 100 * a[key].get<double>()); };
  };
  const std::vector<Row> table = {
      {"rent, USD per GPU-hour", num("rent_usd_per_gpu_hour", "${:.2f}")},
      {"rent basis", [](const Json& a) { return escape(a["rent_basis"].get<std::string>()); }},
      {"on-demand list, USD per GPU-hour", num("rent_list_usd_per_gpu_hour", "${:.2f}")},
      {"reserved discount", pct("reserved_discount")},
      {"server price",
       [](const Json& a) {
         return a["server_usd"].is_null() ? std::string("not sold")
                                          : fmt::format("{} per {}", money(a["server_usd"].get<double>()),
                                                        escape(a["server_unit"].get<std::string>()));
       }},
      {"network per GPU", num("network_usd_per_gpu", "${:.0f}")},
      {"facility build-out per MW", [](const Json& a) { return money(a["facility_usd_per_mw"].get<double>()); }},
      {"depreciation", num("depreciation_years", "{:.1f} years")},
      {"maintenance a year", pct("maintenance_per_year")},
      {"cost of capital a year", pct("cost_of_capital_per_year")},
      {"utilisation of an owned fleet", pct("utilization")},
      {"PUE", num("pue", "{:.2f}")},
      {"electricity", num("electricity_usd_per_kwh", "${:.3f} per kWh")},
      {"GPU MTBF",
       [](const Json& a) {
         return a["gpu_mtbf_hours"].is_null() ? std::string("no failures modelled (no reliability block)")
                                              : fmt::format("{:.0f} hours", a["gpu_mtbf_hours"].get<double>());
       }},
  };
  std::string rows = "<tr><th>assumption</th>";
  for (const auto& r : results) rows += fmt::format("<th>{}</th>", escape(r["scenario"].get<std::string>()));
  rows += "</tr>\n";
  for (const Row& row : table) {
    rows += fmt::format("<tr><td>{}</td>", row.label);
    for (const auto& r : results) rows += fmt::format("<td>{}</td>", row.show(r["assumptions"]));
    rows += "</tr>\n";
  }
  return rows;
}

// Every note and warning of each scenario.
std::string notes(const std::vector<Json>& results) {
  std::string out;
  for (const auto& r : results) {
    out += fmt::format("<h3>{}</h3><ul>", escape(r["scenario"].get<std::string>()));
    if (r["warnings"].empty()) out += "<li>none</li>";
    for (const auto& w : r["warnings"]) out += fmt::format("<li>{}</li>", escape(w.get<std::string>()));
    out += "</ul>\n";
  }
  return out;
}

}  // namespace

std::string report_html(const std::vector<Json>& results, const std::string& title) {
  // Inside a script element "</script" ends it early and "<!--<script"
  // swallows its end tag; as \u003c in a JSON string, '<' means the same to
  // the parser and nothing to HTML.
  std::string blob;
  for (const char c : Json(results).dump()) {
    if (c == '<')
      blob += "\\u003c";
    else
      blob += c;
  }
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{0}</title><style>{1}</style></head>
<body>
<h1>{0}</h1>
<p class="note">danlu report: {2} scenario(s). Figures as in docs/report.md; buy is the run's share of owning the fleet, capex the fleet bought up front.</p>
<table><tr><th>scenario</th><th>cluster</th><th>memory</th><th>step s</th><th>MFU</th><th>days</th></tr>
{3}</table>
<h2>Power and money</h2>
<table><tr><th>scenario</th><th>facility MW</th><th>racks, cooling</th><th>MWh</th><th>rent</th><th>buy</th><th>cheaper</th><th>per M tokens</th><th>capex</th></tr>
{8}</table>
<h2>Where the step goes</h2><div class="chart" id="chart-step"></div>
<h2>Memory per GPU against the HBM ceiling</h2><p class="note">The black line is the usable HBM of one GPU.</p><div class="chart" id="chart-memory"></div>
<h2>Power over one step</h2><p class="note">From the DES timeline where the scenario ran on it; otherwise the analytic breakdown's busy and waiting phases laid end to end.</p><div class="chart" id="chart-power"></div>
<h2>Capital: buying the fleet</h2><p class="note">Servers at the system's price, the scale-out network, and the facility built for peak power.</p><div class="chart" id="chart-capex"></div>
<h2>Renting versus buying over the horizon</h2><p class="note">Solid: renting the fleet's useful GPU-hours; dashed: capital up front, then maintenance and electricity.</p><div class="chart" id="chart-cost"></div>
<h2>Side by side</h2><div class="chart" id="chart-compare"></div>
<h2>Assumptions</h2><table>
{4}</table>
<h2>Notes and warnings</h2>
{5}
<pre id="layout-problems" hidden></pre>
<script type="application/json" id="danlu-data">{6}</script>
<script>{7}</script>
</body></html>
)",
                     escape(title), kStyle, results.size(), summary_rows(results), assumption_rows(results),
                     notes(results), blob, kScript, money_rows(results));
}

}  // namespace danlu
