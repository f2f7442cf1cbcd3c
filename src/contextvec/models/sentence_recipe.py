"""The sentence recipe of a model: how its own sentence vectors are made (a type of its own, so that reading a
sentence-transformers folder (st_folder.py) and choosing a model's recipes (recipes.py) need not import each other)."""

from __future__ import annotations

from dataclasses import dataclass

from contextvec.options import SentencePooling


@dataclass(frozen=True)
class SentenceRecipe:
    """How a model's own sentence vectors are made (its sentence-transformers modules, or contextvec's default).

    `unsupported` names what contextvec cannot compute exactly (a Dense module, max pooling, a default prompt):
    the default sentence call then refuses instead of returning other numbers under the same name."""

    pooling: SentencePooling
    normalize: bool
    max_seq_length: int | None = None  # sentence-transformers truncates beyond this; contextvec uses windows
    source: str = "contextvec default"
    unsupported: str = ""
