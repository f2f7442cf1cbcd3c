// Shared by every view: calling the server, messages and progress in the page, the URL state (permalinks),
// colour scales and export to a self-contained HTML file. Written for this page; no third-party code.

export const $ = (sel, root = document) => root.querySelector(sel);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

let apiKey = sessionStorage.getItem("contextvec-key") || "";
export function setKey(key) { apiKey = key; sessionStorage.setItem("contextvec-key", key); }

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

export async function api(path, body, { method, signal } = {}) {
  const opts = { method: method || (body === undefined ? "GET" : "POST"), headers: {}, signal };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  if (apiKey) opts.headers.Authorization = "Bearer " + apiKey;
  let response;
  try { response = await fetch(path, opts); }
  catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("the server did not answer (" + e.message + "); is it still running?", 0);
  }
  const text = await response.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = null; }
  if (!response.ok) {
    if (response.status === 401) $("#key-form").hidden = false;
    throw new ApiError(data && data.error ? data.error.message : `HTTP ${response.status}`, response.status);
  }
  return data;
}

// One status line per section: progress with a Cancel button while working, the error message on failure.
export class Status {
  constructor(section) { this.box = $(".status", section); this.section = section; }
  clear() { this.box.replaceChildren(); this.section.removeAttribute("aria-busy"); }
  error(message) {
    this.section.removeAttribute("aria-busy");
    this.box.setAttribute("role", "alert");
    this.box.replaceChildren(el("span", { class: "error", text: "Error: " + message }));
  }
  note(message) { this.box.setAttribute("role", "status"); this.box.replaceChildren(el("span", { text: message })); }
  working(label, onCancel) {
    this.box.setAttribute("role", "status");
    this.section.setAttribute("aria-busy", "true");
    this.bar = el("progress", { "aria-label": label + " progress" });
    const cancel = el("button", { type: "button", text: "Cancel", onclick: onCancel });
    this.text = el("span", { text: label + "…" });
    this.box.replaceChildren(this.text, this.bar, cancel);
  }
  progress(done, total, note = null) {
    if (!this.bar || !total) return;
    this.bar.max = total; this.bar.value = done;
    const where = note === null ? `${done} of ${total}` : note;
    this.text.textContent = this.text.textContent.replace(/ \(.*$/, "") + ` (${where})`;
  }
}

// Run one request (or one job) with progress and cancellation; errors end up in the status line.
export async function work(status, label, task) {
  const controller = new AbortController();
  let jobId = null;
  status.working(label, () => {
    controller.abort();
    if (jobId) api(`/explore/api/jobs/${jobId}`, undefined, { method: "DELETE" }).catch(() => {});
  });
  try {
    const result = await task(controller.signal, (id) => { jobId = id; });
    status.clear();
    return result;
  } catch (e) {
    if (e.name === "AbortError" || e.message === "cancelled") status.note("Cancelled.");
    else status.error(e.message);
    return null;
  }
}

// Start a job, then poll it until it ends; `onJob` learns its id (for Cancel).
export async function runJob(path, body, signal, onJob, status) {
  let job = await api(path, body, { signal });
  onJob(job.id);
  while (job.state === "running" || job.state === "queued") {
    status.progress(job.done, job.total, job.state === "queued" ? "waiting for a free slot" : null);
    await new Promise((resolve, reject) => {
      const t = setTimeout(resolve, 150);
      signal.addEventListener("abort", () => { clearTimeout(t); reject(new DOMException("cancelled", "AbortError")); });
    });
    job = await api(`/explore/api/jobs/${job.id}`, undefined, { signal });
  }
  if (job.state === "error") throw new ApiError(job.error, 400);
  if (job.state === "cancelled") throw new Error("cancelled");
  return job;
}

// ---- URL state: "#view=compare&word=bank&..." ----
export function readHash() { return new URLSearchParams(location.hash.slice(1)); }
export function writeHash(view, state) {
  const params = new URLSearchParams({ view, ...state });
  history.replaceState(null, "", "#" + params.toString());
  const link = $(`#${view} .permalink`);
  if (link) link.href = location.href;
}

// ---- colour scales (colour-blind safe) ----
// viridis: matplotlib's colormap sampled at 10 points, interpolated linearly in sRGB.
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"]
  .map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
export function viridis(t) {
  const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2), f = x - i;
  const c = VIRIDIS[i].map((a, k) => Math.round(a + (VIRIDIS[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
export const textOn = (t) => (t > 0.62 ? "#000" : "#fff");  // readable text on a viridis cell
// Okabe & Ito's eight colours, distinguishable with every common colour-vision deficiency.
export const CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

export function scaleLegend(lo, hi) {
  const stops = Array.from({ length: 11 }, (_, i) => `${viridis(i / 10)} ${i * 10}%`).join(",");
  return el("div", { class: "scale", "aria-hidden": "true" }, el("span", { text: lo.toFixed(2) }),
    el("span", { class: "bar", style: `background:linear-gradient(to right,${stops})` }), el("span", { text: hi.toFixed(2) }));
}

// ---- export: the section's results as one HTML file (styles inlined, canvases as images, no scripts) ----
export function exportHtml(section, title) {
  const css = [...document.styleSheets].flatMap((s) => [...s.cssRules].map((r) => r.cssText)).join("\n");
  const clone = $(".results", section).cloneNode(true);
  const canvases = $(".results", section).querySelectorAll("canvas");
  clone.querySelectorAll("canvas").forEach((c, i) => {
    c.replaceWith(el("img", { src: canvases[i].toDataURL("image/png"), alt: c.getAttribute("aria-label") || "" }));
  });
  clone.querySelectorAll("form, select, input, button, .tooltip, [hidden]").forEach((n) => n.remove());
  const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const html = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>` +
    `<style>${css}</style></head><body><main><h1>${esc(title)}</h1>` +
    `<p class="muted">Exported from the contextvec explorer; state: <code>${esc(location.hash)}</code></p>` +
    `${clone.innerHTML}</main></body></html>\n`;
  const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
  const a = el("a", { href: url, download: `contextvec-${section.id}.html` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
