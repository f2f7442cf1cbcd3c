"""Load test of `contextvec serve` with wrk on 127.0.0.1: requests/s and p50/p99 latency at several
concurrency levels, dynamic batching on vs off (one request per forward pass).

Each request embeds one sentence of the Lee news corpus through POST /v1/embeddings.
Needs wrk (Debian: apt-get install wrk).

    python benchmarks/serve_load.py --model minilm --duration 10     # -> benchmarks/results/serve_load.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from throughput import load_sentences  # noqa: E402

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lua_script(sentences: list[str], model: str) -> str:
    bodies = ",\n".join(json.dumps(json.dumps({"model": model, "input": s})) for s in sentences)
    return f"""
local bodies = {{
{bodies}
}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, "/v1/embeddings", nil, bodies[(i % #bodies) + 1])
end
"""


def parse(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        lat[pct] = float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "requests_per_s": rps,
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def run_mode(
    model: str,
    batching: bool,
    levels: list[int],
    duration: int,
    script: Path,
    engine: tuple[str, str] = ("torch", "float32"),
) -> list[dict[str, object]]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "contextvec.cli",
        "serve",
        "--model",
        model,
        "--port",
        str(port),
        "--device",
        "cpu",
        "--batching" if batching else "--no-batching",
        "--backend",
        engine[0],
        "--dtype",
        engine[1],
    ]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit(f"server did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.5)
        rows = []
        for c in levels:
            # warm-up, then the measured run
            subprocess.run(["wrk", "-t1", f"-c{c}", "-d2s", "-s", str(script), url], capture_output=True, check=True)
            out = subprocess.run(
                ["wrk", "-t1", f"-c{c}", f"-d{duration}s", "--timeout", "30s", "--latency", "-s", str(script), url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = {"batching": batching, "backend": engine[0], "dtype": engine[1], "connections": c, **parse(out)}
            print(json.dumps(row), flush=True)
            rows.append(row)
        return rows
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", default="1,8,32,64")
    ap.add_argument("--backends", help="e.g. torch/float32,onnx/int8: batching servers of each, interleaved")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over the backends (with --backends)")
    args = ap.parse_args()
    if args.backends:
        return compare_backends(args)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    levels = [int(c) for c in args.connections.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(lua_script(load_sentences(300), args.model))
        rows = run_mode(args.model, True, levels, args.duration, script)
        rows += run_mode(args.model, False, levels, args.duration, script)
    summary: dict[str, object] = {
        "command": "python benchmarks/serve_load.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "duration_s": args.duration,
        "cpu_count": os.cpu_count(),
        "rows": rows,
    }
    on = {r["connections"]: r["requests_per_s"] for r in rows if r["batching"]}
    off = {r["connections"]: r["requests_per_s"] for r in rows if not r["batching"]}
    summary["speedup"] = {str(c): on[c] / off[c] for c in levels}  # type: ignore[operator]
    print(json.dumps(summary["speedup"]))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "serve_load.json").write_text(json.dumps(summary, indent=2))


def compare_backends(args: argparse.Namespace) -> None:
    """`contextvec serve --backend B --dtype D` with batching, for each B/D, rounds interleaved."""
    levels = [int(c) for c in args.connections.split(",")]
    engines = [tuple(e.split("/")) for e in args.backends.split(",")]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(lua_script(load_sentences(300), args.model))
        for r in range(args.rounds):  # rounds interleaved, so a slow spell of the machine hits every engine alike
            for engine in engines:
                for row in run_mode(args.model, True, levels, args.duration, script, engine):
                    rows.append({**row, "round": r})
    medians = {
        f"{b}/{d}": {
            str(c): statistics.median(
                float(x["requests_per_s"])  # type: ignore[arg-type]
                for x in rows
                if (x["backend"], x["dtype"], x["connections"]) == (b, d, c)
            )
            for c in levels
        }
        for b, d in engines
    }
    print(json.dumps(medians, indent=2))
    summary = {"command": "python benchmarks/serve_load.py " + " ".join(sys.argv[1:]), "model": args.model,
               "duration_s": args.duration, "rounds": args.rounds, "cpu_count": os.cpu_count(),
               "median_requests_per_s": medians, "rows": rows}  # fmt: skip
    (HERE / "results" / f"serve_load-backends-{args.model}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
