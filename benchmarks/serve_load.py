"""Load tests of `contextvec serve` with wrk on 127.0.0.1, against the same model in-process and against a peer.

Parts (each writes benchmarks/results/serve_load-PART.json; `report.py` renders them into BENCHMARKS.md):
  latency     one client, one sentence: p50 of /v1/embeddings and /embed/words vs `embed_sentences` in-process
  throughput  32 clients, one Lee sentence per request: requests/s vs the in-process one-sentence-per-text rate,
              for each --engines (backend/precision); wrk's and the server's CPU seconds are recorded
  batching    dynamic batching on vs off at 1/8/32/64 clients (requests/s, p50, p99)
  peer        infinity-emb (its own venv, scripts/install_peers.sh) serving the same model folder, same requests,
              1/8/32 clients, beside contextvec
  mixed       32 clients on /v1/embeddings while explorer compare requests and a senses job run: status codes
              and embedding p99 vs the embeddings-only run

    python benchmarks/serve_load.py --part latency --part throughput --part mixed --duration 10
Needs wrk (Debian: apt-get install wrk). Runs under the heavy-work lock (harness.heavy_lock).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import heavy_lock, machine, write_result  # noqa: E402
from throughput import load_sentences  # noqa: E402

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
ONE_TEXT = "The bank approved my loan after a long review of the documents."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lua_script(bodies: list[dict[str, Any]], path: str) -> str:
    """A wrk script posting the bodies in turn to `path`."""
    quoted = ",\n".join(json.dumps(json.dumps(b)) for b in bodies)
    return f"""
