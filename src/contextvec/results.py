"""Result types: numpy vectors plus the provenance of every row.

Rows of all inputs are stacked. `text_index` is the position of the row's input in the call (the text for
tokens, words and sentences; the span for spans), `start`/`end` are character offsets into that input's text
(for pre-split input, into the words joined by single spaces). Every embedder fills them the same way
(contextvec.spans).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from contextvec.options import Level, OutputDType
from contextvec.pooling.finite import narrow

if TYPE_CHECKING:
    import pyarrow as pa

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class Embeddings:
    """Vectors (N, D) with one provenance entry per row."""

    level: Level
    vectors: F32  # (N, D)
    text_index: I64  # (N,)
    start: I64  # (N,)
    end: I64  # (N,)
    strings: list[str]  # the text each row covers
    model_id: str
    precision: str  # what the model computed in: "float32", "bfloat16", "float16" or "int8" (never "auto")
    layers: str  # e.g. "layers=3,4,5,6 pooling=mean"
    pooling: str  # subword or sentence pooling used ("" for tokens)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def rows_of(self, text_index: int) -> I64:
        """Row numbers belonging to one input text."""
        return np.nonzero(self.text_index == text_index)[0]

    def _extra_columns(self) -> dict[str, Any]:
        return {}

    def to_arrow(self, dtype: OutputDType = "float32") -> pa.Table:
        """A pyarrow Table: one row per vector, the vector as a fixed-size list, provenance in schema metadata.

        Raises NonFiniteError when `dtype="float16"` cannot hold the values (instead of writing infinity).
        """
        import pyarrow as pa

        values = narrow(self.vectors, dtype, f"{self.level} vectors of {self.model_id!r}")
        vector = pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), self.dim)
        columns: dict[str, Any] = {
            "text_index": pa.array(self.text_index),
            "start": pa.array(self.start),
            "end": pa.array(self.end),
            "text": pa.array(self.strings, type=pa.string()),
            **self._extra_columns(),
            "vector": vector,
        }
        meta = {
            "model": self.model_id,
            "precision": self.precision,
            "layers": self.layers,
            "pooling": self.pooling,
            "level": self.level,
        }
        return pa.table(columns).replace_schema_metadata({f"contextvec.{k}": v for k, v in meta.items()})


@dataclass(frozen=True, kw_only=True)
class TokenEmbeddings(Embeddings):
    """One row per subword token (special tokens excluded)."""

    pieces: list[str]  # the tokenizer's own token strings ("##ing", "Ġbank")
    word_index: I64  # (N,) index of the first word the token overlaps within its text, -1 if none

    def _extra_columns(self) -> dict[str, Any]:
        import pyarrow as pa

        return {"piece": pa.array(self.pieces, type=pa.string()), "word_index": pa.array(self.word_index)}


@dataclass(frozen=True, kw_only=True)
class WordEmbeddings(Embeddings):
    """One row per word; words the tokenizer dropped entirely are listed in `dropped`, not silently lost."""

    n_subwords: I64  # (N,)
    dropped: list[tuple[int, int, int]] = field(default_factory=list)  # (text_index, start, end)

    def _extra_columns(self) -> dict[str, Any]:
        import pyarrow as pa

        return {"n_subwords": pa.array(self.n_subwords)}


@dataclass(frozen=True, kw_only=True)
class SpanEmbeddings(Embeddings):
    """One row per requested span, in the order given."""


@dataclass(frozen=True, kw_only=True)
class SentenceEmbeddings(Embeddings):
    """One row per text, covering the whole text."""

    n_tokens: I64  # (N,) the model's content tokens (static models: known words) of each text
    normalized: bool = False  # whether the rows were scaled to unit length


E = TypeVar("E", bound=Embeddings)


def cosine(a: F32, b: F32) -> float:
    """Cosine similarity of two vectors."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def normalize_rows(vectors: F32) -> F32:
    """(N, D) -> (N, D) rows scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)  # (N, 1)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


def cosine_matrix(vectors: F32) -> F32:
    """(N, D) -> (N, N) pairwise cosine similarities."""
    unit = normalize_rows(vectors)
    return (unit @ unit.T).astype(np.float32)


def concat_results(parts: Sequence[E], sizes: Sequence[int]) -> E:
    """Rows of several calls of one kind as if from one call: `parts[i]` embedded `sizes[i]` inputs, so its
    `text_index` (and `dropped`) move up by the inputs before it. Provenance (model, precision, layers, pooling) is
    the first part's; every part must have the same."""
    if not parts or len(parts) != len(sizes):
        raise ValueError("concat_results needs one size per part, and at least one part")
    first = parts[0]
    if len(parts) == 1:
        return first
    offsets = np.cumsum([0, *sizes[:-1]])
    values: dict[str, Any] = {}
    for f in fields(first):
        got = [getattr(p, f.name) for p in parts]
        if f.name == "text_index":
            values[f.name] = np.concatenate([g + o for g, o in zip(got, offsets, strict=True)])
        elif f.name == "dropped":
            values[f.name] = [(t + int(o), s, e) for g, o in zip(got, offsets, strict=True) for t, s, e in g]
        elif f.name == "vectors":
            values[f.name] = np.concatenate(got).astype(np.float32, copy=False)
        elif isinstance(got[0], np.ndarray):
            values[f.name] = np.concatenate(got)
        elif isinstance(got[0], list):
            values[f.name] = [x for g in got for x in g]
        else:
            if any(g != got[0] for g in got):
                raise ValueError(f"parts differ in {f.name}: {got[0]!r} vs {next(g for g in got if g != got[0])!r}")
            values[f.name] = got[0]
    return replace(first, **values)
