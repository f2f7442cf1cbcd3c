"""Masked-patch modelling, the image counterpart of BERT's masked LM: hide half of each image's patches, predict
their pixels from the patches that are left (the loss is the mean squared error of the hidden patches' normalised
pixels). Run by the same loop, checkpoints and folder writing as the text kinds (contextvec.train.run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from contextvec.data.images import ImageSet
from contextvec.errors import OptionError
from contextvec.models.reference.vit import ViT, ViTConfig, patchify, save_vit
from contextvec.train.config import Kind, NetConfig

MASK_RATE = 0.5  # share of each image's patches hidden (BERT hides 15% of tokens; MAE 75% of patches: between)
EVAL_SEED = 1234  # the held-out masking is the same at every evaluation


@dataclass(frozen=True)
class PatchBatch:
    pixels: torch.Tensor  # (B, H, W, C) normalised
    hidden: torch.Tensor  # (B, T) True = a patch to predict
    tokens: int  # patches in the batch


def pixel_stats(data: ImageSet) -> dict[str, Any]:
    """The training images' per-channel mean and standard deviation (the model's input normalisation)."""
    flat = data.train.reshape(-1, data.train.shape[-1]).astype(np.float64)  # (N*H*W, C)
    std = np.maximum(flat.std(axis=0), 1e-3)  # a constant channel would divide by zero
    return {"pixel_mean": flat.mean(axis=0).tolist(), "pixel_std": std.tolist(), "shape": list(data.shape)}


def build_vit(net: NetConfig, data: ImageSet, stats: dict[str, Any]) -> ViT:
    """A freshly initialised ViT for images of `data`'s size (torch's global RNG decides the weights)."""
    H, W, C = data.shape
    if H % net.patch or W % net.patch:
        fits = next(p for p in range(net.patch, 0, -1) if not H % p and not W % p)
        raise OptionError(
            f"training images of {H} x {W} pixels do not split into {net.patch} x {net.patch} patches; choose a "
            f"--patch that divides both sides (e.g. {fits})."
        )
    if list(stats["shape"]) != [H, W, C]:
        raise OptionError(f"the checkpoint was made on {stats['shape']} images, these are {[H, W, C]}.")
    cfg = ViTConfig(
        patch=net.patch,
        channels=C,
        grid=(H // net.patch, W // net.patch),
        dim=net.dim,
        n_layers=net.num_layers,
        n_heads=net.heads,
        mlp_dim=net.hidden,
        positions=net.positions,  # type: ignore[arg-type]  # checked by check_net
        stem=net.stem,  # type: ignore[arg-type]
        pixel_mean=tuple(stats["pixel_mean"]),
        pixel_std=tuple(stats["pixel_std"]),
        dropout=net.dropout,
    )
    return ViT(cfg)


def hide_patches(B: int, T: int, gen: torch.Generator, rate: float = MASK_RATE) -> torch.Tensor:
    """(B, T) bool: exactly round(rate * T) patches per image (at least one) chosen at random."""
    k = max(1, round(rate * T))
    order = torch.rand(B, T, generator=gen).argsort(dim=1)  # (B, T) a random permutation per row
    return order < k  # the patches whose rank is among the first k


class ViTTask:
    kind: Kind = "vit"

    def __init__(self, model: ViT, data: ImageSet) -> None:
        self.model = model
        cfg = model.config
        mean, std = np.asarray(cfg.pixel_mean, np.float32), np.asarray(cfg.pixel_std, np.float32)
        self.train = torch.from_numpy((data.train - mean) / std)  # (N, H, W, C) normalised
        self.heldout_images = torch.from_numpy((data.heldout - mean) / std)
        self.T = cfg.grid[0] * cfg.grid[1]
        target = patchify(self.train, cfg.patch)  # (N, T, P)
        self.mean_patch = target.mean(dim=(0, 1))  # (P,) the baseline's prediction for every hidden patch
        self.position_mean = target.mean(dim=0)  # (T, P) ... and the stronger one: the mean at that position

    def batch(self, gen: torch.Generator, size: int) -> PatchBatch:
        picks = torch.randint(0, len(self.train), (size,), generator=gen)
        return PatchBatch(self.train[picks], hide_patches(size, self.T, gen), size * self.T)

    def _errors(self, batch: PatchBatch) -> torch.Tensor:
        """(n_hidden,) mean squared error of each hidden patch's predicted pixels."""
        pred = self.model(batch.pixels, batch.hidden).logits  # (B, T, P)
        target = patchify(batch.pixels, self.model.config.patch)  # (B, T, P)
        err: torch.Tensor = ((pred - target) ** 2).mean(dim=-1)[batch.hidden]  # (B, T) -> (n_hidden,)
        return err

    def loss(self, batch: PatchBatch) -> torch.Tensor:
        return self._errors(batch).mean()

    def heldout(self, max_tokens: int, batch_size: int) -> dict[str, float]:
        """Masked-patch error on the held-out images beside two baselines that ignore the visible patches."""
        images = self.heldout_images[: max(1, max_tokens // self.T)]
        if len(images) == 0:
            return {}
        gen = torch.Generator().manual_seed(EVAL_SEED)
        sums = {"masked_mse": 0.0, "mean_patch_mse": 0.0, "position_mean_mse": 0.0}
        n = 0
        with torch.no_grad():
            for k in range(0, len(images), batch_size):
                px = images[k : k + batch_size]
                batch = PatchBatch(px, hide_patches(len(px), self.T, gen), len(px) * self.T)
                target = patchify(px, self.model.config.patch)  # (B, T, P)
                sums["masked_mse"] += float(self._errors(batch).sum())
                sums["mean_patch_mse"] += float(((target - self.mean_patch) ** 2).mean(-1)[batch.hidden].sum())
                sums["position_mean_mse"] += float(((target - self.position_mean) ** 2).mean(-1)[batch.hidden].sum())
                n += int(batch.hidden.sum())
        return {**{k: v / n for k, v in sums.items()}, "hidden_patches": float(n), "images": float(len(images))}

    def export(self, folder: Path) -> None:
        save_vit(self.model, folder)
