"""The reference transformer: one config, small modules whose forward reads like the equations.

    x_0 = tok_emb[ids] (+ pos_emb[t] + type_emb[0])          (then LayerNorm, for BERT)
    block, pre-LN  (GPT-2, Llama):  x = x + Attn(Norm(x));    x = x + MLP(Norm(x))
    block, post-LN (BERT):          x = Norm(x + Attn(x));    x = Norm(x + MLP(x))
    Attn(x) = concat_h softmax(q_h k_h^T / sqrt(hd) + mask) v_h  W_o,   q_h = x W_q,h  (k, v alike)

Learned absolute positions or rotary ones (RoPE, applied to q and k), an optional causal mask, grouped-query
attention (fewer K/V heads than Q heads, each shared by a group of Q heads), a GELU or SwiGLU MLP, LayerNorm or
RMSNorm, and an optional MLM or LM head. Without `trace`, attention runs through torch's fused
`scaled_dot_product_attention` (same numbers); with it, the explicit softmax runs and every step is kept.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from contextvec.errors import InvalidInputError
from contextvec.models.reference import weights as hf_weights
from contextvec.models.reference.config import TransformerConfig
from contextvec.models.reference.trace import LayerTrace, TransformerOutput


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight, computed in float32 (as Llama does)."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def make_norm(cfg: TransformerConfig) -> nn.Module:
    return RMSNorm(cfg.dim, cfg.norm_eps) if cfg.norm == "rmsnorm" else nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)


def rotary(cfg: TransformerConfig, T: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin (T, hd) of RoPE: dimension pair (i, i + hd/2) turns by angle t * theta^(-2i/hd) at position t."""
    hd = cfg.hd
    inv_freq = 1.0 / cfg.rope_theta ** (torch.arange(0, hd, 2, device=device, dtype=torch.float32) / hd)  # (hd/2,)
    angles = torch.arange(T, device=device, dtype=torch.float32)[:, None] * inv_freq[None, :]  # (T, hd/2)
    angles = torch.cat([angles, angles], dim=-1)  # (T, hd): both halves of a pair share an angle
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_i, x_{i+hd/2}) of x (B, H, T, hd) by its angle."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)  # (B, H, T, hd): (-x2, x1)
    return (x * cos + rotated * sin).to(x.dtype)


def relative_buckets(cfg: TransformerConfig, T: int, device: torch.device) -> torch.Tensor:
    """MPNet's (T5's) bucket of each distance key - query, (T, T): one half of the buckets per direction, exact
    for small distances, log-spaced up to `relative_max_distance`, the last bucket beyond."""
    n = torch.arange(T, device=device)[:, None] - torch.arange(T, device=device)[None, :]  # (T, T): query - key
    half = cfg.relative_buckets // 2
    side = (n < 0).long() * half  # keys to the right of the query use the upper half
    n = n.abs()
    exact = half // 2
    log_ratio = torch.log(n.float().clamp(min=1) / exact) / math.log(cfg.relative_max_distance / exact)
    far = torch.clamp(exact + (log_ratio * (half - exact)).long(), max=half - 1)
    return side + torch.where(n < exact, n, far)


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.H, self.Hkv, self.hd = cfg.n_heads, cfg.kv_heads, cfg.hd
        self.q = nn.Linear(cfg.dim, self.H * self.hd, bias=cfg.bias)
        self.k = nn.Linear(cfg.dim, self.Hkv * self.hd, bias=cfg.bias)
        self.v = nn.Linear(cfg.dim, self.Hkv * self.hd, bias=cfg.bias)
        self.o = nn.Linear(self.H * self.hd, cfg.dim, bias=cfg.bias)
        self.p = cfg.dropout

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None, trace: bool
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """x (B, T, D), mask (B, 1 or H, 1 or T, T) added to the scores (0 = may attend, -inf-like = may not; MPNet adds
        its position bias here) -> (B, T, D)."""
        B, T, _ = x.shape
        q = self.q(x).view(B, T, self.H, self.hd).transpose(1, 2)  # (B, T, H*hd) -> (B, H, T, hd)
        k = self.k(x).view(B, T, self.Hkv, self.hd).transpose(1, 2)  # (B, T, Hkv*hd) -> (B, Hkv, T, hd)
        v = self.v(x).view(B, T, self.Hkv, self.hd).transpose(1, 2)  # (B, T, Hkv*hd) -> (B, Hkv, T, hd)
        if rope is not None:
            q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        group = self.H // self.Hkv  # query heads per K/V head
        if group > 1:  # grouped-query attention: each K/V head serves `group` query heads
            k = k.repeat_interleave(group, dim=1)  # (B, Hkv, T, hd) -> (B, H, T, hd)
            v = v.repeat_interleave(group, dim=1)  # (B, Hkv, T, hd) -> (B, H, T, hd)
        parts: dict[str, torch.Tensor] = {}
        if trace:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)  # (B, H, T, T)
            weights = torch.softmax(scores + mask, dim=-1)  # (B, H, T, T)
            y = F.dropout(weights, self.p, self.training) @ v  # (B, H, T, hd)
            parts = {"q": q, "k": k, "v": v, "scores": scores, "weights": weights}
        else:
            p = self.p if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # (B, H, T, hd), the same, fused
        y = y.transpose(1, 2).reshape(B, T, self.H * self.hd)  # (B, H, T, hd) -> (B, T, H*hd): heads side by side
        return self.o(y), parts


