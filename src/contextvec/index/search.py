"""Search an index: by example (a marked use of a word), by sentence, or read a word's stored occurrences.

    idx = Index.open("my-index")
    hits = idx.search_like("We sat on the bank of the river.", 14, 18, k=10)   # uses of "bank" like this one
    hits = idx.search_sentences("rivers and their banks", k=5)                    # needs --level sentence|both

The query is embedded with the index's own model and options, and its resolved layer description must equal
the manifest's: vectors made another way are refused, never compared. Same-word search (the default) is an
exact scan over that word's rows (a scalar-index lookup); --any-word uses the ANN index when the table has one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from contextvec.analysis.occurrences import INFLECT
from contextvec.errors import IndexStateError, OptionError
from contextvec.index.filters import where_clause
from contextvec.index.manifest import Manifest
from contextvec.index.table import connect
from contextvec.protocol import EmbedderProtocol

if TYPE_CHECKING:
    from contextvec.analysis.occurrences import Occurrences

NPROBES = 32  # IVF partitions probed per query; with REFINE_FACTOR it reached the recall in docs/index.md
REFINE_FACTOR = 10  # re-rank k * this PQ candidates with exact vectors


@dataclass(frozen=True)
class Hit:
    score: float  # cosine similarity
    doc_id: str
    start: int  # char offsets in the document
    end: int
    word: str | None  # None for sentence hits
    text: str  # the sentence that contains the hit
    sentence_start: int  # where `text` starts in the document
    seq: int  # the document's position in the corpus

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def highlight(self) -> tuple[int, int]:
        """The hit's span inside `text`."""
        return self.start - self.sentence_start, self.end - self.sentence_start


class Index:
    """An index folder opened for search (read-only)."""

    def __init__(self, folder: Path, manifest: Manifest, embedder: EmbedderProtocol | None = None) -> None:
        self.folder, self.manifest, self._embedder = folder, manifest, embedder
        self._db = connect(folder)
        self._tables: dict[str, Any] = {}
        self._lock = threading.Lock()  # lazy loads are single-flight: two first searches load once

    @classmethod
    def open(cls, folder: str | Path, *, embedder: EmbedderProtocol | None = None) -> Index:
        """Open a finished index; `embedder` reuses an already loaded model (it must be the index's model)."""
        path = Path(folder)
        manifest = Manifest.load(path)
        if not manifest.complete:
            raise IndexStateError(
                f"{path} is unfinished ({len(manifest.shards)} shards written); re-run the "
                "same `contextvec index build` command to finish it."
            )
        return cls(path, manifest, embedder)

    @property
    def embedder(self) -> EmbedderProtocol:
        with self._lock:
            if self._embedder is None:
                from contextvec.loader import load_embedder

                spec = self.manifest.spec
                self._embedder = load_embedder(spec["model"], **spec["model_options"])
            return self._embedder

    def table(self, level: str) -> Any:
        if level not in self.manifest.table:
            have = ", ".join(self.manifest.table) or "none"
            raise OptionError(
                f"{self.folder} has no {level} rows (levels: {have}); build with --level {level} or both."
            )
        with self._lock:
            if level not in self._tables:
                self._tables[level] = self._db.open_table(level)
            return self._tables[level]

    def search_like(
        self,
        text: str,
        start: int,
        end: int,
        *,
        k: int = 10,
        any_word: bool = False,
        inflect: bool = INFLECT,
        doc_ids: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The k uses in the corpus nearest to text[start:end] (same word form unless `any_word`)."""
        s = self.manifest.spec
        res = self.embedder.embed_spans(
            [(text, start, end)],
            layers=s["layers"],
            layer_pooling=s["layer_pooling"],
            subword_pooling=s["subword_pooling"],
        )
        self._check_layers("word", res.layers)
        words = None if any_word else [text[start:end]]
        return self.search_vector(res.vectors[0], level="word", k=k, words=words, inflect=inflect, doc_ids=doc_ids)

    def search_sentences(self, query: str, *, k: int = 10, doc_ids: Sequence[str] | None = None) -> list[Hit]:
        """The k sentences nearest to `query` (the index must have sentence rows)."""
        self.table("sentence")
        res = self.embedder.embed_sentences([query])
        self._check_layers("sentence", f"{res.layers} sentence_pooling={res.pooling}")
        return self.search_vector(res.vectors[0], level="sentence", k=k, doc_ids=doc_ids)

    def search_vector(
        self,
        vector: np.ndarray,
        *,
        level: str = "word",
        k: int = 10,
        words: Sequence[str] | None = None,
        inflect: bool = INFLECT,
        doc_ids: Sequence[str] | None = None,
        exact: bool | None = None,
    ) -> list[Hit]:
        """The k rows nearest to `vector` (D,); filters: word forms (case-folded), document ids."""
        if k < 1:
            raise OptionError(f"k={k} must be >= 1.")
        where = where_clause(words, inflect, doc_ids)
        query = self.table(level).search(np.asarray(vector, dtype=np.float32), vector_column_name="vector")
        query = query.distance_type("cosine").limit(k)
        if where:
            query = query.where(where, prefilter=True)
        if exact if exact is not None else (words is not None or self.manifest.table[level]["index"] == "flat"):
            query = query.bypass_vector_index()
        else:
            query = query.nprobes(NPROBES).refine_factor(REFINE_FACTOR)
        cols = ["doc_id", "seq", "start", "end", "word", "text", "sentence_start", "_distance"]
        rows = query.select(cols).to_arrow().select(cols).to_pylist()
        return [
            Hit(
                1.0 - float(r["_distance"]),
                r["doc_id"],
                r["start"],
                r["end"],
                r["word"],
                r["text"],
                r["sentence_start"],
                r["seq"],
            )
            for r in rows
        ]

    def occurrences(self, words: Sequence[str] | str, *, inflect: bool = INFLECT) -> Occurrences:
        """Every stored use of `words`, read from the index instead of re-embedding (see index/occurrences.py)."""
        from contextvec.index.occurrences import read_occurrences

        wanted = [words] if isinstance(words, str) else list(words)
        return read_occurrences(self.table("word"), self.manifest, wanted, inflect=inflect, folder=self.folder)

    def _check_layers(self, level: str, got: str) -> None:
        had = self.manifest.layers.get(level)
        if had != got:
            raise IndexStateError(
                f"the query's {level} vector resolves to {got!r} but {self.folder} holds {had!r} "
                "(the model or its recipe changed since the build); rebuild the index."
            )
