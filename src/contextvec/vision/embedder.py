"""`PatchEmbedder`: a vector per image patch, from every layer of a contextvec image model (models/reference/vit.py).

    emb = PatchEmbedder("vit-digits")
    patches = emb.embed_patches(images, layers=-1)      # (N, D) + image_index, top, left, height, width
    pooled = emb.embed_images(images, layers="all")     # one vector per image

Layer 0 is the static patch embedding (projection of the pixel values + position), as layer 0 is for text; `layers=`
and `layer_pooling=` take exactly what the text Embedder takes (contextvec.options). Images of one size run in
batches together; an image whose sides are not multiples of the patch is padded at the bottom and right with the
training images' mean pixel, and its edge patches' boxes say which pixels they really hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from contextvec.errors import InvalidInputError
from contextvec.models.recipes import TOP_LAYER
from contextvec.models.reference.trace import LayerTrace
from contextvec.models.reference.vit import ViT, load_vit
from contextvec.options import LayerPoolingArg, LayersArg, LayerSelection, resolve_layer_selection, strict_options
from contextvec.pooling.layers import pool_layers
from contextvec.vision.images import F32, ImageInput, as_image_list, describe, read_image
from contextvec.vision.results import ImageEmbeddings, PatchEmbeddings

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PatchGrid:
    """Where one image's patches lie: a (rows, cols) grid and each patch's pixel box (reading order)."""

    rows: int
    cols: int
    top: I64  # (T,)
    left: I64  # (T,)
    height: I64  # (T,)
    width: I64  # (T,)


def patch_grid(height: int, width: int, patch: int) -> PatchGrid:
    """The boxes of p x p patches over an H x W image; the last row and column are cut to the image."""
    rows, cols = -(-height // patch), -(-width // patch)  # ceil
    r, c = np.divmod(np.arange(rows * cols, dtype=np.int64), cols)  # (T,), (T,): reading order
    top, left = r * patch, c * patch
    return PatchGrid(rows, cols, top, left, np.minimum(patch, height - top), np.minimum(patch, width - left))


@dataclass(frozen=True)
class PatchAttention:
    """Attention of one image's patches: weights (L, H, T, T), rows = from, columns = to, each row sums to 1."""

    weights: npt.NDArray[np.float32]
    grid: PatchGrid
    pixels: F32  # (H, W, C) the image as read, in [0, 1]
    model_id: str


