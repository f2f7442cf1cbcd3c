"""Image results: vectors plus the pixel box of every row, the image counterpart of character offsets.

A patch row covers pixels [top, top + height) x [left, left + width) of image `image_index` (its position in the
call). Patches on the bottom and right edge of an image whose size is not a multiple of the patch are smaller:
their box is what the image holds (the model saw them padded with the training images' mean pixel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from contextvec.options import OutputDType
from contextvec.pooling.finite import narrow

if TYPE_CHECKING:
    import pyarrow as pa

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


def _table(columns: dict[str, Any], values: F32, dim: int, meta: dict[str, str]) -> pa.Table:
    import pyarrow as pa

    vector = pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), dim)
    table = pa.table({**{k: pa.array(v) for k, v in columns.items()}, "vector": vector})
    return table.replace_schema_metadata({f"contextvec.{k}": v for k, v in meta.items()})


@dataclass(frozen=True, kw_only=True)
class PatchEmbeddings:
    """One row per patch of every image, in reading order (left to right, top to bottom)."""

    vectors: F32  # (N, D)
    image_index: I64  # (N,) which input image
    top: I64  # (N,) pixel row of the patch's top edge
    left: I64  # (N,) pixel column of its left edge
    height: I64  # (N,) pixels it covers downwards (the patch size, less at a cut bottom edge)
    width: I64  # (N,) pixels it covers to the right
    images: list[str]  # per input image: its path, or "image K" for arrays and PIL images
    model_id: str
    layers: str  # e.g. "layers=4 pooling=mean"

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def rows_of(self, image_index: int) -> I64:
        """Row numbers of one input image's patches."""
        return np.nonzero(self.image_index == image_index)[0]

    def to_arrow(self, dtype: OutputDType = "float32") -> pa.Table:
        """One row per patch: image_index, image, top, left, height, width, vector; provenance in the metadata."""
        values = narrow(self.vectors, dtype, f"patch vectors of {self.model_id!r}")
        names = [self.images[i] for i in self.image_index.tolist()]
        columns = {
            "image_index": self.image_index, "image": names, "top": self.top, "left": self.left,
            "height": self.height, "width": self.width,
        }  # fmt: skip
        meta = {"model": self.model_id, "layers": self.layers, "level": "patch"}
        return _table(columns, values, self.dim, meta)


@dataclass(frozen=True, kw_only=True)
class ImageEmbeddings:
    """One row per image: the mean of its patch vectors (each patch weighted by the pixels it covers)."""

    vectors: F32  # (N, D)
    images: list[str]
    model_id: str
    layers: str

    def __len__(self) -> int:
        return len(self.vectors)

    def to_arrow(self, dtype: OutputDType = "float32") -> pa.Table:
        values = narrow(self.vectors, dtype, f"image vectors of {self.model_id!r}")
        columns = {"image_index": np.arange(len(self.images), dtype=np.int64), "image": self.images}
        meta = {"model": self.model_id, "layers": self.layers, "level": "image", "pooling": "mean of patches"}
        return _table(columns, values, int(self.vectors.shape[1]), meta)
