"""A corpus as a restartable stream of word lists (one per document), split by contextvec's one word rule.

Documents come from the one corpus reader (io.corpus: a line of a .txt file, a .jsonl object's or Parquet row's
"text", a Brown sentence, or the strings given), so `static train` sees the same documents as `index` and `train`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from contextvec.io.corpus import Corpus, open_corpus
from contextvec.text import split_words


class CorpusWords:
    """Iterating yields one list of words per document (lowercased unless lowercase=False).

    It can be iterated again and again (gensim makes several passes) and holds one document at a time in memory.
    """

    def __init__(self, source: str | Path | Sequence[str], *, lowercase: bool = True) -> None:
        self.source = source
        self.lowercase = lowercase
        self._corpus: Corpus | None = None
        self._given: Sequence[str] = ()
        if isinstance(source, str | Path):
            self._corpus = open_corpus(source)
        else:
            self._given = source

    def texts(self) -> Iterator[str]:
        """The documents' texts themselves (for models that read raw text, such as a contextual Embedder)."""
        if self._corpus is not None:
            yield from self._corpus.texts()
            return
        for text in self._given:
            if text.strip():
                yield text

    def __iter__(self) -> Iterator[list[str]]:
        for text in self.texts():
            words = [text[s:e] for s, e in split_words(text).tolist()]
            if words:
                yield [w.lower() for w in words] if self.lowercase else words
