"""Word-level throughput on real English (the Lee news corpus shipped in gensim), against the peers a user would
otherwise pick, all in one run on this machine:

  loop  : the tutorial loop — one sentence at a time through transformers (subword vectors only)
  st    : sentence-transformers encode(output_value="token_embeddings") (subword vectors only)
  ours  : contextvec Embedder.embed_words (subword vectors aligned and pooled into word vectors)

Each method runs in its own process (so peak memory is its own): one warm-up pass, then --runs timed passes;
we report the median. Also: the share of the machine's fp32 matmul rate the forward pass reaches.

    python benchmarks/throughput.py --model minilm --sentences 800 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_sentences(n: int) -> list[str]:
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        text = " ".join(fh.read().split())
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text) if len(s.split()) >= 3]
    return sentences[:n]


def run_method(method: str, model: str, n: int, runs: int, token_budget: int, dtype: str) -> dict[str, object]:
    import torch

    from contextvec import Embedder
    from contextvec.text import make_documents

    sentences = load_sentences(n)
    emb = Embedder(model, device="cpu", token_budget=token_budget, dtype=dtype)  # type: ignore[arg-type]
    torch_dtype = getattr(torch, dtype)
    path = str(emb.backend.model.name_or_path)
    n_tokens = sum(len(e.ids) for e in emb.backend.tokenize(sentences))
    n_words = sum(len(d.words) for d in make_documents(sentences))
    if method == "ours":

        def once() -> None:
            emb.embed_words(sentences, layers=-1)

    elif method == "loop":
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path)
        model_ = AutoModel.from_pretrained(path, dtype=torch_dtype).eval()

        def once() -> None:
            with torch.no_grad():
                for s in sentences:
                    inputs = tok(s, return_tensors="pt")
                    model_(**inputs).last_hidden_state[0].float().numpy()

    elif method == "st":
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(path, device="cpu", model_kwargs={"dtype": torch_dtype})

        def once() -> None:
            st.encode(sentences, output_value="token_embeddings", batch_size=32)

    else:
        raise SystemExit(f"unknown method {method}")
    once()  # warm-up
    gflops = matmul_gflops(dtype)  # this process, this moment: the rate the forward is compared with
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    agreement = {}
    if method == "ours" and dtype != "float32":  # what the faster dtype costs in accuracy, on the same sentences
        import numpy as np

        low = emb.embed_words(sentences, layers=-1).vectors
        ref = Embedder(model, device="cpu", token_budget=token_budget).embed_words(sentences, layers=-1).vectors
        cos = (low * ref).sum(1) / (np.linalg.norm(low, axis=1) * np.linalg.norm(ref, axis=1))
        agreement = {"cosine_to_float32_min": float(cos.min()), "cosine_to_float32_mean": float(cos.mean())}
    return {
        **agreement,
        "method": method,
        "times_s": times,
        "median_s": med,
        "tokens": n_tokens,
        "words": n_words,
        "tokens_per_s": n_tokens / med,
        "words_per_s": n_words / med,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "matmul_gflops": gflops,
    }


def matmul_gflops(dtype: str, size: int = 2048, reps: int = 10) -> float:
    import torch

    a, b = torch.randn(size, size, dtype=getattr(torch, dtype)), torch.randn(size, size, dtype=getattr(torch, dtype))
    torch.mm(a, b)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    return 2 * size**3 / statistics.median(times) / 1e9


def flops_per_token(model: str, n: int) -> float:
    """Forward FLOPs per token: 2 x non-embedding weights (matmuls) + attention scores and mixing (4 L T D)."""
    from contextvec import Embedder

    emb = Embedder(model, device="cpu")
    m = emb.backend.model
    emb_params = sum(p.numel() for name, p in m.named_parameters() if "embeddings" in name or "embed_tokens" in name)
    dense = sum(p.numel() for p in m.parameters()) - emb_params
    lengths = [len(e.ids) + 2 for e in emb.backend.tokenize(load_sentences(n))]
    mean_t = sum(lengths) / len(lengths)
    return 2 * dense + 4 * emb.info.num_layers * emb.info.hidden_size * mean_t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--sentences", type=int, default=800)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per process")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of (loop, st, ours), interleaved against drift")
    ap.add_argument("--token-budget", type=int, default=4096)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--methods", default="loop,st,ours")
    ap.add_argument("--only", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only:
        print(json.dumps(run_method(args.only, args.model, args.sentences, args.runs, args.token_budget, args.dtype)))
        return
    results: dict[str, dict[str, object]] = {}
    methods = args.methods.split(",")
    for _ in range(args.rounds):  # interleaved, so a slow spell of the machine hits every method alike
        for method in methods:
            cmd = [
                sys.executable,
                __file__,
                "--only",
                method,
                "--model",
                args.model,
                "--sentences",
                str(args.sentences),
                "--runs",
                str(args.runs),
                "--token-budget",
                str(args.token_budget),
                "--dtype",
                args.dtype,
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            one = json.loads(out)
            one["matmul_gflops"] = [one["matmul_gflops"]]
            if method in results:
                one["times_s"] = results[method]["times_s"] + one["times_s"]  # type: ignore[operator]
                one["matmul_gflops"] = results[method]["matmul_gflops"] + one["matmul_gflops"]  # type: ignore[operator]
                one["peak_rss_mb"] = max(results[method]["peak_rss_mb"], one["peak_rss_mb"])  # type: ignore[type-var]
            results[method] = one
    for method, m in results.items():
        med = statistics.median(m["times_s"])  # type: ignore[arg-type]
        m.update(median_s=med, tokens_per_s=m["tokens"] / med, words_per_s=m["words"] / med)  # type: ignore[operator]
        print(f"{method:5s} {m['tokens_per_s']:9.0f} tokens/s  median {med:.2f} s  peak {m['peak_rss_mb']:.0f} MB")
    fpt = flops_per_token(args.model, args.sentences)
    gflops = statistics.median(g for m in results.values() for g in m["matmul_gflops"])  # type: ignore[attr-defined]
    summary = {
        "command": "python benchmarks/throughput.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "sentences": args.sentences,
        "runs": args.runs * args.rounds,
        "token_budget": args.token_budget,
        "dtype": args.dtype,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "matmul_gflops": gflops,
        "model_flops_per_token": fpt,
        "results": results,
    }
    if "ours" in results:
        ours = results["ours"]["tokens_per_s"]
        summary["ratios"] = {f"ours_vs_{k}": ours / v["tokens_per_s"] for k, v in results.items() if k != "ours"}
        summary["share_of_matmul_peak"] = {
            k: v["tokens_per_s"] * fpt / (statistics.median(v["matmul_gflops"]) * 1e9)  # type: ignore[arg-type]
            for k, v in results.items()
        }
    out = HERE / "results" / f"throughput-{args.model}-{args.dtype}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    print(
        json.dumps(
            {k: summary[k] for k in ("ratios", "share_of_matmul_peak", "matmul_gflops") if k in summary}, indent=2
        )
    )


if __name__ == "__main__":
    main()
