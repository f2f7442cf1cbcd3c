"""The spine's middle: texts -> windows -> batched forward -> pooled layers -> merged per-text token vectors.

`run_documents` yields each text's content-token vectors as soon as all of its windows have been through the
model, so callers reduce them (to words, spans, sentences) and memory stays bounded by a batch plus the output.
Only the selected layers, already pooled (L -> 1), leave the forward pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contextvec.alignment.windows import merge_windows, plan_windows
from contextvec.batching import plan_batches
from contextvec.errors import InvalidInputError, OptionError
from contextvec.models.backend import Encoded
from contextvec.models.contract import Backend
from contextvec.options import LayerSelection
from contextvec.pooling.finite import check_finite_output
from contextvec.pooling.layers import pool_layers
from contextvec.progress import Reporter, as_reporter

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class DocVectors:
    """One text after the forward pass: its content tokens and their vectors."""

    index: int  # position in the caller's input
    encoded: Encoded  # ids (n,), offsets (n, 2)
    vectors: F32  # (n, D') content-token vectors, merged across windows
    specials: F32 | None  # (n_windows, P+S, D') each window's special-token rows ([CLS]..., ...[SEP]), when asked


@dataclass(frozen=True)
class RunOptions:
    """How texts are cut into windows and batched (validated against the model by `run_options`)."""

    stride: int  # tokens shared by neighbouring windows
    token_budget: int  # padded tokens per forward batch
    max_batch_size: int  # windows per forward batch


def run_options(backend: Backend, stride: int | None, token_budget: int, max_batch_size: int) -> RunOptions:
    """Check the window and batch options against the model; stride defaults to half a window."""
    max_length = backend.info.max_length
    capacity = max_length - len(backend.prefix_ids) - len(backend.suffix_ids)
    chosen = capacity // 2 if stride is None else stride
    if not 0 <= chosen < capacity:
        raise OptionError(f"stride={stride} must be in 0..{capacity - 1} (tokens shared by neighbouring windows).")
    if token_budget < max_length:
        raise OptionError(
            f"token_budget={token_budget} is smaller than one full window ({max_length} tokens); "
            "raise it or lower max_length."
        )
    if max_batch_size < 1:
        raise OptionError(f"max_batch_size={max_batch_size} must be >= 1.")
    return RunOptions(chosen, token_budget, max_batch_size)


@dataclass
class _Pending:
    windows: list[tuple[int, int]]
    vectors: list[F32 | None]
    specials: list[F32 | None]
    left: int


def run_documents(
    backend: Backend,
    texts: Sequence[str],
    selection: LayerSelection,
    options: RunOptions,
    *,
    want_specials: bool = False,
    progress: Reporter | bool = False,
) -> Iterator[DocVectors]:
    """Yield DocVectors for every text (in completion order, not input order); `progress` counts tokens."""
    import torch

    info = backend.info
    prefix, suffix = backend.prefix_ids, backend.suffix_ids
    P, S = len(prefix), len(suffix)
    capacity = info.max_length - P - len(suffix)
    encoded = backend.tokenize(texts)

    pending: dict[int, _Pending] = {}
    items: list[tuple[int, int, int, int]] = []  # (doc, window number, start, end)
    for d, enc in enumerate(encoded):
        n = len(enc.ids)
        if n == 0:
            raise InvalidInputError(
                f"text {d} ({texts[d][:40]!r}) gives no tokens with model {info.model_id!r}: its tokenizer drops "
                "every character in it. Remove the text or use another model."
            )
        windows = plan_windows(n, capacity, options.stride)
        pending[d] = _Pending(windows, [None] * len(windows), [None] * len(windows), len(windows))
        items.extend((d, w, s, e) for w, (s, e) in enumerate(windows))

    lengths = [e - s + P + len(suffix) for _, _, s, e in items]
    batches = plan_batches(lengths, options.token_budget, options.max_batch_size)
    reporter = as_reporter(progress)
    with reporter.task(f"embedding with {info.model_id}", sum(lengths), "tokens") as task, torch.inference_mode():
        for batch in batches:
            T = max(lengths[i] for i in batch)
            ids = torch.full((len(batch), T), backend.pad_id, dtype=torch.long)  # (B, T), right-padded
            mask = torch.zeros((len(batch), T), dtype=torch.long)
            for b, i in enumerate(batch):
                d, _, s, e = items[i]
                row = np.concatenate([prefix, encoded[d].ids[s:e], suffix])
                ids[b, : len(row)] = torch.from_numpy(row)
                mask[b, : len(row)] = 1
            hidden = backend.forward(ids, mask)  # (L+1) x (B, T, D)
            pooled = pool_layers(hidden, selection).float().cpu().numpy()  # (B, T, D')
            check_finite_output(pooled, info.model_id)  # damaged weights or overflow: an error, never NaN vectors
            del hidden
            for b, i in enumerate(batch):
                d, w, s, e = items[i]
                slot = pending[d]
                slot.vectors[w] = pooled[b, P : P + e - s].copy()  # (e - s, D') content rows only
                if want_specials:  # (P+S, D') the prefix rows and the suffix rows right after the content
                    slot.specials[w] = np.concatenate([pooled[b, :P], pooled[b, P + e - s : P + e - s + S]])
                slot.left -= 1
                if slot.left == 0:
                    yield _finish(d, encoded[d], pending.pop(d), info.causal, want_specials)
            task.advance(sum(lengths[i] for i in batch))


def _finish(d: int, enc: Encoded, slot: _Pending, causal: bool, want_specials: bool) -> DocVectors:
    vecs = [v for v in slot.vectors if v is not None]
    merged = merge_windows(vecs, slot.windows, len(enc.ids), causal)  # (n, D')
    specials = np.stack([c for c in slot.specials if c is not None]) if want_specials else None  # (n_windows, P+S, D')
    return DocVectors(index=d, encoded=enc, vectors=merged, specials=specials)
