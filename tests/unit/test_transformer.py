"""The reference transformer against transformers (the independent computation) on the tiny random models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from tiny_models import tiny_bert, tiny_llama
from transformers import AutoModel, PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.errors import InvalidInputError, ModelLoadError
from contextvec.transformer import Transformer, TransformerConfig


def _folder(tmp_path: Path, model: Any, tok: PreTrainedTokenizerFast) -> str:
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    return str(tmp_path)


def _batch(vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, vocab, (3, 12), generator=g)  # (B, T)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0  # right padding, as contextvec's batches have
    mask[2, 3:] = 0
    return ids, mask


def _hf_states(model: Any, ids: torch.Tensor, mask: torch.Tensor, **kw: Any) -> Any:
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, output_hidden_states=True, **kw)


def _worst(a: tuple[torch.Tensor, ...], b: tuple[torch.Tensor, ...], mask: torch.Tensor) -> float:
    assert len(a) == len(b)
    keep = mask.bool()
    return max(float((x[keep] - y[keep]).abs().max()) for x, y in zip(a, b, strict=True))


def tiny_mpnet(tok: PreTrainedTokenizerFast) -> Any:
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    cfg = MPNetConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=66, relative_attention_num_buckets=32,
    )  # fmt: skip
    model = MPNetModel(cfg, add_pooling_layer=False).eval()
    with torch.no_grad():  # a visible position bias (transformers initialises it near zero)
        model.encoder.relative_attention_bias.weight.normal_(0, 1.0)
    return model


@pytest.fixture(params=["bert", "llama", "mpnet"])
def pair(request: pytest.FixtureRequest, tmp_path: Path, wordpiece_tokenizer: Any, bpe_tokenizer: Any) -> Any:
    """(transformers model, reference transformer loaded from its saved folder, tokenizer)."""
    tok = bpe_tokenizer if request.param == "llama" else wordpiece_tokenizer
    hf = {"bert": tiny_bert, "llama": tiny_llama, "mpnet": tiny_mpnet}[request.param](tok)
    return hf, Transformer.from_pretrained(_folder(tmp_path, hf, tok)), tok


def test_hidden_states_match_transformers_per_layer(pair: Any) -> None:
    hf, ref, tok = pair
    ids, mask = _batch(len(tok))
    want = _hf_states(hf, ids, mask).hidden_states
    with torch.no_grad():
        got = ref(ids, mask).hidden_states
    assert len(got) == hf.config.num_hidden_layers + 1
    assert _worst(want, got, mask) <= 1e-4


def test_trace_agrees_with_the_fused_path_and_with_transformers_attention(pair: Any) -> None:
    hf, ref, tok = pair
    ids, mask = _batch(len(tok))
    hf.set_attn_implementation("eager")
    want = _hf_states(hf, ids, mask, output_attentions=True)
    with torch.no_grad():
        plain, traced = ref(ids, mask), ref(ids, mask, trace=True)
    assert traced.trace is not None and len(traced.trace) == ref.config.n_layers
    assert _worst(plain.hidden_states, traced.hidden_states, mask) <= 1e-5
    for layer, (t, hf_w) in enumerate(zip(traced.trace, want.attentions, strict=True)):
        B, H, T, _ = t.weights.shape
        assert t.q.shape == t.k.shape == t.v.shape == (B, H, T, ref.config.hd)
        real = mask.bool()[:, None, :, None] & mask.bool()[:, None, None, :]  # (B, 1, T, T) real rows and columns
        diff = (t.weights - hf_w).abs().masked_fill(~real, 0)
        assert float(diff.max()) <= 1e-5, layer
        # the stream: resid_post of block l is hidden state l+1 (before Llama's final norm on the last one)
        assert torch.equal(t.resid_pre, traced.hidden_states[layer])
        if not ref.config.final_norm or layer < ref.config.n_layers - 1:
            assert torch.equal(t.resid_post, traced.hidden_states[layer + 1])
        # weights are the softmax of the scores over the keys a position may see
        manual = torch.softmax(t.scores.masked_fill(~mask.bool()[:, None, None, :], float("-inf")), -1)
        if ref.config.causal:
            assert float(t.weights.triu(1).abs().max()) == 0.0  # the causal mask removes every later position
        elif not ref.config.relative_buckets:  # (MPNet adds its position bias before the softmax)
            assert torch.allclose(manual[0], t.weights[0], atol=1e-6)


def test_grouped_query_attention_shares_keys_within_a_group(bpe_tokenizer: Any, tmp_path: Path) -> None:
    hf = tiny_llama(bpe_tokenizer)  # 4 query heads, 2 key/value heads
    ref = Transformer.from_pretrained(_folder(tmp_path, hf, bpe_tokenizer))
    ids, mask = _batch(len(bpe_tokenizer))
    with torch.no_grad():
        t = ref(ids, mask, trace=True).trace
    assert t is not None
    k = t[0].k
    assert torch.equal(k[:, 0], k[:, 1]) and torch.equal(k[:, 2], k[:, 3]) and not torch.equal(k[:, 0], k[:, 2])


@pytest.mark.parametrize("head", ["mlm", "lm"])
def test_a_new_model_saves_in_transformers_format_and_loads_in_the_embedder(
    head: str, tmp_path: Path, wordpiece_tokenizer: Any, bpe_tokenizer: Any
) -> None:
    torch.manual_seed(0)
    common = {"dim": 32, "n_layers": 2, "n_heads": 4, "mlp_dim": 64, "max_positions": 64, "head": head}
    if head == "mlm":
        tok = wordpiece_tokenizer
        cfg = TransformerConfig(vocab_size=len(tok), type_vocab_size=2, **common)  # type: ignore[arg-type]
    else:
        tok = bpe_tokenizer
        cfg = TransformerConfig(
            vocab_size=len(tok), n_kv_heads=2, positions="rotary", causal=True, norm="rmsnorm", norm_eps=1e-5,
            norm_place="pre", embed_norm=False, final_norm=True, mlp="swiglu", bias=False, **common,  # type: ignore[arg-type]
        )  # fmt: skip
    model = Transformer(cfg).eval()
    with torch.no_grad():  # random LayerNorm/RMSNorm weights, so a mix-up of norms cannot pass unseen
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(str(tmp_path), tokenizer=tok)
    ids, mask = _batch(len(tok))
    hf = AutoModel.from_pretrained(str(tmp_path)).eval()
    with torch.no_grad():
        mine = model(ids, mask)
    assert _worst(_hf_states(hf, ids, mask).hidden_states, mine.hidden_states, mask) <= 1e-4
    assert mine.logits is not None and mine.logits.shape == (*ids.shape, len(tok))
    # the round trip back into the reference gives the same weights
    again = Transformer.from_pretrained(str(tmp_path), head=head)
    theirs = again.to_hf_state_dict()
    for key, value in model.to_hf_state_dict().items():
        assert torch.equal(value, theirs[key]), key
    # and the folder is a contextvec model: the Embedder's token vectors are the reference's hidden states
    emb = Embedder(str(tmp_path), device="cpu")
    text = "we sat on the bank"
    tokens = emb.embed_tokens([text], layers=-1)
    enc = emb.backend.tokenize([text])[0]
    full = torch.tensor([[*emb.backend.prefix_ids, *enc.ids.tolist(), *emb.backend.suffix_ids]])  # (1, T)
    with torch.no_grad():
        top = model(full).hidden_states[-1][0]  # (T, D)
    first = len(emb.backend.prefix_ids)
    np.testing.assert_allclose(tokens.vectors, top[first : first + len(enc.ids)].numpy(), atol=1e-4)


def test_refuses_what_it_cannot_read_or_run(tmp_path: Path, wordpiece_tokenizer: Any) -> None:
    from transformers import RobertaConfig, RobertaModel

    roberta = RobertaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2)
    RobertaModel(roberta).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="reads BERT"):
        Transformer.from_pretrained(str(tmp_path))
    bert = tmp_path / "bert"
    tiny_bert(wordpiece_tokenizer).save_pretrained(bert)
    weights = bert / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a half-written file
    with pytest.raises(ModelLoadError, match="damaged"):
        Transformer.from_pretrained(str(bert))
    (bert / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="could not read the config"):
        Transformer.from_pretrained(str(bert))
    small = Transformer(TransformerConfig(vocab_size=50, max_positions=8))
    with pytest.raises(InvalidInputError, match="exceed"):
        small(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ModelLoadError, match="multiple"):
        TransformerConfig(n_heads=4, n_kv_heads=3)


def test_dropout_acts_in_training_only() -> None:
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(vocab_size=50, dropout=0.5))
    plain = Transformer(TransformerConfig(vocab_size=50))
    plain.load_state_dict(model.state_dict())
    ids = torch.randint(0, 50, (2, 7))
    model.train()
    assert not torch.equal(model(ids).hidden_states[-1], model(ids).hidden_states[-1])
    model.eval()
    plain.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(ids).hidden_states[-1], plain(ids).hidden_states[-1])


def test_a_new_model_starts_from_bert_and_gpt2s_initialisation() -> None:
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(vocab_size=500, dim=64, mlp_dim=256, head="mlm")).requires_grad_(False)
    assert abs(float(model.tok_emb.weight.std()) - 0.02) < 0.002
    assert abs(float(model.blocks[0].attn.q.weight.std()) - 0.02) < 0.002
    assert float(model.blocks[0].mlp.up.bias.abs().max()) == 0.0
    assert float(model.blocks[0].attn_norm.weight.min()) == 1.0
