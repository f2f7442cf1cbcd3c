"""Data the browser tests share: the toy static model (GloVe's place in tests) and the documents of the index."""

from __future__ import annotations

from typing import Any

import numpy as np

STATIC_WORDS = ["the", "bank", "river", "loan", "money", "water", "we", "sat", "on", "of", "my", "approved"]
INDEX_DOCS = [
    "We sat on the bank of the river.",
    "The bank approved my loan.",
    "The river bank was muddy.",
    "She went to the bank for money.",
]


def toy_static() -> Any:
    from contextvec.static.embedder import StaticEmbedder
    from contextvec.static.vectors import StaticVectors

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(STATIC_WORDS), 8)).astype(np.float32)
    return StaticEmbedder(StaticVectors(STATIC_WORDS, vectors, name="toy-static", lowercase=True))
