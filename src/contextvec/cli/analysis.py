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
    reported,
    reporter,
    require,
)
from contextvec.errors import ContextvecError, InvalidInputError, OptionError
from contextvec.io.corpus import corpus_texts
from contextvec.loader import load_contextual, load_embedder

if TYPE_CHECKING:
    from contextvec.analysis.occurrences import Occurrences
    from contextvec.analysis.senses import SenseInduction

plot_app = typer.Typer(rich_markup_mode=None, help="Pictures as .png or self-contained .html.", no_args_is_help=True)
correction_app = typer.Typer(
    rich_markup_mode=None, help="Anisotropy correction (centering / whitening) for an Embedder.", no_args_is_help=True
)

CorpusOpt = Annotated[
    str,
    typer.Option("--corpus", "-c", metavar="CORPUS", help=".txt (a document a line), .jsonl, .parquet, or brown"),
]
PictureOpt = Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help=".png or .html")]


def require_picture(path: Path | None, purpose: str) -> None:
    """A .png picture needs matplotlib (the [viz] extra); .html pictures are written without it."""
    if path is not None and path.suffix.lower() != ".html":
        require("viz", purpose)


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


@plot_app.command("senses")
def plot_senses(
    word: Annotated[str, typer.Argument(help="the word")],
    out_path: PictureOpt,
    corpus: CorpusOpt = "brown",
    model: ModelOpt = DEFAULT_MODEL,
    k: Annotated[int | None, typer.Option(help="number of senses (default: by silhouette)")] = None,
    max_occurrences: Annotated[int, typer.Option(help="at most this many occurrences")] = 300,
    projection: Annotated[str, typer.Option(help="pca | umap")] = "pca",
    inflect: InflectOpt = INFLECT,
) -> None:
    """A 2-D map of WORD's occurrences, coloured by induced sense."""
    from contextvec.analysis.occurrences import collect_occurrences
    from contextvec.analysis.senses import induce_senses
    from contextvec.viz.plots import sense_map

    require("static", "contextvec plot senses")
    require_picture(out_path, "contextvec plot senses")
    with reported():
        occ = collect_occurrences(
            load_embedder(model), corpus_texts(corpus), [word], inflect=inflect, max_per_word=max_occurrences
        )
        sense_map(induce_senses(occ, k=k), out_path, projection)  # type: ignore[arg-type]
    err.print(f"wrote {out_path}", highlight=False)


@plot_app.command("layers")
def plot_layers(
    out_path: PictureOpt,
    models: Annotated[list[str], typer.Option("--model", "-m", help="one or more models")] = ["minilm"],  # noqa: B006
    corpus: CorpusOpt = "brown",
    max_texts: Annotated[int, typer.Option(help="texts to sample")] = 1000,
    adjusted: Annotated[bool, typer.Option(help="subtract the anisotropy baseline")] = False,
) -> None:
    """Contextuality per layer (Ethayarajh 2019), one line per model."""
    from contextvec.analysis.contextuality import measure_contextuality
    from contextvec.viz.plots import layer_curves

    require_picture(out_path, "contextvec plot layers")
    with reported():
        texts = list(itertools.islice(corpus_texts(corpus), max_texts))
        reports = []
        for m in models:
            emb = load_contextual(m, purpose="plot layers")
            reports.append(measure_contextuality(emb, texts, max_texts=max_texts, progress=reporter()))
        layer_curves(reports, out_path, adjusted=adjusted)
    err.print(f"wrote {out_path}", highlight=False)


@plot_app.command("similarity")
def plot_similarity(
    first: Annotated[str, typer.Argument(help="first sentence (rows)")],
    second: Annotated[str, typer.Argument(help="second sentence (columns)")],
    out_path: PictureOpt,
    model: ModelOpt = DEFAULT_MODEL,
    layers: LayersOpt = None,
) -> None:
    """Word-by-word cosine similarity between two sentences."""
    from contextvec.analysis.compare import word_similarity
    from contextvec.viz.plots import similarity_map

    require_picture(out_path, "contextvec plot similarity")
    with reported():
        rows, cols, matrix, described = word_similarity(load_embedder(model), first, second, layers=layers)
        similarity_map(matrix, rows, cols, out_path, f"{model}, {described}")
    err.print(f"wrote {out_path}", highlight=False)


@plot_app.command("attention")
def plot_attention(
    texts: Annotated[list[str], typer.Argument(help="one or more sentences (one row of panels each)")],
    out_path: PictureOpt,
    model: ModelOpt = DEFAULT_MODEL,
    layer: Annotated[list[int] | None, typer.Option(help="layers to show (default: first, middle, last)")] = None,
    head: Annotated[int | None, typer.Option(help="one head (default: mean of heads)")] = None,
    specials: Annotated[bool, typer.Option(help="keep [CLS]/[SEP] rows and columns")] = False,
) -> None:
    """Word-level attention heat-maps, per layer (mean of heads, or one head)."""
    from contextvec.analysis.attention import attention_by_word
    from contextvec.viz.plots import attention_maps

    require_picture(out_path, "contextvec plot attention")
    with reported():
        if not texts:
            raise InvalidInputError("give at least one sentence.")
        emb = load_contextual(model, purpose="attention")
        attention_maps([attention_by_word(emb, t) for t in texts], out_path, layer, head, words_only=not specials)
    err.print(f"wrote {out_path}", highlight=False)
