"""Inside one word: its queries, keys and values per layer and head, its raw scores and attention weights over
the other words, and its residual stream across layers, all from the reference transformer's trace.

Rows and columns are the words of `attention.word_rows` (the attention view's rule): weights *to* a word are
summed over its tokens and averaged over the chosen word's tokens (`merge_to_words`); raw scores are averaged
over both (a sum of logits means nothing), counting only the pairs a causal model lets see each other. The
stream of a word is the mean of its tokens' hidden states (0 = embeddings, k = after block k).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from contextvec.analysis.attention import merge_to_words, word_rows
from contextvec.embedder import Embedder
from contextvec.errors import InvalidInputError
from contextvec.text import fold_word

if TYPE_CHECKING:
    from contextvec.transformer import Transformer

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class WordInside:
    text: str
    labels: list[str]  # (n,) the rows of the attention view
    spans: npt.NDArray[np.int64]  # (n, 2) char span of each row; (-1, -1) for special / space rows
    row: int  # the chosen word's row
    pieces: list[str]  # (P,) the chosen word's tokens
    q: F32  # (L, H, P, hd) its tokens' queries (after rotary positions, if any)
    k: F32  # (L, H, P, hd) its tokens' keys
    v: F32  # (L, H, P, hd) its tokens' values
    scores: F32  # (L, H, n) mean raw score q.k/sqrt(hd) to each row; NaN where a causal model sees none of it
    weights: F32  # (L, H, n) attention weights to each row (the attention view's row); sums to 1
    stream: F32  # (L+1, D) the word's residual stream: embeddings, then after each block
    attn_out: F32  # (L, D) what each block's attention adds (mean over the word's tokens)
    mlp_out: F32  # (L, D) what each block's MLP adds


def inside_word(embedder: Embedder, reference: Transformer, text: str, word: str, occurrence: int = 1) -> WordInside:
    """Trace `text` (one window) through `reference` (the embedder's model as a reference transformer, e.g.
    `Transformer.from_transformers(embedder.backend.model)`) and keep what concerns `word`'s `occurrence`."""
    import torch

    rows = word_rows(embedder, text)
    words = [i for i in range(len(rows.labels)) if rows.spans[i, 0] >= 0]
    hits = [i for i in words if fold_word(rows.labels[i]) == fold_word(word)]
    if len(hits) < occurrence:
        raise InvalidInputError(
            f"{word!r} occurs {len(hits)} time(s) as a word in {rows.text[:60]!r}; choose one of "
            f"{[rows.labels[i] for i in words][:20]} (and an occurrence that exists)."
        )
    row = hits[occurrence - 1]
    if reference.config.vocab_size <= int(rows.ids.max()):
        raise InvalidInputError("the reference transformer's vocabulary does not cover this tokenizer's ids.")
    with torch.no_grad():
        out = reference(rows.ids.to(reference.tok_emb.weight.device), trace=True)
    assert out.trace is not None

    def stack(name: str) -> F32:
        got: F32 = torch.stack([getattr(t, name)[0].float() for t in out.trace]).cpu().numpy()  # L x (...)
        return got

    mine = np.flatnonzero(rows.owner == row)  # (P,) the word's token positions
    weights = stack("weights")  # (L, H, T, T)
    q, k, v = (stack(n)[:, :, mine] for n in ("q", "k", "v"))  # (L, H, P, hd)
    hidden = torch.stack([h[0].float() for h in out.hidden_states]).cpu().numpy()  # (L+1, T, D)
    return WordInside(
        text=rows.text,
        labels=rows.labels,
        spans=rows.spans,
        row=row,
        pieces=[rows.pieces[t] for t in mine.tolist()],
        q=q,
        k=k,
        v=v,
        scores=_mean_scores(stack("scores"), rows.owner, mine, reference.config.causal),
        weights=merge_to_words(weights, rows.owner)[:, :, row],  # (L, H, n): the attention view's row
        stream=hidden[:, mine].mean(axis=1),  # (L+1, P, D) -> (L+1, D)
        attn_out=stack("attn_out")[:, mine].mean(axis=1),  # (L, P, D) -> (L, D)
        mlp_out=stack("mlp_out")[:, mine].mean(axis=1),
    )


def _mean_scores(scores: F32, owner: npt.NDArray[np.int64], mine: npt.NDArray[np.int64], causal: bool) -> F32:
    """(L, H, T, T) raw scores -> (L, H, n): the mean over the (word token, row token) pairs that may attend."""
    T = len(owner)
    onehot = np.zeros((T, int(owner.max()) + 1), dtype=np.float64)  # (T, n)
    onehot[np.arange(T), owner] = 1.0
    seen = np.tril(np.ones((T, T))) if causal else np.ones((T, T))  # (T, T) 1 = query row may see key column
    seen = seen[mine]  # (P, T)
    total = (scores[:, :, mine].astype(np.float64) * seen) @ onehot  # (L, H, P, n)
    count = seen @ onehot  # (P, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: F32 = (total.sum(axis=2) / count.sum(axis=0)).astype(np.float32)  # (L, H, n), NaN where none is seen
    return out


def stream_measures(stream: F32) -> dict[str, list[float | None]]:
    """Per layer of a (L+1, D) stream: its norm, its cosine to layer 0, and to the layer before (None at 0)."""
    x = stream.astype(np.float64)
    norm = np.linalg.norm(x, axis=1)  # (L+1,)
    unit = x / np.maximum(norm, 1e-12)[:, None]
    to_first = unit @ unit[0]  # (L+1,)
    to_prev = (unit[1:] * unit[:-1]).sum(axis=1)  # (L,)
    return {
        "norm": norm.tolist(),
        "cos_first": to_first.tolist(),
        "cos_previous": [None, *to_prev.tolist()],
    }
