"""Word-level throughput on real English (the Lee news corpus shipped in gensim), against the peers a user would
otherwise pick, all in one run on this machine:

  loop      : the tutorial loop — one sentence at a time through transformers (subword vectors only)
  st        : sentence-transformers encode(output_value="token_embeddings") (subword vectors only)
  st-onnx   : the same on its ONNX backend, graph optimised by its own `export_optimized_onnx_model(..., "O3")`
  st-onnx-int8 : its ONNX backend, `export_dynamic_quantized_onnx_model(..., "avx512_vnni" or "avx2")`
  ours      : contextvec Embedder.embed_words, torch backend (subword vectors aligned and pooled into words)
  ours-unfused : the same with fast_path=False (transformers' own forward instead of models/fast_encoder.py)
  ours-bf16 : the same in bfloat16 whatever --dtype says (beside float32 `ours` in one process, with its parity)
  onnx      : the same, backend="onnx" (ONNX Runtime float32)
  onnx-int8 : the same, backend="onnx", dtype="int8"

Two timings, both reported: `separate` (each method in its own process, which loads only that method's model,
so peak memory is its own; rounds interleaved) and `alternate` (one process holds every method and alternates
passes, so each pass sees the same machine state). One warm-up pass each, medians reported. Also: the share of
the best kernel matmul rate here (torch, ONNX Runtime MLAS fp32 / int8; benchmarks/kernel_rates.py), model size
on disk, peak RSS, and the word vectors' parity with torch float32.

    python benchmarks/throughput.py --model minilm --methods st,ours,onnx,onnx-int8
    python benchmarks/throughput.py --model minilm --methods st-onnx,st-onnx-int8,onnx-int8 --mode separate \
        --peer-python /path/to/venv-with-st-onnx/bin/python   # optimum-onnx needs transformers < 4.58
    python benchmarks/throughput.py --device cuda --dtype bfloat16 --methods ours   # tokens/s and MFU on a GPU
    python benchmarks/throughput.py --model mpnet --methods st,ours,ours-unfused --mode alternate --tag fused
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import cpu_flags, heavy_lock, median_of_ratios, peak_rss_mib, ratios, rounds, write_result


def load_sentences(n: int) -> list[str]:
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        text = " ".join(fh.read().split())
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text) if len(s.split()) >= 3]
    return sentences[:n]


OURS = {  # method -> (backend, dtype forced or None for --dtype, fused encoder path)
    "ours": ("torch", None, True),
    "ours-unfused": ("torch", None, False),
    "ours-bf16": ("torch", "bfloat16", True),
    "onnx": ("onnx", None, True),
    "onnx-int8": ("onnx", "int8", True),
}
ST_ONNX = {"st-onnx": "onnx/model_O3.onnx", "st-onnx-int8": None}  # int8 file name depends on the CPU


def st_onnx(method: str, path: str, device: str) -> Any:
    """sentence-transformers on its ONNX backend, exported and optimised/quantized by its own functions into a
    scratch copy of the model folder (not timed)."""
    import shutil
    import tempfile

    from sentence_transformers import (
        SentenceTransformer,
        export_dynamic_quantized_onnx_model,
        export_optimized_onnx_model,
    )

    work = str(Path(tempfile.mkdtemp()) / "model")
    shutil.copytree(path, work)
    st = SentenceTransformer(work, backend="onnx", device=device)
    file_name = ST_ONNX[method]
    if file_name is None:
        config = "avx512_vnni" if "avx512_vnni" in cpu_flags() else "avx2"
        export_dynamic_quantized_onnx_model(st, config, work)
        file_name = f"onnx/model_qint8_{config}.onnx"
    else:
        export_optimized_onnx_model(st, "O3", work)
    model = SentenceTransformer(work, backend="onnx", device=device, model_kwargs={"file_name": file_name})
    return model, Path(work) / file_name


def prepare(  # long: one branch per method, each a few lines
    method: str, model: str, path: str, sentences: list[str], token_budget: int, dtype: str, device: str
) -> Any:
    """A zero-argument function running one pass of `method`, and what it is: (once, facts). `path` is the model's
    folder, so that a peer method runs in a Python without contextvec (`--peer-python`)."""
    import torch

    if method in ST_ONNX:
        peer, onnx_file = st_onnx(method, path, device)
        return (lambda: peer.encode(sentences, output_value="token_embeddings", batch_size=32)), {
            "size_on_disk_mb": onnx_file.stat().st_size / 1e6
        }
    if method in OURS:
        from contextvec import Embedder

        backend, forced, fused = OURS[method]
        emb = Embedder(model, device=device, token_budget=token_budget, dtype=forced or dtype, backend=backend,  # type: ignore[arg-type]
                       fast_path=fused)  # fmt: skip
        size = getattr(emb.backend, "size_on_disk", None) or sum(
            f.stat().st_size for f in Path(path).glob("*.safetensors")
        )
        return (lambda: emb.embed_words(sentences, layers=-1)), {"size_on_disk_mb": size / 1e6, "embedder": emb}
    torch_dtype = getattr(torch, dtype)
    size = sum(f.stat().st_size for f in Path(path).glob("*.safetensors")) / 1e6
    if method == "loop":
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path)
        model_ = AutoModel.from_pretrained(path, dtype=torch_dtype).eval().to(device)

        def loop() -> None:
            with torch.no_grad():
                for s in sentences:
                    inputs = tok(s, return_tensors="pt").to(device)
                    model_(**inputs).last_hidden_state[0].float().cpu().numpy()

        return loop, {"size_on_disk_mb": size}
    if method == "st":
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(path, device=device, model_kwargs={"dtype": torch_dtype})
        return (lambda: st.encode(sentences, output_value="token_embeddings", batch_size=32)), {"size_on_disk_mb": size}
    raise SystemExit(f"unknown method {method}")


def counts(model: str, sentences: list[str]) -> tuple[int, int]:
    """(subword tokens, words) of the sentences, from the model's tokenizer alone (no model loaded)."""
    from tokenizers import Tokenizer

    from contextvec.models.registry import resolve_model
    from contextvec.text import make_documents

    tok = Tokenizer.from_file(str(Path(resolve_model(model).path) / "tokenizer.json"))
    tok.no_padding()  # a sentence-transformers tokenizer.json pads to 128: count real tokens only
    tok.no_truncation()
    tokens = sum(len(e.ids) for e in tok.encode_batch(sentences, add_special_tokens=False))
    return tokens, sum(len(d.words) for d in make_documents(sentences))


