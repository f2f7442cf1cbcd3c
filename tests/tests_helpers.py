"""Small helpers shared by unit tests."""

from __future__ import annotations

import random


def texts_of_many_lengths(n: int = 24, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    vocab = ["the", "bank", "river", "approved", "loan", "sat", "on", "unbelievably", "crossing", "!", ","]
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 50))) for _ in range(n)]
