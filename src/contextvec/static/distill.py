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
from collections.abc import Callable
from typing import Literal

import numpy as np

from contextvec.embedder import Embedder
from contextvec.errors import OptionError
from contextvec.options import LayersArg
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
    on_progress: Callable[[int], None] | None = None,
) -> StaticVectors:
    """Average (or take the first PC of) every word's contextual vectors over the corpus."""
    if method not in ("mean", "pc1"):
        raise OptionError(f"method={method!r}: use 'mean' or 'pc1'.")
    rng = random.Random(seed)
    index: dict[str, int] = {}
    sums: list[F32] = []
    counts: list[int] = []
    samples: list[list[F32]] = []
    texts = corpus.texts()
    while chunk := list(itertools.islice(texts, chunk_texts)):
        res = embedder.embed_words(chunk, layers=layers)
        for word, vec in zip(res.strings, res.vectors, strict=True):
            key = word.lower() if corpus.lowercase else word
            i = index.get(key)
            if i is None:
                i = index[key] = len(sums)
                sums.append(np.zeros_like(vec))
                counts.append(0)
                samples.append([])
            sums[i] += vec
            counts[i] += 1
            if method == "pc1":  # reservoir sampling: each occurrence kept with probability max_samples / count
                if len(samples[i]) < max_samples:
                    samples[i].append(vec.copy())
                elif (j := rng.randrange(counts[i])) < max_samples:
                    samples[i][j] = vec.copy()
        if on_progress is not None:
            on_progress(len(chunk))
    keep = [w for w, i in index.items() if counts[i] >= min_count]
    if not keep:
        raise OptionError(f"no word occurs {min_count}+ times in the corpus; lower min_count or use more text.")
    rows = []
    for w in keep:
        i = index[w]
        mean = sums[i] / counts[i]
        if method == "mean":
            rows.append(mean)
            continue
        _, _, vt = np.linalg.svd(np.stack(samples[i]), full_matrices=False)  # (K, D) -> first right vector
        pc = vt[0] * (np.linalg.norm(mean) or 1.0)
        rows.append(pc if pc @ mean >= 0 else -pc)
    name = f"distilled-{embedder.model_id}-{method}"
    return StaticVectors(keep, np.stack(rows).astype(np.float32), name=name, lowercase=corpus.lowercase)
