"""The small trained parts: an ELMo-style scalar mix of layers (frozen encoders), a linear head for classify and
tag, and for word in context a head that starts at the frozen recipe: logit = a * cos(u, v) + b."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

OFF_RECIPE = -4.0  # initial scalar of a layer outside the recipe: softmax weight ~0.5% of a recipe layer's


class ScalarMix(nn.Module):
    """ELMo's mix (Peters et al. 2018): gamma * sum_k softmax(s)_k h_k over the L+1 hidden states; `start` (states
    to favour at the start, e.g. a recipe's layers) gives them equal weight and every other state almost none."""

    def __init__(self, n_states: int, start: Sequence[int] | None = None) -> None:
        super().__init__()
        init = torch.zeros(n_states) if start is None else torch.full((n_states,), OFF_RECIPE)
        if start is not None:
            init[list(start)] = 0.0
        self.scalars = nn.Parameter(init)
        self.gamma = nn.Parameter(torch.ones(()))

    def weights(self) -> torch.Tensor:
        return torch.softmax(self.scalars, dim=0)  # (K,)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.einsum("k,gkd->gd", self.weights(), h)  # (G, K, D) -> (G, D)


class TaskHead(nn.Module):
    """Group vectors -> label logits, one group per prediction (classify: a text; tag: a word)."""

    def __init__(self, task: str, dim: int, n_labels: int, n_states: int | None, dropout: float = 0.1) -> None:
        super().__init__()
        self.task = task
        self.mix = ScalarMix(n_states) if n_states else None
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim, n_labels)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = self.mix(feats) if self.mix is not None else feats  # (G, D)
        logits: torch.Tensor = self.out(self.drop(x))  # (N, C)
        return logits


class CosineHead(nn.Module):
    """Word in context: logit(same sense) = a * cos(u, v) + b over the recipe's vectors of the target word in the
    two sentences, so training sharpens exactly the cosine that compare, senses and search use. Groups come per
    pair as [u, v] or, context-only, [u, v, u alone, v alone] (each use minus the word's out-of-context vector)."""

    def __init__(self, n_states: int | None, start: Sequence[int] | None, context_only: bool) -> None:
        super().__init__()
        self.task = "wic"
        self.mix = ScalarMix(n_states, start) if n_states else None
        self.context_only = context_only
        self.scale = nn.Parameter(torch.ones(()))  # a and b: set from the recipe's threshold by `calibrate`
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = self.mix(feats) if self.mix is not None else feats  # (G, D)
        x = x.reshape(-1, 4 if self.context_only else 2, x.shape[-1])  # (P, 2|4, D)
        u, v = (x[:, 0] - x[:, 2], x[:, 1] - x[:, 3]) if self.context_only else (x[:, 0], x[:, 1])  # (P, D) each
        s = self.scale * nn.functional.cosine_similarity(u, v, dim=-1) + self.bias  # (P,)
        return torch.stack([torch.zeros_like(s), s], dim=-1)  # (P, 2): labels False, True

    def calibrate(self, cosines: npt.NDArray[np.float32], labels: npt.NDArray[np.bool_]) -> tuple[float, float]:
        """Start at the recipe: b = -a * t with t the training pairs' accuracy-best threshold of the cosine (the
        recipe's rule), and a the scale with the least logistic loss. Returns (a, t)."""
        from contextvec.eval.wic import fit_threshold

        t = fit_threshold(cosines.astype(np.float32), labels.astype(bool))
        z, y = cosines - t, labels.astype(np.float64)
        grid = np.logspace(0, 3, 61)  # (S,)
        loss = np.logaddexp(0.0, -np.outer(grid, z) * (2 * y - 1)).mean(axis=1)  # (S,) logistic loss per scale
        a = float(grid[int(np.argmin(loss))])
        with torch.no_grad():
            self.scale.fill_(a)
            self.bias.fill_(-a * t)
        return a, t


Head = TaskHead | CosineHead


def make_head(
    task: str, dim: int, n_labels: int, n_states: int | None, start: Sequence[int] | None, context_only: bool
) -> Head:
    """The head of a task; `n_states` for a frozen encoder (a scalar mix over every hidden state), `start` the
    states a wic mix favours at first (the recipe's), `context_only` the recipe's out-of-context subtraction."""
    if task == "wic":
        return CosineHead(n_states, start, context_only)
    return TaskHead(task, dim, n_labels, n_states)
