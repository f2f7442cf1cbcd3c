"""Shared fixtures: tokenizers and tiny random models built in code (no weights, no downloads)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from tiny_models import _byte_fallback_bpe, _byte_level_bpe, _wordpiece, tiny_bert, tiny_llama
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.models.backend import TorchBackend

# Hypothesis profiles: "default" keeps the property tests within seconds in CI (a few hundred texts in all);
# `pytest --hypothesis-profile=long` runs thousands before a release (docs/reliability.md).
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=100, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("long", max_examples=2000, **_COMMON)  # type: ignore[arg-type]
settings.load_profile("default")


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
