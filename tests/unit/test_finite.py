"""NaN and infinity never leave contextvec silently: float16 overflow and non-finite vectors are refused."""

from __future__ import annotations

import numpy as np
import pytest

from contextvec.errors import ContextvecError, NonFiniteError
from contextvec.pooling.finite import check_finite_output, narrow
from contextvec.results import SentenceEmbeddings
from contextvec.serve.encoding import decode_base64, encode_rows


def _sentences(vectors: np.ndarray) -> SentenceEmbeddings:
    n = len(vectors)
    return SentenceEmbeddings(
        level="sentence",
        vectors=vectors.astype(np.float32),
        text_index=np.arange(n, dtype=np.int64),
        start=np.zeros(n, dtype=np.int64),
        end=np.ones(n, dtype=np.int64),
        strings=["x"] * n,
        n_tokens=np.ones(n, dtype=np.int64),
        model_id="tiny",
        precision="float32",
        layers="layers=1 pooling=mean",
        pooling="mean",
    )


def test_float16_overflow_is_refused_in_parquet_tables_and_responses() -> None:
    big = np.array([[1e6, -2.0], [0.5, 0.25]], dtype=np.float32)
    with pytest.raises(NonFiniteError, match="beyond float16's largest value"):
        _sentences(big).to_arrow("float16")
    for encoding in ("float", "base64"):
        with pytest.raises(NonFiniteError, match="use dtype float32|Use dtype float32"):
            encode_rows(big, encoding, "float16")
    assert _sentences(big).to_arrow("float32").num_rows == 2  # float32 holds them


def test_nan_and_infinity_are_refused_for_every_dtype() -> None:
    for bad in (np.nan, np.inf):
        vectors = np.array([[1.0, bad]], dtype=np.float32)
        for dtype in ("float32", "float16"):
            with pytest.raises(NonFiniteError, match="NaN or infinity"):
                encode_rows(vectors, "float", dtype)
            with pytest.raises(NonFiniteError, match="NaN or infinity"):
                _sentences(vectors).to_arrow(dtype)  # type: ignore[arg-type]


def test_values_that_fit_pass_unchanged() -> None:
    ok = np.array([[65504.0, -1.5]], dtype=np.float32)
    assert narrow(ok, "float16", "x").dtype == np.float16
    (row,) = encode_rows(ok, "base64", "float16")
    assert decode_base64(row, "float16").tolist() == [65504.0, -1.5]


def test_check_finite_output_names_the_model_and_the_fix() -> None:
    check_finite_output(np.ones((2, 3, 4), dtype=np.float32), "tiny")
    bad = np.ones((2, 3, 4), dtype=np.float32)
    bad[1, 2, 3] = np.nan
    with pytest.raises(NonFiniteError, match=r"model 'mpnet' \(files in '/c/m'\) produced 1 NaN") as info:
        check_finite_output(bad, "mpnet", "/c/m")
    assert isinstance(info.value, ContextvecError) and "rebuild its cache" in str(info.value)
