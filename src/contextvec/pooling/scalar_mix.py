"""ELMo's scalar mix: a task's learned combination of a model's L+1 layers, gamma * sum_k softmax(s)_k h_k.

The mix trains with the task (its parameters are s (L+1,) and gamma); once trained, `layer_weights()` gives the
weights to hand to `layer_pooling="weights"` so the embedder pools the layers the same way (pool_layers).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ScalarMix(nn.Module):
    """A learned softmax-weighted sum of L+1 layer representations, scaled by gamma."""

    def __init__(self, num_states: int) -> None:
        super().__init__()
        self.scalars = nn.Parameter(torch.zeros(num_states))  # s: equal weights to start with
        self.gamma = nn.Parameter(torch.ones(()))

    def forward(self, states: Sequence[torch.Tensor]) -> torch.Tensor:
        """L+1 tensors, each (..., D) -> (..., D)."""
        if len(states) != self.scalars.numel():
            raise ValueError(f"ScalarMix got {len(states)} layers, built for {self.scalars.numel()}")
        w = torch.softmax(self.scalars, dim=0)  # (L+1,)
        stacked = torch.stack(list(states), dim=0)  # (L+1, ..., D)
        return self.gamma * torch.einsum("k,k...->...", w, stacked)

    def layer_weights(self) -> list[float]:
        """gamma * softmax(s): the per-layer weights for `layer_pooling="weights"`."""
        with torch.no_grad():
            return [float(x) for x in self.gamma * torch.softmax(self.scalars, dim=0)]
