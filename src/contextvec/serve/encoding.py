"""Vectors on the wire: JSON floats or base64 of little-endian float32/float16 bytes (as OpenAI's base64)."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import numpy.typing as npt

from contextvec.pooling.finite import narrow


def encode_rows(vectors: npt.NDArray[np.float32], encoding: str, dtype: str) -> list[Any]:
    """(N, D) float32 -> one JSON-ready value per row.

    Refuses (NonFiniteError, an HTTP 400) float16 overflow and any NaN/infinity: strict JSON has no such numbers.
    """
    values = narrow(vectors, "float16" if dtype == "float16" else "float32", "the response")
    values = values.astype("<f2" if dtype == "float16" else "<f4", copy=False)
    if encoding == "base64":
        return [base64.b64encode(row.tobytes()).decode("ascii") for row in values]
    rows: list[Any] = values.astype(np.float32).tolist()
    return rows


def decode_base64(value: str, dtype: str = "float32") -> npt.NDArray[np.float32]:
    """The inverse of encode_rows for one base64 row (for clients and tests)."""
    raw = np.frombuffer(base64.b64decode(value), dtype="<f2" if dtype == "float16" else "<f4")
    return raw.astype(np.float32)
