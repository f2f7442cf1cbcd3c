"""The one corpus reader: a corpus named by the user -> its documents, streamed, in order. Used by `index`,
`train`, `static train`, `senses --corpus` and the other analysis commands (`embed` reads the same .txt / .jsonl
records through io.readers, which this builds on, because it also keeps each record's spans).

What a document is, everywhere in contextvec: ONE TEXT, the unit a model embeds as a whole —
- a .txt file: each non-blank line (blank lines are skipped, not separators; a BOM is dropped);
- a .jsonl file: each line's "text" (with an optional "id");
- a .parquet file: each row's "text" column (with an optional "id" column);
- a folder: its .txt / .jsonl / .parquet files, in sorted order;
- `brown`: each sentence of the Brown corpus (one line of its tagged files), not each of its 500 files.
Files are read line by line (never whole) as UTF-8; a bad line is an InputFileError naming file and line.

Every document gets a sequence number (`seq`, its position in the stream: the key shards are planned on), a
`doc_id` (the jsonl/parquet "id", else "file:line" or "file:row"; Brown: "ca01:12" = file ca01, sentence 12) and
`where` (file and line, for error messages). The fingerprint is a SHA-256 over every input file's name and
bytes: a resumed build refuses an input whose fingerprint changed.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from contextvec.errors import ContextvecError, InputFileError
from contextvec.io.readers import read_records
from contextvec.text import Document, make_document

SUFFIXES = (".txt", ".jsonl", ".ndjson", ".parquet")


@dataclass(frozen=True)
class Doc:
    seq: int  # position in the corpus stream, 0-based
    doc_id: str
    where: str  # "file:line" (or "file:row N") for error messages
    document: Document  # the validated text and its words, found once and handed to the embedder as they are

    @property
    def text(self) -> str:
        return self.document.text

    @property
    def n_words(self) -> int:
        """Words by contextvec.text's rule: the row estimate shards are planned with."""
        return len(self.document.words)


@dataclass(frozen=True)
class Corpus:
    """An input: `source` as the user gave it, and the files (or Brown tarball/folder) read in order."""

    source: str
    files: tuple[Path, ...]
    brown: Path | None = None

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        paths = [self.brown] if self.brown is not None else list(self.files)
        for path in paths:
            for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
                if f.is_file():
                    digest.update(f.name.encode() + b"\0")
                    with f.open("rb") as fh:
                        while block := fh.read(1 << 20):
                            digest.update(block)
        return digest.hexdigest()

    def documents(self) -> Iterator[Doc]:
        """Every document in order; a bad one raises InputFileError naming its file and line."""
        seq = 0
        for doc_id, text, where in self._raw():
            try:
                document = make_document(text, seq, name=where)
            except ContextvecError as exc:
                raise InputFileError(f"{where}: {exc}") from None
            yield Doc(seq, doc_id, where, document)
            seq += 1
        if seq == 0:
            raise InputFileError(f"{self.source}: the corpus has no non-blank documents, so there is nothing to index.")

    def count(self) -> int:
        """How many documents (a cheap pass without validation, for the progress bar's total)."""
        return sum(1 for _ in self._raw())

    def texts(self) -> Iterator[str]:
        """Every document's text in order (the same documents as `documents()`, without finding their words)."""
        for _, text, _ in self._raw():
            yield text

    def _raw(self) -> Iterator[tuple[str, str, str]]:
        if self.brown is not None:
            yield from _brown(self.brown)
            return
        root = Path(self.source)
        for path in self.files:
            name = str(path.relative_to(root)) if root.is_dir() else path.name
            if path.suffix.lower() == ".parquet":
                yield from _parquet(path, name)
            else:
                for r in read_records(path):
                    yield (r.id if r.id is not None else f"{name}:{r.line}"), r.text, f"{path}:{r.line}"


def open_corpus(source: str | Path) -> Corpus:
    """Resolve `source`: 'brown', a file with a known suffix, or a folder (its files with those suffixes, sorted)."""
    if str(source) == "brown":
        from contextvec.data.brown import locate

        return Corpus("brown", (), brown=locate())
    path = Path(source)
    if path.is_dir():
        files = tuple(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        if not files:
            raise InputFileError(f"{path}: the folder has no {', '.join(SUFFIXES)} files to index.")
        return Corpus(str(path), files)
    if not path.is_file():
        raise InputFileError(f"input {str(path)!r} does not exist; give a file, a folder, or 'brown'.")
    if path.suffix.lower() not in SUFFIXES:
        raise InputFileError(f"{path}: unknown input type {path.suffix!r}; use one of {', '.join(SUFFIXES)}.")
    return Corpus(str(path), (path,))


def _parquet(path: Path, name: str) -> Iterator[tuple[str, str, str]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(str(path))
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InputFileError(f"{path}: not a readable Parquet file ({exc}).") from None
    names = pf.schema_arrow.names
    if "text" not in names:
        raise InputFileError(f"{path}: no 'text' column (columns: {', '.join(names)}); name the text column 'text'.")
    columns = ["text", "id"] if "id" in names else ["text"]
    row = 0
    for batch in pf.iter_batches(columns=columns, batch_size=4096):
        texts = batch.column(0).to_pylist()
        ids = batch.column(1).to_pylist() if len(columns) == 2 else [None] * len(texts)
        for text, rid in zip(texts, ids, strict=True):
            row += 1
            if not isinstance(text, str):
                raise InputFileError(f"{path}: row {row}: 'text' is {text!r}, not a string.")
            if text.strip():
                yield (str(rid) if rid is not None else f"{name}:{row}"), text, f"{path}: row {row}"


def _brown(source: Path) -> Iterator[tuple[str, str, str]]:
    from contextvec.data.brown import tagged_sentences

    last, n = "", 0
    for fid, tokens in tagged_sentences(source):
        n = n + 1 if fid == last else 1
        last = fid
        yield f"{fid}:{n}", " ".join(w for w, _ in tokens), f"brown {fid} sentence {n}"


def corpus_texts(source: str | Path, limit: int | None = None) -> Iterator[str]:
    """The texts of `source` (see `open_corpus`), at most `limit` of them, streamed."""
    return itertools.islice(open_corpus(source).texts(), limit)
