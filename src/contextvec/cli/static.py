"""`contextvec static train ...`: training static embeddings (word2vec, fastText, PCA/LSA, task, distilled)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer

from contextvec.cli.common import CORPUS_HELP, err, fail, reporter, require
from contextvec.errors import ContextvecError

static_app = typer.Typer(
    rich_markup_mode=None,
    help="Static embeddings: train word2vec, fastText or PCA/LSA on your corpus.",
    no_args_is_help=True,
)

CorpusArg = Annotated[Path, typer.Argument(help=f"corpus: {CORPUS_HELP}")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="a .txt/.vec (word2vec text), .bin (binary) or a folder")]


def _save(vectors: Any, model: Any, path: Path) -> None:
    from contextvec.static.formats import save_vectors

    if path.suffix in {".txt", ".vec"}:
        save_vectors(vectors, path, "word2vec")
    elif path.suffix == ".bin":
        save_vectors(vectors, path, "word2vec-binary")
    else:
        save_vectors(vectors, path, "npy")
        if model is not None and hasattr(model.wv, "vectors_ngrams"):  # fastText keeps its n-grams (plain arrays)
            from contextvec.static.formats import save_ngrams

            save_ngrams(path, model.wv)
    err.print(f"wrote {len(vectors.words)} words x {vectors.dim} to {path}", highlight=False)


@static_app.command("train")
def train(
    algorithm: Annotated[str, typer.Argument(help="word2vec | fasttext | pca | task | distill")],
    corpus: Annotated[
        Path,
        typer.Argument(help="a UTF-8 text file, one text (task: one basket of items) per line; task also takes 'demo'"),
    ],
    output: OutOpt,
    dim: Annotated[int, typer.Option(help="vector size")] = 100,
    window: Annotated[int, typer.Option(help="context window (pca: 0 = word-document matrix)")] = 5,
    min_count: Annotated[int, typer.Option(help="ignore words rarer than this")] = 5,
    epochs: Annotated[int, typer.Option(help="passes over the corpus (word2vec, fasttext)")] = 5,
    cbow: Annotated[bool, typer.Option("--cbow/--skipgram", help="architecture (word2vec, fasttext)")] = False,
    workers: Annotated[int, typer.Option(help="training threads")] = 2,
    weighting: Annotated[str, typer.Option(help="pca: ppmi | tfidf | count")] = "ppmi",
    keep_case: Annotated[bool, typer.Option("--keep-case", help="do not lowercase the corpus")] = False,
    model: Annotated[str, typer.Option("--model", "-m", help="distill: the contextual model")] = "minilm",
    layers: Annotated[str, typer.Option(help="distill: the layer(s) whose vectors are averaged")] = "-1",
    method: Annotated[str, typer.Option(help="distill: mean | pc1")] = "mean",
) -> None:
    """Train static vectors on CORPUS and write them to --out.

    task: an embedding layer trained to predict a hidden item of each basket from the others (softmax output);
    its rows are the item vectors. `contextvec static train task demo --out food/` uses the shipped demo data.
    distill: each word's mean (or first principal component) of its contextual vectors from --model.
    """
    from contextvec.options import check_choice
    from contextvec.static.corpus import CorpusWords
    from contextvec.static.task import DEMO_FILE, read_baskets, train_task_embeddings
    from contextvec.static.train import train_lsa, train_word2vec

    if algorithm in ("word2vec", "fasttext", "pca"):
        require("static", f"contextvec static train {algorithm}")  # gensim; pca: scikit-learn and scipy
    try:
        check_choice("algorithm", algorithm, ("word2vec", "fasttext", "pca", "task", "distill"))
        check_choice("weighting", weighting, ("ppmi", "tfidf", "count"))
        if algorithm == "task":
            baskets = read_baskets(DEMO_FILE if str(corpus) == "demo" else corpus)
            _save(train_task_embeddings(baskets, dim=dim, epochs=epochs), None, output)
            return
        words = CorpusWords(corpus, lowercase=not keep_case)
        if algorithm == "distill":
            _save(_distill(words, model, layers, method, min_count), None, output)
            return
        if algorithm == "pca":
            lsa = {"weighting": cast(Any, weighting), "min_count": min_count, "window": window or None}
            vectors, gensim_model = train_lsa(words, dim=dim, **lsa), None
        else:
            vectors, gensim_model = train_word2vec(
                words,
                algorithm=cast(Any, algorithm),
                architecture="cbow" if cbow else "skipgram",
                vector_size=dim,
                window=window,
                min_count=min_count,
                epochs=epochs,
                workers=workers,
            )
        _save(vectors, gensim_model, output)
    except ContextvecError as exc:
        raise fail(exc) from None


def _distill(words: Any, model: str, layers: str, method: str, min_count: int) -> Any:
    from contextvec.loader import load_contextual
    from contextvec.options import check_choice
    from contextvec.static.distill import distill

    check_choice("method", method, ("mean", "pc1"))
    embedder = load_contextual(model, purpose="distill")
    return distill(embedder, words, layers=layers, method=cast(Any, method), min_count=min_count, progress=reporter())
