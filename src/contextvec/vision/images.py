"""Images in: numpy arrays (H, W) or (H, W, C), PIL images, or file paths -> float32 (H, W, C) pixels in [0, 1].

Integer arrays are uint8 (0..255) or uint16 (0..65535); float arrays must already be in [0, 1]. Files and PIL
images keep their own channels: gray (L, I, F, 1) -> 1, colour (RGB, palette without alpha, CMYK, YCbCr) -> 3.
Nothing is converted behind the caller's back: an alpha channel, or a channel count the model was not trained
on, is an error that says how to convert.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from contextvec.errors import InvalidInputError, MissingExtraError
from contextvec.extras import install_command

F32 = npt.NDArray[np.float32]
# one image: an array, a PIL.Image.Image, or a path to a PNG / JPEG / any file Pillow reads
ImageInput: TypeAlias = Any
_GRAY_MODES = ("1", "L", "I", "I;16", "F")
_COLOUR_MODES = ("RGB", "CMYK", "YCbCr", "P")


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise MissingExtraError(f"reading image files needs Pillow: {install_command('vision')}") from None
    return Image


def _from_pil(img: Any, where: str) -> F32:
    mode = img.mode
    if mode == "P" and "transparency" in img.info:
        mode = "PA"
    if mode in _GRAY_MODES:
        arr = np.asarray(img.convert("F"), dtype=np.float32)  # (H, W), in the mode's own range
        top = {"1": 1.0, "L": 255.0, "I;16": 65535.0}.get(img.mode)
        if top is None:
            raise InvalidInputError(
                f"{where}: {img.mode!r} images have no fixed pixel range; convert to 8-bit gray first "
                "(e.g. image.convert('L'))."
            )
        return (arr / top)[:, :, None]
    if mode in _COLOUR_MODES:
        return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
    raise InvalidInputError(
        f"{where}: image mode {img.mode!r} (with transparency or unusual channels) is not read as is; flatten it "
        "to RGB or gray first, e.g. image.convert('RGB') or image.convert('L')."
    )


def _from_path(path: Path, where: str) -> F32:
    Image = _pil()
    if not path.is_file():
        raise InvalidInputError(f"{where}: {str(path)!r} is not a file; give the path of a PNG or JPEG image.")
    try:
        with Image.open(path) as img:
            img.load()
            return _from_pil(img, where)
    except InvalidInputError:
        raise
    except Exception as exc:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError ... for bad files
        raise InvalidInputError(
            f"{where}: {str(path)!r} is not an image Pillow can read ({type(exc).__name__}); give a PNG or JPEG file."
        ) from None


def _from_array(arr: npt.NDArray[Any], where: str) -> F32:
    if arr.ndim not in (2, 3):
        raise InvalidInputError(
            f"{where}: an array of shape {arr.shape} is not an image; give (H, W) gray or (H, W, C) pixels."
        )
    if arr.dtype == np.uint8:
        out = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.uint16:
        out = arr.astype(np.float32) / 65535.0
    elif arr.dtype == np.bool_:
        out = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.floating):
        out = arr.astype(np.float32)
        if not np.isfinite(out).all():
            raise InvalidInputError(f"{where}: the array holds NaN or infinity; give finite pixel values in [0, 1].")
        lo, hi = float(out.min()), float(out.max())
        if lo < 0.0 or hi > 1.0:
            raise InvalidInputError(
                f"{where}: float pixels must lie in [0, 1], these span [{lo:g}, {hi:g}]; divide by the maximum "
                "value (e.g. 255, or 16 for scikit-learn's digits)."
            )
    else:
        raise InvalidInputError(
            f"{where}: pixels of dtype {arr.dtype} have no known range; give uint8 (0..255), uint16, or floats in "
            "[0, 1]."
        )
    return out[:, :, None] if out.ndim == 2 else out


def _from_bytes(data: bytes, where: str) -> F32:
    import io

    Image = _pil()
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return _from_pil(img, where)
    except InvalidInputError:
        raise
    except Exception as exc:  # Pillow's errors for data that is not an image
        raise InvalidInputError(
            f"{where}: {len(data)} bytes that are not an image Pillow can read ({type(exc).__name__}); send a PNG or "
            "JPEG file's bytes."
        ) from None


def read_image(image: ImageInput, where: str = "image") -> F32:
    """One image -> (H, W, C) float32 pixels in [0, 1]. `bytes` are an encoded file (PNG, JPEG, ...)."""
    if isinstance(image, np.ndarray):
        return _from_array(image, where)
    if isinstance(image, bytes):
        return _from_bytes(image, where)
    if isinstance(image, str | os.PathLike):
        return _from_path(Path(image), where)
    if type(image).__module__.startswith("PIL."):
        return _from_pil(image, where)
    raise InvalidInputError(
        f"{where}: a {type(image).__name__} is not an image; give a numpy array (H, W) or (H, W, C), a PIL image, "
        "or the path of an image file."
    )


def as_image_list(images: ImageInput | Sequence[ImageInput]) -> list[ImageInput]:
    """One image or a sequence of them -> a list. A 2-D or 3-D array is one image ((H, W) or (H, W, C)); a 4-D
    array (N, H, W, C) is N images. A stack of gray images (N, H, W) is passed as arr[..., None] or list(arr)."""
    if isinstance(images, np.ndarray):
        return list(images) if images.ndim == 4 else [images]
    if isinstance(images, str | bytes | os.PathLike) or type(images).__module__.startswith("PIL."):
        return [images]
    return list(images)


def describe(image: ImageInput, index: int) -> str:
    """How errors and outputs name an image: its path, or 'image N'."""
    if isinstance(image, str | os.PathLike):
        return str(image)
    return f"image {index}"
