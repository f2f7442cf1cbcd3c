"""infinity-emb (https://github.com/michaelfeil/infinity), the peer embedding server, on a free loopback port.

It lives in a virtual environment of its own (it pins transformers 4.x): `scripts/install_peers.sh infinity`
creates /work/venvs/infinity (or $INFINITY_VENV). Everything runs offline from a local model folder:

    from peers.infinity import running_infinity
    with running_infinity(MINILM_FOLDER, engine="torch") as server:
        httpx.post(server.base_url + "/v1/embeddings", json={"model": server.model, "input": "a sentence"})
        print(server.command, server.versions)

Engines:
- torch: infinity's sentence-transformers engine on the model folder as it is.
- optimum: ONNX Runtime through optimum. The folder needs an ONNX export; `onnx_folder()` makes one once with
  `optimum-cli export onnx` (feature extraction, i.e. last_hidden_state). infinity 0.0.78 finds the .onnx files
  of a local folder as full paths and passes the full path as optimum's `file_name`, while optimum 2.1 compares
  `file_name` with each file's bare name, so any folder path given as --model-id is refused ("Could not find any
  ONNX files with target file name /…/model.onnx"). The one spelling for which both agree is `--model-id .` with
  the server started inside the folder and model.onnx at its top level: the found path is then `model.onnx`.
  infinity's own graph optimization fails with optimum 2.1, so the export is optimized instead (see onnx_folder).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
import numpy as np

Engine = Literal["torch", "optimum"]
VENV = Path(os.environ.get("INFINITY_VENV", "/work/venvs/infinity"))
CACHE = Path(os.environ.get("CONTEXTVEC_CACHE", Path.home() / ".cache" / "contextvec")) / "peers" / "infinity"
PACKAGES = ("infinity-emb", "torch", "transformers", "sentence-transformers", "optimum", "optimum-onnx", "onnxruntime")


@dataclass
class InfinityServer:
    base_url: str  # e.g. http://127.0.0.1:PORT; OpenAI-style POST {base_url}/v1/embeddings
    model: str  # the served model name to put in requests
    engine: Engine
    command: list[str]  # exactly what was run (cwd below)
    cwd: str
    versions: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def describe(self) -> dict[str, object]:
        """For a benchmark's JSON: how to rerun it."""
        return {"engine": self.engine, "command": " ".join(self.command), "cwd": self.cwd, "versions": self.versions}

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _bin(name: str) -> str:
    path = VENV / "bin" / name
    if not path.exists():
        raise SystemExit(f"{path} is missing: run scripts/install_peers.sh infinity")
    return str(path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    """Offline, no telemetry, infinity's caches (the optimized ONNX graph) under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HOME=str(home),
        DO_NOT_TRACK="1",
        INFINITY_ANONYMOUS_USAGE_STATS="0",
    )
    return env


def versions() -> dict[str, str]:
    code = f"import importlib.metadata as m, json; print(json.dumps({{p: m.version(p) for p in {PACKAGES!r}}}))"
    out = subprocess.run([_bin("python"), "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return dict(json.loads(out.stdout))


def onnx_folder(model_folder: Path, cache: Path = CACHE, optimize: str = "O2") -> Path:
    """`model_folder` exported once to ONNX for infinity's optimum engine: model.onnx (outputs last_hidden_state,
    graph optimized by ONNX Runtime at level `optimize` during the export) at the top, with tokenizer and config.

    `--library-name transformers`: the folder is also a sentence-transformers model, and exported as one its graph
    outputs token_embeddings, not the last_hidden_state infinity reads (a KeyError that leaves the request hanging).
    `--optimize` here because infinity's own optimization step fails with optimum 2.1 (OptimizationConfig has no
    `optimize_with_onnxruntime_only` any more; it logs "Optimization failed" and serves the plain graph)."""
    out = cache / f"{model_folder.resolve().parent.name}-{model_folder.name}-onnx-{optimize}"
    if (out / "model.onnx").exists():
        return out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [_bin("optimum-cli"), "export", "onnx", "--model", str(model_folder), "--task", "feature-extraction"]
    cmd += ["--library-name", "transformers", "--optimize", optimize, str(tmp)]
    subprocess.run(cmd, check=True, env=_env(cache / "hf"), timeout=900, capture_output=True)
    graphs = sorted(p.name for p in tmp.glob("*.onnx"))
    if graphs != ["model.onnx"]:  # infinity would pick one of several .onnx files by name order
        raise RuntimeError(f"expected one model.onnx in the export {tmp}, found {graphs}")
    tmp.rename(out)
    return out


def start_infinity(
    model_folder: str | Path,
    *,
    engine: Engine = "torch",
    served_name: str = "minilm",
    batch_size: int = 32,
    timeout_s: float = 300.0,
    cache: Path = CACHE,
) -> InfinityServer:
    """Start `infinity_emb v2` for a local model folder on 127.0.0.1 and wait (at most timeout_s) until /health
    answers. The caller stops it (`server.stop()`), or use `running_infinity`."""
    folder = Path(model_folder).resolve()
    if engine == "optimum":
        cwd, model_id = onnx_folder(folder, cache), "."  # see the module docstring: the one path optimum accepts
    else:
        cwd, model_id = folder, str(folder)
    port = _free_port()
    # the ONNX export has no sentence-transformers modules.json, and infinity's "auto" pooling then means CLS for
    # optimum: say mean, minilm's recipe (the torch engine reads it from modules.json)
    # optimized at export (onnx_folder): skip infinity's own step, which fails with optimum 2.1 anyway
    onnx = ["--pooling-method", "mean", "--onnx-disable-optimize"] if engine == "optimum" else []
    command = [
        _bin("infinity_emb"), "v2",
        "--model-id", model_id,
        "--served-model-name", served_name,
        "--engine", engine,
        "--device", "cpu",
        "--batch-size", str(batch_size),
        "--no-model-warmup",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--url-prefix", "/v1",  # /v1/embeddings, as contextvec and the OpenAI client expect
        "--log-level", "warning",
        *onnx,
    ]  # fmt: skip
    cache.mkdir(parents=True, exist_ok=True)
    log = cache / f"infinity-{engine}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=_env(cache / "hf"), stdout=sink, stderr=subprocess.STDOUT)
    server = InfinityServer(
        f"http://127.0.0.1:{port}", served_name, engine, command, str(cwd), versions(), log, process
    )
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.base_url + "/health", timeout=2).status_code == 200:
                return server
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"infinity ({engine}) did not become ready in {timeout_s:.0f} s; log {log}:\n{tail}")
        time.sleep(0.5)


@contextlib.contextmanager
def running_infinity(model_folder: str | Path, **options: object) -> Iterator[InfinityServer]:
    server = start_infinity(model_folder, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


def measure(server: InfinityServer, levels: list[int], duration: int) -> list[dict[str, object]]:
    """wrk on loopback, one Lee sentence per request to /v1/embeddings (serve_load.py's script), per client count."""
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from serve_load import lua_script, openai_bodies, parse
    from throughput import load_sentences

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(lua_script(openai_bodies(server.model, load_sentences(300)), "/v1/embeddings"))
        for c in levels:
            wrk = ["wrk", "-t1", f"-c{c}", "--timeout", "30s", "-s", str(script), server.base_url]
            subprocess.run([*wrk, "-d3s"], capture_output=True, check=True)  # warm-up
            out = subprocess.run([*wrk, f"-d{duration}s", "--latency"], capture_output=True, text=True, check=True)
            row = {"peer": f"infinity-{server.engine}", "connections": c, "loadavg_1m": os.getloadavg()[0]}
            rows.append({**row, **parse(out.stdout)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description="Start infinity on a model folder, check one sentence, stop it.")
    ap.add_argument("model_folder")
    ap.add_argument("--engine", choices=["torch", "optimum"], default="torch")
    ap.add_argument("--measure", help="client counts to load-test with wrk, e.g. 1,32 (run under flock)")
    ap.add_argument("--duration", type=int, default=10)
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    with running_infinity(args.model_folder, engine=args.engine) as server:
        body = {"model": server.model, "input": ["The bank approved my loan."]}
        r = httpx.post(server.base_url + "/v1/embeddings", json=body, timeout=60)
        r.raise_for_status()
        got = np.asarray(r.json()["data"][0]["embedding"], dtype=np.float32)
        if args.measure:
            rows = measure(server, [int(c) for c in args.measure.split(",")], args.duration)
    from contextvec import Embedder

    ref = Embedder(args.model_folder, device="cpu").embed_sentences(body["input"]).vectors[0]
    cosine = float(got @ ref / np.linalg.norm(got) / np.linalg.norm(ref))
    report = {**server.describe(), "dim": got.size, "cosine_to_contextvec": round(cosine, 6), "rows": rows}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
