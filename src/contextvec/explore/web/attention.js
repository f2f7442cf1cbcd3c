// Attention: attention by word (rows attend to columns) for a chosen layer and head, or their mean.
import { $, el, api, Status, work, writeHash } from "./common.js";
import { heatTable } from "./draw.js";

const section = $("#attention");
const status = new Status(section);
let data = null, wanted = null;

function options(select, n, name) {
  const keep = select.value;
  select.replaceChildren(el("option", { value: "mean", text: `mean of ${n}` }),
    ...Array.from({ length: n }, (_, i) => el("option", { value: String(i), text: `${name} ${i}` })));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function matrix() {
  const l = $("#attention-layer").value, h = $("#attention-head").value;
  const layers = l === "mean" ? [...data.weights.keys()] : [Number(l)];
  const heads = h === "mean" ? [...Array(data.heads).keys()] : [Number(h)];
  const n = data.labels.length, out = Array.from({ length: n }, () => new Array(n).fill(0));
  for (const a of layers) for (const b of heads) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    out[i][j] += data.weights[a][b][i][j] / (layers.length * heads.length);
  }
  return out;
}

function draw() {
  const l = $("#attention-layer").value, h = $("#attention-head").value;
  writeHash("attention", { text: data.text, layer: l, head: h });
  const caption = `${data.model}: layer ${l}, head ${h} (rows attend to columns${data.causal ? "; a decoder looks left only" : ""})`;
  $(".results", section).replaceChildren(heatTable(matrix(), data.labels, data.labels, caption, { lo: 0, digits: 2 }));
}

export async function run() {
  const text = $("#attention-text").value;
  writeHash("attention", { text, layer: $("#attention-layer").value || "mean", head: $("#attention-head").value || "mean" });
  const answer = await work(status, "Computing attention", (signal) => api("/explore/api/attention", { text }, { signal }));
  if (!answer) return;
  data = answer;
  options($("#attention-layer"), data.layers, "layer");
  options($("#attention-head"), data.heads, "head");
  if (wanted) { $("#attention-layer").value = wanted.layer; $("#attention-head").value = wanted.head; wanted = null; }
  draw();
}

export function restore(params) {
  if (params.has("text")) $("#attention-text").value = params.get("text");
  wanted = { layer: params.get("layer") || "mean", head: params.get("head") || "mean" };
  return run();
}

export function init() {
  $("form", section).addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
  $("#attention-layer").addEventListener("change", () => data && draw());
  $("#attention-head").addEventListener("change", () => data && draw());
}