local bodies = {{
{quoted}
}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, "{path}", nil, bodies[(i % #bodies) + 1])
end
"""


def parse(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        lat[pct] = float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "requests_per_s": rps,
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: str, connections: int, duration: int, server_pid: int | None = None) -> dict[str, float]:
    """One wrk run (after a 2 s warm-up): its numbers, and the CPU seconds wrk and the server used per second."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        subprocess.run(["wrk", "-t1", f"-c{connections}", "-d2s", "-s", f.name, url], capture_output=True, check=True)
        before, server_before = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu_of(server_pid) if server_pid else 0
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency", "-s", f.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        row = parse(out) | {"connections": connections}
        row["wrk_cores"] = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / duration
        if server_pid:
            row["server_cores"] = (_cpu_of(server_pid) - server_before) / duration
        return row
    finally:
        os.unlink(f.name)


@contextmanager
def server(model: str, engine: str = "torch/float32", *extra: str) -> Iterator[tuple[str, int]]:
    """`contextvec serve` in its own process on a free loopback port: (its URL, its pid)."""
    backend, dtype = engine.split("/")
    port = free_port()
    cmd = [sys.executable, "-m", "contextvec.cli", "serve", "--model", model, "--port", str(port), "--device", "cpu"]
    cmd += ["--backend", backend, "--dtype", dtype, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url + "/health", proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(60)


def wait_ready(health: str, proc: subprocess.Popen[str], seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            raise SystemExit(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.5)


def openai_bodies(model: str, texts: list[str]) -> list[dict[str, Any]]:
    return [{"model": model, "input": t} for t in texts]


# ---- parts -------------------------------------------------------------------------------------------------


def in_process_latency_ms(model: str, engine: str, text: str, runs: int = 300) -> float:
    """Median milliseconds of `embed_sentences([text])` in this process (the server is idle meanwhile)."""
    from contextvec import Embedder

    backend, dtype = engine.split("/")
    emb = Embedder(model, device="cpu", backend=backend, dtype=dtype)
    for _ in range(20):
        emb.embed_sentences([text])
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        emb.embed_sentences([text])
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def in_process_rate(model: str, engine: str, texts: list[str], rounds: int = 3) -> float:
    """Texts per second of `embed_sentences(texts)` in this process, one sentence per text (median of rounds)."""
    from contextvec import Embedder

    backend, dtype = engine.split("/")
    emb = Embedder(model, device="cpu", backend=backend, dtype=dtype)
    emb.embed_sentences(texts[:64])
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        emb.embed_sentences(texts)
        times.append(time.perf_counter() - t0)
    return len(texts) / statistics.median(times)


def part_latency(args: argparse.Namespace) -> dict[str, Any]:
    """One client, one sentence, for each route; the in-process time of the same text measured before and after."""
    engine = args.engines[0]
    before = in_process_latency_ms(args.model, engine, ONE_TEXT)
    rows = []
    with server(args.model, engine) as (url, pid):
        for path, body in (
            ("/v1/embeddings", {"model": args.model, "input": ONE_TEXT}),
            ("/embed/words", {"model": args.model, "texts": [ONE_TEXT]}),
            ("/embed/sentences", {"model": args.model, "texts": [ONE_TEXT]}),
        ):
            row = wrk(url, lua_script([body], path), 1, args.duration, pid) | {"route": path}
            print(json.dumps(row), flush=True)
            rows.append(row)
        health = wrk(url, _get_script("/health"), 1, max(2, args.duration // 2))
    after = in_process_latency_ms(args.model, engine, ONE_TEXT)
    return {
        "engine": engine,
        "text": ONE_TEXT,
        "in_process_ms": [before, after],
        "in_process_median_ms": statistics.median([before, after]),
        "health_p50_ms": health["p50_ms"],
        "rows": rows,
    }


def _get_script(path: str) -> str:
    return f'wrk.method = "GET"\nrequest = function() return wrk.format(nil, "{path}") end\n'


def part_throughput(args: argparse.Namespace) -> dict[str, Any]:
    texts = load_sentences(800)
    script = lua_script(openai_bodies(args.model, texts[:300]), "/v1/embeddings")
    rows = []
    for r in range(args.rounds):
        for engine in args.engines:
            rate = in_process_rate(args.model, engine, texts)
            with server(args.model, engine) as (url, pid):
                row = wrk(url, script, 32, args.duration, pid)
            row |= {"engine": engine, "round": r, "in_process_per_s": rate, "ratio": row["requests_per_s"] / rate}
            print(json.dumps(row), flush=True)
            rows.append(row)
    medians = {
        e: {
            k: statistics.median(float(x[k]) for x in rows if x["engine"] == e)
            for k in ("requests_per_s", "in_process_per_s", "ratio", "p99_ms", "wrk_cores", "server_cores")
        }
        for e in args.engines
    }
    return {"texts": len(texts), "connections": 32, "medians": medians, "rows": rows}


def part_batching(args: argparse.Namespace) -> dict[str, Any]:
    script = lua_script(openai_bodies(args.model, load_sentences(300)), "/v1/embeddings")
    rows = []
    for batching in ("--batching", "--no-batching"):
        with server(args.model, args.engines[0], batching) as (url, pid):
            for c in args.connections:
                row = wrk(url, script, c, args.duration, pid) | {"batching": batching == "--batching"}
                print(json.dumps(row), flush=True)
                rows.append(row)
    on = {r["connections"]: r["requests_per_s"] for r in rows if r["batching"]}
    off = {r["connections"]: r["requests_per_s"] for r in rows if not r["batching"]}
    return {"rows": rows, "speedup": {str(c): on[c] / off[c] for c in args.connections}}


def part_peer(args: argparse.Namespace) -> dict[str, Any]:
    """contextvec and infinity-emb, each alone on the machine in turn, same folder, same bodies, same wrk."""
    from peers.infinity import running_infinity

    from contextvec.models.registry import resolve_model

    folder = resolve_model(args.model).path
    texts = load_sentences(300)
    rows: list[dict[str, Any]] = []
    peers: dict[str, Any] = {}
    for r in range(args.rounds):
        with server(args.model, args.engines[0]) as (url, pid):
            for c in (1, 8, 32):
                row = wrk(url, lua_script(openai_bodies(args.model, texts), "/v1/embeddings"), c, args.duration, pid)
                rows.append(row | {"server": f"contextvec {args.engines[0]}", "round": r})
                print(json.dumps(rows[-1]), flush=True)
        for engine in args.peer_engines:
            with running_infinity(folder, engine=engine) as peer:
                peers[engine] = peer.describe()
                script = lua_script(openai_bodies(peer.model, texts), "/v1/embeddings")
                for c in (1, 8, 32):
                    row = wrk(peer.base_url, script, c, args.duration, peer.process.pid)
                    rows.append(row | {"server": f"infinity {engine}", "round": r})
                    print(json.dumps(rows[-1]), flush=True)
    servers = sorted({x["server"] for x in rows})
    medians = {
        s: {
            str(c): {
                k: statistics.median(float(x[k]) for x in rows if x["server"] == s and x["connections"] == c)
                for k in ("requests_per_s", "p50_ms", "p99_ms", "server_cores", "wrk_cores")
            }
            for c in (1, 8, 32)
        }
        for s in servers
    }
    return {"model_folder": str(folder), "peers": peers, "medians": medians, "rows": rows}


def part_mixed(args: argparse.Namespace) -> dict[str, Any]:
    """32 clients on /v1/embeddings alone, then again while explorer compare requests and a senses job run."""
    texts = load_sentences(400)
    script = lua_script(openai_bodies(args.model, texts[:300]), "/v1/embeddings")
    with_the = [t for t in texts if " the " in f" {t.lower()} "]  # Compare needs the word in every text
    extra = ("--ui", "--ui-static-model", "", "--max-queue-texts", "512", "--max-texts-per-request", "400")
    with server(args.model, args.engines[0], *extra) as (url, pid):
        alone = wrk(url, script, 32, args.duration, pid)
        side: dict[str, Any] = {"compare_codes": {}, "job": None}
        stop = threading.Event()

        def explorer_load() -> None:
            started = httpx.post(f"{url}/explore/api/senses", json={"word": "the", "corpus": texts}, timeout=30)
            if started.status_code != 200:
                side["job"] = {"start_status": started.status_code, "error": started.text[:300]}
                return
            job = started.json()
            codes: dict[str, int] = {}
            sent = 0
            with httpx.Client(timeout=60) as client:
                while not stop.is_set() and sent < 2000:
                    k = sent % (len(with_the) - 4)
                    body = {"texts": [*with_the[k : k + 4], "the bank"], "word": "the"}
                    code = client.post(f"{url}/explore/api/compare", json=body).status_code
                    codes[str(code)] = codes.get(str(code), 0) + 1
                    sent += 1
                    job = client.get(f"{url}/explore/api/jobs/{job['id']}").json() if sent % 10 == 0 else job
            side["compare_codes"], side["job"] = codes, {k: job.get(k) for k in ("state", "done", "total")}

        t = threading.Thread(target=explorer_load)
        t.start()
        time.sleep(1)
        mixed = wrk(url, script, 32, args.duration, pid)
        stop.set()
        t.join(120)
    return {
        "alone": alone,
        "mixed": mixed,
        "p99_ratio": mixed["p99_ms"] / alone["p99_ms"],
        "explorer": side,
    }


def part_idle(args: argparse.Namespace) -> dict[str, Any]:
    """What a pause costs the model alone (no server): `embed_sentences` back to back in one thread, with a 2 ms
    pause before each call, and fed back to back to a worker thread (the server's forward thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from contextvec import Embedder

    backend, dtype = args.engines[0].split("/")
    emb = Embedder(args.model, device="cpu", backend=backend, dtype=dtype)
    worker = ThreadPoolExecutor(1)

    def paused() -> None:
        time.sleep(0.002)
        emb.embed_sentences([ONE_TEXT])

    ways = {
        "back_to_back": lambda: emb.embed_sentences([ONE_TEXT]),
        "after_2ms_pause": paused,
        "worker_thread": lambda: worker.submit(emb.embed_sentences, [ONE_TEXT]).result(),
    }
    out: dict[str, float] = {}
    for name, fn in ways.items():
        for _ in range(20):
            fn()
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = statistics.median(times) - (2.0 if name == "after_2ms_pause" else 0.0)
    worker.shutdown()
    return {"engine": args.engines[0], "median_ms": out}


PARTS = {
    "idle": part_idle,
    "latency": part_latency,
    "throughput": part_throughput,
    "batching": part_batching,
    "peer": part_peer,
    "mixed": part_mixed,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", action="append", choices=sorted(PARTS), help="repeatable; default: all")
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (after a 2 s warm-up)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds over the engines (throughput, peer)")
    ap.add_argument("--engines", default="torch/float32", help="backend/precision list, e.g. torch/float32,onnx/int8")
    ap.add_argument("--peer-engines", default="torch,optimum", help="infinity engines (peer)")
    ap.add_argument("--connections", default="1,8,32,64", help="batching part")
    args = ap.parse_args()
    args.engines = args.engines.split(",")
    args.peer_engines = args.peer_engines.split(",")
    args.connections = [int(c) for c in args.connections.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    for part in args.part or list(PARTS):
        with heavy_lock():
            result = PARTS[part](args)
        result |= {
            "command": "python benchmarks/serve_load.py " + " ".join(sys.argv[1:]),
            "model": args.model,
            "duration_s": args.duration,
            "machine": machine(),
        }
        write_result(f"serve_load-{part}.json", result, with_machine=False)


if __name__ == "__main__":
    main()
