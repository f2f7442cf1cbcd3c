"""What `Transformer(..., trace=True)` hands back: every intermediate of every block, as plain tensors."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LayerTrace:
    """One block's intermediates. B batch, H heads, T positions, hd head width, D hidden size.

    With grouped-query attention, k and v are repeated to one per query head (head h uses K/V group
    h // (H / n_kv_heads)), so every field indexes heads the same way.
    """

    q: torch.Tensor  # (B, H, T, hd) queries, after rotary positions if the model uses them
    k: torch.Tensor  # (B, H, T, hd) keys, after rotary positions if the model uses them
    v: torch.Tensor  # (B, H, T, hd) values
    scores: torch.Tensor  # (B, H, T, T) q . k / sqrt(hd), before any mask: rows = from, columns = to
    weights: torch.Tensor  # (B, H, T, T) softmax of the masked scores (+ MPNet's position bias); rows sum to 1
    resid_pre: torch.Tensor  # (B, T, D) the stream entering the block (before attention)
    attn_out: torch.Tensor  # (B, T, D) what attention adds to the stream (after the output projection)
    resid_mid: torch.Tensor  # (B, T, D) the stream after attention (post-LN models: after its norm), before the MLP
    mlp_out: torch.Tensor  # (B, T, D) what the MLP adds to the stream
    resid_post: torch.Tensor  # (B, T, D) the stream leaving the block


@dataclass(frozen=True)
class TransformerOutput:
    hidden_states: tuple[torch.Tensor, ...]  # L+1 tensors (B, T, D): embeddings, then each block's output
    logits: torch.Tensor | None = None  # (B, T, V) from the MLM / LM head, if the model has one
    trace: tuple[LayerTrace, ...] | None = None  # one per block, with trace=True
