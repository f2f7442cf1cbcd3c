"""Static vectors distilled from a contextual model: a word's vector is the mean (or the first principal
component) of its contextual vectors over a corpus, at a chosen layer — the bridge between the two worlds.

The corpus is streamed in chunks through the spine (`Embedder.embed_words`); only a running sum and count per
word are kept, so memory is vocabulary × dim, not corpus size. With method="pc1" each word also keeps a uniform
reservoir sample of at most `max_samples` occurrences (vocabulary × dim × max_samples), and its vector is the
first principal direction of that sample (uncentred, sign chosen to agree with the mean), as in Ethayarajh 2019.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from contextvec.embedder import Embedder
from contextvec.errors import OptionError
from contextvec.options import LayersArg
from contextvec.progress import SILENT, Reporter, as_reporter
from contextvec.static.corpus import CorpusWords
from contextvec.static.vectors import F32, StaticVectors


def distill(
    embedder: Embedder,
    corpus: CorpusWords,
    *,
    layers: LayersArg = -1,
    method: Literal["mean", "pc1"] = "mean",
    min_count: int = 1,
    max_samples: int = 32,
    chunk_texts: int = 256,
    seed: int = 0,
    vocabulary: Collection[str] | None = None,
    progress: Reporter | bool = False,
) -> StaticVectors:
    """Average (or take the first PC of) every word's contextual vectors over the corpus.

    `vocabulary` restricts the words kept (e.g. to those an evaluation asks about), and with it the memory.
    `progress` counts the corpus's texts.
    """
    if method not in ("mean", "pc1"):
        raise OptionError(f"method={method!r}: use 'mean' or 'pc1'.")
    acc = _accumulate(
        embedder, corpus, layers, "mean", method == "pc1", max_samples, chunk_texts, seed, vocabulary, progress
    )
    keep = acc.kept(min_count)
    rows = []
    for w in keep:
        i = acc.index[w]
        mean = acc.sums[i] / acc.counts[i]
        if method == "mean":
            rows.append(mean)
            continue
        _, _, vt = np.linalg.svd(np.stack(acc.samples[i]), full_matrices=False)  # (K, D) -> first right vector
        pc = vt[0] * (np.linalg.norm(mean) or 1.0)
        rows.append(pc if pc @ mean >= 0 else -pc)
    name = f"distilled-{embedder.model_id}-{method}"
    return StaticVectors(keep, np.stack(rows).astype(np.float32), name=name, lowercase=corpus.lowercase)


def distill_layers(
    embedder: Embedder,
    corpus: CorpusWords,
    *,
    min_count: int = 1,
    chunk_texts: int = 256,
    vocabulary: Collection[str] | None = None,
    progress: Reporter | bool = False,
) -> list[StaticVectors]:
    """Mean-distilled vectors for every layer 0..L at once (one pass: layers concatenated, then split)."""
    acc = _accumulate(embedder, corpus, "all", "concat", False, 0, chunk_texts, 0, vocabulary, progress)
    keep = acc.kept(min_count)
    means = np.stack([acc.sums[acc.index[w]] / acc.counts[acc.index[w]] for w in keep])  # (V, (L+1) * D)
    per_layer = np.split(means, embedder.info.num_layers + 1, axis=1)  # (L+1) x (V, D)
    return [
        StaticVectors(
            keep, m.astype(np.float32), name=f"distilled-{embedder.model_id}-layer{k}", lowercase=corpus.lowercase
        )
        for k, m in enumerate(per_layer)
    ]


@dataclass
class _Accumulator:
    index: dict[str, int] = field(default_factory=dict)
    sums: list[F32] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    samples: list[list[F32]] = field(default_factory=list)

    def add(self, key: str, vec: F32, max_samples: int, rng: random.Random) -> None:
        """Count one occurrence of `key`; keep a reservoir sample of at most `max_samples` of its vectors."""
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.sums)
            self.sums.append(np.zeros_like(vec))
            self.counts.append(0)
            self.samples.append([])
        self.sums[i] += vec
        self.counts[i] += 1
        if len(self.samples[i]) < max_samples:  # reservoir: each occurrence kept with probability max_samples / count
            self.samples[i].append(vec.copy())
        elif max_samples and (j := rng.randrange(self.counts[i])) < max_samples:
            self.samples[i][j] = vec.copy()

    def kept(self, min_count: int) -> list[str]:
        keep = [w for w, i in self.index.items() if self.counts[i] >= min_count]
        if not keep:
            raise OptionError(f"no word occurs {min_count}+ times in the corpus; lower min_count or use more text.")
        return keep


def _accumulate(
    embedder: Embedder,
    corpus: CorpusWords,
    layers: LayersArg,
    layer_pooling: Literal["mean", "concat"],
    sample: bool,
    max_samples: int,
    chunk_texts: int,
    seed: int,
    vocabulary: Collection[str] | None,
    progress: Reporter | bool,
) -> _Accumulator:
    """Stream the corpus through embed_words, keeping a sum and count (and a reservoir sample) per word."""
    rng = random.Random(seed)
    wanted = None if vocabulary is None else {w.lower() if corpus.lowercase else w for w in vocabulary}
    acc = _Accumulator()
    texts = corpus.texts()
    reporter = as_reporter(progress)
    total = None if reporter is SILENT else sum(1 for _ in corpus.texts())
    with reporter.task(f"distilling {embedder.model_id}", total, "texts") as task:
        while chunk := list(itertools.islice(texts, chunk_texts)):
            res = embedder.embed_words(chunk, layers=layers, layer_pooling=layer_pooling)
            for word, vec in zip(res.strings, res.vectors, strict=True):
                key = word.lower() if corpus.lowercase else word
                if wanted is None or key in wanted:
                    acc.add(key, vec, max_samples if sample else 0, rng)
            task.advance(len(chunk))
    return acc
