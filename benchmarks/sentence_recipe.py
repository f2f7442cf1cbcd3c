"""How contextvec's default sentence vectors compare with sentence-transformers' encode(), by text length.

Within the model's max_seq_length both compute the same thing (the model folder's recipe: top layer, mean over
all tokens with [CLS]/[SEP], unit length). Beyond it sentence-transformers silently keeps only the first
max_seq_length tokens, while contextvec covers the whole text with overlapping windows: this measures how far
apart the two vectors then are, and how far each is from the vector of the text's first part alone.

python benchmarks/sentence_recipe.py      # writes benchmarks/results/sentence_recipe.json and prints a table
"""

from __future__ import annotations

import json

from gensim.test.utils import datapath
from harness import write_result
from sentence_transformers import SentenceTransformer

from contextvec import Embedder
from contextvec.models.registry import resolve_model

LENGTHS = (64, 200, 250, 400, 800, 1600)  # content tokens (minilm's tokenizer); 5 texts each


def _texts(emb: Embedder, n_tokens: int, count: int = 5) -> list[str]:
    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        words = fh.read().split()
    out = []
    for k in range(count):
        chunk = words[k * 2000 : k * 2000 + n_tokens]
        text = " ".join(chunk)
        while len(emb.backend.tokenize([text])[0].ids) > n_tokens:
            chunk = chunk[:-1]
            text = " ".join(chunk)
        out.append(text)
    return out


def main() -> None:
    rows = []
    for name in ("minilm", "mpnet"):
        emb = Embedder(name, device="cpu")
        st = SentenceTransformer(resolve_model(name).path, device="cpu")
        limit = st.max_seq_length
        for n in LENGTHS:
            texts = _texts(emb, n)
            ours = emb.embed_sentences(texts).vectors
            theirs = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
            cos = (ours * theirs).sum(1)  # both unit length
            rows.append(
                {
                    "model": name,
                    "max_seq_length": limit,
                    "tokens": n,
                    "beyond_limit": n + 2 > limit,
                    "cosine_min": float(cos.min()),
                    "cosine_mean": float(cos.mean()),
                }
            )
            print(json.dumps(rows[-1]))
    write_result("sentence_recipe.json", rows)  # {"rows": [...], "machine": ...}
    print("\n| model | max_seq_length | text tokens | cosine to sentence-transformers (mean / min) |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['max_seq_length']} | {r['tokens']} | {r['cosine_mean']:.4f} / {r['cosine_min']:.4f} |"
        )


if __name__ == "__main__":
    main()
