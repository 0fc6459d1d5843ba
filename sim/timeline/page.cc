// The timeline page: the run's data as JSON inside the page, and a script that draws it as SVG
// when the page opens (no server, no network, no libraries: one file a browser opens from disk).
// The drawn elements carry classes a test can count (tests/timeline/check_timeline.py):
// .node-span, .band, .fault-mark, .nemesis-event, g.partition > .replica, .leo, .hw, .ops,
// .anomaly, and the tables #checks and #anomalies.
#include <string>

#include "sim/timeline/timeline.h"

namespace samsa::sim {

namespace {

constexpr const char* kHead = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>samsa-sim timeline</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px 0; }
.pass { color: #176b2c; } .fail { color: #b00020; }
code { background: #f3f3f3; padding: 1px 4px; }
table { border-collapse: collapse; margin: 8px 0; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
tr.fail td { background: #fde8ea; }
svg text { font: 11px system-ui, sans-serif; }
.section-title { font-weight: bold; font-size: 12px; }
.axis line { stroke: #ccc; } .axis text { fill: #666; }
.node-span.up { fill: #8fd19e; } .node-span.paused { fill: #f5d76e; } .node-span.down { fill: #e57373; }
.band.partition { fill: #c62828; opacity: .75; } .band.clog { fill: #ef9a3a; opacity: .75; }
.fault-mark { stroke: #6a1b9a; stroke-width: 1.5; }
.nemesis-event { fill: #3949ab; }
.replica.leader { fill: #1565c0; } .replica.isr { fill: #90caf9; } .replica.out-of-isr { fill: #eeeeee; stroke: #bbb; }
.replica.absent { fill: #e57373; opacity: .3; }
.leo { fill: none; stroke-width: 1.3; } .hw { fill: none; stroke: #111; stroke-width: 1.2; stroke-dasharray: 4 2; }
.ops.ok { fill: #43a047; } .ops.failed { fill: #e53935; } .ops.ambiguous { fill: #fb8c00; } .ops.read { fill: #5e35b1; }
.anomaly { stroke: #d50000; stroke-width: 1.5; opacity: .8; } .anomaly-head { fill: #d50000; }
.legend span { display: inline-block; margin-right: 12px; }
.swatch { display: inline-block; width: 12px; height: 10px; margin-right: 3px; vertical-align: middle; }
</style></head><body>
<div id="header"></div>
<div class="legend" id="legend"></div>
<div id="chart-holder"></div>
<h2>Anomalies</h2><table id="anomalies"><tr><th>time (s)</th><th>check</th><th>what</th></tr></table>
<h2>Checks</h2><table id="checks"><tr><th>check</th><th>verdict</th></tr></table>
<div id="notes"></div>
<script type="application/json" id="data">)PAGE";

constexpr const char* kScript = R"PAGE(</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
const LEFT = 200, RIGHT = 20, W = Math.max(1000, window.innerWidth - 40), PLOT = W - LEFT - RIGHT;
const END = Math.max(D.end_s, 1e-9);
const x = t => LEFT + Math.max(0, Math.min(t, END)) / END * PLOT;
const COLORS = ["#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#f4511e", "#3949ab", "#6d4c41", "#c0ca33"];
function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function tip(e, text) { el("title", {}, e, text); return e; }
function html(tag, parent, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  parent.appendChild(e);
  return e;
}
const fmt = t => t.toFixed(3);
const nodeName = id => { const n = D.nodes.find(n => n.id === id); return n ? n.name : "node " + id; };

function header() {
  const h = document.getElementById("header");
  const title = html("h1", h, "samsa-sim " + (D.scenario || "") + " seed " + (D.seed ?? "?") + ": ");
  html("span", title, D.verdict || "no verdict", D.verdict === "PASS" ? "pass" : "fail").id = "verdict";
  html("div", h, "trace hash " + (D.trace_hash || "?") + ", " + fmt(D.end_s) + " s simulated");
  if (D.replay) { const p = html("div", h, "replay: "); html("code", p, D.replay); }
  for (const s of (D.settings || [])) html("div", h, s);
  const legend = document.getElementById("legend");
  for (const [cls, name] of [["#8fd19e", "up"], ["#f5d76e", "paused"], ["#e57373", "down"], ["#c62828", "partitioned"],
                             ["#ef9a3a", "clogged"], ["#1565c0", "leader"], ["#90caf9", "in ISR"], ["#eeeeee", "out of ISR"], ["#f4b9b9", "no replica"],
                             ["#43a047", "acknowledged"], ["#e53935", "failed"], ["#fb8c00", "ambiguous"], ["#5e35b1", "read"],
                             ["#d50000", "anomaly"]]) {
    const s = html("span", legend);
    html("span", s, "", "swatch").style.background = cls;
    s.appendChild(document.createTextNode(name));
  }
}

function axis(g, y, h) {
  const step = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300].find(s => END / s <= 20) || 600;
  for (let t = 0; t <= END + 1e-9; t += step) {
    el("line", {x1: x(t), x2: x(t), y1: y, y2: y + h}, g);
    el("text", {x: x(t) + 2, y: y + 10}, g, (Math.round(t * 10) / 10) + " s");
  }
}

function section(svg, y, name) { el("text", {x: 4, y: y + 12, class: "section-title"}, svg, name); return y + 18; }
function label(svg, y, text) { el("text", {x: 8, y: y + 10}, svg, text.length > 30 ? text.slice(0, 29) + "…" : text); }

function drawNodes(svg, y) {
  y = section(svg, y, "Nodes");
  const laneOf = {};
  for (const n of D.nodes) {
    label(svg, y, n.name);
    const g = el("g", {class: "node", "data-node": n.id}, svg);
    for (const [t0, t1, state] of n.spans) {
      const cls = state.startsWith("down") ? "down" : state;
      tip(el("rect", {class: "node-span " + cls, x: x(t0), y: y, width: Math.max(1, x(t1) - x(t0)), height: 12}, g),
          n.name + ": " + state + " " + fmt(t0) + "–" + fmt(t1) + " s");
    }
    laneOf[n.id] = y;
    y += 16;
  }
  const world = y;
  let worldUsed = false;
  for (const f of D.faults) {
    const ly = laneOf[f.node] ?? world;
    worldUsed = worldUsed || laneOf[f.node] === undefined;
    tip(el("line", {class: "fault-mark", x1: x(f.t), x2: x(f.t), y1: ly - 2, y2: ly + 14}, svg),
        fmt(f.t) + " s " + (f.node >= 0 ? nodeName(f.node) + ": " : "") + f.what);
  }
  if (worldUsed) { label(svg, world, "world faults"); y += 16; }
  if ((D.nemesis || []).length) {
    label(svg, y, "nemesis");
    for (const n of D.nemesis) tip(el("circle", {class: "nemesis-event", cx: x(n.t), cy: y + 6, r: 4}, svg), fmt(n.t) + " s " + n.what);
    y += 16;
  }
  return y + 6;
}

function drawNetwork(svg, y) {
  if (!D.network.length) return y;
  y = section(svg, y, "Network (from → to)");
  const rows = new Map();
  for (const b of D.network) {
    const key = nodeName(b.from) + " → " + nodeName(b.to);
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key).push(b);
  }
  for (const [key, bands] of rows) {
    label(svg, y, key);
    for (const b of bands) {
      tip(el("rect", {class: "band " + b.kind, x: x(b.t0), y: y, width: Math.max(1, x(b.t1) - x(b.t0)), height: 10}, svg),
          key + ": " + b.kind + " " + fmt(b.t0) + "–" + fmt(b.t1) + " s");
    }
    y += 13;
  }
  return y + 6;
}

function replicaClass(s) { return !s[1] ? "absent" : s[2] ? "leader" : s[3] ? "isr" : "out-of-isr"; }

function drawPartition(svg, y, p) {
  const g = el("g", {class: "partition", "data-name": p.name}, svg);
  el("text", {x: 4, y: y + 11, class: "section-title"}, g, "Partition " + p.name);
  y += 16;
  let maxEnd = 1;
  p.replicas.forEach((r, i) => {
    label(g, y, "broker " + r.broker + (r.node >= 0 ? " (" + nodeName(r.node) + ")" : ""));
    const color = COLORS[i % COLORS.length];
    el("rect", {x: LEFT - 12, y: y + 2, width: 8, height: 8, fill: color}, g);
    // One rectangle per run of samples in the same role and epoch.
    for (let k = 0; k < r.samples.length;) {
      const s = r.samples[k], cls = replicaClass(s);
      let e = k + 1;
      while (e < r.samples.length && replicaClass(r.samples[e]) === cls && r.samples[e][4] === s[4]) e++;
      const t1 = e < r.samples.length ? r.samples[e][0] : END, last = r.samples[e - 1];
      tip(el("rect", {class: "replica " + cls, "data-broker": r.broker, x: x(s[0]), y: y, width: Math.max(0.5, x(t1) - x(s[0])), height: 12}, g),
          "broker " + r.broker + " " + (cls === "absent" ? "no replica (node down or not serving it yet)" : cls + " epoch " + s[4]) +
          " " + fmt(s[0]) + "–" + fmt(t1) + " s; log [" + s[5] + ", " + s[6] + ") HW " + s[7] + " → [" + last[5] + ", " + last[6] + ") HW " + last[7]);
      if (cls === "leader") el("text", {x: x(s[0]) + 2, y: y + 10, fill: "#fff"}, g, "e" + s[4]);
      k = e;
    }
    for (const s of r.samples) maxEnd = Math.max(maxEnd, s[6]);
    y += 15;
  });
  const H = 70, top = y + 2, yv = v => top + H - v / maxEnd * H;
  el("text", {x: 8, y: top + 10}, g, "log end (lines), HW (dashed)");
  el("text", {x: 8, y: top + 24, fill: "#666"}, g, "0 – " + maxEnd);
  const hw = [];
  p.replicas.forEach((r, i) => {
    const pts = [];
    for (const s of r.samples) {
      if (!s[1]) continue;
      pts.push(x(s[0]) + "," + yv(s[6]));
      if (s[2]) hw.push([s[0], s[7]]);
    }
    if (pts.length) el("polyline", {class: "leo", "data-broker": r.broker, stroke: COLORS[i % COLORS.length], points: pts.join(" ")}, g);
  });
  hw.sort((a, b) => a[0] - b[0]);
  if (hw.length) el("polyline", {class: "hw", points: hw.map(([t, v]) => x(t) + "," + yv(v)).join(" ")}, g);
  return top + H + 12;
}

function drawClients(svg, y) {
  if (!D.clients.length) return y;
  y = section(svg, y, "Clients (per " + D.bucket_s + " s)");
  for (const c of D.clients) {
    label(svg, y, c.name);
    const reader = c.name.includes("consumer");
    const most = Math.max(1, ...c.buckets.map(b => b[1] + b[2] + b[3]));
    const w = Math.max(1, x(D.bucket_s) - x(0) - 0.5);
    for (const [t, ok, failed, ambiguous] of c.buckets) {
      let base = y + 18;
      for (const [n, cls] of [[ok, reader ? "read" : "ok"], [failed, "failed"], [ambiguous, "ambiguous"]]) {
        if (!n) continue;
        const h = n / most * 18;
        base -= h;
        tip(el("rect", {class: "ops " + cls, x: x(t), y: base, width: w, height: h}, svg),
            c.name + " " + fmt(t) + " s: " + n + " " + (reader ? "records read" : cls));
      }
    }
    y += 22;
  }
  return y + 6;
}

function drawAnomalies(svg, height) {
  const table = document.getElementById("anomalies");
  for (const a of (D.anomalies || [])) {
    const t = a.t === null ? END : a.t;
    const g = el("g", {class: "anomaly-mark", "data-check": a.check}, svg);
    tip(el("line", {class: "anomaly", x1: x(t), x2: x(t), y1: 0, y2: height}, g), a.check + (a.t === null ? " (at the end)" : " at " + fmt(t) + " s") + ": " + a.what);
    el("path", {class: "anomaly-head", d: "M" + (x(t) - 5) + ",0 L" + (x(t) + 5) + ",0 L" + x(t) + ",8 Z"}, g);
    const row = html("tr", table);
    html("td", row, a.t === null ? "end" : fmt(a.t));
    html("td", row, a.check);
    html("td", row, a.what);
  }
  const checks = document.getElementById("checks");
  for (const c of (D.checks || [])) {
    const row = html("tr", checks, undefined, c.ok ? "ok" : "fail");
    html("td", row, c.name);
    html("td", row, c.summary);
  }
  const notes = document.getElementById("notes");
  for (const n of (D.faults_summary || [])) html("div", notes, "fault: " + n);
  for (const n of (D.notes || [])) html("div", notes, "note: " + n);
  for (const k in (D.dropped || {})) html("div", notes, "dropped past the page's limit: " + D.dropped[k] + " " + k);
}

function draw() {
  header();
  const svg = el("svg", {id: "chart", width: W, height: 100});
  document.getElementById("chart-holder").appendChild(svg);
  const axisG = el("g", {class: "axis"}, svg);  // first: drawn under everything
  let y = 14;
  y = drawNodes(svg, y);
  y = drawNetwork(svg, y);
  if (D.partitions.length) y = section(svg, y, "Partitions (per replica: leader eN, in ISR, out of ISR, no replica)");
  for (const p of D.partitions) y = drawPartition(svg, y, p);
  y = drawClients(svg, y);
  axis(axisG, 0, y);
  drawAnomalies(svg, y);
  svg.setAttribute("height", y + 4);
  document.body.setAttribute("data-rendered", "yes");
}
draw();
</script></body></html>
)PAGE";

}  // namespace

std::string timeline_html(const Timeline& t) {
  const std::string data = t.data_json();
  // Inside <script>, "</script" or "<!--" in the data could end or confuse the element; in JSON
  // a '<' may only occur inside strings, where "\u003c" means the same.
  std::string safe;
  safe.reserve(data.size());
  for (char c : data) {
    if (c == '<') {
      safe += "\\u003c";
    } else {
      safe += c;
    }
  }
  return std::string(kHead) + safe + kScript;
}

}  // namespace samsa::sim