def run_method(args: argparse.Namespace) -> dict[str, object]:
    """One method in this process (the `separate` timing); imports contextvec only if the method is ours."""
    import torch

    sentences = load_sentences(args.sentences)
    once, facts = prepare(args.only, args.model, args.model_path, sentences, args.token_budget, args.dtype, args.device)
    facts.pop("embedder", None)
    times = rounds({args.only: once}, args.runs).wall[args.only]
    return {
        **facts,
        "method": args.only,
        "times_s": times,
        "peak_rss_mb": peak_rss_mib(),
        "threads": torch.get_num_threads(),
    }


def flops_per_token(model: str, n: int) -> float:
    """Forward FLOPs per token: 2 x non-embedding weights (matmuls) + attention scores and mixing (4 L T D)."""
    from contextvec import Embedder

    emb = Embedder(model, device="cpu")
    m = emb.backend.model  # type: ignore[attr-defined]
    emb_params = sum(p.numel() for name, p in m.named_parameters() if "embeddings" in name or "embed_tokens" in name)
    dense = sum(p.numel() for p in m.parameters()) - emb_params
    lengths = [len(e.ids) + 2 for e in emb.backend.tokenize(load_sentences(n))]
    mean_t = sum(lengths) / len(lengths)
    return 2 * dense + 4 * emb.info.num_layers * emb.info.hidden_size * mean_t


GPU_PEAK_TFLOPS = {  # dense peak per dtype (vendor data sheets), for MFU
    "H100": {"bfloat16": 989.0, "float16": 989.0, "float32": 67.0},
    "H200": {"bfloat16": 989.0, "float16": 989.0, "float32": 67.0},
    "A100": {"bfloat16": 312.0, "float16": 312.0, "float32": 19.5},
    "L4": {"bfloat16": 121.0, "float16": 121.0, "float32": 30.3},
}


def alternate(args: argparse.Namespace, methods: list[str]) -> dict[str, Any]:
    """Every method in this one process, passes alternated (rotating the order each round)."""
    import numpy as np

    sentences = load_sentences(args.sentences)
    if args.peer_python:  # a peer installed in another Python cannot share this process
        methods = [m for m in methods if m not in ST_ONNX]
    prepared = {
        m: prepare(m, args.model, args.model_path, sentences, args.token_budget, args.dtype, args.device)
        for m in methods
    }
    times = rounds({m: once for m, (once, _) in prepared.items()}, args.rounds * args.runs).wall
    out: dict[str, Any] = {m: {"times_s": t, "median_s": statistics.median(t)} for m, t in times.items()}
    if "ours" in prepared:  # parity with torch float32 word vectors on these sentences: top layer and the recipe
        ref = prepared["ours"][1]["embedder"]
        for m in (m for m in methods if m in OURS and m != "ours"):
            emb = prepared[m][1]["embedder"]
            for name, layers in (("top", -1), ("recipe", None)):
                a = emb.embed_words(sentences, layers=layers).vectors
                b = ref.embed_words(sentences, layers=layers).vectors
                cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
                out[m][f"parity_{name}"] = {
                    "cos_min": float(cos.min()),
                    "cos_mean": float(cos.mean()),
                    "max_abs": float(np.abs(a - b).max()),
                }
    return out


