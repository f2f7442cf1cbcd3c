"""The reference transformer's one config: every architectural choice as a named field, defaults inline.

The defaults describe a small BERT (learned positions, post-LN, LayerNorm, GELU, full attention, MLM head off);
`bert_config` and `llama_config` read a transformers config into this shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from contextvec.errors import ModelLoadError

Positions = Literal["learned", "rotary"]
NormKind = Literal["layernorm", "rmsnorm"]
NormPlace = Literal["pre", "post"]  # pre: x + f(norm(x)) (GPT-2, Llama); post: norm(x + f(x)) (BERT)
MlpKind = Literal["gelu", "swiglu"]
Head = Literal["none", "mlm", "lm"]


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int = 1000
    dim: int = 64  # D, the width of the residual stream
    n_layers: int = 2  # L
    n_heads: int = 4  # H query heads
    n_kv_heads: int | None = None  # grouped-query attention: heads of K and V (None = n_heads, plain multi-head)
    head_dim: int | None = None  # None = dim // n_heads
    mlp_dim: int = 256  # the MLP's inner width
    max_positions: int = 512  # learned position table size (rotary has no table but keeps the limit)
    positions: Positions = "learned"
    position_offset: int = 0  # row of position 0 in the learned table (MPNet starts after its padding row: 2)
    relative_buckets: int = 0  # MPNet: a learned bias per head and bucket of (key - query) distance; 0 = none
    relative_max_distance: int = 128  # distances beyond this share the last bucket
    rope_theta: float = 10000.0  # rotary base: frequency of pair i is theta^(-2i / head_dim)
    type_vocab_size: int = 0  # BERT's segment (token type) table; 0 = none. contextvec always uses segment 0
    causal: bool = False  # True: position t attends to positions <= t only (GPT); False: to all (BERT)
    norm: NormKind = "layernorm"
    norm_eps: float = 1e-12
    norm_place: NormPlace = "post"
    embed_norm: bool = True  # BERT normalises the summed embeddings before block 1
    final_norm: bool = False  # pre-LN models normalise the stream once after the last block
    mlp: MlpKind = "gelu"
    bias: bool = True  # biases in the Q, K, V, output and MLP projections
    head: Head = "none"
    tie_embeddings: bool = True  # the output head reuses the token embedding matrix
    pad_token_id: int = 0
    dropout: float = 0.0  # training only: on the attention weights, the embeddings and what each sublayer adds

    def __post_init__(self) -> None:
        kv = self.kv_heads
        if self.n_heads % kv:
            raise ModelLoadError(f"n_heads={self.n_heads} must be a multiple of n_kv_heads={kv}.")
        if self.head_dim is None and self.dim % self.n_heads:
            raise ModelLoadError(f"dim={self.dim} must be a multiple of n_heads={self.n_heads} (or set head_dim).")

    @property
    def kv_heads(self) -> int:
        return self.n_kv_heads or self.n_heads

    @property
    def hd(self) -> int:
        """Width of one head."""
        return self.head_dim or self.dim // self.n_heads


def bert_config(hf: Any, head: Head = "none") -> TransformerConfig:
    """A transformers BertConfig (absolute positions, exact GELU) in the reference's terms."""
    if getattr(hf, "position_embedding_type", "absolute") != "absolute" or hf.hidden_act != "gelu":
        raise ModelLoadError(
            f"the reference transformer reads BERT with absolute positions and exact GELU; this one has "
            f"position_embedding_type={hf.position_embedding_type!r}, hidden_act={hf.hidden_act!r}."
        )
    return TransformerConfig(
        vocab_size=hf.vocab_size,
        dim=hf.hidden_size,
        n_layers=hf.num_hidden_layers,
        n_heads=hf.num_attention_heads,
        mlp_dim=hf.intermediate_size,
        max_positions=hf.max_position_embeddings,
        type_vocab_size=hf.type_vocab_size,
        norm_eps=hf.layer_norm_eps,
        head=head,
        pad_token_id=hf.pad_token_id or 0,
        dropout=float(hf.hidden_dropout_prob),
    )


def mpnet_config(hf: Any, head: Head = "none") -> TransformerConfig:
    """A transformers MPNetConfig: BERT's block, positions counted after the padding row, relative position bias."""
    if hf.hidden_act != "gelu" or head != "none":
        raise ModelLoadError(
            f"the reference transformer reads MPNet with exact GELU and no head; this one has "
            f"hidden_act={hf.hidden_act!r}, head={head!r}."
        )
    return TransformerConfig(
        vocab_size=hf.vocab_size,
        dim=hf.hidden_size,
        n_layers=hf.num_hidden_layers,
        n_heads=hf.num_attention_heads,
        mlp_dim=hf.intermediate_size,
        max_positions=hf.max_position_embeddings,
        position_offset=2,  # transformers' MPNet: padding_idx 1 is fixed, positions start at padding_idx + 1
        relative_buckets=hf.relative_attention_num_buckets,
        norm_eps=hf.layer_norm_eps,
        pad_token_id=hf.pad_token_id,
        dropout=float(hf.hidden_dropout_prob),
    )


def llama_config(hf: Any, head: Head = "none") -> TransformerConfig:
    """A transformers LlamaConfig (default rotary, SiLU-gated MLP) in the reference's terms."""
    rope = getattr(hf, "rope_parameters", None) or {"rope_type": "default", "rope_theta": hf.rope_theta}
    if rope.get("rope_type", "default") != "default" or hf.hidden_act != "silu" or hf.attention_bias or hf.mlp_bias:
        raise ModelLoadError(
            f"the reference transformer reads Llama with default rotary positions, SiLU and no biases; this one has "
            f"rope={rope!r}, hidden_act={hf.hidden_act!r}, attention_bias={hf.attention_bias}."
        )
    return TransformerConfig(
        vocab_size=hf.vocab_size,
        dim=hf.hidden_size,
        n_layers=hf.num_hidden_layers,
        n_heads=hf.num_attention_heads,
        n_kv_heads=hf.num_key_value_heads,
        head_dim=getattr(hf, "head_dim", None),
        mlp_dim=hf.intermediate_size,
        max_positions=hf.max_position_embeddings,
        positions="rotary",
        rope_theta=float(rope["rope_theta"]),
        causal=True,
        norm="rmsnorm",
        norm_eps=hf.rms_norm_eps,
        norm_place="pre",
        embed_norm=False,
        final_norm=True,
        mlp="swiglu",
        bias=False,
        head=head,
        tie_embeddings=bool(getattr(hf, "tie_word_embeddings", False)),
        pad_token_id=hf.pad_token_id if hf.pad_token_id is not None else 0,
        dropout=float(getattr(hf, "attention_dropout", 0.0)),
    )
