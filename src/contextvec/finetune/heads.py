"""The small trained parts: an ELMo-style scalar mix of layers (frozen encoders) and one linear head per task."""

from __future__ import annotations

import torch
from torch import nn


class ScalarMix(nn.Module):
    """ELMo's mix (Peters et al. 2018): gamma * sum_k softmax(s)_k h_k over the L+1 hidden states."""

    def __init__(self, n_states: int) -> None:
        super().__init__()
        self.scalars = nn.Parameter(torch.zeros(n_states))  # equal weights to start
        self.gamma = nn.Parameter(torch.ones(()))

    def weights(self) -> torch.Tensor:
        return torch.softmax(self.scalars, dim=0)  # (K,)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.einsum("k,gkd->gd", self.weights(), h)  # (G, K, D) -> (G, D)


class TaskHead(nn.Module):
    """Group vectors -> label logits. classify and tag: one group per prediction; wic: two consecutive groups
    (the target word in each sentence) read as [u * v, |u - v|, u + v], symmetric in the two sentences."""

    def __init__(self, task: str, dim: int, n_labels: int, n_states: int | None, dropout: float = 0.1) -> None:
        super().__init__()
        self.task = task
        self.mix = ScalarMix(n_states) if n_states else None
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim * 3 if task == "wic" else dim, n_labels)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = self.mix(feats) if self.mix is not None else feats  # (G, D)
        if self.task == "wic":
            u, v = x[0::2], x[1::2]  # (P, D) each
            x = torch.cat([u * v, (u - v).abs(), u + v], dim=-1)  # (P, 3D)
        logits: torch.Tensor = self.out(self.drop(x))  # (N, C)
        return logits
