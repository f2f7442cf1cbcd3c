"""A static vector table: vocabulary + (V, D) matrix, with lookups, neighbours, similarity and analogies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from contextvec.errors import InvalidInputError

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StaticVectors:
    """Words and their vectors. `matrix` may be a read-only memory map; it is never modified.

    Lookups lowercase the word first when `lowercase` is set (e.g. GloVe 6B, which is uncased). A word that is
    not in the vocabulary has no vector: lookups say so explicitly, nothing is ever filled with zeros.
    """

    words: list[str]
    matrix: F32  # (V, D)
    name: str
    lowercase: bool = False
    # vectors for out-of-vocabulary words where the model can build them (fastText: from character n-grams)
    fallback: Callable[[str], F32 | None] | None = field(default=None, repr=False, compare=False)
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.words) != len(self.matrix):
            raise InvalidInputError(f"{self.name}: {len(self.words)} words but {len(self.matrix)} vectors.")
        object.__setattr__(self, "index", {w: i for i, w in enumerate(self.words)})

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def key(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def __contains__(self, word: str) -> bool:
        return self.key(word) in self.index

    def row(self, word: str) -> int | None:
        """The word's row, or None when it has no vector."""
        return self.index.get(self.key(word))

    def lookup(self, word: str) -> F32 | None:
        """The word's vector, or None when the model has none (never a zero vector)."""
        r = self.row(word)
        if r is not None:
            return np.asarray(self.matrix[r], dtype=np.float32)
        return self.fallback(self.key(word)) if self.fallback is not None else None

    def vector(self, word: str) -> F32:
        v = self.lookup(word)
        if v is None:
            raise InvalidInputError(f"{word!r} is not in the vocabulary of {self.name} ({len(self.words)} words).")
        return v

    def similarity(self, a: str, b: str) -> float:
        va, vb = self.vector(a), self.vector(b)
        return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))

    def _unit(self) -> F32:
        unit = getattr(self, "_unit_cache", None)
        if unit is None:
            norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
            unit = np.asarray(self.matrix / np.where(norms == 0, 1, norms), dtype=np.float32)  # (V, D)
            object.__setattr__(self, "_unit_cache", unit)
        return unit

    def nearest(self, query: F32, k: int = 10, exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """The k words whose vectors have the highest cosine with `query` (D,)."""
        q = query / max(float(np.linalg.norm(query)), 1e-12)
        scores = self._unit() @ q  # (V,)
        for w in exclude:
            r = self.row(w)
            if r is not None:
                scores[r] = -np.inf
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.words[i], float(scores[i])) for i in top]

    def most_similar(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        return self.nearest(self.vector(word), k, exclude=[word])

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """a is to b as c is to ? (3CosAdd over unit vectors: b - a + c), excluding the three inputs."""

        def unit(w: str) -> F32:
            v = self.vector(w)
            return v / max(float(np.linalg.norm(v)), 1e-12)

        return self.nearest(unit(b) - unit(a) + unit(c), k, exclude=[a, b, c])
