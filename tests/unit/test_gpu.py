"""The GPU path: bf16/fp16 on CUDA against float32 on the CPU (tiny BERT). Skipped cleanly without a CUDA device."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import CORPUS, tiny_bert
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.models.backend import TorchBackend

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cuda_half_precision_words_match_cpu_float32(wordpiece_tokenizer: PreTrainedTokenizerFast, dtype: str) -> None:
    texts = [*CORPUS[:7], " ".join(CORPUS[:5]) * 3]  # the last one needs several windows
    cpu = Embedder.from_backend(TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "t", device="cpu"))
    gpu_backend = TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "t", device="cuda", dtype=dtype)  # type: ignore[arg-type]
    gpu = Embedder.from_backend(gpu_backend)
    assert next(gpu_backend.model.parameters()).device.type == "cuda"
    a, b = cpu.embed_words(texts, layers="all"), gpu.embed_words(texts, layers="all")
    assert b.vectors.dtype == np.float32 and (a.start.tolist(), a.end.tolist()) == (b.start.tolist(), b.end.tolist())
    cos = (a.vectors * b.vectors).sum(1) / (np.linalg.norm(a.vectors, axis=1) * np.linalg.norm(b.vectors, axis=1))
    assert cos.min() > 0.99
