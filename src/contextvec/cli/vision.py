"""`contextvec embed-images FILES --model DIR --out patches.parquet` and `contextvec plot patches`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from contextvec.cli.common import (
    LayerPoolOpt,
    LayersOpt,
    err,
    fail,
    layer_pooling_arg,
    reported,
    require,
    require_picture,
)
from contextvec.cli.plots import PictureOpt, plot_app
from contextvec.errors import ContextvecError, InvalidInputError

VitModelOpt = Annotated[
    Path, typer.Option("--model", "-m", metavar="DIR", help="an image model folder (`contextvec train vit`)")
]


def embed_images(
    files: Annotated[list[Path], typer.Argument(help="PNG / JPEG files (each a row per patch)")],
    model: VitModelOpt,
    output: Annotated[Path, typer.Option("--out", "-o", help="output file: FILE.parquet or FILE.jsonl")],
    layers: LayersOpt = None,
    layer_pooling: LayerPoolOpt = "mean",
    dtype: Annotated[str, typer.Option(help="vector type in the file: float32 | float16")] = "float32",
) -> None:
    """A vector per image patch, with its pixel box (image, top, left, height, width), written atomically.

    --layers takes what it takes for text (0 = the static patch embedding; default: the top layer).
    """
    from contextvec.io.atomic import sigterm_exits
    from contextvec.io.destination import check_destination
    from contextvec.io.jsonl import JsonlSink
    from contextvec.io.parquet import ParquetSink
    from contextvec.options import OUTPUT_DTYPES, OutputDType, check_choice
    from contextvec.vision import PatchEmbedder

    require("vision", "contextvec embed-images")
    try:
        check_choice("dtype", dtype, OUTPUT_DTYPES)
        if not files:
            raise InvalidInputError("give at least one image file.")
        fmt = check_destination(output, files)  # before any work
        embedder = PatchEmbedder(model)
        rows = embedder.embed_patches(
            [str(f) for f in files], layers=layers, layer_pooling=layer_pooling_arg(layer_pooling)
        )
        sink: ParquetSink | JsonlSink = JsonlSink(output) if fmt == "jsonl" else ParquetSink(output)
        with sigterm_exits(), sink:
            sink.write(rows.to_arrow(cast(OutputDType, dtype)))
    except ContextvecError as exc:
        raise fail(exc) from None
    err.print(
        f"wrote {len(rows)} patch vectors of {len(files)} images ({rows.layers}) to {output}",
        markup=False,
        highlight=False,
    )


@plot_app.command("patches")
def plot_patches(
    model: VitModelOpt,
    out_path: PictureOpt,
    images: Annotated[
        str, typer.Option(help="'digits', 'photos', a folder of PNG / JPEG files or a .npy array (held-out part used)")
    ] = "digits",
    image: Annotated[int, typer.Option(help="which held-out image the attention panel shows")] = 0,
    patch: Annotated[
        int | None, typer.Option(help="which patch attends (reading order; default: the centre one)")
    ] = None,
    text_json: Annotated[
        Path | None,
        typer.Option(help="a `contextvec contextuality --json` file: text's self-similarity curve drawn beside"),
    ] = None,
    max_images: Annotated[int, typer.Option(help="held-out images searched for identical patches")] = 500,
) -> None:
    """Identical patches across images per layer, attention from one patch over the pixels, and the contextuality
    curve (self-similarity of identical patch contents in different images) beside text's."""
    from contextvec.analysis.patches import identical_patches
    from contextvec.data.images import load_images
    from contextvec.vision import PatchEmbedder
    from contextvec.viz.patches import patch_pictures

    require_picture(out_path, "contextvec plot patches")
    if out_path.suffix.lower() != ".png":
        with reported():
            raise InvalidInputError(f"{out_path}: `plot patches` draws a .png picture; name the file .png.")
    with reported():
        embedder = PatchEmbedder(model)
        data = load_images(images)
        pool = data.heldout if len(data.heldout) else data.train
        report = identical_patches(embedder, pool[:max_images])
        if not 0 <= image < len(pool):
            raise InvalidInputError(f"--image {image}: choose 0..{len(pool) - 1} (the held-out images).")
        attention = embedder.attention(pool[image])
        patch_pictures(report, attention, out_path, patch=patch, text_report=text_json)
    err.print(f"wrote {out_path}", highlight=False)
