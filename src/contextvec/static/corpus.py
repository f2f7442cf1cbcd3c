"""A corpus as a restartable stream of word lists (one text per line), split by contextvec's one word rule."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from contextvec.errors import InputFileError
from contextvec.text import split_words


class CorpusWords:
    """Iterating yields one list of words per non-blank line (lowercased unless lowercase=False).

    It can be iterated again and again (gensim makes several passes) and holds one line at a time in memory.
    """

    def __init__(self, source: str | Path | Sequence[str], *, lowercase: bool = True) -> None:
        self.source = source
        self.lowercase = lowercase
        if isinstance(source, str | Path) and not Path(source).is_file():
            raise InputFileError(f"corpus file {str(source)!r} does not exist.")

    def _lines(self) -> Iterable[str]:
        if isinstance(self.source, str | Path):
            with Path(self.source).open(encoding="utf-8", errors="strict") as fh:
                try:
                    yield from fh
                except UnicodeDecodeError as exc:
                    raise InputFileError(
                        f"{self.source}: not valid UTF-8 (byte {exc.start} of a line); re-encode the corpus as UTF-8."
                    ) from None
        else:
            yield from self.source

    def texts(self) -> Iterator[str]:
        """The non-blank lines themselves (for models that read raw text, such as a contextual Embedder)."""
        for line in self._lines():
            text = line.rstrip("\r\n")
            if text.strip():
                yield text

    def __iter__(self) -> Iterator[list[str]]:
        for line in self._lines():
            words = [line[s:e] for s, e in split_words(line).tolist()]
            if words:
                yield [w.lower() for w in words] if self.lowercase else words
