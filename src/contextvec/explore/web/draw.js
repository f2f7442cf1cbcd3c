// Drawing: heat-maps as tables (readable numbers, one cell per value), line charts in SVG, and the points map on a
// canvas with a grid for hit-testing, so 100k points cost one draw call per frame, not 100k DOM nodes.
import { el, viridis, textOn, CATEGORICAL, scaleLegend } from "./common.js";

// Cells that are null (a pair a causal model never sees) show a dash and stay out of the colour range.
export function heatTable(matrix, rows, cols, caption, { lo = null, hi = null, digits = 3 } = {}) {
  const flat = matrix.flat().filter((v) => v !== null && Number.isFinite(v));
  const min = lo ?? Math.min(...flat), max = hi ?? Math.max(...flat), span = max - min || 1;
  const table = el("table", { class: "heat" }, el("caption", { text: caption }));
  const head = el("tr", {}, el("td"));
  cols.forEach((c) => head.append(el("th", { scope: "col", text: c })));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  matrix.forEach((row, i) => {
    const tr = el("tr", {}, el("th", { scope: "row", text: rows[i] }));
    row.forEach((v, j) => {
      if (v === null || !Number.isFinite(v)) {
        tr.append(el("td", { class: "none", title: `${rows[i]} → ${cols[j]}: not seen`, "data-value": "NaN", text: "–" }));
        return;
      }
      const t = (v - min) / span;
      tr.append(el("td", { style: `background:${viridis(t)};color:${textOn(t)}`, title: `${rows[i]} → ${cols[j]}: ${v}`,
        "data-value": String(v), text: v.toFixed(digits) }));
    });
    body.append(tr);
  });
  table.append(body);
  return el("div", { class: "matrix" }, table, scaleLegend(min, max));
}

// Heat strips: one small cell per vector component (no numbers; the value is in the cell's title and data-value),
// on a scale symmetric around 0 so the sign reads at a glance.
export function stripTable(rows, labels, caption) {
  const m = Math.max(1e-12, ...rows.flat().map(Math.abs));
  const table = el("table", { class: "strips" }, el("caption", { text: caption }));
  const body = el("tbody");
  rows.forEach((row, i) => {
    const tr = el("tr", {}, el("th", { scope: "row", text: labels[i] }));
    row.forEach((v, d) => {
      const t = (v + m) / (2 * m);
      tr.append(el("td", { style: `background:${viridis(t)}`, title: `${labels[i]}[${d}] = ${v}`, "data-value": String(v) }));
    });
    body.append(tr);
  });
  table.append(body);
  return el("div", { class: "matrix" }, table, scaleLegend(-m, m));
}

const NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

// series: [{name, values: [y per x], dash}] over x = 0..n-1; one colour per series from the categorical scale.
export function lineChart(series, { title, xLabel, yLabel, width = 600, height = 300 }) {
  const m = { l: 48, r: 185, t: 26, b: 36 };
  const all = series.flatMap((s) => s.values).filter((v) => v !== null);  // null: no value at that x
  const lo = Math.min(0, ...all), hi = Math.max(1, ...all);
  const n = Math.max(...series.map((s) => s.values.length));
  const X = (i) => m.l + (n > 1 ? (i / (n - 1)) : 0.5) * (width - m.l - m.r);
  const Y = (v) => height - m.b - ((v - lo) / (hi - lo)) * (height - m.t - m.b);
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
  root.append(svg("title", {}, title), svg("text", { x: m.l, y: 16, "font-weight": "bold" }, title));
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    root.append(svg("line", { x1: m.l, x2: width - m.r, y1: Y(v), y2: Y(v), stroke: "#ddd" }));
    root.append(svg("text", { x: m.l - 6, y: Y(v) + 4, "text-anchor": "end" }, v.toFixed(2)));
  }
  for (let i = 0; i < n; i++) root.append(svg("text", { x: X(i), y: height - m.b + 16, "text-anchor": "middle" }, String(i)));
  root.append(svg("text", { x: (m.l + width - m.r) / 2, y: height - 4, "text-anchor": "middle" }, xLabel));
  root.append(svg("text", { transform: `translate(12,${(m.t + height - m.b) / 2}) rotate(-90)`, "text-anchor": "middle" }, yLabel));
  series.forEach((s, k) => {
    const colour = CATEGORICAL[k % CATEGORICAL.length];
    const pts = s.values.map((v, i) => (v === null ? "" : `${X(i).toFixed(1)},${Y(v).toFixed(1)}`)).filter(Boolean).join(" ");
    root.append(svg("polyline", { points: pts, fill: "none", stroke: colour, "stroke-width": 2.5, "stroke-dasharray": s.dash || "" }));
    s.values.forEach((v, i) => {
      if (v === null) return;
      const dot = svg("circle", { cx: X(i), cy: Y(v), r: 3.5, fill: colour });
      dot.append(svg("title", {}, `${s.name}, layer ${i}: ${v.toFixed(3)}`));
      root.append(dot);
    });
    const ly = m.t + 18 * k;
    root.append(svg("line", { x1: width - m.r + 10, x2: width - m.r + 32, y1: ly, y2: ly, stroke: colour, "stroke-width": 2.5, "stroke-dasharray": s.dash || "" }));
    root.append(svg("text", { x: width - m.r + 36, y: ly + 4 }, s.name));
  });
  return root;
}

