"""Cosine of "bank" across senses, per layer, for the README and docs/cli.md.

python benchmarks/bank_layers.py      # writes benchmarks/results/bank_layers.json
"""

from __future__ import annotations

import json

from harness import write_result

from contextvec import Embedder
from contextvec.analysis.compare import compare_word

TEXTS = ["I deposited the check at the bank.", "We sat on the bank of the river.", "The bank approved my loan."]


def main() -> None:
    rows = []
    for model in ("minilm", "mpnet", "smollm2"):
        emb = Embedder(model, device="cpu")
        L = emb.info.num_layers
        for layers in ["0", str(L // 2), str(L), "-4:", "all", "default"]:
            if layers == "default":  # the model's recipe (layers and context-only), as `contextvec compare` uses
                cmp = compare_word(emb, TEXTS, "bank")
                label = f"default: {cmp.spans.layers.split(' pooling')[0]}" + (
                    " context-only" if cmp.spans.layers.endswith("context_only") else ""
                )
            else:
                cmp = compare_word(emb, TEXTS, "bank", layers=layers, context_only=False)
                label = layers
            sim = cmp.similarity
            rows.append(
                {
                    "model": model,
                    "layers": label,
                    "money_vs_money": float(sim[0, 2]),
                    "money_vs_river": float(sim[0, 1]),
                    "loan_vs_river": float(sim[2, 1]),
                }
            )
            print(json.dumps(rows[-1]))
    write_result("bank_layers.json", rows)  # {"rows": [...], "machine": ...}


if __name__ == "__main__":
    main()
