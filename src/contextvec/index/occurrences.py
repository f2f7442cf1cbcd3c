"""A word's occurrences read from an index: what `senses` / `occurrences` need, without re-embedding the corpus.

Returns `contextvec.analysis.occurrences.Occurrences` with one change of frame: each row's "text" is the
sentence that contains it (the index stores sentences, not whole documents), so `text_index` numbers the
distinct (document, sentence) pairs in corpus order and `start` / `end` are offsets inside that sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from contextvec.analysis.occurrences import INFLECT, Occurrences, surface_forms
from contextvec.errors import InvalidInputError
from contextvec.index.filters import where_clause
from contextvec.index.manifest import Manifest
from contextvec.text import fold_word


def read_occurrences(
    table: Any, manifest: Manifest, words: list[str], *, inflect: bool = INFLECT, folder: Path | None = None
) -> Occurrences:
    """Every row of `words` in an index's word table (case-folded; with -s/-ed/-ing forms when `inflect`), in
    corpus order."""
    if not words:
        raise InvalidInputError("give at least one target word.")
    forms = surface_forms(words, inflect)
    cols = ["seq", "start", "end", "word", "word_norm", "text", "sentence_start", "vector"]
    rows = table.search().where(where_clause(words, inflect, None)).select(cols).limit(table.count_rows()).to_arrow()
    if rows.num_rows == 0:
        raise InvalidInputError(f"none of {words!r} occurs in the index {folder} as a whole word.")
    order = np.lexsort((rows["start"].to_numpy(), rows["seq"].to_numpy()))  # corpus order
    rows = rows.take(order)
    seq, sent0 = rows["seq"].to_numpy(), rows["sentence_start"].to_numpy()
    keys = list(zip(seq.tolist(), sent0.tolist(), strict=True))
    number = {key: i for i, key in enumerate(dict.fromkeys(keys))}  # (doc, sentence) -> text_index
    text_index = np.asarray([number[key] for key in keys], dtype=np.int64)
    sentences = rows["text"].to_pylist()
    d = manifest.dim
    return Occurrences(
        target=[forms[fold_word(w)] for w in rows["word_norm"].to_pylist()],  # keys and rows: one fold
        form=rows["word"].to_pylist(),
        text_index=text_index,
        start=rows["start"].to_numpy() - sent0,
        end=rows["end"].to_numpy() - sent0,
        sentence=sentences,
        texts={int(t): s for t, s in zip(text_index.tolist(), sentences, strict=True)},
        vectors=rows["vector"].combine_chunks().flatten().to_numpy().reshape(-1, d).astype(np.float32),  # (N, D)
        model_id=manifest.spec["model"],
        layers=manifest.layers["word"],
    )
