"""A fused forward pass for BERT and MPNet encoders: the same arithmetic as transformers' BertModel and MPNetModel,
less overhead.

Both families stack the same post-norm block (attention, residual, layer norm, feed-forward, residual, layer norm);
they differ only at the input (BERT: absolute + token-type embeddings; MPNet: positions counted from the padding
id) and inside attention (MPNet adds a learned relative-position bias per head). What the fused path changes
(nothing else):
  - Q, K and V are one (3D, D) matmul instead of three (D, D) ones;
  - projections and the feed-forward run on the real tokens only (N, D), never on padding: the batch is
    "unpadded" once and scattered back only for attention and for the hidden states handed out;
  - MPNet's position bias and the key-padding mask are computed once per forward, not once per layer;
  - no dropout or hook machinery in the loop.
It is built from a loaded model (weights shared, Q/K/V concatenated), checked against the transformers forward on
a probe batch when it is built, and used only if they agree (see `build_fast_encoder`).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)

# MPNet's relative positions: transformers' MPNetEncoder.compute_position_bias always uses 32 buckets and a
# maximum distance of 128 (it does not read config.relative_attention_num_buckets), so these are fixed here too.
MPNET_BUCKETS = 32
MPNET_MAX_DISTANCE = 128


class FusedLayer(nn.Module):
    """One post-norm encoder block: x = LN(x + O(attn(x))); x = LN(x + W2 act(W1 x))."""

    def __init__(self, q: nn.Linear, k: nn.Linear, v: nn.Linear, out: nn.Linear, ln1: nn.Module, ff_in: nn.Module,
                 ff_out: nn.Module, ln2: nn.Module, n_heads: int, act: Any) -> None:  # fmt: skip
        super().__init__()
        D = q.weight.shape[1]
        for lin in (q, k, v, out):
            assert lin.weight.shape == (D, D), "unexpected Q/K/V/O weight shape"
        self.qkv_w = nn.Parameter(torch.cat([q.weight, k.weight, v.weight]).detach())  # (3D, D)
        self.qkv_b = nn.Parameter(torch.cat([q.bias, k.bias, v.bias]).detach())  # (3D,)
        self.out, self.ln1, self.ff_in, self.ff_out, self.ln2 = out, ln1, ff_in, ff_out, ln2
        self.act = act
        self.H = n_heads

    def forward(self, x: torch.Tensor, idx: torch.Tensor, B: int, T: int, attn_mask: torch.Tensor) -> torch.Tensor:
        """x: (N, D) real tokens; idx: (N,) their places in the flattened (B*T) batch; attn_mask: a boolean
        (B, 1, 1, T) key mask or an additive float (B, H, T, T) mask. Returns (N, D)."""
        D = x.shape[1]  # x: (N, D)
        H = self.H
        qkv = F.linear(x, self.qkv_w, self.qkv_b)  # (N, 3D)
        padded = x.new_zeros(B * T, 3 * D)
        padded[idx] = qkv
        q, k, v = padded.view(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)  # 3 x (B, H, T, hd)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # (B, H, T, hd)
        att = att.transpose(1, 2).reshape(B * T, D)[idx]  # (N, D)
        x = self.ln1(self.out(att) + x)  # residual + post-norm
        out: torch.Tensor = self.ln2(self.ff_out(self.act(self.ff_in(x))) + x)  # (N, D)
        return out


def relative_buckets(T: int, device: torch.device) -> torch.Tensor:
    """(T, T) bucket of each (query i, key j) pair for MPNet's position bias, T5-style: half the buckets for keys
    before the query, half for keys after; within each half, distances below 8 get a bucket each and longer
    ones share log-spaced buckets up to 128 positions away (and the last bucket beyond)."""
    pos = torch.arange(T, device=device)
    dist = pos[:, None] - pos[None, :]  # (T, T): query minus key, > 0 when the key comes first
    half = MPNET_BUCKETS // 2
    side = (dist < 0).long() * half  # keys after the query use the upper half
    dist = dist.abs()
    exact = half // 2
    # 0 at distance `exact`, 1 at MPNET_MAX_DISTANCE, spread over the half's remaining buckets
    log_ratio = torch.log(dist.clamp(min=1).float() / exact) / math.log(MPNET_MAX_DISTANCE / exact)
    far = (exact + (log_ratio * (half - exact)).long()).clamp(max=half - 1)
    return side + torch.where(dist < exact, dist, far)  # (T, T)


class FastEncoder(nn.Module):
    """Returns the L+1 hidden states (B, T, D) of a BertModel or MPNetModel for input_ids and attention_mask."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        from transformers.activations import ACT2FN

        cfg = model.config
        self.family: str = cfg.model_type  # "bert" or "mpnet" (see `eligible`)
        self.emb = model.embeddings
        self.H = int(cfg.num_attention_heads)
        act = ACT2FN[cfg.hidden_act]
        if self.family == "mpnet":
            self.position_bias: nn.Embedding | None = model.encoder.relative_attention_bias  # (buckets, H)
            blocks = [
                (b.attention.attn.q, b.attention.attn.k, b.attention.attn.v, b.attention.attn.o,
                 b.attention.LayerNorm, b.intermediate.dense, b.output.dense, b.output.LayerNorm)
                for b in model.encoder.layer
            ]  # fmt: skip
        else:
            self.position_bias = None
            blocks = [
                (b.attention.self.query, b.attention.self.key, b.attention.self.value, b.attention.output.dense,
                 b.attention.output.LayerNorm, b.intermediate.dense, b.output.dense, b.output.LayerNorm)
                for b in model.encoder.layer
            ]  # fmt: skip
        self.layers = nn.ModuleList(FusedLayer(*parts, n_heads=self.H, act=act) for parts in blocks)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, T) ids -> (B, T, D) input vectors of the first block."""
        emb = self.emb
        T = input_ids.shape[1]
        if self.family == "mpnet":
            # positions count real tokens from padding_idx + 1; padding ids keep position padding_idx
            real = input_ids.ne(emb.padding_idx).long()  # (B, T)
            pos = torch.cumsum(real, dim=1) * real + emb.padding_idx  # (B, T)
            x = emb.word_embeddings(input_ids) + emb.position_embeddings(pos)
        else:
            pos = torch.arange(T, device=input_ids.device)
            x = emb.word_embeddings(input_ids) + emb.token_type_embeddings.weight[0] + emb.position_embeddings(pos)
        out: torch.Tensor = emb.LayerNorm(x)  # (B, T, D)
        return out

    def attention_mask(self, attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """(B, T) 0/1 mask -> what every block's attention gets: which keys each query may see (B, 1, 1, T), or
        for MPNet the position bias with padded keys at -inf, (B, H, T, T), computed once for all blocks."""
        keys = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T)
        if self.position_bias is None:
            return keys
        B, T = attention_mask.shape
        bias = self.position_bias(relative_buckets(T, attention_mask.device))  # (T, T, H)
        bias = bias.permute(2, 0, 1).to(dtype)[None]  # (1, H, T, T)
        masked: torch.Tensor = bias.expand(B, self.H, T, T).masked_fill(~keys, float("-inf"))  # (B, H, T, T)
        return masked

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        B, T = input_ids.shape
        x = self.embed(input_ids)  # (B, T, D)
        D = x.shape[-1]
        flat_mask = attention_mask.reshape(-1).bool()  # (B*T,)
        idx = flat_mask.nonzero().squeeze(1)  # (N,)
        attn_mask = self.attention_mask(attention_mask, x.dtype)
        h = x.reshape(B * T, D)[idx]  # (N, D) unpadded
        states = [x]
        for layer in self.layers:
            h = layer(h, idx, B, T, attn_mask)
            full = h.new_zeros(B * T, D)
            full[idx] = h
            states.append(full.view(B, T, D))  # padding rows are zeros; callers never read them
        return tuple(states)


def eligible(model: Any) -> bool:
    """A plain BERT encoder with absolute positions (e.g. minilm) or an MPNet encoder (e.g. mpnet); anything else
    keeps the transformers path."""
    cfg = model.config
    if getattr(cfg, "is_decoder", False):
        return False
    if type(model).__name__ == "MPNetModel" and cfg.model_type == "mpnet":
        return True
    return (
        type(model).__name__ == "BertModel"
        and cfg.model_type == "bert"
        and getattr(cfg, "position_embedding_type", "absolute") == "absolute"
    )


def probe_batch(model: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids (3, T) and a mask with rows of T, about 2/3 T and 2 real tokens (right-padded). T reaches
    past 128 positions where the model allows, so MPNet's far (log-spaced and last) position buckets are checked."""
    cfg = model.config
    T = max(4, min(int(cfg.max_position_embeddings) - 2, 140))
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(2, cfg.vocab_size, (3, T), generator=g)  # from 2: id 1 is MPNet's padding id
    mask = torch.ones_like(ids)
    mask[1, (2 * T) // 3 :] = 0
    mask[2, 2:] = 0
    pad = getattr(model.embeddings, "padding_idx", None)
    if isinstance(pad, int):
        ids[mask == 0] = pad  # the engine pads with the padding id, and MPNet's positions depend on it
    device = next(model.parameters()).device
    return ids.to(device), mask.to(device)


def build_fast_encoder(model: Any) -> FastEncoder | None:
    """A checked FastEncoder for `model`, or None (with a log line) if it is not eligible or disagrees."""
    if not eligible(model):
        return None
    fast = FastEncoder(model).eval()
    ids, mask = probe_batch(model)
    with torch.inference_mode():
        want = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        got = fast(ids, mask)
    keep = mask.bool()
    dtype = next(model.parameters()).dtype
    tol = 1e-4 if dtype == torch.float32 else 5e-2
    worst = max(float((w[keep] - g_[keep]).abs().max()) for w, g_ in zip(want, got, strict=False))
    if len(want) != len(got) or worst > tol:
        logger.warning(
            "fused %s path disagrees with transformers (max diff %.2e > %.0e); using transformers",
            fast.family,
            worst,
            tol,
        )
        return None
    logger.debug("fused %s path matches transformers (max diff %.2e)", fast.family, worst)
    return fast