def separate(args: argparse.Namespace, methods: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for _ in range(args.rounds):  # interleaved, so a slow spell of the machine hits every method alike
        for method in methods:
            python = args.peer_python if args.peer_python and method in ST_ONNX else sys.executable
            cmd = [python, __file__, "--only", method, "--model", args.model, "--model-path", args.model_path,
                   "--sentences", str(args.sentences), "--runs", str(args.runs),
                   "--token-budget", str(args.token_budget), "--dtype", args.dtype,
                   "--device", args.device]  # fmt: skip
            one = json.loads(
                subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            )
            # peak RSS per process: the first may include a one-time export into the cache; `peak_rss_mb` is the
            # last round's (warm cache), the list keeps them all
            one["peak_rss_mb_rounds"] = [*results.get(method, {}).get("peak_rss_mb_rounds", []), one["peak_rss_mb"]]
            if method in results:
                one["times_s"] = results[method]["times_s"] + one["times_s"]
            results[method] = one
    for m in results.values():
        m["median_s"] = statistics.median(m["times_s"])
    return results


def main() -> None:  # long: argument parsing, two timing modes and the summary in one readable place
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--sentences", type=int, default=800)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per process (per round when alternating)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over the methods, interleaved against drift")
    ap.add_argument("--token-budget", type=int, default=4096)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument("--methods", default="st,ours,onnx,onnx-int8")
    ap.add_argument("--mode", default="both", choices=["both", "separate", "alternate"])
    ap.add_argument("--peer-python", help="Python of a venv with sentence-transformers[onnx], for st-onnx*")
    ap.add_argument("--tag", default="backends", help="result file: throughput-MODEL-DEVICE-DTYPE-TAG.json")
    ap.add_argument("--only", help=argparse.SUPPRESS)
    ap.add_argument("--model-path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only:
        print(json.dumps(run_method(args)))
        return
    from contextvec.models.registry import resolve_model

    args.model_path = str(resolve_model(args.model).path)
    from kernel_rates import kernel_rates

    methods = args.methods.split(",")
    load_start = os.getloadavg()  # a shared machine: how busy it was, next to the medians
    with heavy_lock():
        rates_before = kernel_rates() if args.device == "cpu" else {}
        timings = {}
        if args.mode in ("both", "separate"):
            timings["separate"] = separate(args, methods)
        if args.mode in ("both", "alternate"):
            timings["alternate"] = alternate(args, methods)
        rates_after = kernel_rates() if args.device == "cpu" else {}
    rates = {k: max(rates_before[k], rates_after[k]) for k in rates_before}
    n_tokens, n_words = counts(args.model, load_sentences(args.sentences))
    fpt = flops_per_token(args.model, args.sentences)
    summary: dict[str, Any] = {
        "command": "python benchmarks/throughput.py " + " ".join(sys.argv[1:]),
        "model": args.model, "sentences": args.sentences, "tokens": n_tokens, "words": n_words,
        "runs": args.runs * args.rounds, "token_budget": args.token_budget, "dtype": args.dtype, "device": args.device,
        "kernel_gops": {"before": rates_before, "after": rates_after, "best": rates},
        "model_flops_per_token": fpt,
        "load_average_1_5_15_min": {"start": load_start, "end": os.getloadavg()},
    }  # fmt: skip
    gpu_peak = None
    if args.device.startswith("cuda"):
        import torch

        name = torch.cuda.get_device_name(args.device)
        summary["gpu"] = name
        gpu_peak = next((v[args.dtype] for k, v in GPU_PEAK_TFLOPS.items() if k in name), None)
    for mode, results in timings.items():
        for m, r in results.items():
            r.update(tokens_per_s=n_tokens / r["median_s"], words_per_s=n_words / r["median_s"])
            if rates:
                best = max(v for k, v in rates.items() if ("int8" in k) == m.endswith("int8"))
                r["share_of_best_kernel_rate"] = r["tokens_per_s"] * fpt / (best * 1e9)
            if gpu_peak:
                r["mfu"] = r["tokens_per_s"] * fpt / (gpu_peak * 1e12)
            print(f"{mode:9s} {m:9s} {r['tokens_per_s']:9.0f} tokens/s  median {r['median_s']:.2f} s")
        summary[mode] = results
        summary[f"ratios_{mode}"] = ratios({m: r["median_s"] for m, r in results.items()}, list(OURS))
        if mode == "alternate":  # paired runs: each round's own ratio, so a drift of a shared machine cancels
            summary["ratios_alternate_per_round_median"] = {
                f"{a}_vs_{b}": median_of_ratios(results[b]["times_s"], results[a]["times_s"])
                for a in results
                if a in OURS
                for b in results
                if b != a
            }
    write_result(f"throughput-{args.model}-{args.device.split(':')[0]}-{args.dtype}-{args.tag}.json", summary)
    print(json.dumps({k: v for k, v in summary.items() if k.startswith("ratios")}, indent=2))


if __name__ == "__main__":
    main()
