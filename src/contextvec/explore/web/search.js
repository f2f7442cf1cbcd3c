// Search: search by example against the server's index (POST /search), hits highlighted in their sentences.
import { $, el, api, Status, work, writeHash } from "./common.js";

const section = $("#search");
const status = new Status(section);

export async function run() {
  const state = { text: $("#search-text").value, word: $("#search-word").value.trim(), k: $("#search-k").value,
    any: $("#search-any").checked ? "1" : "" };
  writeHash("search", state);
  const body = { text: state.text, word: state.word, k: Number(state.k) || 10, any_word: Boolean(state.any) };
  const answer = await work(status, "Searching", (signal) => api("/search", body, { signal }));
  if (!answer) return;
  const hits = answer.hits.map((h) => {
    const a = h.start - h.sentence_start, b = h.end - h.sentence_start;
    return el("li", {}, el("span", { class: "score", text: h.score.toFixed(3) }), h.text.slice(0, a),
      el("mark", { text: h.text.slice(a, b) }), h.text.slice(b), el("span", { class: "muted", text: `  (${h.doc_id})` }));
  });
  $(".results", section).replaceChildren(el("h3", { text: `${answer.hits.length} uses like “${state.word}” (${answer.model}, ${answer.layers})` }),
    el("ol", { class: "hits" }, ...hits));
}

export function restore(params) {
  if (params.has("text")) $("#search-text").value = params.get("text");
  if (params.has("word")) $("#search-word").value = params.get("word");
  if (params.has("k")) $("#search-k").value = params.get("k");
  $("#search-any").checked = params.get("any") === "1";
  return run();
}

export function init(info) {
  $("form", section).addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
  if (!info.index) {
    status.note("No index: start the explorer with --index DIR (a folder from `contextvec index build`) to search by example.");
    $("button[type=submit]", section).disabled = true;
  }
}
