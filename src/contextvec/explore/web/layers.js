// Layers: contextuality per layer (self-similarity, intra-sentence similarity, anisotropy) of every served model.
import { $, el, Status, work, runJob, writeHash } from "./common.js";
import { lineChart } from "./draw.js";

const section = $("#layers");
const status = new Status(section);
const MEASURES = [["self_similarity", "self-similarity", ""], ["intra_sentence", "intra-sentence", "6 4"],
  ["anisotropy", "anisotropy", "2 3"], ["adjusted_self_similarity", "self-sim. − anisotropy", "10 3 2 3"]];

function table(model) {
  const head = el("tr", {}, el("th", { scope: "col", text: "layer" }), ...MEASURES.map(([, name]) => el("th", { scope: "col", text: name })));
  const rows = model.layers.map((r) => el("tr", {}, el("th", { scope: "row", text: String(r.layer) }),
    ...MEASURES.map(([key]) => el("td", { "data-value": String(r[key]), text: r[key].toFixed(3) }))));
  return el("table", { class: "heat numbers" }, el("caption", { text: `${model.name}: ${model.n_words} words, ${model.n_texts} texts` }),
    el("thead", {}, head), el("tbody", {}, ...rows));
}

export async function run() {
  const corpus = $("#layers-corpus").value;
  writeHash("layers", { corpus });
  const job = await work(status, "Measuring layers", (signal, onJob) =>
    runJob("/explore/api/layers", { corpus: corpus.split("\n") }, signal, onJob, status));
  if (!job) return;
  const parts = job.result.models.flatMap((m) => [
    lineChart(MEASURES.map(([key, name, dash]) => ({ name, dash, values: m.layers.map((r) => r[key]) })),
      { title: `${m.name}: contextuality by layer`, xLabel: "layer (0 = embeddings)", yLabel: "cosine" }),
    table(m),
  ]);
  $(".results", section).replaceChildren(...parts,
    el("p", { class: "muted", text: "Lower self-similarity = more contextual (Ethayarajh 2019); anisotropy is the mean cosine of random words." }));
}

export function restore(params) {
  if (params.has("corpus")) $("#layers-corpus").value = params.get("corpus");
  return run();
}

export function init() {
  $("form", section).addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
}