class MLP(nn.Module):
    """gelu: down(gelu(up x)); swiglu: down(silu(gate x) * up x)."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.up = nn.Linear(cfg.dim, cfg.mlp_dim, bias=cfg.bias)
        self.gate = nn.Linear(cfg.dim, cfg.mlp_dim, bias=cfg.bias) if cfg.mlp == "swiglu" else None
        self.down = nn.Linear(cfg.mlp_dim, cfg.dim, bias=cfg.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inner = F.silu(self.gate(x)) * self.up(x) if self.gate is not None else F.gelu(self.up(x))  # (B, T, mlp_dim)
        out: torch.Tensor = self.down(inner)  # (B, T, D)
        return out


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.pre = cfg.norm_place == "pre"
        self.attn_norm, self.attn = make_norm(cfg), Attention(cfg)
        self.mlp_norm, self.mlp = make_norm(cfg), MLP(cfg)
        self.drop = nn.Dropout(cfg.dropout)  # on what each sublayer adds (training only)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None, trace: bool
    ) -> tuple[torch.Tensor, LayerTrace | None]:
        x_in = x  # (B, T, D)
        if self.pre:
            a, parts = self.attn(self.attn_norm(x), mask, rope, trace)
            x = x + self.drop(a)
            m = self.mlp(self.mlp_norm(x))
            out = x + self.drop(m)
        else:
            a, parts = self.attn(x, mask, rope, trace)
            x = self.attn_norm(x + self.drop(a))
            m = self.mlp(x)
            out = self.mlp_norm(x + self.drop(m))
        if not trace:
            return out, None
        return out, LayerTrace(**parts, resid_pre=x_in, attn_out=a, resid_mid=x, mlp_out=m, resid_post=out)


class MLMHead(nn.Module):
    """BERT's masked-LM head: dense, GELU, LayerNorm, then scores against every token embedding (+ bias)."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(cfg.dim, cfg.dim)
        self.norm = make_norm(cfg)
        self.bias = nn.Parameter(torch.zeros(cfg.vocab_size))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return F.linear(self.norm(F.gelu(self.dense(x))), emb, self.bias)  # (B, T, D) -> (B, T, V)


def _init_weights(module: nn.Module) -> None:
    """BERT's and GPT-2's initialisation: weights ~ N(0, 0.02), biases 0 (norms keep weight 1, bias 0)."""
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def run_blocks(
    blocks: nn.ModuleList,
    final_norm: nn.Module | None,
    x: torch.Tensor,
    mask: torch.Tensor,
    rope: tuple[torch.Tensor, torch.Tensor] | None,
    trace: bool,
) -> tuple[tuple[torch.Tensor, ...], tuple[LayerTrace, ...] | None]:
    """x_0 (B, T, D) through every block -> the L+1 states (B, T, D) and, with `trace`, each block's trace.

    The one block loop: the text Transformer and the image one (vit.py) both run their stream through it.
    """
    states, traces = [x], []
    for block in blocks:
        x, layer_trace = block(x, mask, rope, trace)
        states.append(x)
        if layer_trace is not None:
            traces.append(layer_trace)
    if final_norm is not None:
        states[-1] = final_norm(x)  # as transformers reports it: the last state is normalised
    return tuple(states), tuple(traces) if trace else None


