"""A fused forward pass for BERT-family encoders: the same arithmetic as transformers' BertModel, less overhead.

What it changes (nothing else):
  - Q, K and V are one (3D, D) matmul instead of three (D, D) ones;
  - projections and the feed-forward run on the real tokens only (N, D), never on padding: the batch is
    "unpadded" once and scattered back only for attention and for the hidden states handed out;
  - no dropout or hook machinery in the loop.
It is built from a loaded BertModel (weights shared, Q/K/V concatenated), checked against the transformers
forward on a probe batch when it is built, and used only if they agree (see `build_fast_bert`).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)


class FastBertLayer(nn.Module):
    def __init__(self, layer: Any, n_heads: int, act: Any) -> None:
        super().__init__()
        att = layer.attention.self
        D = att.query.weight.shape[1]
        for lin in (att.query, att.key, att.value):
            assert lin.weight.shape == (D, D), "unexpected Q/K/V weight shape"
        self.qkv_w = nn.Parameter(torch.cat([att.query.weight, att.key.weight, att.value.weight]).detach())  # (3D, D)
        self.qkv_b = nn.Parameter(torch.cat([att.query.bias, att.key.bias, att.value.bias]).detach())  # (3D,)
        self.out = layer.attention.output.dense
        self.ln1 = layer.attention.output.LayerNorm
        self.ff_in = layer.intermediate.dense
        self.ff_out = layer.output.dense
        self.ln2 = layer.output.LayerNorm
        self.act = act
        self.H = n_heads

    def forward(self, x: torch.Tensor, idx: torch.Tensor, B: int, T: int, key_mask: torch.Tensor) -> torch.Tensor:
        """x: (N, D) real tokens; idx: (N,) their places in the flattened (B*T) batch. Returns (N, D)."""
        D = x.shape[1]  # x: (N, D)
        H = self.H
        qkv = F.linear(x, self.qkv_w, self.qkv_b)  # (N, 3D)
        padded = x.new_zeros(B * T, 3 * D)
        padded[idx] = qkv
        q, k, v = padded.view(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)  # 3 x (B, H, T, hd)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)  # (B, H, T, hd)
        att = att.transpose(1, 2).reshape(B * T, D)[idx]  # (N, D)
        x = self.ln1(self.out(att) + x)  # residual + post-norm, as in BERT
        out: torch.Tensor = self.ln2(self.ff_out(self.act(self.ff_in(x))) + x)  # (N, D)
        return out


class FastBert(nn.Module):
    """Returns the L+1 hidden states (B, T, D) of a BertModel for input_ids and attention_mask."""

    def __init__(self, bert: Any) -> None:
        super().__init__()
        from transformers.activations import ACT2FN

        cfg = bert.config
        self.emb = bert.embeddings
        act = ACT2FN[cfg.hidden_act]
        self.layers = nn.ModuleList(FastBertLayer(layer, cfg.num_attention_heads, act) for layer in bert.encoder.layer)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        B, T = input_ids.shape
        emb = self.emb
        pos = torch.arange(T, device=input_ids.device)
        x = emb.word_embeddings(input_ids) + emb.token_type_embeddings.weight[0] + emb.position_embeddings(pos)
        x = emb.LayerNorm(x)  # (B, T, D)
        D = x.shape[-1]
        flat_mask = attention_mask.reshape(-1).bool()  # (B*T,)
        idx = flat_mask.nonzero().squeeze(1)  # (N,)
        key_mask = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T): which keys each query may see
        h = x.reshape(B * T, D)[idx]  # (N, D) unpadded
        states = [x]
        for layer in self.layers:
            h = layer(h, idx, B, T, key_mask)
            full = h.new_zeros(B * T, D)
            full[idx] = h
            states.append(full.view(B, T, D))  # padding rows are zeros; callers never read them
        return tuple(states)


def eligible(model: Any) -> bool:
    """A plain BERT encoder with absolute positions (e.g. minilm); anything else keeps the transformers path."""
    cfg = model.config
    return (
        type(model).__name__ == "BertModel"
        and cfg.model_type == "bert"
        and getattr(cfg, "position_embedding_type", "absolute") == "absolute"
        and not getattr(cfg, "is_decoder", False)
    )


def build_fast_bert(model: Any) -> FastBert | None:
    """A checked FastBert for `model`, or None (with a log line) if it is not eligible or disagrees."""
    if not eligible(model):
        return None
    fast = FastBert(model).eval()
    param = next(model.parameters())
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (3, 9), generator=g).to(param.device)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0  # a padded row
    mask[2, 2:] = 0
    with torch.inference_mode():
        want = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        got = fast(ids, mask)
    keep = mask.bool()
    tol = 1e-4 if param.dtype == torch.float32 else 5e-2
    worst = max(float((w[keep] - g_[keep]).abs().max()) for w, g_ in zip(want, got, strict=True))
    if len(want) != len(got) or worst > tol:
        logger.warning("fused BERT path disagrees with transformers (max diff %.2e); using transformers", worst)
        return None
    return fast
