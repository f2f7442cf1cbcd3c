"""The four pictures of contextvec, each as PNG (matplotlib, by the file's .png suffix) or self-contained HTML
(.html: inline SVG with tooltips):

- `sense_map`: a word's occurrences in 2-D (PCA, or UMAP when umap-learn is installed), coloured by induced sense.
- `layer_curves`: the contextuality measures per layer, one line per model (x = relative depth, 0 = embeddings).
- `similarity_map`: the word-by-word cosine between two sentences.
- `attention_maps`: word-level attention, one panel per layer (mean of heads) or per head of one layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from contextvec.analysis.attention import WordAttention
from contextvec.analysis.contextuality import ContextualityReport
from contextvec.analysis.senses import SenseInduction, normalize
from contextvec.errors import MissingExtraError, OptionError
from contextvec.extras import install_command
from contextvec.viz import svg

F32 = npt.NDArray[np.float32]
Projection = Literal["pca", "umap"]
MEASURES = (
    ("self_similarity", "self-similarity"),
    ("intra_sentence", "intra-sentence similarity"),
    ("mev", "max. explainable variance"),
    ("anisotropy", "anisotropy (random pairs)"),
)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html"):
        raise OptionError(f"{path}: pictures are written as .png or .html; name the file with one of those.")
    return suffix[1:]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError(f"PNG pictures need matplotlib: {install_command('viz')}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def project(vectors: F32, method: Projection = "pca", seed: int = 0) -> F32:
    """(N, D) -> (N, 2), on unit vectors (the geometry cosine sees)."""
    unit = normalize(vectors)
    if method == "umap":
        try:
            import umap  # type: ignore[import-not-found]
        except ImportError:
            raise MissingExtraError("projection='umap' needs umap-learn: pip install umap-learn") from None
        out: F32 = umap.UMAP(n_components=2, metric="cosine", random_state=seed).fit_transform(unit)
        return out
    from sklearn.decomposition import PCA

    if len(unit) < 2:
        return np.zeros((len(unit), 2), dtype=np.float32)
    xy = PCA(n_components=min(2, unit.shape[1]), random_state=seed).fit_transform(unit)
    return np.pad(xy, ((0, 0), (0, 2 - xy.shape[1]))).astype(np.float32)


def sense_map(induction: SenseInduction, path: str | Path, projection: Projection = "pca") -> Path:
    path = Path(path)
    occ = induction.occurrences
    xy = project(occ.vectors, projection)
    groups = induction.assignments.tolist()
    legend = [f"sense {c.label}: {', '.join(c.keywords[:3])} ({c.size})" for c in induction.clusters]
    title = f"'{induction.word}' in {len(occ)} contexts — {occ.model_id}, {occ.layers}"
    if _kind(path) == "html":
        tips = [
            f"[sense {g}{' / gold ' + occ.labels[i] if occ.labels else ''}] {occ.sentence[i]}"
            for i, g in enumerate(groups)
        ]
        return svg.write_html(path, title, [svg.scatter(xy, groups, tips, title, legend)], "PCA of unit vectors.")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    gold = sorted(set(occ.labels)) if occ.labels else None
    markers = "osD^v<>pP*hX"
    for c in induction.clusters:
        rows = induction.assignments == c.label
        if gold is None:
            ax.scatter(
                xy[rows, 0], xy[rows, 1], s=28, alpha=0.75, label=legend[c.label], color=svg.PALETTE[c.label % 10]
            )
            continue
        for k, g in enumerate(gold):
            sel = rows & (np.asarray(occ.labels) == g)
            ax.scatter(
                xy[sel, 0],
                xy[sel, 1],
                s=30,
                alpha=0.75,
                marker=markers[k % len(markers)],
                color=svg.PALETTE[c.label % 10],
                label=legend[c.label] if k == 0 else None,
            )
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=8, loc="best")
    if gold is not None:
        ax.text(0.01, 0.01, "colour = induced sense, marker = gold sense", transform=ax.transAxes, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def layer_curves(reports: Sequence[ContextualityReport], path: str | Path, adjusted: bool = False) -> Path:
    """Four panels (self-similarity, intra-sentence, MEV, anisotropy), one line per model."""
    path = Path(path)
    series: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for key, _ in MEASURES:
        series[key] = {}
        for r in reports:
            depth = [x.layer / max(len(r.layers) - 1, 1) for x in r.layers]
            values = [float(getattr(x, key)) for x in r.layers]
            if adjusted and key in ("self_similarity", "intra_sentence"):
                values = [v - x.anisotropy for v, x in zip(values, r.layers, strict=True)]
            if adjusted and key == "mev":
                values = [v - b for v, b in zip(values, r.mev_baseline, strict=True)]
            series[key][r.model_id] = (depth, values)
    label = " (anisotropy-adjusted)" if adjusted else ""
    if _kind(path) == "html":
        figs = [svg.lines(series[k], name + label, "relative depth (0 = embeddings)", name) for k, name in MEASURES]
        return svg.write_html(path, "Contextuality per layer", figs, "Ethayarajh (2019) measures; see docs/senses.md.")
    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    for ax, (key, name) in zip(axes, MEASURES, strict=True):
        for model, (x, y) in series[key].items():
            ax.plot(x, y, marker="o", ms=3, label=model)
        ax.set_title(name + label, fontsize=10)
        ax.set_xlabel("relative depth (0 = embeddings)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _heatmap_png(ax: Any, matrix: F32, rows: Sequence[str], cols: Sequence[str], title: str, vmax: float | None) -> Any:
    im = ax.imshow(matrix, cmap="Blues", vmin=0.0 if vmax is not None else None, vmax=vmax)
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_title(title, fontsize=9)
    return im


def similarity_map(matrix: F32, rows: Sequence[str], cols: Sequence[str], path: str | Path, title: str) -> Path:
    """Word-by-word cosine between two sentences (rows: the first, columns: the second)."""
    path = Path(path)
    if _kind(path) == "html":
        return svg.write_html(path, title, [svg.heatmap(matrix, rows, cols, title)], "Cosine of word vectors.")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 + 0.42 * len(cols), 1.2 + 0.38 * len(rows)))
    im = _heatmap_png(ax, matrix, rows, cols, title, None)
    for i in range(len(rows)):
        for j in range(len(cols)):
            ax.text(
                j,
                i,
                f"{matrix[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if matrix[i, j] > (matrix.max() + matrix.min()) / 2 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def attention_maps(
    attentions: Sequence[WordAttention],
    path: str | Path,
    layers: Sequence[int] | None = None,
    head: int | None = None,
    words_only: bool = True,
) -> Path:
    """Word attention heat-maps: for each text, one panel per layer in `layers` (mean of heads, or `head`).

    Several texts (e.g. "... too tired" vs "... too wide") become rows of panels, so they compare at a glance.
    """
    path = Path(path)
    n_layers = attentions[0].weights.shape[0]
    chosen = list(layers) if layers is not None else sorted({0, n_layers // 2, n_layers - 1})
    panels: list[tuple[int, int, str, list[str], F32]] = []
    for t, att in enumerate(attentions):
        for layer in chosen:
            m = att.select(layer, head)
            labels = att.labels
            if words_only:
                labels, m = att.words_only(m)
            which = f"layer {layer if layer >= 0 else n_layers + layer}" + (
                f", head {head}" if head is not None else ", mean of heads"
            )
            panels.append((t, chosen.index(layer), f"{att.model_id} {which}", labels, m))
    if _kind(path) == "html":
        figs = [svg.heatmap(m, labels, labels, title, vmax=1.0) for _, _, title, labels, m in panels]
        return svg.write_html(path, "Attention by word", figs, "Rows attend to columns; each row sums to 1.")
    plt = _pyplot()
    n = max(len(labels) for *_, labels, _ in panels)
    fig, axes = plt.subplots(
        len(attentions),
        len(chosen),
        figsize=(0.36 * n * len(chosen) + 1, 0.36 * n * len(attentions) + 1),
        squeeze=False,
    )
    for t, c, title, labels, m in panels:
        _heatmap_png(axes[t][c], m, labels, labels, title, vmax=float(max(m.max(), 1e-6)))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
