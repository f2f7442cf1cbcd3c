"""The networks each kind trains: ELMo's biLM (contextvec.models.elmo), and for mlm / causal the reference
transformer (contextvec.transformer) configured as a small BERT with its masked-LM head or a small Llama with its
LM head. Their folders are written in transformers' format (config.json + model.safetensors), so TorchBackend
loads them like any BERT or Llama.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from contextvec.models.elmo import ElmoBiLM, ElmoConfig
from contextvec.train.config import Kind, NetConfig


def _init_weights(model: nn.Module) -> None:
    """BERT's and GPT's initialisation: N(0, 0.02) matrices and embeddings, zero biases (norms keep 1 and 0)."""
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)


def build_network(kind: Kind, net: NetConfig, vocab_size: int, special_ids: dict[str, int]) -> Any:
    """A freshly initialised network (torch's global RNG decides the weights: seed it first)."""
    if kind == "elmo":
        cfg = ElmoConfig(
            vocab_size=vocab_size,
            dim=net.dim,
            hidden=net.hidden,
            layers=net.num_layers,
            dropout=net.dropout,
            max_length=net.seq_len + 2,
        )
        return ElmoBiLM(cfg)
    from dataclasses import replace

    from contextvec.transformer import Transformer, TransformerConfig

    base = TransformerConfig(  # BERT: learned positions, post-LN LayerNorm, GELU MLP, bidirectional
        vocab_size=vocab_size,
        dim=net.dim,
        n_layers=net.num_layers,
        n_heads=net.heads,
        mlp_dim=net.hidden,
        max_positions=net.seq_len,
        pad_token_id=special_ids["pad"],
        dropout=net.dropout,
        tie_embeddings=True,
    )
    if kind == "mlm":  # ... with the masked-LM head
        tcfg = replace(base, type_vocab_size=2, head="mlm")
    else:  # Llama: rotary positions, pre-LN RMSNorm, SwiGLU MLP, causal mask, LM head
        tcfg = replace(
            base,
            positions="rotary",
            causal=True,
            norm="rmsnorm",
            norm_eps=1e-5,
            norm_place="pre",
            embed_norm=False,
            final_norm=True,
            mlp="swiglu",
            bias=False,
            head="lm",
        )
    model = Transformer(tcfg)
    with torch.no_grad():
        _init_weights(model)
    return model
