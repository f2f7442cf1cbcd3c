"""An embedding layer trained for a task: the food-recommendation set-up.

Each example is a basket (a set of item names, e.g. a person's five favourite foods). One item is hidden and
predicted from the others: mean of their d-dimensional embeddings -> linear layer -> softmax over all items,
trained with cross-entropy. The embedding layer's rows are then the item vectors — items that appear in the
same kinds of baskets end up close, though nobody told the model what they have in common.

`demo_baskets()` generates the demo data: 8 cuisines of 8 dishes each (`CUISINES`); each basket is 5 distinct
dishes, each drawn from the basket's cuisine with probability 0.85 and from any cuisine otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from contextvec.errors import InputFileError, OptionError
from contextvec.scoped import seeded
from contextvec.static.vectors import StaticVectors

if TYPE_CHECKING:
    import torch
    from torch import nn

CUISINES: dict[str, list[str]] = {
    "italian": ["pizza", "lasagna", "risotto", "tiramisu", "gnocchi", "carbonara", "bruschetta", "gelato"],
    "japanese": ["sushi", "ramen", "tempura", "miso_soup", "udon", "mochi", "takoyaki", "onigiri"],
    "mexican": ["tacos", "burrito", "enchiladas", "guacamole", "churros", "tamales", "quesadilla", "pozole"],
    "indian": ["biryani", "naan", "samosa", "dal", "paneer_tikka", "dosa", "gulab_jamun", "chana_masala"],
    "french": ["croissant", "ratatouille", "crepe", "quiche", "bouillabaisse", "macaron", "cassoulet", "souffle"],
    "thai": ["pad_thai", "green_curry", "tom_yum", "som_tam", "massaman", "satay", "mango_sticky_rice", "larb"],
    "american": [
        "burger",
        "hot_dog",
        "bbq_ribs",
        "mac_and_cheese",
        "apple_pie",
        "pancakes",
        "fried_chicken",
        "cornbread",
    ],
    "greek": ["moussaka", "souvlaki", "tzatziki", "baklava", "spanakopita", "gyros", "dolmades", "greek_salad"],
}


def demo_baskets(n: int = 4000, size: int = 5, p_same: float = 0.85, seed: int = 0) -> list[list[str]]:
    """The demo data (see the module docstring). Deterministic for a given seed."""
    rng = random.Random(seed)
    names = list(CUISINES)
    all_items = [d for dishes in CUISINES.values() for d in dishes]
    baskets = []
    for _ in range(n):
        home = CUISINES[rng.choice(names)]
        basket: list[str] = []
        while len(basket) < size:
            item = rng.choice(home) if rng.random() < p_same else rng.choice(all_items)
            if item not in basket:
                basket.append(item)
        baskets.append(basket)
    return baskets


DEMO_FILE = Path(__file__).parent / "data" / "food_baskets.txt"  # demo_baskets() as shipped, one basket a line


def read_baskets(path: str | Path) -> list[list[str]]:
    """One basket per line, items separated by whitespace or commas; at least 2 items a basket."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"baskets file {str(p)!r} does not exist.")
    baskets = []
    for number, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        items = [x for x in line.replace(",", " ").split() if x]
        if not items:
            continue
        if len(items) < 2:
            raise InputFileError(f"{p}:{number}: a basket needs 2+ items (one is hidden, the rest predict it).")
        baskets.append(items)
    if not baskets:
        raise InputFileError(f"{p}: no baskets.")
    return baskets


def train_task_embeddings(
    baskets: Sequence[Sequence[str]],
    *,
    dim: int = 16,
    epochs: int = 30,
    lr: float = 0.02,
    batch_size: int = 256,
    seed: int = 0,
) -> StaticVectors:
    """Train the hide-one-item task and return the embedding layer's rows as item vectors."""
    import torch
    from torch import nn

    if dim < 1 or epochs < 1:
        raise OptionError(f"dim={dim} and epochs={epochs} must be >= 1.")
    vocab = sorted({item for b in baskets for item in b})
    index = {item: i for i, item in enumerate(vocab)}
    V, L = len(vocab), max(len(b) for b in baskets)
    # every (basket, hidden item) pair is one example; padding id V has a zero embedding and is masked out
    ids = torch.full((len(baskets), L), V, dtype=torch.long)  # (N, L)
    for n, b in enumerate(baskets):
        ids[n, : len(b)] = torch.tensor([index[x] for x in b])
    with seeded(seed) as gen:  # the layers' initialisation draws from torch's RNG: scoped, the caller's is kept
        emb = nn.Embedding(V + 1, dim, padding_idx=V)
        # small initial vectors (as word2vec): what the rows end up holding is what the task put there, not the
        # random start, which with N(0, 1) would dominate every cosine
        nn.init.normal_(emb.weight, std=0.01)
        with torch.no_grad():
            emb.weight[V].zero_()
        out = nn.Linear(dim, V)
    opt = torch.optim.Adam([*emb.parameters(), *out.parameters()], lr=lr)
    for _ in range(epochs):
        for batch in torch.randperm(len(baskets), generator=gen).split(batch_size):  # type: ignore[no-untyped-call]
            loss = _hide_one_loss(ids[batch], emb, out, V, gen)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
    matrix = emb.weight.detach()[:V].numpy().astype(np.float32)  # (V, D)
    return StaticVectors(vocab, matrix, name="task-embedding")


def _hide_one_loss(x: torch.Tensor, emb: nn.Embedding, out: nn.Linear, V: int, gen: torch.Generator) -> torch.Tensor:
    """Cross-entropy of predicting one hidden real item of each basket (B, L) from the mean of the others."""
    import torch
    from torch import nn

    real = x != V
    # hide one real item per basket, at random
    hide = torch.multinomial(real.float(), 1, generator=gen).squeeze(1)  # (B,)
    target = x[torch.arange(len(x)), hide]  # (B,)
    context = real.clone()
    context[torch.arange(len(x)), hide] = False
    e = emb(x) * context.unsqueeze(-1)  # (B, L, D), hidden and padding zeroed
    mean = e.sum(1) / context.sum(1, keepdim=True).clamp(min=1)  # (B, D)
    logits = out(mean)  # (B, V)
    # a basket holds each item once, so the items in view cannot be the hidden one: leave them out of the
    # softmax, or the embedding layer learns "not me" instead of "goes with"
    seen = torch.zeros((len(x), V + 1), dtype=torch.bool)  # the extra column takes the padding
    seen.scatter_(1, x, context)
    seen = seen[:, :V]
    loss: torch.Tensor = nn.functional.cross_entropy(logits.masked_fill(seen, float("-inf")), target)
    return loss
