"""`contextvec senses | contextuality | attention | correction | plot`: seeing context from the command line."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from contextvec.analysis.occurrences import INFLECT
from contextvec.cli.common import (
    DEFAULT_MODEL,
    InflectOpt,
    LayersOpt,
    ModelOpt,
    err,
    escape,
    fail,
    out,
    reporter,
    require,
    require_picture,
)
from contextvec.errors import ContextvecError, OptionError
from contextvec.io.corpus import corpus_texts
from contextvec.loader import load_contextual, load_embedder

if TYPE_CHECKING:
    from contextvec.analysis.occurrences import Occurrences
    from contextvec.analysis.senses import SenseInduction

correction_app = typer.Typer(
    rich_markup_mode=None, help="Anisotropy correction (centering / whitening) for an Embedder.", no_args_is_help=True
)

CorpusOpt = Annotated[
    str,
    typer.Option("--corpus", "-c", metavar="CORPUS", help=".txt (a document a line), .jsonl, .parquet, or brown"),
]


def senses(
    word: Annotated[str, typer.Argument(help="the word whose senses to find, e.g. bank")],
    corpus: CorpusOpt = "brown",
    model: ModelOpt = DEFAULT_MODEL,
    layers: LayersOpt = None,
    k: Annotated[int | None, typer.Option(help="number of senses (default: chosen by silhouette)")] = None,
    method: Annotated[str, typer.Option(help="kmeans | agglomerative")] = "kmeans",
    inflect: InflectOpt = INFLECT,
    max_occurrences: Annotated[int, typer.Option(help="use at most this many occurrences")] = 500,
    max_texts: Annotated[int | None, typer.Option(help="read at most this many texts")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write clusters and occurrences as JSON")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="write one row per occurrence as CSV")] = None,
    plot: Annotated[Path | None, typer.Option(help="write a sense map (.png or .html)")] = None,
    index: Annotated[
        Path | None,
        typer.Option(help="read WORD's vectors from this index (contextvec index build) instead of embedding --corpus"),
    ] = None,
) -> None:
    """Find the senses of WORD in a corpus: cluster its contextual vectors, label each cluster.

    With --index, the uses and vectors come from the index (its model and layers; nothing is embedded again).
    """
    from contextvec.analysis.senses import induce_senses

    require("static", "contextvec senses")  # clustering: scikit-learn
    require_picture(plot, "contextvec senses --plot")
    if index is not None:
        require("index", "contextvec senses --index")
    try:
        if index is not None:
            occ = _indexed_occurrences(index, word, model, layers, inflect, max_occurrences)
        else:
            from contextvec.analysis.occurrences import collect_occurrences

            texts = corpus_texts(corpus, max_texts)
            emb = load_embedder(model)
            occ = collect_occurrences(emb, texts, [word], inflect=inflect, layers=layers, max_per_word=max_occurrences)
        result = induce_senses(occ, k=k, method=method)  # type: ignore[arg-type]
        if json_out:
            json_out.write_text(result.to_json(), encoding="utf-8")
        if csv_out:
            csv_out.write_text(result.to_csv(), encoding="utf-8")
        if plot:
            from contextvec.viz.plots import sense_map

            sense_map(result, plot)
    except ContextvecError as exc:
        raise fail(exc) from None
    _print_senses(word, occ, result)


def _print_senses(word: str, occ: Occurrences, result: SenseInduction) -> None:
    scores = ", ".join(f"k={kk}: {s:.3f}" for kk, s in result.silhouette.items())
    out.print(
        f"[bold]{escape(word)}[/]: {len(occ)} occurrences, {result.k} sense(s) "
        f"({escape(occ.model_id)}, {escape(str(occ.layers))})",
        markup=True,
    )
    if scores:
        out.print(f"silhouette  {scores}", highlight=False)
    table = Table("sense", "size", "characteristic words", "typical use")
    for c in result.clusters:
        use = Text()
        if c.example_rows:
            left, word_, right = occ.window(c.example_rows[0], width=80)
            use.append(left).append(word_, style="bold").append(right)
        table.add_row(str(c.label), str(c.size), ", ".join(c.keywords[:6]), use)
    out.print(table)


def _indexed_occurrences(
    folder: Path, word: str, model: str, layers: str | None, inflect: bool, limit: int
) -> Occurrences:
    """A word's stored uses in an index, at most `limit` (in corpus order)."""
    import numpy as np

    from contextvec.index import Index

    if model != DEFAULT_MODEL or layers is not None:
        raise OptionError(
            "--index reads vectors made with the index's own model and layers; leave --model and --layers out "
            "(`contextvec index info DIR` shows them)."
        )
    occ = Index.open(folder).occurrences([word], inflect=inflect)
    return occ if len(occ) <= limit else occ.select(np.arange(limit))