// A points map: x, y (arrays), colour index per point; hover and click find the nearest point through a grid.
export class PointMap {
  constructor(canvas) {
    this.canvas = canvas; this.ctx = canvas.getContext("2d");
    this.x = []; this.y = []; this.colour = []; this.selected = -1; this.lastDrawMs = 0;
  }
  setPoints(x, y, colour) {
    this.x = x; this.y = y; this.colour = colour;
    const pad = 14, W = this.canvas.width, H = this.canvas.height;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < x.length; i++) {
      if (x[i] < x0) x0 = x[i]; if (x[i] > x1) x1 = x[i]; if (y[i] < y0) y0 = y[i]; if (y[i] > y1) y1 = y[i];
    }
    const sx = (W - 2 * pad) / ((x1 - x0) || 1), sy = (H - 2 * pad) / ((y1 - y0) || 1);
    this.px = new Float32Array(x.length); this.py = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) { this.px[i] = pad + (x[i] - x0) * sx; this.py[i] = H - pad - (y[i] - y0) * sy; }
    this.cell = 12; this.cols = Math.ceil(W / this.cell) + 1;
    this.grid = new Map();
    for (let i = 0; i < x.length; i++) {
      const key = Math.floor(this.py[i] / this.cell) * this.cols + Math.floor(this.px[i] / this.cell);
      const list = this.grid.get(key); if (list) list.push(i); else this.grid.set(key, [i]);
    }
    this.radius = x.length > 5000 ? 1.5 : x.length > 500 ? 3 : 5;
    this.draw();
  }
  draw() {
    const t0 = performance.now(), ctx = this.ctx, r = this.radius;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.globalAlpha = this.x.length > 5000 ? 0.6 : 0.9;
    for (let c = 0; c < CATEGORICAL.length; c++) {  // one path per colour: a few fills, not one per point
      ctx.fillStyle = CATEGORICAL[c]; ctx.beginPath();
      for (let i = 0; i < this.px.length; i++) {
        if (this.colour[i] % CATEGORICAL.length !== c) continue;
        ctx.moveTo(this.px[i] + r, this.py[i]); ctx.arc(this.px[i], this.py[i], r, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (this.selected >= 0) {
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.arc(this.px[this.selected], this.py[this.selected], r + 4, 0, 2 * Math.PI); ctx.stroke();
    }
    this.lastDrawMs = performance.now() - t0;
  }
  // nearest point to canvas coordinates (cx, cy) within `reach` pixels, or -1
  pick(cx, cy, reach = 10) {
    let best = -1, bestD = reach * reach;
    const c0 = Math.floor((cx - reach) / this.cell), c1 = Math.floor((cx + reach) / this.cell);
    const r0 = Math.floor((cy - reach) / this.cell), r1 = Math.floor((cy + reach) / this.cell);
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) {
      for (const i of this.grid.get(r * this.cols + c) || []) {
        const d = (this.px[i] - cx) ** 2 + (this.py[i] - cy) ** 2;
        if (d < bestD) { bestD = d; best = i; }
      }
    }
    return best;
  }
  eventPoint(ev) {
    const box = this.canvas.getBoundingClientRect();
    const cx = ((ev.clientX - box.left) * this.canvas.width) / box.width;
    const cy = ((ev.clientY - box.top) * this.canvas.height) / box.height;
    return { cx, cy, i: this.pick(cx, cy) };
  }
}
