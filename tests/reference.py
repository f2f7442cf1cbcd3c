"""An independent computation of contextual vectors with raw transformers, for tests to compare against.

It uses the Hugging Face tokenizer call (with special tokens), one text per forward pass, and finds a word's
subwords by character overlap — none of contextvec's windowing, batching or alignment code.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch


def hidden_states(hf_tokenizer: Any, model: Any, text: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """All hidden states (L+1) x (T, D), offsets (T, 2), and a content mask (T,) for one text."""
    enc = hf_tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True, return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
    states = [h[0].float().numpy() for h in out.hidden_states]
    return states, enc["offset_mapping"][0].numpy(), enc["special_tokens_mask"][0].numpy() == 0


def simple_words(text: str) -> list[tuple[int, int]]:
    """Words of a plain ASCII text as UAX #29 cuts them: runs of letters/digits (an apostrophe or period between two
    letters or two digits stays inside: "didn't", "3.14"), or one punctuation mark."""
    word = r"[A-Za-z]+(?:['.][A-Za-z]+)*|[0-9]+(?:[.,][0-9]+)*"
    return [m.span() for m in re.finditer(rf"{word}|[^\sA-Za-z0-9]", text)]


def word_vectors(
    hf_tokenizer: Any, model: Any, text: str, spans: list[tuple[int, int]], layers: list[int], mode: str = "mean"
) -> np.ndarray:
    """(W, D) vectors of the given char spans: mean of the chosen layers, subwords pooled by `mode`."""
    states, offsets, content = hidden_states(hf_tokenizer, model, text)
    H = np.mean([states[i] for i in layers], axis=0)  # (T, D)
    rows = []
    for s, e in spans:
        idx = [t for t in range(len(offsets)) if content[t] and offsets[t][0] < e and s < offsets[t][1]]
        picked = H[idx]
        rows.append({"mean": picked.mean(0), "max": picked.max(0), "first": picked[0], "last": picked[-1]}[mode])
    return np.stack(rows)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)
