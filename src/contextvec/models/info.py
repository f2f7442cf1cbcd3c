"""What a loaded model is (ModelInfo) and what its tokenizer makes of a text (Encoded): plain records every backend
fills in the same way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contextvec.models.recipes import DEFAULT_SENTENCE_RECIPE, TOP_RECIPE, Recipe, SentenceRecipe


@dataclass(frozen=True)
class Encoded:
    """One text's content tokens: ids (n,) and [start, end) char offsets (n, 2) into the original text."""

    ids: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int64]


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    architecture: str
    num_layers: int  # transformer blocks L; hidden states are 0..L (0 = embedding output)
    hidden_size: int
    max_length: int  # window size in tokens, special tokens included
    model_limit: int  # the most the model accepts
    causal: bool
    has_cls: bool  # whether windows start with a special token usable for cls pooling
    parameters: int
    sentence_recipe: SentenceRecipe = DEFAULT_SENTENCE_RECIPE  # the model's own sentence pooling, if declared
    recipe: Recipe = TOP_RECIPE  # default layers and context-only of token, word and span vectors
