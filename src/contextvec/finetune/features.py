"""Examples -> pooled vectors from the model, with or without gradients, through the spine's own alignment.

Each example becomes texts and, per text, the groups of subword tokens the head reads: the whole text
(classify: mean over its content tokens), each word (tag: a word's subword tokens, by `align_words`), or the
target word (wic: the words its character span overlaps; with the recipe's context-only rule also the target
string alone, as `Embedder.embed_spans(context_only=True)` embeds it). One forward batch (alignment.batch.forward_batch:
the engine's tokenization and windows) and one mean-pooling matrix (pooling.subwords.mean_matrix) give
(G, D) group vectors: differentiable through the chosen layers (their mean; the top layer unless told) when
training, or every layer (G, L+1, D) when the encoder is frozen and features are computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from contextvec.alignment.batch import forward_batch
from contextvec.alignment.words import align_words
from contextvec.errors import InvalidInputError
from contextvec.finetune.data import Example, PairExample, TagExample, TextExample
from contextvec.models.backend import TorchBackend
from contextvec.options import LayerSelection
from contextvec.pooling.layers import pool_layers
from contextvec.pooling.subwords import mean_matrix
from contextvec.text import Document, make_document

if TYPE_CHECKING:
    import torch

WHOLE = (-1, -1)  # the group "every content token of the text"


@dataclass(frozen=True)
class Unit:
    """One text to run and the inclusive word ranges of it to pool (WHOLE = all of its tokens)."""

    doc: Document
    groups: list[tuple[int, int]]
    where: str
    alone: bool = False  # a word out of context (run in its own batch, not padded to the sentences' length)


def units(example: Example, context_only: bool = False) -> list[Unit]:
    """The texts of one example and what to pool in each: 1 group (classify), W groups (tag), 2 (wic: the target
    in each sentence) or, `context_only`, 4 (then the two target strings alone, whole)."""
    if isinstance(example, TextExample):
        return [Unit(make_document(example.text, 0, example.where), [WHOLE], example.where)]
    if isinstance(example, TagExample):
        doc = make_document(example.words, 0, example.where)
        return [Unit(doc, [(w, w) for w in range(len(example.words))], example.where)]
    assert isinstance(example, PairExample)
    p = example.pair
    out = []
    for text, start, end in ((p.sentence1, p.start1, p.end1), (p.sentence2, p.start2, p.end2)):
        doc = make_document(text, 0, example.where)
        starts, ends = doc.words[:, 0], doc.words[:, 1]
        hit = np.nonzero((starts < end) & (ends > start))[0]  # the words the target's characters overlap
        if len(hit) == 0:
            raise InvalidInputError(f"{example.where}: span ({start}, {end}) of {text[:60]!r} covers no word.")
        out.append(Unit(doc, [(int(hit[0]), int(hit[-1]))], example.where))
    if context_only:
        for text, start, end in ((p.sentence1, p.start1, p.end1), (p.sentence2, p.start2, p.end2)):
            out.append(Unit(make_document(text[start:end], 0, example.where), [WHOLE], example.where, alone=True))
    return out


def vectors(
    backend: TorchBackend, batch: Sequence[Unit], stride: int, *, all_layers: bool, layers: LayerSelection | None = None
) -> torch.Tensor:
    """`pooled` over the batch, with words out of context in a batch of their own; rows in the batch's group order."""
    import torch

    ends = np.cumsum([len(u.groups) for u in batch])  # (U,) end row of each unit's groups
    pieces: list[torch.Tensor] = []
    rows: list[int] = []
    for alone in (False, True):
        idx = [i for i, u in enumerate(batch) if u.alone == alone]
        if idx:
            pieces.append(pooled(backend, [batch[i] for i in idx], stride, all_layers=all_layers, layers=layers))
            rows.extend(r for i in idx for r in range(int(ends[i]) - len(batch[i].groups), int(ends[i])))
    if len(pieces) == 1:
        return pieces[0]
    inverse = torch.empty(len(rows), dtype=torch.long)
    inverse[torch.tensor(rows)] = torch.arange(len(rows))  # output row -> row of the concatenated pieces
    return torch.cat(pieces)[inverse.to(pieces[0].device)]


def pooled(
    backend: TorchBackend, batch: Sequence[Unit], stride: int, *, all_layers: bool, layers: LayerSelection | None = None
) -> torch.Tensor:
    """(G, D) group vectors of `layers` (default the top one) with gradients, or (G, L+1, D) every layer without,
    G = all groups in order."""
    import torch

    fb = forward_batch(backend, [u.doc.text for u in batch], stride)
    groups = []
    for unit, enc, rows in zip(batch, fb.encoded, fb.token_rows, strict=True):
        alignment = align_words(enc.offsets, unit.doc.words)
        for first, last in unit.groups:
            picked = rows if (first, last) == WHOLE else rows[alignment.tokens_of(first, last)]
            if len(picked) == 0:
                text = unit.doc.text
                a, b = unit.doc.words[first, 0], unit.doc.words[last, 1]
                raise InvalidInputError(
                    f"{unit.where}: {text[a:b]!r} gives no tokens with model {backend.info.model_id!r} (its "
                    "tokenizer drops every character); remove it or use another model."
                )
            groups.append(picked)
    M = torch.from_numpy(mean_matrix(groups, fb.size)).to(backend.device)  # (G, Bw*T)
    ids, mask = fb.input_ids.to(backend.device), fb.attention_mask.to(backend.device)
    if all_layers:
        hidden = backend.forward(ids, mask)  # (L+1) x (Bw, T, D), no gradients
        flat = torch.stack([h.float().reshape(-1, h.shape[-1]) for h in hidden])  # (L+1, Bw*T, D)
        return torch.einsum("gs,ksd->gkd", M, flat)  # (G, L+1, D)
    kwargs = {"use_cache": False} if backend.info.causal else {}
    out = backend.model(input_ids=ids, attention_mask=mask, output_hidden_states=True, return_dict=True, **kwargs)
    states = out.hidden_states
    top: torch.Tensor = states[-1] if layers is None else pool_layers(states, layers)  # (Bw, T, D), as the engine
    return M @ top.reshape(-1, top.shape[-1])  # (G, D)
