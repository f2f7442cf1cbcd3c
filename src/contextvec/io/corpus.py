"""A corpus named on the command line -> its texts, streamed: a .txt / .jsonl file, or an offline corpus ('brown')."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path


def corpus_texts(spec: str, limit: int | None = None) -> Iterator[str]:
    """Texts of a corpus file (txt/jsonl, streamed) or of a named offline corpus ('brown'), at most `limit`."""
    if spec == "brown":
        from contextvec.data.brown import sentences

        return itertools.islice(sentences(), limit)
    from contextvec.io.readers import read_records

    return itertools.islice((r.text for r in read_records(Path(spec))), limit)
