import logging

import numpy as np
import pytest
import torch
from tests_helpers import texts_of_many_lengths

from contextvec import Embedder
from contextvec.models import fast_bert
from contextvec.models.backend import TorchBackend


def test_fast_path_is_used_for_bert_and_matches_transformers_on_padded_batches(
    bert_embedder: Embedder, wordpiece_tokenizer: object
) -> None:
    assert bert_embedder.backend.fast is not None
    backend = bert_embedder.backend
    slow = TorchBackend(backend.model, wordpiece_tokenizer, "slow", device="cpu", fast_path=False)
    assert slow.fast is None
    texts = texts_of_many_lengths()
    a = bert_embedder.embed_words(texts, layers="all", layer_pooling="concat")
    b = Embedder.from_backend(slow, token_budget=256).embed_words(texts, layers="all", layer_pooling="concat")
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-5)


def test_decoders_keep_the_transformers_path(llama_embedder: Embedder) -> None:
    assert llama_embedder.backend.fast is None


def test_a_fast_path_that_disagrees_is_refused(
    bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    original = fast_bert.FastBert.forward

    def skewed(self: fast_bert.FastBert, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(s + 1e-2 for s in original(self, ids, mask))

    monkeypatch.setattr(fast_bert.FastBert, "forward", skewed)
    with caplog.at_level(logging.WARNING):
        assert fast_bert.build_fast_bert(bert_embedder.backend.model) is None
    assert "disagrees with transformers" in caplog.text
