"""Vectors on the wire: JSON floats or base64 of little-endian float32/float16 bytes (as OpenAI's base64), and the
JSON body itself, written by orjson straight from numpy rows (no Python float per number, no re-validation)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from contextvec.pooling.finite import narrow


def encode_rows(vectors: npt.NDArray[np.float32], encoding: str, dtype: str) -> Sequence[Any] | npt.NDArray[np.float64]:
    """(N, D) float32 -> one JSON-ready value per row: a base64 string, or a float64 numpy row that `dumps` writes
    as the shortest decimal of each value (the same text `json.dumps` writes for the float).

    Refuses (NonFiniteError, an HTTP 400) float16 overflow and any NaN/infinity: strict JSON has no such numbers.
    """
    values = narrow(vectors, "float16" if dtype == "float16" else "float32", "the response")
    values = values.astype("<f2" if dtype == "float16" else "<f4", copy=False)
    if encoding == "base64":
        return [base64.b64encode(row.tobytes()).decode("ascii") for row in values]
    return values.astype(np.float64)  # (N, D): each row goes into the JSON as it is


def dumps(payload: Any) -> bytes:
    """The JSON body of a response (numpy arrays and scalars included)."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def decode_base64(value: str, dtype: str = "float32") -> npt.NDArray[np.float32]:
    """The inverse of encode_rows for one base64 row (for clients and tests)."""
    raw = np.frombuffer(base64.b64decode(value), dtype="<f2" if dtype == "float16" else "<f4")
    return raw.astype(np.float32)
