"""The image "bank": the same patch content in different images, layer by layer.

Two patches are identical when they hold the same pixel values at the same place (row and column of the patch
grid) of two different images. Layer 0 (projection + position) gives them one vector, so their cosine is 1 there;
whatever the blocks then make them differ by comes from the rest of the image — the context. Patches of one
uniform value (blank background) are left out: they are identical everywhere and say little.

Per layer this reports the mean cosine of identical pairs, the self-similarity of each group of identical patches
(Ethayarajh's measure, contextvec.analysis.measures, averaged over groups: the image counterpart of a word's uses),
and two baselines: patches at the same place with different content, and random patches of different images.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from contextvec.analysis.measures import _unit, anisotropy, random_pairs, self_similarity
from contextvec.errors import InvalidInputError
from contextvec.models.reference.vit import patchify
from contextvec.vision import PatchEmbedder

F32 = npt.NDArray[np.float32]
MAX_PER_GROUP = 20  # members of one group of identical patches used (all pairs among them)


@dataclass(frozen=True)
class PatchLayer:
    layer: int
    identical_cosine: float  # mean cosine of identical patches in different images
    self_similarity: float  # mean over groups of identical patches of their self-similarity
    same_place_cosine: float  # baseline: same grid place, different content, different images
    anisotropy: float  # baseline: random patches of different images


@dataclass(frozen=True)
class IdenticalPatchReport:
    model_id: str
    layers: list[PatchLayer]
    n_images: int
    n_groups: int  # groups of >= 2 identical, non-uniform patches
    n_pairs: int  # identical pairs whose cosine is averaged

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model_id, "n_images": self.n_images, "n_groups": self.n_groups, "n_pairs": self.n_pairs,
            "layers": [asdict(r) for r in self.layers],
        }  # fmt: skip


def _patch_values(images: F32, patch: int) -> F32:
    """(N, H, W, C) -> (N*T, P): every patch's pixels, rows in the order embed_patches gives them."""
    import torch

    N, H, W, _ = images.shape
    if H % patch or W % patch:
        raise InvalidInputError(f"identical patches are looked for in images of whole patches; {H} x {W} is not.")
    flat = patchify(torch.from_numpy(np.ascontiguousarray(images)), patch).numpy()  # (N, T, P)
    return flat.reshape(N * flat.shape[1], -1)


def identical_groups(values: F32, T: int, seed: int = 0) -> list[npt.NDArray[np.int64]]:
    """Groups of rows of (N*T, P) patch values with identical, non-uniform content at the same place (row % T);
    each has 2..MAX_PER_GROUP members, all from different images."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[int, bytes], list[int]] = {}
    for row in np.nonzero(values.max(axis=1) > values.min(axis=1))[0].tolist():  # uniform patches: background
        groups.setdefault((row % T, values[row].tobytes()), []).append(row)
    out = []
    for rows in groups.values():
        if len(rows) >= 2:
            chosen = rng.permutation(rows)[:MAX_PER_GROUP] if len(rows) > MAX_PER_GROUP else np.asarray(rows)
            out.append(np.sort(chosen).astype(np.int64))
    return out


def identical_patches(embedder: PatchEmbedder, images: F32, seed: int = 0) -> IdenticalPatchReport:
    """Per layer: identical patches' cosine and self-similarity, with the two baselines (see the module doc)."""
    images = np.asarray(images, dtype=np.float32)
    values = _patch_values(images, embedder.config.patch)  # (N*T, P)
    T = len(values) // len(images)
    groups = identical_groups(values, T, seed)
    if not groups:
        raise InvalidInputError(
            f"no patch content occurs twice at the same place in these {len(images)} images; give more images or "
            "images with repeated content (digits has many)."
        )
    rows = embedder.embed_patches(list(images), layers="all", layer_pooling="concat")
    L1, D = embedder.num_layers + 1, embedder.dim
    per_layer = rows.vectors.reshape(len(rows), L1, D)  # (N*T, (L+1)*D) -> (N*T, L+1, D)
    pair_rows = np.concatenate([g[np.stack(np.triu_indices(len(g), 1), axis=1)] for g in groups])  # (P, 2)
    same_place = _same_place_pairs(values, T, len(pair_rows), seed)
    random_rows = random_pairs(rows.image_index.tolist(), len(pair_rows), seed)
    out = []
    for layer in range(L1):
        v = per_layer[:, layer]  # (N*T, D)
        u = _unit(v)
        identical = float(np.einsum("pd,pd->p", u[pair_rows[:, 0]], u[pair_rows[:, 1]]).mean())
        selfsim = float(np.mean([self_similarity(v[g]) for g in groups]))
        same = float(np.einsum("pd,pd->p", u[same_place[:, 0]], u[same_place[:, 1]]).mean())
        out.append(PatchLayer(layer, identical, selfsim, same, anisotropy(v, random_rows)))
    return IdenticalPatchReport(embedder.model_id, out, len(images), len(groups), len(pair_rows))


def _same_place_pairs(values: F32, T: int, n: int, seed: int) -> npt.NDArray[np.int64]:
    """(<= n, 2) random pairs of non-uniform patches at the same place of different images, content different."""
    rng = np.random.default_rng(seed + 1)
    N = len(values) // T
    a = rng.integers(0, len(values), size=8 * n)
    b = ((a // T + rng.integers(1, max(N, 2), size=8 * n)) % N) * T + a % T  # another image, the same place
    varied = values.max(axis=1) > values.min(axis=1)  # (N*T,)
    keep = varied[a] & varied[b] & (values[a] != values[b]).any(axis=1)
    return np.stack([a[keep], b[keep]], axis=1)[:n].astype(np.int64)
