import logging
from typing import Any

import numpy as np
import pytest
import torch
from tests_helpers import texts_of_many_lengths
from tiny_models import tiny_bert, tiny_mpnet
from transformers.models.mpnet.modeling_mpnet import MPNetEncoder

from contextvec import Embedder
from contextvec.models import fast_encoder
from contextvec.models.backend import TorchBackend

ATOL = 1e-5  # float32, 32-d, 3 layers: the fused and transformers forwards differ by summation order only


def padded_batch(model: Any, lengths: list[int], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random content ids (never the padding id) right-padded with `pad_id`, as the engine builds batches."""
    g = torch.Generator().manual_seed(1)
    T = max(lengths)
    ids = torch.randint(2, model.config.vocab_size, (len(lengths), T), generator=g)
    mask = torch.zeros_like(ids)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
    ids[mask == 0] = pad_id
    return ids, mask


@pytest.mark.parametrize("family", ["bert", "mpnet"])
def test_every_layer_matches_transformers_on_padded_batches_of_different_lengths(
    family: str, wordpiece_tokenizer: Any
) -> None:
    # lengths past 128 reach MPNet's last relative-position bucket, 9..127 its log-spaced ones, < 8 the exact ones
    if family == "bert":
        model, pad, lengths = tiny_bert(wordpiece_tokenizer), 0, [64, 40, 9, 2, 1]
    else:
        model, pad, lengths = tiny_mpnet(vocab_size=300), 1, [200, 150, 37, 9, 2, 1]
    fast = fast_encoder.FastEncoder(model).eval()
    ids, mask = padded_batch(model, lengths, pad)
    with torch.inference_mode():
        want = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        got = fast(ids, mask)
    assert len(got) == len(want) == model.config.num_hidden_layers + 1
    keep = mask.bool()
    for layer, (w, g) in enumerate(zip(want, got, strict=True)):
        assert g.shape == w.shape
        torch.testing.assert_close(g[keep], w[keep], atol=ATOL, rtol=0, msg=lambda m, i=layer: f"layer {i}: {m}")


def test_relative_position_buckets_match_transformers() -> None:
    T = 300  # distances up to 299: exact, log-spaced and clamped buckets on both sides
    pos = torch.arange(T)
    want = MPNetEncoder.relative_position_bucket(pos[None, :] - pos[:, None], num_buckets=32, max_distance=128)
    got = fast_encoder.relative_buckets(T, torch.device("cpu"))
    assert torch.equal(got, want)
    # every bucket is used, so each one was compared (16 would be "distance 0, key after the query": none)
    assert set(got.unique().tolist()) == set(range(32)) - {16}


def test_the_position_bias_matters_in_the_tiny_mpnet() -> None:
    # guards the parity test above: without the bias the hidden states must differ, or the test proves nothing
    model = tiny_mpnet(vocab_size=300)
    fast = fast_encoder.FastEncoder(model).eval()
    ids, mask = padded_batch(model, [150, 20], 1)
    with torch.inference_mode():
        with_bias = fast(ids, mask)[-1]
        fast.position_bias = None
        without = fast(ids, mask)[-1]
    assert float((with_bias - without)[mask.bool()].abs().max()) > 100 * ATOL  # a wrong bias fails the parity


@pytest.fixture(scope="module")
def mpnet_embedder(wordpiece_tokenizer: Any) -> Embedder:
    model = tiny_mpnet(vocab_size=len(wordpiece_tokenizer))
    return Embedder.from_backend(TorchBackend(model, wordpiece_tokenizer, "tiny-mpnet", device="cpu"), token_budget=256)


@pytest.mark.parametrize("name", ["bert_embedder", "mpnet_embedder"])
def test_fast_path_is_used_and_matches_transformers_through_the_embedder(
    name: str, wordpiece_tokenizer: Any, request: pytest.FixtureRequest
) -> None:
    embedder: Embedder = request.getfixturevalue(name)
    backend = embedder.backend
    assert isinstance(backend, TorchBackend)
    assert backend.fast is not None
    slow = TorchBackend(backend.model, wordpiece_tokenizer, "slow", device="cpu", fast_path=False)
    assert slow.fast is None
    texts = texts_of_many_lengths()  # 1..50 words: several windows and batches of mixed lengths
    a = embedder.embed_words(texts, layers="all", layer_pooling="concat")
    b = Embedder.from_backend(slow, token_budget=256).embed_words(texts, layers="all", layer_pooling="concat")
    np.testing.assert_allclose(a.vectors, b.vectors, atol=ATOL)


def test_decoders_keep_the_transformers_path(llama_embedder: Embedder) -> None:
    assert llama_embedder.backend.fast is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["bert_embedder", "mpnet_embedder"])
def test_a_fast_path_that_disagrees_is_refused(
    name: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    embedder: Embedder = request.getfixturevalue(name)
    original = fast_encoder.FastEncoder.forward

    def skewed(self: fast_encoder.FastEncoder, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(s + 1e-2 for s in original(self, ids, mask))

    monkeypatch.setattr(fast_encoder.FastEncoder, "forward", skewed)
    with caplog.at_level(logging.WARNING):
        assert fast_encoder.build_fast_encoder(embedder.backend.model) is None  # type: ignore[attr-defined]
    assert "disagrees with transformers" in caplog.text


@pytest.mark.parametrize("family", ["bert", "mpnet"])
def test_bfloat16_runs_the_fused_path_checked_in_float32(family: str, wordpiece_tokenizer: Any) -> None:
    def model() -> Any:
        return tiny_bert(wordpiece_tokenizer) if family == "bert" else tiny_mpnet(len(wordpiece_tokenizer))

    exact = TorchBackend(model(), wordpiece_tokenizer, "f32", device="cpu")
    half = TorchBackend(model(), wordpiece_tokenizer, "bf16", device="cpu", dtype="bfloat16")
    assert half.fast is not None  # the check ran before the cast, so bfloat16 rounding cannot refuse it
    assert {p.dtype for p in half.fast.parameters()} == {torch.bfloat16}  # Q/K/V copies cast with the model
    ids, mask = padded_batch(half.model, [60, 30, 3], wordpiece_tokenizer.pad_token_id)
    keep = mask.bool()
    for a, b in zip(half.forward(ids, mask), exact.forward(ids, mask), strict=True):
        cos = torch.nn.functional.cosine_similarity(a[keep].float(), b[keep], dim=-1)
        assert float(cos.min()) > 0.999  # bfloat16 of the same arithmetic, not something else
