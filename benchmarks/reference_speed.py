"""Forward-pass speed on minilm: the reference transformer vs the fused BERT path vs transformers, interleaved.

The workload is contextvec's: sentences of the Lee news corpus (gensim) tokenized by the model's tokenizer, sorted
by length and cut into batches of at most --token-budget padded tokens ("sorted"); and the same sentences in
corpus order, 32 to a batch ("unsorted", more padding). Every method returns all L+1 hidden states. Rounds
interleave the methods (A B C, A B C, ...) against drift; we report the median seconds and the ratios.

    python benchmarks/reference_speed.py --sentences 800 --rounds 5   # holds the heavy-work lock while timing
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import torch
from harness import heavy_lock, ratio_of_medians, result_path, rounds, write_result
from throughput import load_sentences


def batches(ids: list[list[int]], budget: int, pad: int, sort: bool) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Padded (B, T) ids and masks: length-sorted under a token budget, or in order 32 at a time."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i])) if sort else list(range(len(ids)))
    groups: list[list[int]] = [[]]
    for i in order:
        g = groups[-1]
        longest = max([len(ids[j]) for j in g] + [len(ids[i])])
        full = (longest * (len(g) + 1) > budget) if sort else len(g) == 32
        if g and full:
            groups.append([])
        groups[-1].append(i)
    out = []
    for g in groups:
        T = max(len(ids[i]) for i in g)
        x = torch.full((len(g), T), pad, dtype=torch.long)
        m = torch.zeros((len(g), T), dtype=torch.long)
        for r, i in enumerate(g):
            x[r, : len(ids[i])] = torch.tensor(ids[i])
            m[r, : len(ids[i])] = 1
        out.append((x, m))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=800)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--token-budget", type=int, default=4096)
    ap.add_argument("--out", type=Path, default=result_path("reference_speed.json"))
    args = ap.parse_args()

    from transformers import AutoModel, AutoTokenizer

    from contextvec.models.fast_encoder import FastEncoder
    from contextvec.models.registry import resolve_model
    from contextvec.transformer import Transformer

    path = resolve_model("minilm").path
    tok = AutoTokenizer.from_pretrained(path)
    hf = AutoModel.from_pretrained(path).eval()
    fast = FastEncoder(hf).eval()
    ref = Transformer.from_pretrained("minilm")
    ids = [tok(s)["input_ids"] for s in load_sentences(args.sentences)]
    methods: dict[str, Callable[[torch.Tensor, torch.Tensor], object]] = {
        "transformers": lambda x, m: hf(input_ids=x, attention_mask=m, output_hidden_states=True).hidden_states,
        "fast_bert": lambda x, m: fast(x, m),
        "reference": lambda x, m: ref(x, m).hidden_states,
    }
    results: dict[str, object] = {}
    for workload in ("sorted", "unsorted"):
        data = batches(ids, args.token_budget, tok.pad_token_id, sort=workload == "sorted")
        real = sum(int(m.sum()) for _, m in data)
        padded = sum(m.numel() for _, m in data)
        with torch.inference_mode(), heavy_lock():
            for fn in methods.values():  # warm-up on one batch
                fn(*data[0])
            passes = {k: lambda fn=fn: [fn(x, m) for x, m in data] for k, fn in methods.items()}  # noqa: B023
            timing = rounds(passes, args.rounds, warmup=0, rotate=False)
        times, med = timing.wall, timing.medians()
        results[workload] = {
            "batches": len(data),
            "real_tokens": real,
            "padded_tokens": padded,
            "times_s": times,
            "median_s": med,
            "tokens_per_s": {k: real / v for k, v in med.items()},
            "reference_over_fast_bert": ratio_of_medians(times["reference"], times["fast_bert"]),
            "reference_over_transformers": ratio_of_medians(times["reference"], times["transformers"]),
            "fast_bert_over_transformers": ratio_of_medians(times["fast_bert"], times["transformers"]),
        }
        print(workload, json.dumps(results[workload]["median_s"]), flush=True)
    report = {
        "model": "minilm",
        "sentences": args.sentences,
        "rounds": args.rounds,
        "token_budget": args.token_budget,
        "results": results,
    }
    write_result(args.out, report)  # the machine (torch version, threads, CPU flags) under "machine"
    print(json.dumps({k: {kk: v[kk] for kk in v if "over" in kk} for k, v in results.items()}, indent=2))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
