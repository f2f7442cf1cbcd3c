"""GloVe 6B 50-d from its pip package, and the static-vs-contextual comparison on the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from contextvec.static.embedder import StaticEmbedder


def test_glove_loads_memory_mapped_and_behaves_like_glove() -> None:
    glove = StaticEmbedder.load("glove-50d")
    v = glove.vectors
    assert len(v.words) == 400_000 and v.dim == 50 and isinstance(v.matrix, np.memmap)
    assert "queen" in [w for w, _ in glove.analogy("man", "king", "woman", k=5)]
    assert glove.similarity("Bank", "banks") > glove.similarity("bank", "banana")  # lookups are lowercased
    assert "france" in [w for w, _ in glove.most_similar("paris", 5)]


def test_cli_shows_static_cosine_next_to_contextual() -> None:
    texts = ["I deposited the check at the bank.", "We sat on the bank of the river."]
    cmd = [
        sys.executable,
        "-m",
        "contextvec.cli",
        "compare",
        *texts,
        "--word",
        "bank",
        "--layers=-4:",
        "--versus",
        "glove-50d",
        "--json",
    ]
    contextual, static = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert static["model"] == "glove-50d" and static["cosine"][0][1] == 1.0
    assert contextual["model"] == "minilm" and contextual["cosine"][0][1] < 0.95


def test_compare_with_a_static_model_shows_the_contextual_default_next_to_it() -> None:
    texts = ["I deposited the check at the bank.", "We sat on the bank of the river."]
    cmd = [
        sys.executable,
        "-m",
        "contextvec.cli",
        "compare",
        *texts,
        "--word",
        "bank",
        "--model",
        "glove-50d",
        "--json",
    ]
    rows = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert [r["model"] for r in rows] == ["minilm", "glove-50d"]
    assert rows[1]["cosine"][0][1] == 1.0 and rows[0]["cosine"][0][1] < 1.0
