// Senses: a word's uses as points (PCA of its contextual vectors), coloured by induced sense; hover shows the
// sentence, click shows the nearest uses; label a few points and the server's labeller predicts the rest.
import { $, el, api, Status, work, runJob, writeHash, CATEGORICAL } from "./common.js";
import { PointMap } from "./draw.js";

const section = $("#senses");
const status = new Status(section);
const map = new PointMap($("#senses-map"));
window.__exploreMap = map;  // for the browser tests and the benchmark (benchmarks/explore_page.py)
let data = null, jobId = null, labels = {}, predicted = null;

function sentence(i) {
  const s = data.sentence[i], [a, b] = data.span[i];
  return el("span", {}, s.slice(0, a), el("mark", { text: s.slice(a, b) }), s.slice(b));
}

function legend() {
  const box = $(".legend", section);
  if (predicted) {
    box.replaceChildren(el("strong", { text: "Predicted:" }), ...predicted.senses.map((name, k) =>
      el("span", {}, el("span", { class: "swatch", style: `background:${CATEGORICAL[k % 8]}` }),
        `${name} (${predicted.predicted.filter((p) => p === name).length})`)));
    return;
  }
  box.replaceChildren(el("strong", { text: `${data.k} sense(s):` }), ...data.clusters.map((c) =>
    el("span", {}, el("span", { class: "swatch", style: `background:${CATEGORICAL[c.label % 8]}` }),
      `sense ${c.label + 1} (${c.size}): ${c.keywords.join(", ")}`)));
}

function pick(i) {
  if (!data || i < 0 || i >= data.x.length) return;
  map.selected = i; map.draw();
  $("#senses-point").value = String(i);
  const near = data.neighbours[i].map((j) => el("li", {}, `#${j} `, sentence(j)));
  const guess = predicted ? ` — predicted: ${predicted.predicted[i]}` : "";
  $(".picked", section).replaceChildren(el("h3", { text: `Point #${i}, sense ${data.cluster[i] + 1}${guess}` }),
    el("p", {}, sentence(i)), el("p", { text: "Nearest uses:" }), el("ol", { class: "nearest" }, ...near));
}

function draw() {
  const colour = predicted ? predicted.predicted.map((p) => predicted.senses.indexOf(p)) : data.cluster;
  map.setPoints(data.x, data.y, colour);
  legend();
}

export async function run() {
  const word = $("#senses-word").value.trim(), source = $("#senses-source").value, k = $("#senses-k").value;
  writeHash("senses", { word, source, k, corpus: $("#senses-corpus").value });
  const body = { word, source, corpus: $("#senses-corpus").value.split("\n"), k: k ? Number(k) : null };
  const job = await work(status, "Embedding the uses", (signal, onJob) =>
    runJob("/explore/api/senses", body, signal, onJob, status));
  if (!job) return;
  data = job.result; jobId = job.id; labels = {}; predicted = null;
  $(".label-form", section).hidden = false;
  $(".labels-given", section).textContent = "";
  draw();
  pick(0);
  status.note(`${data.x.length} uses of “${data.word}” (${data.model}, ${data.layers}).`);
}

async function predict() {
  const answer = await work(status, "Predicting", (signal) =>
    api(`/explore/api/senses/${jobId}/label`, { labels }, { signal }));
  if (!answer) return;
  predicted = answer; draw(); pick(map.selected);
}

export function restore(params) {
  for (const [key, id] of [["word", "#senses-word"], ["source", "#senses-source"], ["k", "#senses-k"], ["corpus", "#senses-corpus"]]) {
    if (params.has(key)) $(id).value = params.get(key);
  }
  return run();
}

export function init() {
  const canvas = $("#senses-map"), tip = $(".tooltip", section);
  $("form", section).addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
  canvas.addEventListener("mousemove", (ev) => {
    if (!data) return;
    const { i } = map.eventPoint(ev);
    if (i < 0) { tip.hidden = true; return; }
    tip.replaceChildren(el("strong", { text: `#${i} · sense ${data.cluster[i] + 1}` }), el("br"), sentence(i));
    const box = canvas.getBoundingClientRect();
    tip.style.left = `${ev.clientX - box.left + 12}px`; tip.style.top = `${ev.clientY - box.top + 12}px`;
    tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
  canvas.addEventListener("click", (ev) => { if (data) { const { i } = map.eventPoint(ev); if (i >= 0) pick(i); } });
  canvas.addEventListener("keydown", (ev) => {
    if (!data) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
    if (step) { ev.preventDefault(); pick((map.selected + step + data.x.length) % data.x.length); }
  });
  $("#senses-point").addEventListener("change", () => pick(Number($("#senses-point").value)));
  $(".label-form", section).addEventListener("submit", (ev) => {
    ev.preventDefault();
    const i = Number($("#senses-point").value), name = $("#senses-label").value.trim();
    if (!name) { status.error("type a sense name for the point, then press Label point."); return; }
    labels[String(i)] = name;
    $(".labels-given", section).textContent = Object.entries(labels).map(([p, n]) => `#${p}: ${n}`).join(", ");
    $("#senses-label").value = "";
  });
  $(".predict", section).addEventListener("click", predict);
}

// Measuring the map (docs/explore.md): n synthetic points in 6 clusters, drawn `repeat` times, and hover lookups.
window.__exploreBench = (n, repeat = 5) => {
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const x = new Float32Array(n), y = new Float32Array(n), c = new Array(n);
  for (let i = 0; i < n; i++) {
    c[i] = i % 6;
    x[i] = Math.cos(c[i]) * 3 + (rand() + rand() + rand() - 1.5);
    y[i] = Math.sin(c[i]) * 3 + (rand() + rand() + rand() - 1.5);
  }
  const t0 = performance.now();
  map.setPoints(x, y, c);
  const setup = performance.now() - t0, draws = [];
  for (let r = 0; r < repeat; r++) { map.draw(); draws.push(map.lastDrawMs); }
  const t1 = performance.now();
  for (let k = 0; k < 1000; k++) map.pick(rand() * map.canvas.width, rand() * map.canvas.height);
  return { n, setup_ms: setup, draw_ms: draws, pick_ms_per_1000: performance.now() - t1 };
};
