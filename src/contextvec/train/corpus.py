"""Training text: a corpus read by the one corpus reader (io.corpus: a document is one text — a line of a .txt
file, a Brown sentence), split into the documents trained on and the held-out documents perplexity is measured
on (every 10th document)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from contextvec.errors import InputFileError

HOLDOUT_EVERY = 10  # document k is held out when k % 10 == 9


@dataclass(frozen=True)
class Corpus:
    """Documents as lists of texts (one text each: the corpus reader's documents)."""

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


def load_corpus(source: str | Path) -> Corpus:
    """The documents of `source` as the one corpus reader gives them (io.corpus: 'brown', a .txt file with one
    document a line, .jsonl, .parquet or a folder of them), split into trained-on and held-out documents."""
    from contextvec.io.corpus import open_corpus

    docs = [[text.strip()] for text in open_corpus(source).texts()]
    if not docs:
        raise InputFileError(f"{source}: no text to train on (every document is blank).")
    return _split(str(source), docs)
