"""Subword tokens -> words, by character overlap.

A token belongs to every word its character range overlaps. Tokens whose range includes a leading space (BPE)
still overlap their word; a token straddling a word boundary (e.g. BPE "'t" over "'" and "t") belongs to both
words. Special tokens have no content offsets and are never passed here, so they never reach a word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class WordAlignment:
    """CSR map from words to token rows: tokens of word w are token_index[indptr[w]:indptr[w + 1]] (sorted)."""

    indptr: Int64Array  # (W + 1,)
    token_index: Int64Array  # (nnz,)

    @property
    def counts(self) -> Int64Array:
        return np.diff(self.indptr)

    def tokens_of(self, first_word: int, last_word: int) -> Int64Array:
        """Sorted unique token rows of words first_word..last_word (inclusive)."""
        rows = self.token_index[self.indptr[first_word] : self.indptr[last_word + 1]]
        return np.unique(rows)


def align_words(token_offsets: Int64Array, word_spans: Int64Array) -> WordAlignment:
    """Map (W, 2) word spans to the (T, 2) token offsets that overlap them."""
    W = len(word_spans)
    tok_start, tok_end = token_offsets[:, 0], token_offsets[:, 1]
    # Words are sorted and disjoint, so the words a token overlaps form one contiguous range [lo, hi].
    lo = np.searchsorted(word_spans[:, 1], tok_start, side="right")  # first word ending after the token starts
    hi = np.searchsorted(word_spans[:, 0], tok_end, side="left") - 1  # last word starting before the token ends
    hi = np.where(tok_end > tok_start, hi, lo - 1)  # empty tokens overlap nothing
    n_per_token = np.maximum(hi - lo + 1, 0)  # (T,)
    token_rows = np.repeat(np.arange(len(token_offsets), dtype=np.int64), n_per_token)
    # word ids for each (token, word) pair: lo[t], lo[t]+1, ..., hi[t]
    first = np.repeat(lo, n_per_token)
    within = np.arange(len(token_rows), dtype=np.int64) - np.repeat(np.cumsum(n_per_token) - n_per_token, n_per_token)
    word_rows = first + within
    order = np.lexsort((token_rows, word_rows))
    word_rows, token_rows = word_rows[order], token_rows[order]
    indptr = np.zeros(W + 1, dtype=np.int64)
    np.cumsum(np.bincount(word_rows, minlength=W), out=indptr[1:])
    return WordAlignment(indptr=indptr, token_index=token_rows)


def first_word_of_tokens(token_offsets: Int64Array, word_spans: Int64Array) -> Int64Array:
    """(T,) index of the first word each token overlaps, or -1 for tokens inside no word (e.g. a lone space)."""
    W = len(word_spans)
    lo = np.searchsorted(word_spans[:, 1], token_offsets[:, 0], side="right")  # (T,)
    safe = np.minimum(lo, max(W - 1, 0))
    hit = (lo < W) & (word_spans[safe, 0] < token_offsets[:, 1]) & (token_offsets[:, 1] > token_offsets[:, 0])
    return np.where(hit, lo, -1)
