"""Training text: the offline Brown corpus by name, or a UTF-8 file (one document per line), split into the
documents trained on and the held-out documents perplexity is measured on (every 10th document)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from contextvec.errors import InputFileError, OptionError

HOLDOUT_EVERY = 10  # document k is held out when k % 10 == 9


@dataclass(frozen=True)
class Corpus:
    """Documents as lists of texts (Brown: a file's sentences; a text file: one line each)."""

    name: str
    train: list[list[str]]
    heldout: list[list[str]]

    def fingerprint(self) -> str:
        """A hash of the text trained on, so `--resume` refuses a checkpoint made from other text."""
        h = hashlib.sha256()
        for doc in self.train:
            for text in doc:
                h.update(text.encode("utf-8"))
                h.update(b"\n")
            h.update(b"\x00")
        return h.hexdigest()[:16]

    def train_texts(self) -> list[str]:
        return [t for doc in self.train for t in doc]

    def heldout_texts(self) -> list[str]:
        return [t for doc in self.heldout for t in doc]


def _split(name: str, docs: list[list[str]]) -> Corpus:
    if len(docs) < HOLDOUT_EVERY:  # too few documents to spare any: all are trained on, no perplexity
        return Corpus(name, docs, [])
    train = [d for k, d in enumerate(docs) if k % HOLDOUT_EVERY != HOLDOUT_EVERY - 1]
    heldout = [d for k, d in enumerate(docs) if k % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]
    return Corpus(name, train, heldout)


def brown_documents() -> list[list[str]]:
    """The 500 Brown files (ca01 .. cr09), each as its sentences (words joined by spaces)."""
    from contextvec.data.brown import tagged_sentences

    docs: dict[str, list[str]] = {}
    for fid, tokens in tagged_sentences():
        docs.setdefault(fid, []).append(" ".join(w for w, _ in tokens))
    return list(docs.values())


def load_corpus(source: str | Path) -> Corpus:
    """'brown' (the offline Brown corpus), or a UTF-8 text file with one document per line."""
    if str(source) == "brown":
        return _split("brown", brown_documents())
    path = Path(source)
    if not path.is_file():
        raise OptionError(
            f"corpus {str(source)!r} is neither 'brown' nor an existing text file; give a UTF-8 file with one "
            "document per line, or 'brown' for the offline Brown corpus."
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text (byte {exc.start}); convert it to UTF-8.") from None
    docs = [[line.strip()] for line in lines if line.strip()]
    if not docs:
        raise InputFileError(f"{path}: no text to train on (every line is blank).")
    return _split(str(path), docs)
