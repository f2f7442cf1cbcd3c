"""Images: does context add information to the pixel values, and at which layer? Measured on scikit-learn's digits.

    flock /work/heavy.lock nice contextvec train vit digits --out DIR --steps 3000 --max-minutes 14
    python benchmarks/images.py --model DIR    # -> benchmarks/results/images.json, docs/img/images-*.png

The model never saw the held-out digits (every 10th image, contextvec.data.images). On them:
- a linear probe (logistic regression, fitted on the training digits) of the digit class from each layer's
  mean-pooled patch vectors, from the raw pixels, and from each layer's patch vectors side by side;
- kNN: the class of the nearest training image (cosine), same features;
- masked-patch reconstruction error (training.json) beside the mean-patch and mean-at-that-place baselines;
- identical patches across images per layer (contextvec.analysis.patches), with the number of pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()}


def probe(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    clf.fit(xtr, ytr)
    return float((clf.predict(xte) == yte).mean())


def knn(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray) -> float:
    a = xtr / np.maximum(np.linalg.norm(xtr, axis=1, keepdims=True), 1e-12)
    b = xte / np.maximum(np.linalg.norm(xte, axis=1, keepdims=True), 1e-12)
    return float((ytr[(b @ a.T).argmax(axis=1)] == yte).mean())


def features(emb: Any, images: np.ndarray) -> np.ndarray:
    """(N, T, L+1, D): every patch's vector at every layer."""
    rows = emb.embed_patches(list(images), layers="all", layer_pooling="concat")
    N = len(images)
    return rows.vectors.reshape(N, len(rows) // N, emb.num_layers + 1, emb.dim)


def reconstruction_picture(emb: Any, images: np.ndarray, path: Path, n: int = 8) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from contextvec.models.reference.vit import patchify, unpatchify
    from contextvec.train.vit import hide_patches

    cfg = emb.config
    px = torch.from_numpy((images[:n] - np.float32(cfg.pixel_mean)) / np.float32(cfg.pixel_std))  # (n, H, W, C)
    hidden = hide_patches(n, cfg.grid[0] * cfg.grid[1], torch.Generator().manual_seed(0))  # (n, T)
    with torch.no_grad():
        pred = emb.model(px, hidden).logits  # (n, T, P)
    p = cfg.patch
    back = lambda t: (unpatchify(t, p, cfg.grid) * cfg.pixel_std[0] + cfg.pixel_mean[0]).numpy()[..., 0]  # noqa: E731
    masks = hidden.float()[..., None].expand(-1, -1, p * p * cfg.channels)  # (n, T, P)
    shown = back(torch.where(masks.bool(), torch.full_like(pred, float("nan")), patchify(px, p)))
    filled = back(torch.where(masks.bool(), pred, patchify(px, p)))
    gray = plt.get_cmap("gray").copy()
    gray.set_bad("#3b6ea5")  # hidden patches in blue
    fig, axes = plt.subplots(3, n, figsize=(1.3 * n, 4.2))
    for k in range(n):
        panels = [(images[k, ..., 0], "image"), (shown[k], "half hidden (blue)"), (filled[k], "filled in")]
        for r, (img, label) in enumerate(panels):
            axes[r][k].imshow(img, cmap=gray, vmin=0, vmax=1)
            axes[r][k].set_xticks([])
            axes[r][k].set_yticks([])
            if k == 0:
                axes[r][k].set_ylabel(label, fontsize=9)
    fig.suptitle("masked-patch modelling on held-out digits: the hidden half predicted from the rest", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def probe_picture(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = [r["layer"] for r in result["per_layer"]]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(layers, [r["probe_mean"] for r in result["per_layer"]], marker="o", label="linear probe, mean of patches")
    ax.plot(layers, [r["knn_mean"] for r in result["per_layer"]], marker="s", label="1-NN image, mean of patches")
    side = [r["probe_concat"] for r in result["per_layer"]]
    ax.plot(layers, side, marker="^", label="linear probe, patches side by side")
    ax.axhline(result["raw_pixels"]["probe"], color="grey", ls="--", label="linear probe, raw pixels")
    ax.axhline(result["raw_pixels"]["knn"], color="grey", ls=":", label="1-NN image, raw pixels")
    ax.set_xlabel("layer (0 = projection + position: static)")
    ax.set_ylabel("held-out accuracy (digit class)")
    ax.set_xticks(layers)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("what the layers know about the whole digit", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    from contextvec.analysis.patches import identical_patches
    from contextvec.data.images import load_images
    from contextvec.vision import PatchEmbedder
    from contextvec.viz.patches import patch_pictures

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="a folder written by `contextvec train vit digits`")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "images.json")
    ap.add_argument("--img", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    started = time.perf_counter()
    result: dict[str, Any] = {"machine": machine(), "model": str(args.model)}
    result["training"] = json.loads((args.model / "training.json").read_text())
    data = load_images("digits")
    assert data.train_labels is not None and data.heldout_labels is not None
    ytr, yte = data.train_labels, data.heldout_labels
    emb = PatchEmbedder(args.model)
    ftr, fte = features(emb, data.train), features(emb, data.heldout)  # (N, T, L+1, D)
    raw_tr, raw_te = data.train.reshape(len(ytr), -1), data.heldout.reshape(len(yte), -1)
    result["raw_pixels"] = {
        "dims": raw_tr.shape[1], "probe": probe(raw_tr, ytr, raw_te, yte), "knn": knn(raw_tr, ytr, raw_te, yte),
    }  # fmt: skip
    per_layer = []
    for layer in range(emb.num_layers + 1):
        mtr, mte = ftr[:, :, layer].mean(1), fte[:, :, layer].mean(1)  # (N, D): mean of the image's patches
        ctr, cte = ftr[:, :, layer].reshape(len(ytr), -1), fte[:, :, layer].reshape(len(yte), -1)  # (N, T*D)
        per_layer.append({
            "layer": layer, "probe_mean": probe(mtr, ytr, mte, yte), "knn_mean": knn(mtr, ytr, mte, yte),
            "probe_concat": probe(ctr, ytr, cte, yte), "knn_concat": knn(ctr, ytr, cte, yte),
        })  # fmt: skip
        print(per_layer[-1], flush=True)
    result["per_layer"] = per_layer
    result["heldout_images"], result["train_images"] = len(yte), len(ytr)
    report = identical_patches(emb, data.heldout)
    result["identical_patches"] = report.to_dict()
    args.img.mkdir(parents=True, exist_ok=True)
    attention = emb.attention(data.heldout[0])
    patch_pictures(report, attention, args.img / "images-patches.png", text_report=HERE / "results" / "analysis.json")
    probe_picture(result, args.img / "images-probe.png")
    reconstruction_picture(emb, data.heldout, args.img / "images-reconstruction.png")
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"]["load_avg_end"] = os.getloadavg()
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("raw_pixels", "seconds")}, indent=1))


if __name__ == "__main__":
    main()
