"""The one place where (text, start, end) span requests are checked, and where rows get their provenance.

Every embedder (contextual or static) checks spans and assembles result rows here, so the fields they share
mean the same thing: `text_index` is the position of the row's input in the call (the span's position for
spans), `start` / `end` are character offsets into that input's text, `strings` the text the row covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from contextvec.errors import InvalidInputError, SpanError
from contextvec.text import Document, locate_span, make_document

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CheckedSpans:
    """Span requests after validation. Equal texts share one Document (embedded once)."""

    docs: list[Document]  # the distinct texts, in order of first appearance
    doc_of: list[int]  # (N,) which of `docs` each span is in
    first_word: list[int]  # (N,) first word of each span within its document
    last_word: list[int]  # (N,) last word (inclusive)
    start: I64  # (N,)
    end: I64  # (N,)
    strings: list[str]  # (N,) the covered text

    def provenance(self) -> dict[str, Any]:
        """text_index, start, end and strings of one row per span, in request order."""
        return {
            "text_index": np.arange(len(self.strings), dtype=np.int64),
            "start": self.start.copy(),
            "end": self.end.copy(),
            "strings": list(self.strings),
        }


def check_spans(spans: Sequence[tuple[str, int, int]]) -> CheckedSpans:
    """Validate (text, start, end) tuples: a non-empty list, each on word boundaries of a valid text."""
    if isinstance(spans, str) or not isinstance(spans, Sequence) or len(spans) == 0:
        raise InvalidInputError("pass a non-empty list of (text, start, end) tuples.")
    index_of: dict[str, int] = {}
    docs: list[Document] = []
    doc_of, first, last = [], [], []
    for k, item in enumerate(spans):
        if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 3:
            raise SpanError(f"span {k} is {item!r}; each span is a (text, start, end) tuple.")
        text, start, end = item
        if not isinstance(text, str) or text not in index_of:
            index_of[text] = len(docs)
            docs.append(make_document(text, k))
        d = index_of[text]
        i, j = locate_span(docs[d], start, end, k)
        doc_of.append(d)
        first.append(i)
        last.append(j)
    return CheckedSpans(
        docs=docs,
        doc_of=doc_of,
        first_word=first,
        last_word=last,
        start=np.asarray([int(s[1]) for s in spans], dtype=np.int64),
        end=np.asarray([int(s[2]) for s in spans], dtype=np.int64),
        strings=[str(s[0])[int(s[1]) : int(s[2])] for s in spans],
    )


def word_provenance(docs: list[Document], spans: list[npt.NDArray[np.int64]]) -> dict[str, Any]:
    """text_index, start, end and strings for rows given as (n_i, 2) char spans per input text."""
    stacked = np.concatenate(spans) if spans else np.empty((0, 2), dtype=np.int64)  # (N, 2)
    return {
        "text_index": np.concatenate([np.full(len(sp), i, dtype=np.int64) for i, sp in enumerate(spans)]),
        "start": stacked[:, 0].astype(np.int64),
        "end": stacked[:, 1].astype(np.int64),
        "strings": [docs[i].text[a:b] for i, sp in enumerate(spans) for a, b in sp.tolist()],
    }


def sentence_provenance(docs: list[Document]) -> dict[str, Any]:
    """One row per text, covering all of it."""
    return {
        "text_index": np.arange(len(docs), dtype=np.int64),
        "start": np.zeros(len(docs), dtype=np.int64),
        "end": np.asarray([len(d.text) for d in docs], dtype=np.int64),
        "strings": [d.text for d in docs],
    }
