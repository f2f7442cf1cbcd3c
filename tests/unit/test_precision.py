"""dtype="auto": one resolution function (fed fake CPU flags here), its result in the backend and in provenance."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from contextvec import Embedder
from contextvec.models import select
from contextvec.models.contract import DEFAULT_PRECISION, PRECISIONS
from contextvec.models.select import resolve_precision

EPYC_AVX2 = frozenset({"avx2"})  # e.g. the AMD EPYC this was written on: no AVX-512 at all
ICE_LAKE = frozenset({"avx2", "avx512f", "avx512_vnni"})  # AVX-512 and VNNI, but no bfloat16 instructions
COOPER_LAKE = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"})
SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16"})
AMX_ONLY = frozenset({"avx2", "amx_tile", "amx_bf16"})


@pytest.mark.parametrize(
    ("flags", "on_gpu", "gpu_bf16", "backend", "expected"),
    [
        (EPYC_AVX2, False, False, "torch", "float32"),
        (ICE_LAKE, False, False, "torch", "float32"),
        (frozenset(), False, False, "torch", "float32"),  # no /proc/cpuinfo (macOS, Windows): float32
        (COOPER_LAKE, False, False, "torch", "bfloat16"),
        (SAPPHIRE_RAPIDS, False, False, "torch", "bfloat16"),
        (AMX_ONLY, False, False, "auto", "bfloat16"),
        (EPYC_AVX2, True, True, "torch", "bfloat16"),  # a GPU: the CPU's flags do not matter
        (EPYC_AVX2, True, False, "torch", "float32"),  # a GPU without bfloat16
        (SAPPHIRE_RAPIDS, False, False, "onnx", "float32"),  # ONNX Runtime has no CPU bfloat16 MatMul
    ],
)
def test_auto_resolves_by_hardware(
    flags: frozenset[str], on_gpu: bool, gpu_bf16: bool, backend: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="contextvec.models.select"):
        got = resolve_precision("auto", on_gpu=on_gpu, flags=flags, gpu_bf16=gpu_bf16, backend=backend)  # type: ignore[arg-type]
    assert got == expected
    assert f"dtype='auto' runs {expected}" in caplog.text  # the choice and its reason are logged


@pytest.mark.parametrize("dtype", [p for p in PRECISIONS if p != "auto"])
def test_a_named_precision_is_never_changed(dtype: str) -> None:
    for flags in (EPYC_AVX2, SAPPHIRE_RAPIDS):
        for on_gpu in (False, True):
            assert resolve_precision(dtype, on_gpu=on_gpu, flags=flags) == dtype  # type: ignore[arg-type]


def test_auto_is_opt_in() -> None:
    assert DEFAULT_PRECISION == "float32"


@pytest.mark.parametrize(("flags", "expected"), [(SAPPHIRE_RAPIDS, "bfloat16"), (EPYC_AVX2, "float32")])
def test_the_resolved_precision_runs_and_is_in_every_result(
    model_dir: str, monkeypatch: pytest.MonkeyPatch, flags: frozenset[str], expected: str
) -> None:
    monkeypatch.setattr(select, "cpu_flags", lambda: flags)
    auto = Embedder(model_dir, dtype="auto", device="cpu")
    assert auto.backend.precision == expected
    assert next(auto.backend.model.parameters()).dtype == getattr(torch, expected)  # type: ignore[attr-defined]
    assert f"dtype={expected!r}" in repr(auto)
    texts = ["we sat on the bank of the river", "the bank approved my loan"]
    results = [
        auto.embed_tokens(texts),
        auto.embed_words(texts),
        auto.embed_spans([(texts[0], 14, 18)]),
        auto.embed_sentences(texts),
    ]
    for res in results:
        assert res.precision == expected
        assert res.vectors.dtype == np.float32  # vectors are float32 whatever the model ran in
        assert res.to_arrow().schema.metadata[b"contextvec.precision"] == expected.encode()
    exact = Embedder(model_dir, device="cpu").embed_words(texts)
    assert exact.precision == "float32"
    a, b = results[1].vectors, exact.vectors
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.99  # bfloat16 of the same model: close to float32, not a different model
