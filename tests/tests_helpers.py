"""Small helpers shared by unit tests."""

from __future__ import annotations

import random


def texts_of_many_lengths(n: int = 24, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    vocab = ["the", "bank", "river", "approved", "loan", "sat", "on", "unbelievably", "crossing", "!", ","]
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 50))) for _ in range(n)]


# Two uses of "bank" per sense, as (text, start, end, sense): for sense-labelling tests.
BANK_EXAMPLES = [
    ("we sat on the bank of the river", 14, 18, "river"),
    ("the bank of the river was muddy", 4, 8, "river"),
    ("the bank approved my loan", 4, 8, "money"),
    ("I paid the bank my loan", 11, 15, "money"),
]