class Transformer(nn.Module):
    """Token ids (B, T) and attention mask (B, T) -> L+1 hidden states (B, T, D), and logits if it has a head."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.pos_emb = nn.Embedding(cfg.max_positions, cfg.dim) if cfg.positions == "learned" else None
        self.rel_bias = nn.Embedding(cfg.relative_buckets, cfg.n_heads) if cfg.relative_buckets else None
        self.type_emb = nn.Embedding(cfg.type_vocab_size, cfg.dim) if cfg.type_vocab_size else None
        self.emb_norm = make_norm(cfg) if cfg.embed_norm else None
        self.emb_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.final_norm = make_norm(cfg) if cfg.final_norm else None
        self.mlm_head = MLMHead(cfg) if cfg.head == "mlm" else None
        untied_lm = cfg.head == "lm" and not cfg.tie_embeddings
        self.lm_head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False) if untied_lm else None
        self.apply(_init_weights)  # for training from scratch; from_pretrained overwrites every weight

    @classmethod
    def from_pretrained(cls, name_or_folder: str, head: str = "none") -> Transformer:
        """minilm, mpnet, smollm2, or any BERT / MPNet / Llama folder or name the Embedder accepts (weights copied)."""
        cfg, hf_state = hf_weights.read_pretrained(name_or_folder, head)
        model = cls(cfg).eval()
        with torch.no_grad():
            hf_weights.load_state(model.state_dict(), hf_state, cfg)
        return model

    @classmethod
    def from_transformers(cls, hf_model: Any) -> Transformer:
        """The reference twin of a loaded transformers BertModel or LlamaModel (weights copied, not shared)."""
        cfg = hf_weights.config_from_hf(hf_model.config, "none", type(hf_model).__name__)
        model = cls(cfg).eval()
        with torch.no_grad():
            hf_weights.load_state(model.state_dict(), dict(hf_model.state_dict()), cfg)
        return model.to(next(hf_model.parameters()).dtype)

    def save_pretrained(self, folder: str, tokenizer: object | None = None) -> None:
        """Write a transformers folder (config.json + model.safetensors [+ tokenizer]) that Embedder(folder) loads."""
        hf_weights.save_pretrained(self.state_dict(), self.config, folder, tokenizer)

    def to_hf_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights under transformers' names (BERT or Llama), the inverse of `from_pretrained`."""
        return hf_weights.to_hf_state_dict(self.state_dict(), self.config)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """x_0 (B, T, D): token embedding, plus learned position and segment-0 embeddings where the model has them."""
        x = self.tok_emb(input_ids)  # (B, T) -> (B, T, D)
        if self.pos_emb is not None:
            start = self.config.position_offset
            x = x + self.pos_emb.weight[start : start + input_ids.shape[1]]  # (T, D) broadcast over B
        if self.type_emb is not None:
            x = x + self.type_emb.weight[0]  # (D,): every token is in segment 0
        out: torch.Tensor = self.emb_drop(self.emb_norm(x) if self.emb_norm is not None else x)
        return out

    def attention_mask(self, attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """(B, T) 1 = token, 0 = padding -> a mask added to the scores, 0 where a query may see a key: (B, 1, 1, T)
        for an encoder (the same for every query), (B, 1, T, T) with the causal mask."""
        allowed = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T): padding keys are never seen
        if self.config.causal:
            T = attention_mask.shape[1]
            allowed = allowed & torch.ones(T, T, dtype=torch.bool, device=allowed.device).tril()  # (B, 1, T, T)
        # a large negative instead of -inf: a row with no visible key (padding) gets uniform weights, never NaN
        return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(
            ~allowed, torch.finfo(dtype).min
        )

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, *, trace: bool = False
    ) -> TransformerOutput:
        T = input_ids.shape[1]  # input_ids: (B, T)
        limit = self.config.max_positions - self.config.position_offset
        if limit < T:
            raise InvalidInputError(f"{T} positions exceed this model's {limit}; split the input into shorter windows.")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        x = self.embed(input_ids)  # (B, T, D)
        mask = self.attention_mask(attention_mask, x.dtype)  # (B, 1, 1 or T, T)
        if self.rel_bias is not None:  # one learned bias per head and distance bucket, the same in every block
            bias = self.rel_bias(relative_buckets(self.config, T, x.device))  # (T, T) -> (T, T, H)
            mask = mask + bias.permute(2, 0, 1)[None]  # (T, T, H) -> (1, H, T, T); mask: (B, H, T, T)
        rope = rotary(self.config, T, x.device) if self.config.positions == "rotary" else None
        states, traces = run_blocks(self.blocks, self.final_norm, x, mask, rope, trace)
        return TransformerOutput(states, self.logits(states[-1]), traces)

    def logits(self, h: torch.Tensor) -> torch.Tensor | None:
        """(B, T, D) top hidden state -> (B, T, V) scores over the vocabulary, or None without a head."""
        out: torch.Tensor | None = None
        if self.mlm_head is not None:
            out = self.mlm_head(h, self.tok_emb.weight)
        elif self.config.head == "lm":
            out = self.lm_head(h) if self.lm_head is not None else F.linear(h, self.tok_emb.weight)
        return out