def contextuality(
    corpus: CorpusOpt = "brown",
    model: ModelOpt = DEFAULT_MODEL,
    max_texts: Annotated[int, typer.Option(help="texts to sample from the corpus")] = 2000,
    max_words: Annotated[int, typer.Option(help="target words for self-similarity / MEV")] = 300,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the per-layer numbers as JSON")] = None,
    plot: Annotated[Path | None, typer.Option(help="write the layer curves (.png or .html)")] = None,
) -> None:
    """How contextual each layer is: self-similarity, intra-sentence similarity, MEV, anisotropy."""
    from contextvec.analysis.contextuality import measure_contextuality

    require_picture(plot, "contextvec contextuality --plot")
    try:
        emb = load_contextual(model, purpose="contextuality")
        texts = list(itertools.islice(corpus_texts(corpus), max_texts))
        err.print(f"measuring every layer of {model} on {len(texts)} texts", highlight=False)
        report = measure_contextuality(emb, texts, max_texts=max_texts, max_words=max_words, progress=reporter())
        if json_out:
            json_out.write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
        if plot:
            from contextvec.viz.plots import layer_curves

            layer_curves([report], plot)
    except ContextvecError as exc:
        raise fail(exc) from None
    table = Table("layer", "self-sim", "intra-sent", "MEV", "anisotropy", "adj. self-sim", title=report.model_id)
    for r in report.layers:
        table.add_row(
            str(r.layer),
            *(f"{v:.3f}" for v in (r.self_similarity, r.intra_sentence, r.mev, r.anisotropy)),
            f"{r.adjusted_self_similarity:.3f}",
        )
    out.print(table)


def attention(
    text: Annotated[str, typer.Argument(help="one sentence (it must fit one window)")],
    word: Annotated[str, typer.Option("--word", "-w", help="show where this word looks")],
    model: ModelOpt = DEFAULT_MODEL,
    layer: Annotated[int | None, typer.Option(help="one layer (0-based block); default: mean of all")] = None,
    head: Annotated[int | None, typer.Option(help="one head; default: mean of all")] = None,
    top: Annotated[int, typer.Option(help="how many words to list")] = 5,
) -> None:
    """Where WORD looks: its attention to the other words (subwords merged into words)."""
    from contextvec.analysis.attention import attention_by_word

    try:
        att = attention_by_word(load_contextual(model, purpose="attention"), text)
        i = att.index(word)
        row = att.select(layer, head)[i]
    except ContextvecError as exc:
        raise fail(exc) from None
    order = sorted(range(len(row)), key=lambda j: -row[j])[:top]
    where = f"layer {layer}" if layer is not None else "all layers"
    heads = f"head {head}" if head is not None else "mean of heads"
    out.print(f"[bold]{escape(word)}[/] attends to ({escape(att.model_id)}, {where}, {heads}):", markup=True)
    for j in order:
        out.print(f"  {att.labels[j]:<14} {row[j]:.3f}", highlight=False, markup=False)


@correction_app.command("fit")
def correction_fit(
    out_path: Annotated[Path, typer.Option("--out", "-o", help="the .npz file to write")],
    corpus: CorpusOpt = "brown",
    model: ModelOpt = DEFAULT_MODEL,
    kind: Annotated[str, typer.Option(help="center (any layers) | whiten (the given layers only)")] = "center",
    layers: Annotated[str, typer.Option(help="for whiten: the layers it is fitted for")] = "-1",
    max_texts: Annotated[int, typer.Option(help="texts to estimate it on")] = 5000,
) -> None:
    """Estimate an anisotropy correction on a corpus; use it with Embedder(correction=FILE)."""
    from contextvec.analysis.correction import fit_correction

    try:
        emb = load_contextual(model, purpose="correction fit")
        corr = fit_correction(
            emb,
            corpus_texts(corpus),
            kind=kind,  # type: ignore[arg-type]
            layers=layers,
            max_texts=max_texts,
        )
        corr.save(out_path)
    except ContextvecError as exc:
        raise fail(exc) from None
    err.print(f"wrote {out_path} ({corr.kind}, {corr.fitted_on})", highlight=False)
