"""Sentences of a text as exact character spans: a small regex splitter, pure text, no model.

A sentence ends after `.`, `!`, `?` or `…` (and any closing quotes or brackets right after it) when whitespace
and then an uppercase letter, a digit, an opening quote or bracket follows; a line break always ends one.
Abbreviation-like ends ("Dr.", "e.g.", "U.S.") followed by a capital are still split: it is a heuristic with
exact offsets, good enough to show a match in its sentence and to embed sentences for search. Leading and
trailing whitespace belong to no sentence; offsets are Python string indices into the unmodified text.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import regex

Spans = npt.NDArray[np.int64]  # (S, 2): [start, end) character offsets

# Where a sentence may end: terminal punctuation + closers, then whitespace before a plausible sentence start,
# or any line break (paragraph and list boundaries).
_BOUNDARY = regex.compile(r"(?<=[.!?…][\"'”’)\]]*)\s+(?=[\p{Lu}\p{N}\"'“‘(\[])|\s*[\n\r\u2028\u2029]\s*")


def split_sentences(text: str) -> Spans:
    """(S, 2) character spans of the sentences of `text`, in order, covering every visible character once."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        _add(text, pos, m.start(), spans)
        pos = m.end()
    _add(text, pos, len(text), spans)
    return np.asarray(spans, dtype=np.int64).reshape(-1, 2)


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Append [start, end) trimmed of whitespace, if anything is left."""
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        left = start + (len(piece) - len(piece.lstrip()))
        spans.append((left, left + len(stripped)))


def sentence_of(sentences: Spans, starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """(W,) index of the sentence that contains each char offset in `starts` (the last one starting at or before)."""
    idx = np.searchsorted(sentences[:, 0], starts, side="right") - 1  # (W,)
    return np.clip(idx, 0, max(len(sentences) - 1, 0)).astype(np.int64)


def sentence_of_docs(
    sentences: list[Spans], doc: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """`sentence_of` for many documents at once: (N,) index into `np.concatenate(sentences)` of the sentence that
    contains char offset `starts[i]` of document `doc[i]` (each document's sentences as `split_sentences` gives)."""
    counts = np.asarray([len(s) for s in sentences], dtype=np.int64)  # (D,)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)  # (D,) first sentence of each doc
    spans = np.concatenate(sentences) if len(sentences) else np.zeros((0, 2), dtype=np.int64)  # (S, 2)
    scale = int(max(spans[:, 1].max(initial=0), starts.max(initial=0))) + 1  # (doc, offset) as one sortable key
    sent_doc = np.repeat(np.arange(len(sentences), dtype=np.int64), counts)  # (S,)
    idx = np.searchsorted(sent_doc * scale + spans[:, 0], doc * scale + starts, side="right") - 1  # (N,)
    return np.clip(idx, first[doc], np.maximum(first[doc] + counts[doc] - 1, first[doc])).astype(np.int64)
