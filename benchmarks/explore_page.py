"""The explorer in headless Chromium: page weight, time to first render, and the senses map with 100k points on
a canvas against the same points as one SVG node each (what a page without a canvas would do), interleaved.
With --screenshots it also writes docs/img/explore-*.png from the real models (minilm, GloVe beside it).

    python benchmarks/explore_page.py --runs 5 --screenshots      # -> benchmarks/results/explore_page.json

The server is the real command (`contextvec explore`) on a free loopback port, with a small minilm index of
SAMPLE for the Search and Senses views. Chromium runs with --disable-gpu: canvas and SVG are rasterised on the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from harness import ROOT, heavy_lock, write_result

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SAMPLE = [
    "I keep my savings in the bank.", "The bank raised its interest rates again.",
    "The bank approved my loan after a long review.", "She deposited the cheque at the bank on Monday.",
    "They robbed the bank in broad daylight.", "The central bank cut rates to fight the recession.",
    "He works as a teller at the local bank.", "The bank charged a fee for the transfer.",
    "We sat on the bank of the river.", "Fish gathered near the muddy bank of the stream.",
    "Reeds grew thick along the bank of the lake.", "The boat drifted toward the far bank of the river.",
    "Children played on the grassy bank by the water.", "The river overflowed its bank after the storm.",
    "A heron stood still on the bank, waiting for fish.", "They camped on the east bank of the canal.",
    "The plane began to bank sharply to the left.", "A bank of fog rolled in from the sea.",
    "You can bank on her to finish the job.", "A bank of switches lined the wall of the control room.",
]  # fmt: skip

SVG_PEER = """async (n) => {
  let seed = 1; const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const t0 = performance.now();
  const NS = "http://www.w3.org/2000/svg", svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", 640); svg.setAttribute("height", 420); svg.id = "peer";
  const colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"];
  for (let i = 0; i < n; i++) {
    const c = i % 6, el = document.createElementNS(NS, "circle");
    el.setAttribute("cx", 320 + 60 * (Math.cos(c) * 3 + rand() + rand() + rand() - 1.5));
    el.setAttribute("cy", 210 + 40 * (Math.sin(c) * 3 + rand() + rand() + rand() - 1.5));
    el.setAttribute("r", 1.5); el.setAttribute("fill", colours[c]); svg.append(el);
  }
  document.body.append(svg);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));  // laid out and painted
  const ms = performance.now() - t0;
  const t1 = performance.now();
  for (let k = 0; k < 1000; k++) document.elementFromPoint(rand() * 640, rand() * 420);
  const pick = performance.now() - t1;
  svg.remove();
  return { draw_ms: ms, pick_ms_per_1000: pick };
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(index: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "contextvec", "explore", "--model", "minilm", "--index", str(index),
           "--port", str(port), "--static-model", "glove-50d"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT / "src")})
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the explorer did not start")


def load_once(browser: Any, url: str) -> dict[str, float]:
    """One cold load in a fresh context: bytes transferred and the paint / ready times."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sizes: list[int] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if "/explore" in r.url and "/api/" not in r.url else None)
    page.goto(f"{url}/explore")
    page.wait_for_selector("body[data-ready=true]")
    times = page.evaluate("""() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      ready: performance.getEntriesByName('explore-ready')[0]?.startTime ?? NaN })""")
    context.close()
    return {"bytes": float(sum(sizes)), "files": float(len(sizes)), "fcp_ms": times["fcp"], "ready_ms": times["ready"]}


def points(browser: Any, url: str, n: int, runs: int) -> dict[str, Any]:
    """Canvas (this page) and one SVG node per point (the peer), interleaved run by run."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{url}/explore")
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_role("tab", name="Senses").click()
    canvas, svg = [], []
    for _ in range(runs):
        canvas.append(page.evaluate("(n) => window.__exploreBench(n, 5)", n))
        svg.append(page.evaluate(SVG_PEER, n))
    context.close()
    draw_c = statistics.median(statistics.median(r["draw_ms"]) for r in canvas)
    build_c = statistics.median(r["setup_ms"] for r in canvas)  # layout + grid + first draw
    draw_s = statistics.median(r["draw_ms"] for r in svg)
    pick_c = statistics.median(r["pick_ms_per_1000"] for r in canvas)
    pick_s = statistics.median(r["pick_ms_per_1000"] for r in svg)
    return {
        "n": n, "runs": runs,
        "canvas": {"first_draw_ms": build_c, "redraw_ms": draw_c, "hover_lookup_ms_per_1000": pick_c},
        "svg_peer": {"first_draw_ms": draw_s, "hover_lookup_ms_per_1000": pick_s},
        "ratio_first_draw_svg_over_canvas": draw_s / build_c,
        "raw": {"canvas": canvas, "svg": svg},
    }  # fmt: skip


