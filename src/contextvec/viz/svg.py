"""Self-contained HTML pictures: inline SVG with a tooltip (<title>) on every point and cell, no JavaScript and
nothing fetched, so the file opens anywhere, offline, and can be mailed or attached to a report.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _blues(v: float) -> str:
    """White (0) to dark blue (1)."""
    v = float(min(max(v, 0.0), 1.0))
    r, g, b = (int(255 + (c - 255) * v) for c in (8, 48, 107))
    return f"rgb({r},{g},{b})"


def heatmap(
    matrix: npt.NDArray[np.floating], rows: Sequence[str], cols: Sequence[str], title: str, vmax: float | None = None
) -> str:
    """An SVG heat-map; each cell's tooltip names its row, column and value."""
    cell, left, top = (
        26,
        10 + 7 * max((len(r) for r in rows), default=1),
        10 + 7 * max((len(c) for c in cols), default=1),
    )
    top += 24
    lo = float(matrix.min()) if vmax is None else 0.0
    hi = float(matrix.max()) if vmax is None else vmax
    scale = (hi - lo) or 1.0
    w, h = left + cell * len(cols) + 10, top + cell * len(rows) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">'
    ]
    parts.append(f'<text x="{left}" y="16" font-weight="bold">{_esc(title)}</text>')
    for j, c in enumerate(cols):
        x = left + cell * j + cell / 2
        parts.append(f'<text transform="translate({x + 4},{top - 4}) rotate(-90)">{_esc(c)}</text>')
    for i, r in enumerate(rows):
        y = top + cell * i
        parts.append(f'<text x="{left - 4}" y="{y + cell * 0.65}" text-anchor="end">{_esc(r)}</text>')
        for j, c in enumerate(cols):
            v = float(matrix[i, j])
            parts.append(
                f'<rect x="{left + cell * j}" y="{y}" width="{cell}" height="{cell}" fill="{_blues((v - lo) / scale)}">'
                f"<title>{_esc(r)} → {_esc(c)}: {v:.3f}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def scatter(
    xy: npt.NDArray[np.floating], groups: Sequence[int], tips: Sequence[str], title: str, legend: Sequence[str]
) -> str:
    """An SVG scatter plot, coloured by group, each point's tooltip its text."""
    w, h, pad = 640, 480, 30
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    pts = pad + (xy - lo) / span * np.array([w - 2 * pad - 160, h - 2 * pad - 20])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">'
    ]
    parts.append(f'<text x="{pad}" y="16" font-weight="bold">{_esc(title)}</text>')
    for (x, y), g, tip in zip(pts.tolist(), groups, tips, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{h - y:.1f}" r="5" fill="{PALETTE[g % len(PALETTE)]}" fill-opacity="0.75">'
            f"<title>{_esc(tip)}</title></circle>"
        )
    for k, name in enumerate(legend):
        y = 40 + 18 * k
        parts.append(f'<circle cx="{w - 150}" cy="{y}" r="5" fill="{PALETTE[k % len(PALETTE)]}"/>')
        parts.append(f'<text x="{w - 140}" y="{y + 4}">{_esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def lines(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], title: str, xlabel: str, ylabel: str) -> str:
    """An SVG line chart of named (x, y) series, with a tooltip per point."""
    w, h, pad = 420, 300, 45
    xs = np.concatenate([np.asarray(x, dtype=float) for x, _ in series.values()])
    ys = np.concatenate([np.asarray(y, dtype=float) for _, y in series.values()])
    x0, x1 = float(xs.min()), float(xs.max()) or 1.0
    y0, y1 = min(0.0, float(ys.min())), max(1.0, float(ys.max()))

    def px(x: float, y: float) -> tuple[float, float]:
        return pad + (x - x0) / ((x1 - x0) or 1) * (w - 2 * pad), h - pad - (y - y0) / ((y1 - y0) or 1) * (h - 2 * pad)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">'
    ]
    parts.append(f'<text x="{pad}" y="16" font-weight="bold">{_esc(title)}</text>')
    parts.append(f'<rect x="{pad}" y="{pad}" width="{w - 2 * pad}" height="{h - 2 * pad}" fill="none" stroke="#999"/>')
    for v in (y0, (y0 + y1) / 2, y1):
        _, y = px(x0, v)
        parts.append(f'<text x="{pad - 4}" y="{y + 4}" text-anchor="end">{v:.2f}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 8}" text-anchor="middle">{_esc(xlabel)}</text>')
    parts.append(f'<text transform="translate(12,{h / 2}) rotate(-90)" text-anchor="middle">{_esc(ylabel)}</text>')
    for k, (name, (sx, sy)) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        pts = [px(float(a), float(b)) for a, b in zip(sx, sy, strict=True)]
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>')
        for (a, b), xv, yv in zip(pts, sx, sy, strict=True):
            tip = f"<title>{_esc(name)} {float(xv):g}: {float(yv):.3f}</title>"
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}">{tip}</circle>')
        parts.append(
            f'<text x="{w - pad - 4}" y="{pad + 14 + 14 * k}" text-anchor="end" fill="{color}">{_esc(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def write_html(path: Path, title: str, figures: Sequence[str], caption: str = "") -> Path:
    """One HTML page holding the SVG figures (inline) and a caption."""
    body = "\n".join(f'<div style="display:inline-block;margin:8px;vertical-align:top">{f}</div>' for f in figures)
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{_esc(title)}</title></head>\n<body style="font-family:sans-serif">'
        f"<h2>{_esc(title)}</h2><p>{_esc(caption)}</p>\n{body}\n"
        '<p style="color:#777">Hover over a point or cell for its text and value. Made by contextvec.</p>'
        "</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
