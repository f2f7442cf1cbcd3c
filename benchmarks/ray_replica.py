"""Requests/s of one Ray Serve replica of `contextvec serve --ray`, beside the plain server on the same machine.

Each request embeds one Lee sentence through POST /v1/embeddings (the same wrk script as serve_load.py). Modes:
plain (`contextvec serve`, uvicorn), ray-1 (`--ray`, one replica holding every core) and ray-2 (two replicas
splitting the cores). Rounds are interleaved. Needs wrk (apt-get install wrk) and the [ray] extra.

    flock /work/heavy.lock python benchmarks/ray_replica.py --duration 10 --rounds 2
        # -> benchmarks/results/ray_replica.json; docs/scale.md's table divides by ray-1's rate
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from serve_load import free_port, lua_script, openai_bodies, parse  # noqa: E402
from throughput import load_sentences  # noqa: E402

MODES = {
    "plain": [],
    "ray-1": ["--ray", "--min-replicas", "1", "--max-replicas", "1", "--replica-cpus", str(os.cpu_count() or 1)],
    "ray-2": ["--ray", "--min-replicas", "2", "--max-replicas", "2", "--replica-cpus", str((os.cpu_count() or 2) / 2)],
}


def measure(mode: str, model: str, levels: list[int], duration: int, script: Path) -> list[dict[str, object]]:
    port = free_port()
    cmd = [sys.executable, "-m", "contextvec.cli", "serve", "-m", model, "--port", str(port), "--device", "cpu"]
    server = subprocess.Popen([*cmd, *MODES[mode]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300  # a local Ray and its replicas start in well under a minute on a quiet machine
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit(f"{mode} did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.5)
        rows = []
        for c in levels:
            subprocess.run(["wrk", "-t1", f"-c{c}", "-d3s", "-s", str(script), url], capture_output=True, check=True)
            out = subprocess.run(
                ["wrk", "-t1", f"-c{c}", f"-d{duration}s", "--timeout", "30s", "--latency", "-s", str(script), url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = {"mode": mode, "connections": c, "loadavg_1m": os.getloadavg()[0], **parse(out)}
            print(json.dumps(row), flush=True)
            rows.append(row)
        return rows
    finally:
        server.send_signal(signal.SIGTERM)  # --ray: deletes the deployment and stops the local Ray
        try:
            server.wait(120)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", default="1,32")
    ap.add_argument("--modes", default="plain,ray-1,ray-2")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    levels, modes = [int(c) for c in args.connections.split(",")], args.modes.split(",")
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(lua_script(openai_bodies(args.model, load_sentences(300)), "/v1/embeddings"))
        for r in range(args.rounds):  # interleaved, so a slow spell of the shared machine hits every mode alike
            for mode in modes:
                rows += [{**row, "round": r} for row in measure(mode, args.model, levels, args.duration, script)]
    medians = {
        m: {
            str(c): {
                k: statistics.median(float(x[k]) for x in rows if (x["mode"], x["connections"]) == (m, c))  # type: ignore[arg-type]
                for k in ("requests_per_s", "p50_ms", "p99_ms")
            }
            for c in levels
        }
        for m in modes
    }
    print(json.dumps(medians, indent=2))
    summary = {
        "command": "python benchmarks/ray_replica.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, one machine (local Ray)",
        "model": args.model,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "medians": medians,
        "rows": rows,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "ray_replica.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
