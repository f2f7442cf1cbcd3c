// Inside: one word traced through the reference transformer: its q, k, v (heat strips), its raw scores and
// attention weights over the words for a layer and head, and its residual stream across layers.
import { $, el, api, Status, work, writeHash } from "./common.js";
import { heatTable, stripTable, lineChart } from "./draw.js";

const section = $("#inside");
const status = new Status(section);
let data = null, wanted = null;

function options(select, n, name) {
  const keep = select.value;
  select.replaceChildren(...Array.from({ length: n }, (_, i) => el("option", { value: String(i), text: `${name} ${i}` })));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function state() {
  return { text: $("#inside-text").value, word: $("#inside-word").value, occurrence: $("#inside-occurrence").value,
    layer: $("#inside-layer").value || "0", head: $("#inside-head").value || "0" };
}

// The words of the sentence as buttons: a click looks inside that word (its occurrence counted among the words).
function wordButtons() {
  const seen = {};
  const buttons = data.labels.map((label, i) => {
    if (!data.is_word[i]) return null;
    const key = label.toLowerCase(), occurrence = (seen[key] = (seen[key] || 0) + 1);
    return el("button", { type: "button", text: label, "aria-pressed": String(i === data.row), onclick: () => {
      $("#inside-word").value = label; $("#inside-occurrence").value = String(occurrence); run();
    } });
  }).filter(Boolean);
  $(".words", section).replaceChildren(...buttons);
}

function streamTable(s) {
  const head = el("tr", {}, ...["layer", "norm", "cos to layer 0", "cos to previous"].map((t) => el("th", { scope: "col", text: t })));
  const cell = (v) => el("td", { "data-value": String(v), text: v === null ? "–" : v.toFixed(3) });
  const rows = s.norm.map((n, i) => el("tr", {}, el("th", { scope: "row", text: String(i) }), cell(n), cell(s.cos_first[i]), cell(s.cos_previous[i])));
  return el("table", { class: "heat numbers" }, el("caption", { text: `“${data.word}”: residual stream by layer` }),
    el("thead", {}, head), el("tbody", {}, ...rows));
}

function draw() {
  const l = Number($("#inside-layer").value), h = Number($("#inside-head").value), w = `“${data.word}”`;
  writeHash("inside", state());
  const where = `layer ${l}, head ${h}`;
  const strips = [], names = [];
  for (const [name, values] of [["q", data.q], ["k", data.k], ["v", data.v]]) {
    values[l][h].forEach((vec, p) => { strips.push(vec); names.push(`${name} · ${data.pieces[p]}`); });
  }
  const s = data.stream, adds = (x) => [null, ...x];  // block k's output lands in the stream at layer k+1
  $(".results", section).replaceChildren(
    el("h3", { text: `${data.model}: ${w} (tokens: ${data.pieces.join(" ")}), ${where}` }),
    stripTable(strips, names, `q, k, v of ${w}, ${where}`),
    heatTable([data.scores[l][h]], [data.word], data.labels, `Raw scores q·k/√d from ${w}, ${where}`, { digits: 2 }),
    heatTable([data.weights[l][h]], [data.word], data.labels, `Attention weights from ${w}, ${where}`, { lo: 0, digits: 3 }),
    el("div", { class: "charts" },
      lineChart([{ name: "‖stream‖", values: s.norm }, { name: "‖attention adds‖", values: adds(data.attn_out_norm), dash: "6 4" },
        { name: "‖MLP adds‖", values: adds(data.mlp_out_norm), dash: "2 3" }],
        { title: `${w}: norm of the residual stream`, xLabel: "layer (0 = embeddings)", yLabel: "norm", width: 520 }),
      lineChart([{ name: "cos to layer 0", values: s.cos_first }, { name: "cos to previous", values: s.cos_previous, dash: "6 4" }],
        { title: `${w}: how the stream turns`, xLabel: "layer (0 = embeddings)", yLabel: "cosine", width: 520 })),
    streamTable(s),
    el("p", { class: "muted", text: "From the reference transformer's trace (contextvec.transformer). Rows and columns are words " +
      "as in Attention: weights summed over a word's tokens, scores averaged" + (data.causal ? "; a decoder sees only to its left (–)." : ".") }));
}

export async function run() {
  const st = state();
  writeHash("inside", st);
  const body = { text: st.text, word: st.word, occurrence: Number(st.occurrence) || 1 };
  const answer = await work(status, "Tracing the word", (signal) => api("/explore/api/inside", body, { signal }));
  if (!answer) return;
  data = answer;
  options($("#inside-layer"), data.layers, "layer");
  options($("#inside-head"), data.heads, "head");
  if (wanted) { $("#inside-layer").value = wanted.layer; $("#inside-head").value = wanted.head; wanted = null; }
  wordButtons();
  draw();
}

export function restore(params) {
  for (const key of ["text", "word", "occurrence"]) if (params.has(key)) $(`#inside-${key}`).value = params.get(key);
  wanted = { layer: params.get("layer") || "0", head: params.get("head") || "0" };
  return run();
}

export function init() {
  $("form", section).addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
  $("#inside-layer").addEventListener("change", () => data && draw());
  $("#inside-head").addEventListener("change", () => data && draw());
}