def screenshots(browser: Any, url: str, views: list[str] | None = None) -> list[str]:
    out = ROOT / "docs" / "img"
    shots = {
        "compare": {"texts": "\n".join(SAMPLE[i] for i in (2, 8, 13, 3)), "word": "bank", "layer": "4"},
        "senses": {"word": "bank", "source": "index"},
        "layers": {},
        "attention": {"text": "The animal didn't cross the street because it was too tired.", "layer": "2",
                      "head": "mean"},
        "inside": {"text": "The animal didn't cross the street because it was too tired.", "word": "it",
                   "layer": "2", "head": "3"},
        "search": {"text": "We sat on the bank of the river.", "word": "bank", "k": "8"},
    }  # fmt: skip
    written = []
    for width, suffix in ((1280, ""), (420, "-narrow")):
        for view, state in shots.items():
            if (suffix and view not in ("compare", "senses")) or (views and view not in views):
                continue
            context = browser.new_context(viewport={"width": width, "height": 800})
            page = context.new_page()
            page.goto(f"{url}/explore#" + urllib.parse.urlencode({"view": view, **state}))
            page.wait_for_selector("body[data-restored=true]", timeout=300_000)
            if view == "layers":  # the permalink runs the measurement
                page.get_by_role("img", name=re.compile("contextuality by layer")).wait_for(timeout=300_000)
            if view == "senses":
                page.mouse.move(*_first_point(page))
            path = out / f"explore-{view}{suffix}.png"
            page.screenshot(path=str(path), full_page=True)
            written.append(str(path.relative_to(ROOT)))
            context.close()
    return written


def _first_point(page: Any) -> tuple[float, float]:
    box = page.get_by_role("img", name=re.compile("Uses of the word")).bounding_box()
    px, py, w = page.evaluate("() => { const m = window.__exploreMap; return [m.px[2], m.py[2], m.canvas.width]; }")
    return box["x"] + px * box["width"] / w, box["y"] + py * box["width"] / w


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--screenshots", action="store_true")
    ap.add_argument("--only-screenshots", action="store_true", help="take the pictures, measure nothing")
    ap.add_argument("--views", nargs="*", help="only these views' pictures (e.g. inside)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sample.txt").write_text("\n".join(SAMPLE) + "\n", encoding="utf-8")
        subprocess.run([sys.executable, "-m", "contextvec", "index", "build", str(Path(tmp) / "sample.txt"),
                        "--out", str(Path(tmp) / "idx"), "--model", "minilm"], check=True, cwd=ROOT,
                       env=os.environ | {"PYTHONPATH": str(ROOT / "src")})  # fmt: skip
        port = free_port()
        server = start_server(Path(tmp) / "idx", port)
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
                shots = screenshots(browser, url, args.views) if args.screenshots or args.only_screenshots else []
                if args.only_screenshots:
                    return
                with heavy_lock():
                    loads = [load_once(browser, url) for _ in range(args.runs)]
                    maps = [points(browser, url, n, args.runs) for n in (10_000, 100_000)]
                version = browser.version
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=60)
    result = {
        "benchmark": "explore_page",
        "chromium": version,
        "page": {
            "bytes": loads[0]["bytes"], "files": loads[0]["files"],
            "first_contentful_paint_ms_median": statistics.median(r["fcp_ms"] for r in loads),
            "ready_ms_median": statistics.median(r["ready_ms"] for r in loads),
            "runs": loads,
        },
        "points": maps,
        "screenshots": shots,
    }  # fmt: skip
    write_result("explore_page.json", result)
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "points"}
            | {"points": [{k: v for k, v in m.items() if k != "raw"} for m in maps]},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