class PatchEmbedder:
    """A contextvec image model folder (written by `contextvec train vit`) -> vectors per patch or per image."""

    def __init__(self, model: str | Path, *, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise InvalidInputError(f"batch_size={batch_size} must be >= 1.")
        self.model_id = str(model)
        self.model: ViT = load_vit(model)
        self.config = self.model.config
        self.batch_size = batch_size
        self._mean = np.asarray(self.config.pixel_mean, dtype=np.float32)  # (C,)
        self._std = np.asarray(self.config.pixel_std, dtype=np.float32)  # (C,)

    @property
    def num_layers(self) -> int:
        return self.config.n_layers

    @property
    def dim(self) -> int:
        return self.config.dim

    def __repr__(self) -> str:
        c = self.config
        sizes = f"patch={c.patch}, channels={c.channels}, layers={c.n_layers}, dim={c.dim}"
        return f"PatchEmbedder({self.model_id!r}, {sizes})"

    # -- input -----------------------------------------------------------------------------------------------------
    def read(self, image: ImageInput, index: int = 0) -> F32:
        """One image as (H, W, C) pixels in [0, 1], checked against the model's channels and patch size."""
        where = describe(image, index)
        pixels = read_image(image, where)
        height, width, channels = pixels.shape
        want, p = self.config.channels, self.config.patch
        if channels != want:
            hint = "image.convert('L') or pixels.mean(axis=2)" if want == 1 else "image.convert('RGB') or np.repeat"
            stack = "" if channels in (3, 4) else "; a stack of gray images (N, H, W) is passed as list(arr)"
            raise InvalidInputError(
                f"{where} has {channels} channel(s), this model was trained on {want}; convert it ({hint}) first"
                f"{stack}."
            )
        if min(height, width) < p:
            raise InvalidInputError(
                f"{where} is {height} x {width} pixels, smaller than one {p} x {p} patch; give a larger image."
            )
        return pixels

    def _normalised(self, pixels: F32, grid: PatchGrid) -> F32:
        """(H, W, C) -> (rows*p, cols*p, C), (x - mean) / std, padded with the mean (0 after normalising)."""
        p = self.config.patch
        H, W, _ = pixels.shape
        out = (pixels - self._mean) / self._std
        return np.pad(out, ((0, grid.rows * p - H), (0, grid.cols * p - W), (0, 0)))

    # -- forward ---------------------------------------------------------------------------------------------------
    def _hidden_states(
        self, batch: list[F32], selection: LayerSelection | None, trace: bool = False
    ) -> tuple[torch.Tensor | None, tuple[LayerTrace, ...] | None]:
        x = torch.from_numpy(np.stack(batch))  # (B, H', W', C), all of one size
        with torch.no_grad():
            out = self.model(x, trace=trace)
        pooled = pool_layers(out.hidden_states, selection) if selection is not None else None  # (B, T, D')
        return pooled, out.trace

    def _selection(self, layers: LayersArg | None, layer_pooling: LayerPoolingArg) -> LayerSelection:
        return resolve_layer_selection(TOP_LAYER if layers is None else layers, layer_pooling, self.num_layers)

    @strict_options
    def embed_patches(
        self,
        images: ImageInput | Sequence[ImageInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
    ) -> PatchEmbeddings:
        """A vector per patch of every image (layers=None: the top layer; 0 = the static patch embedding)."""
        selection = self._selection(layers, layer_pooling)
        items = as_image_list(images)
        if not items:
            raise InvalidInputError("no images given; pass one image or a list of them.")
        pixels = [self.read(img, i) for i, img in enumerate(items)]
        grids = [patch_grid(px.shape[0], px.shape[1], self.config.patch) for px in pixels]
        vectors: list[F32 | None] = [None] * len(items)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, px in enumerate(pixels):
            by_size.setdefault(px.shape[:2], []).append(i)
        for idx in by_size.values():  # images of one size share a batch, with no padding between them
            for k in range(0, len(idx), self.batch_size):
                chunk = idx[k : k + self.batch_size]
                pooled, _ = self._hidden_states([self._normalised(pixels[i], grids[i]) for i in chunk], selection)
                assert pooled is not None
                for b, i in enumerate(chunk):
                    vectors[i] = pooled[b].float().numpy()  # (T, D')
        cat = np.concatenate  # rows in input order, each image's patches in reading order
        return PatchEmbeddings(
            vectors=cat([v for v in vectors if v is not None]).astype(np.float32, copy=False),
            image_index=cat([np.full(len(g.top), i, dtype=np.int64) for i, g in enumerate(grids)]),
            top=cat([g.top for g in grids]),
            left=cat([g.left for g in grids]),
            height=cat([g.height for g in grids]),
            width=cat([g.width for g in grids]),
            images=[describe(img, i) for i, img in enumerate(items)],
            model_id=self.model_id,
            layers=selection.describe(),
        )

    @strict_options
    def embed_images(
        self,
        images: ImageInput | Sequence[ImageInput],
        *,
        layers: LayersArg | None = None,
        layer_pooling: LayerPoolingArg = "mean",
    ) -> ImageEmbeddings:
        """One vector per image: the mean of its patch vectors, each weighted by the pixels its box covers."""
        patches = self.embed_patches(images, layers=layers, layer_pooling=layer_pooling)
        n = len(patches.images)
        area = (patches.height * patches.width).astype(np.float64)  # (N,)
        sums = np.zeros((n, patches.dim), dtype=np.float64)
        np.add.at(sums, patches.image_index, patches.vectors * area[:, None])
        totals = np.bincount(patches.image_index, weights=area, minlength=n)  # (n,)
        return ImageEmbeddings(
            vectors=(sums / totals[:, None]).astype(np.float32),
            images=patches.images,
            model_id=self.model_id,
            layers=patches.layers,
        )

    def attention(self, image: ImageInput) -> PatchAttention:
        """Every block's attention over one image's patches, from the reference transformer's trace."""
        pixels = self.read(image)
        grid = patch_grid(pixels.shape[0], pixels.shape[1], self.config.patch)
        _, traces = self._hidden_states([self._normalised(pixels, grid)], None, trace=True)
        assert traces is not None
        weights = torch.stack([t.weights[0] for t in traces]).float().numpy()  # L x (H, T, T) -> (L, H, T, T)
        return PatchAttention(weights, grid, pixels, self.model_id)
