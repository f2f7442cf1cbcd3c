"""Layer pooling, applied right after the forward pass so only one (B, T, D') tensor per batch is kept."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from contextvec.options import LayerSelection


def pool_layers(hidden_states: Sequence[torch.Tensor], selection: LayerSelection) -> torch.Tensor:
    """Pool the selected hidden states. Each is (B, T, D); returns (B, T, D) or (B, T, K*D) for concat."""
    chosen = [hidden_states[i] for i in selection.indices]  # K x (B, T, D)
    if len(chosen) == 1 and selection.mode != "weights":
        return chosen[0]
    if selection.mode == "concat":
        return torch.cat(chosen, dim=-1)  # (B, T, K*D)
    stacked = torch.stack(chosen, dim=0)  # (K, B, T, D)
    if selection.mode == "mean":
        return stacked.mean(dim=0)
    if selection.mode == "sum":
        return stacked.sum(dim=0)
    assert selection.weights is not None
    w = torch.tensor(selection.weights, dtype=stacked.dtype, device=stacked.device)  # (K,)
    return torch.einsum("k,kbtd->btd", w, stacked)  # weights used as given (no softmax)
