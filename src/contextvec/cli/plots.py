"""`contextvec plot ...`: pictures of context as .png or self-contained .html (senses, layers, similarity,
attention; `plot patches` lives with the image commands, cli/vision.py)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

import typer

from contextvec.analysis.occurrences import INFLECT
from contextvec.cli.analysis import CorpusOpt
from contextvec.cli.common import (
    DEFAULT_MODEL,
    InflectOpt,
    LayersOpt,
    ModelOpt,
    err,
    reported,
    reporter,
    require,
    require_picture,
)
from contextvec.errors import InvalidInputError
from contextvec.io.corpus import corpus_texts
from contextvec.loader import load_contextual, load_embedder

plot_app = typer.Typer(rich_markup_mode=None, help="Pictures as .png or self-contained .html.", no_args_is_help=True)

PictureOpt = Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help=".png or .html")]


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
