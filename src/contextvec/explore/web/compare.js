// Compare: a word's cosine matrix across sentences (layer slider; the model's recipe, as `contextvec compare`
// prints it; the static model beside it), and a word-by-word heat-map between two of the sentences.
import { $, el, api, Status, work, writeHash } from "./common.js";
import { heatTable } from "./draw.js";

const section = $("#compare");
const status = new Status(section);
let last = null;  // the last compare answer

const texts = () => $("#compare-texts").value.split("\n").map((t) => t.trim()).filter(Boolean);

function mark(text, span) {
  return el("span", {}, text.slice(0, span[0]), el("mark", { text: text.slice(span[0], span[1]) }), text.slice(span[1]));
}

async function showWords() {
  const box = $(".words", section), first = texts()[0];
  if (!first) { box.replaceChildren(); return; }
  let answer;
  try { answer = await api("/explore/api/words", { text: first }); } catch (e) { status.error(e.message); return; }
  const word = $("#compare-word").value.toLowerCase();
  box.replaceChildren(...answer.words.map((w) => el("button", {
    type: "button", text: w.text, "aria-pressed": String(w.text.toLowerCase() === word),
    onclick: () => { $("#compare-word").value = w.text; $("#compare-occurrence").value = "1"; run(); },
  })));
}

function drawMatrices() {
  const box = $(".matrices", section), labels = last.texts.map((_, i) => `[${i + 1}]`);
  const layer = Number($("#compare-layer").value);
  $("#compare-layer-value").textContent = `${layer} of ${last.per_layer.length - 1}`;
  const parts = [
    heatTable(last.per_layer[layer].cosine, labels, labels,
      `${last.model}, layer ${layer}${last.context_only ? " (context only, as the recipe)" : ""}`),
    heatTable(last.recipe.cosine, labels, labels, `${last.model}, recipe (${last.recipe.layers})`),
  ];
  if (last.static && last.static.cosine) parts.push(heatTable(last.static.cosine, labels, labels, `${last.static.model} (static)`));
  else if (last.static) parts.push(el("p", { class: "note", text: `Static model: ${last.static.error}` }));
  const list = el("ol", { class: "sentences" }, ...last.texts.map((t, i) => el("li", {}, mark(t, last.spans[i]))));
  box.replaceChildren(el("div", {}, el("h3", { text: `“${last.word}” in ${last.texts.length} sentences` }), list), ...parts);
}

async function drawPair() {
  const a = Number($("#pair-a").value), b = Number($("#pair-b").value);
  const layer = Number($("#compare-layer").value);
  const answer = await work(status, "Word-by-word similarity", (signal) =>
    api("/explore/api/pair", { first: last.texts[a], second: last.texts[b], layer }, { signal }));
  if (!answer) return;
  $(".pair", section).replaceChildren(heatTable(answer.cosine, answer.rows, answer.cols,
    `Word by word: sentence ${a + 1} (rows) vs ${b + 1} (columns), ${answer.layers}`, { digits: 2 }));
}

export async function run() {
  const state = { texts: texts().join("\n"), word: $("#compare-word").value.trim(), occurrence: $("#compare-occurrence").value };
  writeHash("compare", { ...state, layer: $("#compare-layer").value });
  showWords();
  if (!state.word) { status.error("type a word (or click one in the first sentence) to compare."); return; }
  const body = { texts: texts(), word: state.word, occurrence: Number(state.occurrence) || 1 };
  const answer = await work(status, "Comparing", (signal) => api("/explore/api/compare", body, { signal }));
  if (!answer) return;
  last = { ...answer, texts: body.texts };
  const slider = $("#compare-layer"), L = answer.per_layer.length - 1, wanted = Number(readLayer());
  slider.max = String(L);
  slider.value = String(Number.isFinite(wanted) && wanted >= 0 && wanted <= L ? wanted : L);
  $(".layer-row", section).hidden = false;
  const options = body.texts.map((t, i) => el("option", { value: String(i), text: `${i + 1}: ${t.slice(0, 40)}` }));
  $("#pair-a").replaceChildren(...options.map((o) => o.cloneNode(true)));
  $("#pair-b").replaceChildren(...options);
  $("#pair-b").value = "1";
  $(".pair-row", section).hidden = false;
  drawMatrices();
  writeHash("compare", { ...state, layer: slider.value });
  await drawPair();
}

let pendingLayer = null;
const readLayer = () => (pendingLayer !== null ? pendingLayer : $("#compare-layer").value);

export function restore(params) {
  if (params.has("texts")) $("#compare-texts").value = params.get("texts");
  if (params.has("word")) $("#compare-word").value = params.get("word");
  if (params.has("occurrence")) $("#compare-occurrence").value = params.get("occurrence");
  pendingLayer = params.has("layer") ? params.get("layer") : null;
  return run().finally(() => { pendingLayer = null; });
}

export function init() {
  $("form", section).addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
  $("#compare-layer").addEventListener("input", () => {
    if (!last) return;
    drawMatrices();
    writeHash("compare", { texts: last.texts.join("\n"), word: last.word, occurrence: $("#compare-occurrence").value, layer: $("#compare-layer").value });
  });
  $("#compare-layer").addEventListener("change", () => last && drawPair());
  $("#pair-a").addEventListener("change", drawPair);
  $("#pair-b").addEventListener("change", drawPair);
}
