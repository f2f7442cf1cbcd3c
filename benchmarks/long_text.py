"""How close long-text word vectors come to a window centred on each word, vs naive non-overlapping chunks.

python benchmarks/long_text.py            # writes benchmarks/results/long_text.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from gensim.test.utils import datapath
from harness import write_result
from integration.test_real_models import _centred_and_chunked

from contextvec import Embedder


def main() -> None:
    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        text = " ".join(fh.read().split()[:5000])
    rows = []
    for model in ("minilm", "mpnet"):
        for stride_frac in (0.5, 0.875):
            emb = Embedder(model, device="cpu")
            emb = Embedder.from_backend(emb.backend, stride=int((emb.info.max_length - 2) * stride_frac))
            res = emb.embed_words([text], layers=-1)
            rng = np.random.default_rng(0)
            words = rng.choice(np.arange(len(res))[len(res) // 5 : -len(res) // 5], size=60, replace=False)
            ours, naive = _centred_and_chunked(emb, text, words.tolist(), res)
            row = {
                "model": model,
                "stride": emb.run_options.stride,
                "ours_median": float(np.median(ours)),
                "ours_mean": float(np.mean(ours)),
                "ours_min": float(np.min(ours)),
                "naive_median": float(np.median(naive)),
                "naive_mean": float(np.mean(naive)),
                "naive_min": float(np.min(naive)),
            }
            print(json.dumps(row))
            rows.append(row)
    write_result("long_text.json", rows)  # {"rows": [...], "machine": ...}


if __name__ == "__main__":
    main()
