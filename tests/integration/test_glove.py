"""GloVe 6B 50-d from its pip package, and the static-vs-contextual comparison on the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np

from contextvec.static.embedder import StaticEmbedder


def test_glove_loads_memory_mapped_and_behaves_like_glove() -> None:
    glove = StaticEmbedder.load("glove-50d")
    v = glove.vectors
    assert len(v.words) == 400_000 and v.dim == 50 and isinstance(v.matrix, np.memmap)
    assert "queen" in [w for w, _ in glove.analogy("man", "king", "woman", k=5)]
    assert glove.similarity("Bank", "banks") > glove.similarity("bank", "banana")  # lookups are lowercased
    assert "france" in [w for w, _ in glove.most_similar("paris", 5)]


TEXTS = ["I deposited the check at the bank.", "We sat on the bank of the river."]


def _compare(*options: str) -> Any:
    """Run `contextvec compare` on TEXTS for "bank" and return its JSON."""
    cmd = [sys.executable, "-m", "contextvec.cli", "compare", *TEXTS, "--word", "bank", "--json", *options]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def test_cli_shows_static_cosine_next_to_contextual() -> None:
    contextual, static = _compare("--layers=-4:", "--versus", "glove-50d")
    assert static["model"] == "glove-50d" and static["cosine"][0][1] == 1.0
    assert contextual["model"] == "minilm" and contextual["cosine"][0][1] < 0.95


def test_compare_with_a_static_model_shows_only_that_model() -> None:
    row = _compare("--model", "glove-50d")  # nothing added behind the user's back
    assert row["model"] == "glove-50d" and row["layers"] == "static" and row["cosine"][0][1] == 1.0
