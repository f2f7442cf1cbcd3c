"""Merge the `alternate` timings of one throughput run with the `separate` timings of another (same model,
sentences, dtype), recomputing tokens/s, shares and ratios; the merged file names both source commands.

    python benchmarks/throughput_merge.py ALTERNATE.json SEPARATE.json OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness import ratios, write_result
from throughput import OURS, counts, load_sentences


def recompute(mode: str, run: dict[str, Any], n_tokens: int, n_words: int) -> dict[str, Any]:
    results = run[mode]
    rates = run["kernel_gops"]["best"]
    fpt = run["model_flops_per_token"]
    for m, r in results.items():
        r.update(tokens_per_s=n_tokens / r["median_s"], words_per_s=n_words / r["median_s"])
        if rates:
            best = max(v for k, v in rates.items() if ("int8" in k) == m.endswith("int8"))
            r["share_of_best_kernel_rate"] = r["tokens_per_s"] * fpt / (best * 1e9)
    return results


def main() -> None:
    alt_run, sep_run = (json.loads(Path(p).read_text()) for p in sys.argv[1:3])
    for key in ("model", "sentences", "dtype", "device"):
        if alt_run[key] != sep_run[key]:
            raise SystemExit(f"runs differ in {key}: {alt_run[key]} vs {sep_run[key]}")
    n_tokens, n_words = counts(alt_run["model"], load_sentences(alt_run["sentences"]))
    merged = {**sep_run, "tokens": n_tokens, "words": n_words}
    merged["command"] = f"alternate: {alt_run['command']}; separate: {sep_run['command']} (merged)"
    merged["runs"] = {"alternate": len(next(iter(alt_run["alternate"].values()))["times_s"]),
                      "separate": len(next(iter(sep_run["separate"].values()))["times_s"])}  # fmt: skip
    merged["kernel_gops_alternate_run"] = alt_run["kernel_gops"]
    merged["alternate"] = recompute("alternate", alt_run, n_tokens, n_words)
    merged["separate"] = recompute("separate", sep_run, n_tokens, n_words)
    for mode in ("alternate", "separate"):
        merged[f"ratios_{mode}"] = ratios({m: r["median_s"] for m, r in merged[mode].items()}, list(OURS))
    write_result(Path(sys.argv[3]), merged)


if __name__ == "__main__":
    main()
