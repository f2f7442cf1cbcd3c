"""Inside one word (analysis/inside.py) against raw transformers: q/k/v from the checkpoint's own projection
weights, attention from transformers' eager attention merged by hand, the stream from its hidden states."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from reference import simple_words

from contextvec import Embedder
from contextvec.analysis.inside import inside_word, stream_measures
from contextvec.errors import InvalidInputError
from contextvec.transformer import Transformer

TEXT = "The chicken didn't cross the road because the chicken was tired."


def _raw(emb: Embedder, text: str) -> tuple[Any, list[tuple[int, int]]]:
    """transformers' eager forward (hidden states and attentions) of the text, and each token's char offsets."""
    enc = emb.backend.tokenizer.encode(text, add_special_tokens=True)
    model = emb.backend.model
    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([enc.ids]), output_attentions=True, output_hidden_states=True)
    finally:
        model.set_attn_implementation(before)
    return out, [tuple(o) for o in enc.offsets]


def _tokens_of(offsets: list[tuple[int, int]], span: tuple[int, int]) -> list[int]:
    return [t for t, (s, e) in enumerate(offsets) if e > s and s < span[1] and span[0] < e]


@pytest.fixture(scope="module")
def bert_inside(bert_embedder: Embedder) -> Any:
    ref = Transformer.from_transformers(bert_embedder.backend.model)
    return inside_word(bert_embedder, ref, TEXT, "chicken", occurrence=2)


def test_qkv_scores_and_weights_equal_transformers(bert_embedder: Embedder, bert_inside: Any) -> None:
    got = bert_inside
    out, offsets = _raw(bert_embedder, TEXT)
    span = [s for s in simple_words(TEXT) if TEXT[s[0] : s[1]] == "chicken"][1]  # the second "chicken"
    mine = _tokens_of(offsets, span)
    assert got.labels[got.row] == "chicken" and len(got.pieces) == len(mine)
    cfg = bert_embedder.backend.model.config
    H, hd = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
    for layer, block in enumerate(bert_embedder.backend.model.encoder.layer):
        h = out.hidden_states[layer][0]  # (T, D) the block's input
        proj = block.attention.self
        for name, lin in (("q", proj.query), ("k", proj.key), ("v", proj.value)):
            want = lin(h).detach().view(-1, H, hd).transpose(0, 1)[:, mine].numpy()  # (H, P, hd)
            np.testing.assert_allclose(getattr(got, name)[layer], want, atol=1e-5)
        q = proj.query(h).detach().view(-1, H, hd).transpose(0, 1)  # (H, T, hd)
        k = proj.key(h).detach().view(-1, H, hd).transpose(0, 1)
        raw_scores = (q @ k.transpose(1, 2)).numpy() / np.sqrt(hd)  # (H, T, T)
        attn = out.attentions[layer][0].numpy()  # (H, T, T)
        for j, label in enumerate(got.labels):
            if got.labels[j].startswith("["):
                cols = [0] if j == 0 else [len(offsets) - 1]  # [CLS] first, [SEP] last
            else:
                cols = _tokens_of(offsets, tuple(int(x) for x in _span_of(got, j)))
            block_w = attn[:, mine][:, :, cols]  # (H, P, |cols|)
            np.testing.assert_allclose(got.weights[layer, :, j], block_w.sum(-1).mean(-1), atol=1e-5, err_msg=label)
            block_s = raw_scores[:, mine][:, :, cols]
            np.testing.assert_allclose(got.scores[layer, :, j], block_s.mean(axis=(1, 2)), atol=1e-4, err_msg=label)
    np.testing.assert_allclose(got.weights.sum(-1), 1.0, atol=1e-5)
    assert not np.allclose(got.weights[0], got.weights[-1])  # layers differ: the comparison can fail


def _span_of(got: Any, j: int) -> tuple[int, int]:
    words = simple_words(TEXT)
    content = [i for i, lab in enumerate(got.labels) if not lab.startswith("[")]
    return words[content.index(j)]


def test_the_stream_is_the_mean_of_the_words_hidden_states(bert_embedder: Embedder, bert_inside: Any) -> None:
    out, offsets = _raw(bert_embedder, TEXT)
    span = [s for s in simple_words(TEXT) if TEXT[s[0] : s[1]] == "chicken"][1]
    mine = _tokens_of(offsets, span)
    want = np.stack([h[0, mine].mean(0).numpy() for h in out.hidden_states])  # (L+1, D)
    np.testing.assert_allclose(bert_inside.stream, want, atol=1e-4)
    m = stream_measures(bert_inside.stream)
    norms = np.linalg.norm(want, axis=1)
    np.testing.assert_allclose(m["norm"], norms, rtol=1e-5)
    cos0 = want @ want[0] / (norms * norms[0])
    np.testing.assert_allclose(m["cos_first"], cos0, atol=1e-5)
    assert m["cos_previous"][0] is None
    prev = [float(want[i] @ want[i - 1] / (norms[i] * norms[i - 1])) for i in range(1, len(want))]
    np.testing.assert_allclose(m["cos_previous"][1:], prev, atol=1e-5)
    assert bert_inside.attn_out.shape == bert_inside.mlp_out.shape == (len(want) - 1, want.shape[1])


def test_a_decoder_word_sees_only_to_its_left(llama_embedder: Embedder) -> None:
    ref = Transformer.from_transformers(llama_embedder.backend.model)
    got = inside_word(llama_embedder, ref, TEXT, "road")
    out, offsets = _raw(llama_embedder, TEXT)
    span = next(s for s in simple_words(TEXT) if TEXT[s[0] : s[1]] == "road")
    mine = _tokens_of(offsets, span)
    want = np.stack([h[0, mine].mean(0).numpy() for h in out.hidden_states])
    np.testing.assert_allclose(got.stream[:-1], want[:-1], atol=1e-4)  # the last: transformers' final norm, also ours
    np.testing.assert_allclose(got.stream[-1], want[-1], atol=1e-4)
    words = [i for i, lab in enumerate(got.labels) if i != got.row and lab in ("chicken", "tired")]
    before, after = words[0], words[-1]
    assert np.isfinite(got.scores[:, :, before]).all() and np.isnan(got.scores[:, :, after]).all()
    assert np.allclose(got.weights[:, :, after], 0.0)


def test_a_missing_word_or_occurrence_is_refused(bert_embedder: Embedder) -> None:
    ref = Transformer.from_transformers(bert_embedder.backend.model)
    with pytest.raises(InvalidInputError, match=r"'dragon' occurs 0 time\(s\).*'chicken'"):
        inside_word(bert_embedder, ref, TEXT, "dragon")
    with pytest.raises(InvalidInputError, match="occurs 2 time"):
        inside_word(bert_embedder, ref, TEXT, "chicken", occurrence=3)
    with pytest.raises(InvalidInputError, match="window"):
        inside_word(bert_embedder, ref, "word " * 200, "word")


def test_the_reference_twin_of_a_loaded_backend_gives_the_backends_states(any_embedder: Embedder) -> None:
    """Transformer.from_transformers on the served model: the numbers the explorer shows are the backend's.

    Every tiny model (BERT, Llama, Llama with byte fallback) is one the reference reads, so the twin must load; the
    expected states come from transformers' own forward (output_hidden_states), not from the backend's fast path.
    """
    backend = any_embedder.backend
    ref = Transformer.from_transformers(backend.model)
    ids = torch.tensor([backend.tokenizer.encode(TEXT, add_special_tokens=True).ids])  # (1, T)
    with torch.no_grad():
        raw = backend.model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True)
        got = ref(ids, trace=True).hidden_states  # L+1 x (1, T, D)
    want = raw.hidden_states
    assert len(got) == len(want) == backend.info.num_layers + 1
    for layer, (a, b) in enumerate(zip(want, got, strict=True)):
        np.testing.assert_allclose(b.float().numpy(), a.float().numpy(), atol=1e-4, err_msg=f"state {layer}")
    served = backend.forward(ids, torch.ones_like(ids))  # what the embedder serves is the same numbers
    for a, b in zip(served, got, strict=True):
        np.testing.assert_allclose(b.float().numpy(), a.float().numpy(), atol=1e-4)
    assert not np.allclose(got[0].numpy(), got[-1].numpy(), atol=1e-2)  # the layers change the states


def test_a_model_the_reference_cannot_read_is_refused_in_contextvecs_words() -> None:
    """The explorer's inside view on a model family the reference does not implement: ModelLoadError, not a crash."""
    from transformers import GPT2Config, GPT2Model

    from contextvec.errors import ModelLoadError

    gpt2 = GPT2Model(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, n_positions=16)).eval()
    with pytest.raises(ModelLoadError, match=r"'gpt2' model; the reference transformer reads BERT"):
        Transformer.from_transformers(gpt2)
