// The page: tabs (arrow keys move between them), the models line, and restoring a view from the URL (permalinks).
import { $, api, Status, readHash, setKey, exportHtml } from "./common.js";
import * as compare from "./compare.js";
import * as senses from "./senses.js";
import * as layers from "./layers.js";
import * as attention from "./attention.js";
import * as inside from "./inside.js";
import * as search from "./search.js";

const VIEWS = { compare, senses, layers, attention, inside, search };
const TITLES = { compare: "Compare", senses: "Senses", layers: "Layers", attention: "Attention", inside: "Inside", search: "Search" };

function select(view, focus = false) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.getAttribute("aria-controls") === view;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $("#" + tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
}

function tabs() {
  const list = [...document.querySelectorAll("[role=tab]")];
  list.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab.getAttribute("aria-controls")));
    tab.addEventListener("keydown", (ev) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (step) select(list[(i + step + list.length) % list.length].getAttribute("aria-controls"), true);
      if (ev.key === "Home") select(list[0].getAttribute("aria-controls"), true);
      if (ev.key === "End") select(list[list.length - 1].getAttribute("aria-controls"), true);
    });
  });
}

async function start() {
  tabs();
  $("#key-form").addEventListener("submit", (ev) => {
    ev.preventDefault(); setKey($("#api-key").value); $("#key-form").hidden = true; location.reload();
  });
  for (const [name, view] of Object.entries(VIEWS)) {
    $(`#${name} .export`).addEventListener("click", () => exportHtml($("#" + name), `contextvec explorer: ${TITLES[name]}`));
  }
  let info;
  try { info = await api("/explore/api/info"); }
  catch (e) { new Status($("#compare")).error(e.message); $("#models").textContent = "not connected"; return; }
  $("#models").textContent = "models: " + info.models.map((m) => `${m.name} (${m.layers} layers)`).join(", ") +
    (info.static_model ? ` · static: ${info.static_model}` : "") + (info.index ? ` · index: ${info.index.model}` : "");
  for (const view of Object.values(VIEWS)) view.init(info);
  const params = readHash(), view = params.get("view");
  document.body.dataset.ready = "true";
  performance.mark("explore-ready");
  if (view && VIEWS[view]) { select(view); await VIEWS[view].restore(params); }
  document.body.dataset.restored = "true";
}

start();
