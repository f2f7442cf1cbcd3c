"""Image sets to train and measure on, all offline: by name, a folder of image files, or a .npy array.

- `digits`: scikit-learn's 1,797 handwritten digits (8 x 8 gray, 17 levels, shipped in its wheel), with labels.
- `photos`: the two photos scikit-learn ships (china.jpg, flower.jpg, 427 x 640 RGB), halved and cut into
  16 x 16 tiles (520 colour images).
- a folder: every .png / .jpg / .jpeg in it (sorted by name), all of one size and one channel count.
- a .npy file: (N, H, W) gray or (N, H, W, C) pixels, uint8 / uint16 or floats in [0, 1].

Every set is split the way text corpora are (contextvec.train.corpus): image k is held out when k % 10 == 9.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from contextvec.errors import DatasetNotFoundError, InputFileError, InvalidInputError, OptionError
from contextvec.extras import install_command
from contextvec.vision.images import read_image

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
HOLDOUT_EVERY = 10
NAMED = ("digits", "photos")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PHOTO_TILE = 16


@dataclass(frozen=True)
class ImageSet:
    """Pixels (N, H, W, C) in [0, 1], split into the images trained on and the held-out ones."""

    name: str
    train: F32  # (N_train, H, W, C)
    heldout: F32  # (N_heldout, H, W, C)
    train_labels: I64 | None = None  # class of each image, where the set has one (digits)
    heldout_labels: I64 | None = None

    def fingerprint(self) -> str:
        """A hash of the pixels trained on, so `--resume` refuses a checkpoint made from other images."""
        return hashlib.sha256(np.ascontiguousarray(self.train).tobytes()).hexdigest()[:16]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(H, W, C) of every image."""
        H, W, C = self.train.shape[1:]
        return int(H), int(W), int(C)


def split(name: str, pixels: F32, labels: I64 | None = None) -> ImageSet:
    held = np.arange(len(pixels)) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    if len(pixels) < HOLDOUT_EVERY:  # too few to spare any
        held[:] = False
    lab = (labels[~held], labels[held]) if labels is not None else (None, None)
    return ImageSet(name, pixels[~held], pixels[held], *lab)


def _sklearn_datasets() -> object:
    try:
        import sklearn.datasets
    except ImportError:
        raise DatasetNotFoundError(
            f"the named image sets come with scikit-learn; install it: {install_command('vision')}"
        ) from None
    return sklearn.datasets


def digits() -> tuple[F32, I64]:
    """scikit-learn's digits as (1797, 8, 8, 1) pixels in [0, 1] (its 0..16 levels / 16) and the (1797,) digits."""
    data = _sklearn_datasets().load_digits()  # type: ignore[attr-defined]
    pixels = (np.asarray(data.images, dtype=np.float32) / 16.0)[..., None]
    return pixels, np.asarray(data.target, dtype=np.int64)


def photos(tile: int = PHOTO_TILE) -> F32:
    """scikit-learn's two sample photos, halved (2 x 2 mean) and cut into tile x tile colour images."""
    images = _sklearn_datasets().load_sample_images().images  # type: ignore[attr-defined]
    out: list[F32] = []
    for img in images:
        px = np.asarray(img, dtype=np.float32) / 255.0  # (427, 640, 3)
        H, W = px.shape[0] // 2 * 2, px.shape[1] // 2 * 2
        half = px[:H, :W].reshape(H // 2, 2, W // 2, 2, 3).mean(axis=(1, 3))  # (213, 320, 3)
        rows, cols = half.shape[0] // tile, half.shape[1] // tile
        cut = half[: rows * tile, : cols * tile].reshape(rows, tile, cols, tile, 3).transpose(0, 2, 1, 3, 4)
        out.append(cut.reshape(rows * cols, tile, tile, 3))  # (rows, cols, tile, tile, 3) -> tiles
    return np.concatenate(out).astype(np.float32)


def _stack(pixels: list[F32], where: str) -> F32:
    shapes = sorted({p.shape for p in pixels})
    if len(shapes) > 1:
        raise InputFileError(
            f"{where}: the images differ in size or channels ({', '.join(map(str, shapes[:4]))}); training takes "
            "images of one size: crop or resize them to one size first."
        )
    return np.stack(pixels).astype(np.float32, copy=False)


def load_images(source: str | Path) -> ImageSet:
    """'digits', 'photos', a folder of PNG / JPEG files, or a .npy array of images."""
    text = str(source)
    if text == "digits":
        pixels, labels = digits()
        return split("digits", pixels, labels)
    if text == "photos":
        return split("photos", photos())
    path = Path(source)
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputFileError(f"{path}: no .png, .jpg or .jpeg files in this folder.")
        return split(str(path), _stack([read_image(f, str(f)) for f in files], str(path)))
    if path.suffix.lower() == ".npy" and path.is_file():
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputFileError(f"{path}: not a readable .npy array ({exc}).") from None
        if arr.ndim == 3:
            arr = arr[..., None]  # (N, H, W) gray
        if arr.ndim != 4 or len(arr) == 0:
            raise InputFileError(f"{path}: an array of shape {arr.shape} is not (N, H, W) or (N, H, W, C) images.")
        try:
            stack = [read_image(a, f"{path} image {i}") for i, a in enumerate(arr)]
        except InvalidInputError as exc:
            raise InputFileError(str(exc)) from None
        return split(str(path), _stack(stack, str(path)))
    raise OptionError(
        f"images {text!r}: give 'digits', 'photos', a folder of PNG / JPEG files, or a .npy array of images."
    )
