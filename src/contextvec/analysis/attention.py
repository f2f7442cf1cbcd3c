"""Attention by word: a model's attention probabilities with subword rows and columns merged into words.

The rule (as in Clark et al. 2019, "What Does BERT Look At?"): attention *to* a word is the sum of the
attention to its tokens; attention *from* a word is the mean over its tokens' rows. Special tokens ([CLS],
[SEP], <s>) stay as their own rows and columns, and tokens inside no word (a lone space token) are merged into
one "(space)" column, so every row still sums to 1. A token belongs to the first word it overlaps (the spine's
`first_word_of_tokens`), so no attention is counted twice. Decoders attend only to the left: the upper triangle
is 0 and `causal` is True.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from contextvec.alignment.words import first_word_of_tokens
from contextvec.embedder import Embedder
from contextvec.errors import InvalidInputError, LayerError
from contextvec.text import fold_word, make_document

if TYPE_CHECKING:
    import torch

    from contextvec.transformer import Transformer

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class WordAttention:
    text: str
    labels: list[str]  # one per row/column: the words, and special tokens in brackets
    spans: npt.NDArray[np.int64]  # (n, 2) char span of each label; (-1, -1) for special / space columns
    weights: F32  # (L, H, n, n): layer, head, from, to; every row sums to 1
    causal: bool
    model_id: str

    @property
    def is_word(self) -> npt.NDArray[np.bool_]:
        return self.spans[:, 0] >= 0

    def index(self, word: str, occurrence: int = 1) -> int:
        hits = [i for i, lab in enumerate(self.labels) if fold_word(lab) == fold_word(word) and self.is_word[i]]
        if len(hits) < occurrence:
            raise InvalidInputError(f"{word!r} occurs {len(hits)} time(s) in {self.text[:60]!r}.")
        return hits[occurrence - 1]

    def select(self, layer: int | None = None, head: int | None = None) -> F32:
        """(n, n) weights of one layer (0-based block index, negatives count from the top) and head; None = mean."""
        L, H = self.weights.shape[:2]
        w = self.weights
        if layer is not None:
            if not -L <= layer < L:
                raise LayerError(f"layer={layer}: this model has attention layers 0..{L - 1} (or -{L}..-1).")
            w = w[layer : layer + 1] if layer >= 0 else w[L + layer : L + layer + 1]
        if head is not None:
            if not 0 <= head < H:
                raise LayerError(f"head={head}: this model has heads 0..{H - 1}.")
            w = w[:, head : head + 1]
        out: F32 = w.mean(axis=(0, 1))
        return out

    def words_only(self, matrix: F32) -> tuple[list[str], F32]:
        """Drop special and space rows/columns and renormalise rows (for display)."""
        keep = np.flatnonzero(self.is_word)
        sub = matrix[np.ix_(keep, keep)]
        sub = sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)
        return [self.labels[i] for i in keep], sub.astype(np.float32)


def merge_to_words(attn: F32, owner: npt.NDArray[np.int64]) -> F32:
    """Merge (..., T, T) token attention into (..., n, n) groups, `owner[t]` in 0..n-1 being token t's group.

    Columns are summed within a group, rows averaged within a group.
    """
    n = int(owner.max()) + 1
    onehot = np.zeros((len(owner), n), dtype=np.float64)  # (T, n)
    onehot[np.arange(len(owner)), owner] = 1.0
    summed = attn.astype(np.float64) @ onehot  # (..., T, n): columns summed
    rows = np.swapaxes(np.swapaxes(summed, -1, -2) @ onehot, -1, -2)  # (..., n, n): rows summed
    out: F32 = (rows / onehot.sum(axis=0)[:, None]).astype(np.float32)  # rows averaged
    return out


@dataclass(frozen=True)
class WordRows:
    """One window of a text and the word-level row (and column) each of its tokens belongs to."""

    text: str
    ids: torch.Tensor  # (1, T): prefix specials, the text's tokens, suffix specials
    owner: npt.NDArray[np.int64]  # (T,) the row of each token, 0..n-1, rows in display order
    labels: list[str]  # (n,) the words, and special tokens in brackets
    spans: npt.NDArray[np.int64]  # (n, 2) char span of each row; (-1, -1) for special / space rows
    pieces: list[str]  # (T,) each token as the tokenizer writes it


def word_rows(embedder: Embedder, text: str) -> WordRows:
    """Tokenize one window of `text` and give every token its word-level row (the rule of the module docstring)."""
    import torch

    backend = embedder.backend
    doc = make_document(text, 0)
    enc = backend.tokenize([doc.text])[0]
    prefix, suffix = backend.prefix_ids, backend.suffix_ids
    limit = backend.info.max_length
    if len(enc.ids) + len(prefix) + len(suffix) > limit:
        raise InvalidInputError(
            f"the text has {len(enc.ids)} tokens, more than one {limit}-token window: attention is defined within "
            "one forward pass. Give one sentence or paragraph."
        )
    ids = torch.from_numpy(np.concatenate([prefix, enc.ids, suffix]).astype(np.int64))[None]  # (1, T)
    word_of = first_word_of_tokens(enc.offsets, doc.words)  # (n_content,), -1 = in no word
    W = len(doc.words)
    labels = [doc.text[s:e] for s, e in doc.words.tolist()]
    spans = [tuple(x) for x in doc.words.tolist()]
    owner = np.empty(len(ids[0]), dtype=np.int64)
    extra: dict[str, int] = {}

    def group(name: str) -> int:
        if name not in extra:
            extra[name] = W + len(extra)
        return extra[name]

    for t, tok in enumerate(prefix):
        owner[t] = group(f"{_special(backend.piece(int(tok)))}#{t}")
    for t, w in enumerate(word_of.tolist()):
        owner[len(prefix) + t] = w if w >= 0 else group("(space)")
    for k, tok in enumerate(suffix):
        owner[len(prefix) + len(enc.ids) + k] = group(f"{_special(backend.piece(int(tok)))}#s{k}")
    present = np.unique(owner)  # words the tokenizer dropped entirely have no row: leave them out
    names = labels + [name.rsplit("#", 1)[0] for name in extra]
    all_spans = spans + [(-1, -1)] * len(extra)
    # place special/space groups by position: prefix first, suffix last (words keep text order)
    order = sorted(present.tolist(), key=lambda g: _position(g, W, extra, len(prefix)))
    row_of = np.full(owner.max() + 1, -1, dtype=np.int64)
    row_of[order] = np.arange(len(order))
    return WordRows(
        text=doc.text,
        ids=ids,
        owner=row_of[owner],
        labels=[names[g] for g in order],
        spans=np.asarray([all_spans[g] for g in order], dtype=np.int64).reshape(-1, 2),
        pieces=[backend.piece(int(t)) for t in ids[0].tolist()],
    )


def attention_by_word(embedder: Embedder, text: str, reference: Transformer | None = None) -> WordAttention:
    """Word-level attention of every layer and head for one text (it must fit one window).

    The weights come from transformers' eager attention, or, given `reference` (the embedder's model as a
    `contextvec.transformer.Transformer`, e.g. `Transformer.from_pretrained("minilm")`), from its trace: the same
    numbers, from code you can read.
    """
    import torch

    rows = word_rows(embedder, text)
    if reference is None:
        attn = embedder.backend.attentions(rows.ids, torch.ones_like(rows.ids))[:, 0].cpu().numpy()  # (L, H, T, T)
    else:
        attn = reference_attentions(reference, rows.ids)
    return WordAttention(
        text=rows.text,
        labels=rows.labels,
        spans=rows.spans,
        weights=merge_to_words(attn, rows.owner),  # (L, H, n, n)
        causal=embedder.backend.info.causal,
        model_id=embedder.model_id,
    )


def reference_attentions(model: Transformer, ids: torch.Tensor) -> F32:
    """(1, T) ids of one window -> the reference transformer's attention weights (L, H, T, T)."""
    import torch

    if model.config.vocab_size <= int(ids.max()):
        raise InvalidInputError("the reference transformer's vocabulary does not cover this tokenizer's ids.")
    with torch.no_grad():
        out = model(ids.to(model.tok_emb.weight.device), trace=True)
    assert out.trace is not None
    weights: F32 = torch.stack([t.weights[0].float() for t in out.trace]).cpu().numpy()  # L x (H, T, T)
    return weights


def _position(group: int, n_words: int, extra: dict[str, int], n_prefix: int) -> float:
    if group < n_words:
        return float(group)
    name = next(k for k, v in extra.items() if v == group)
    if name == "(space)":
        return n_words + 0.5
    return -1.0 if name.rsplit("#", 1)[1][0] != "s" else n_words + 1.0


def _special(piece: str) -> str:
    """A special token's label: as the tokenizer writes it when bracketed ([CLS], <s>), else in brackets."""
    return piece if piece[:1] in "[<" else f"[{piece}]"
