"""Shared fixtures: tokenizers and tiny random models built in code (no weights, no downloads)."""

from __future__ import annotations

import pytest
from tiny_models import _byte_fallback_bpe, _byte_level_bpe, _wordpiece, tiny_bert, tiny_llama
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.models.backend import TorchBackend


@pytest.fixture(scope="session")
def wordpiece_tokenizer() -> PreTrainedTokenizerFast:
    return _wordpiece()


@pytest.fixture(scope="session")
def bpe_tokenizer() -> PreTrainedTokenizerFast:
    return _byte_level_bpe()


@pytest.fixture(scope="session")
def fallback_tokenizer() -> PreTrainedTokenizerFast:
    return _byte_fallback_bpe()


@pytest.fixture(scope="session")
def bert_embedder(wordpiece_tokenizer: PreTrainedTokenizerFast) -> Embedder:
    backend = TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert", device="cpu")
    return Embedder.from_backend(backend, token_budget=256)


@pytest.fixture(scope="session")
def llama_embedder(bpe_tokenizer: PreTrainedTokenizerFast) -> Embedder:
    backend = TorchBackend(tiny_llama(bpe_tokenizer), bpe_tokenizer, "tiny-llama", device="cpu", max_length=48)
    return Embedder.from_backend(backend, token_budget=256)


@pytest.fixture(scope="session")
def fallback_embedder(fallback_tokenizer: PreTrainedTokenizerFast) -> Embedder:
    backend = TorchBackend(tiny_llama(fallback_tokenizer), fallback_tokenizer, "tiny-fallback", device="cpu")
    return Embedder.from_backend(backend, token_budget=512)


@pytest.fixture(params=["bert", "llama", "fallback"])
def any_embedder(request: pytest.FixtureRequest) -> Embedder:
    return request.getfixturevalue(f"{request.param}_embedder")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, wordpiece_tokenizer: PreTrainedTokenizerFast) -> str:
    """The tiny BERT saved as a model folder (the path a user's own model takes through the CLI)."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    tiny_bert(wordpiece_tokenizer).save_pretrained(folder)
    wordpiece_tokenizer.save_pretrained(folder)
    return str(folder)
