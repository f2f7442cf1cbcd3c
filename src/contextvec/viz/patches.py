"""`contextvec plot patches`: one PNG with three things to see about an image model's layers.

1. Identical patches across images, per layer: their mean cosine, beside patches at the same place with other
   content and random patches (contextvec.analysis.patches).
2. Attention from one patch over the image, as a heat-map on the pixels (first, middle and last block; mean of
   heads), read from the reference transformer's trace.
3. The contextuality curve: self-similarity of identical patch contents across images, per relative depth, beside
   a text model's self-similarity of one word across sentences (from a `contextvec contextuality --json` file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from contextvec.analysis.patches import IdenticalPatchReport
from contextvec.errors import InputFileError, InvalidInputError
from contextvec.vision import PatchAttention
from contextvec.viz.plots import _pyplot


def text_curve(path: Path) -> tuple[str, list[float], list[float]]:
    """(model, relative depths, self-similarities) from a contextuality report JSON (`contextvec contextuality
    --json`), or the first model of a file holding {"contextuality": {model: report}} (benchmarks' analysis.json)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path}: not a readable JSON file ({exc}).") from None
    if isinstance(data, dict) and "contextuality" in data and isinstance(data["contextuality"], dict):
        data = next(iter(data["contextuality"].values()))
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list) or not data["layers"]:
        raise InputFileError(f"{path}: no 'layers' list; write one with `contextvec contextuality --json FILE`.")
    try:
        layers = [(int(r["layer"]), float(r["self_similarity"])) for r in data["layers"]]
    except (KeyError, TypeError, ValueError):
        raise InputFileError(f"{path}: each layer needs 'layer' and 'self_similarity'.") from None
    top = max(max(i for i, _ in layers), 1)
    return str(data.get("model", path.stem)), [i / top for i, _ in layers], [v for _, v in layers]


def attention_on_pixels(att: PatchAttention, layer: int, patch: int) -> np.ndarray[Any, Any]:
    """(H, W): the attention patch `patch` pays to each patch (mean of heads), spread over that patch's pixels."""
    g = att.grid
    row = att.weights[layer, :, patch].mean(axis=0)  # (H, T, T) -> (T,): from `patch` to every patch
    H, W = att.pixels.shape[:2]
    out = np.zeros((H, W), dtype=np.float32)
    for t in range(len(g.top)):
        out[g.top[t] : g.top[t] + g.height[t], g.left[t] : g.left[t] + g.width[t]] = row[t]
    return out


def _cosine_panel(ax: Any, report: IdenticalPatchReport) -> None:
    layers = [r.layer for r in report.layers]
    ax.plot(layers, [r.identical_cosine for r in report.layers], marker="o", label="identical patches")
    ax.plot(layers, [r.same_place_cosine for r in report.layers], marker="s", label="same place, other content")
    ax.plot(layers, [r.anisotropy for r in report.layers], marker="^", label="random patches")
    ax.set_title(f"cosine across images ({report.n_pairs:,} identical pairs)", fontsize=9)
    ax.set_xlabel("layer (0 = projection + position)")
    ax.set_xticks(layers)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _attention_panels(plt: Any, axes: Any, attention: PatchAttention, who: int) -> None:
    """axes[0]: the image; then one panel per shown block with the attention from patch `who` over the pixels."""
    g = attention.grid
    n_blocks = attention.weights.shape[0]
    pixels = attention.pixels if attention.pixels.shape[2] == 3 else attention.pixels[:, :, 0]
    cmap = None if pixels.ndim == 3 else "gray"
    axes[0].imshow(pixels, cmap=cmap, vmin=0, vmax=1)
    axes[0].set_title("image, attending patch boxed", fontsize=9)
    for a, layer in zip(axes[1:], sorted({0, n_blocks // 2, n_blocks - 1}), strict=False):
        a.imshow(pixels, cmap=cmap, vmin=0, vmax=1)
        heat = attention_on_pixels(attention, layer, who)
        a.imshow(heat, cmap="inferno", alpha=0.6, vmin=0, vmax=float(heat.max()))
        a.set_title(f"attention from the patch, block {layer + 1}", fontsize=9)
    for a in axes:
        box = (g.left[who] - 0.5, g.top[who] - 0.5), g.width[who], g.height[who]
        a.add_patch(plt.Rectangle(*box, fill=False, color="cyan", lw=1.5))
        a.set_xticks([])
        a.set_yticks([])


def _curve_panel(ax: Any, report: IdenticalPatchReport, text: tuple[str, list[float], list[float]] | None) -> None:
    top = max(report.layers[-1].layer, 1)
    depth = [r.layer / top for r in report.layers]
    ax.plot(depth, [r.self_similarity for r in report.layers], marker="o", label="image patches")
    if text is not None:
        ax.plot(text[1], text[2], marker="s", label=f"words ({text[0]})")
    ax.set_title("self-similarity across contexts", fontsize=9)
    ax.set_xlabel("relative depth (0 = embeddings)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def patch_pictures(
    report: IdenticalPatchReport,
    attention: PatchAttention,
    path: str | Path,
    *,
    patch: int | None = None,
    text_report: Path | None = None,
) -> Path:
    """The three pictures side by side in one PNG (see the module doc); `patch` attends (default: the centre)."""
    path = Path(path)
    g = attention.grid
    T = len(g.top)
    who = patch if patch is not None else (g.rows // 2) * g.cols + g.cols // 2
    if not 0 <= who < T:
        raise InvalidInputError(f"--patch {who}: this image has patches 0..{T - 1} (reading order).")
    text = text_curve(text_report) if text_report is not None else None
    shown = len({0, attention.weights.shape[0] // 2, attention.weights.shape[0] - 1})
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3 + shown, figsize=(4.2 * 2 + 2.6 * (1 + shown), 3.6))
    _cosine_panel(axes[0], report)
    _attention_panels(plt, axes[1 : 2 + shown], attention, who)
    _curve_panel(axes[-1], report, text)
    title = f"{report.model_id}: {report.n_images} images, {report.n_groups:,} groups of identical patches"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
