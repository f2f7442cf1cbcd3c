"""The spine's middle: texts -> windows -> batched forward -> pooled layers -> merged per-text token vectors.

`run_documents` yields each text's content-token vectors as soon as all of its windows have been through the
model, so callers reduce them (to words, spans, sentences) and memory stays bounded by a batch plus the output.
Only the selected layers, already pooled (L -> 1), leave the forward pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contextvec.alignment.windows import merge_windows, plan_windows
from contextvec.batching import plan_batches
from contextvec.errors import InvalidInputError
from contextvec.models.backend import Encoded, TorchBackend
from contextvec.options import LayerSelection
from contextvec.pooling.layers import pool_layers

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class DocVectors:
    """One text after the forward pass: its content tokens and their vectors."""

    index: int  # position in the caller's input
    encoded: Encoded  # ids (n,), offsets (n, 2)
    vectors: F32  # (n, D') content-token vectors, merged across windows
    cls: F32 | None  # (n_windows, D') first special token of each window, when asked for


@dataclass
class _Pending:
    windows: list[tuple[int, int]]
    vectors: list[F32 | None]
    cls: list[F32 | None]
    left: int


def run_documents(
    backend: TorchBackend,
    texts: Sequence[str],
    selection: LayerSelection,
    *,
    stride: int,
    token_budget: int,
    max_batch_size: int,
    want_cls: bool = False,
    progress: bool = False,
) -> Iterator[DocVectors]:
    """Yield DocVectors for every text (in completion order, not input order)."""
    import torch

    info = backend.info
    prefix, suffix = backend.prefix_ids, backend.suffix_ids
    P = len(prefix)
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
        windows = plan_windows(n, capacity, stride)
        pending[d] = _Pending(windows, [None] * len(windows), [None] * len(windows), len(windows))
        items.extend((d, w, s, e) for w, (s, e) in enumerate(windows))

    lengths = [e - s + P + len(suffix) for _, _, s, e in items]
    batches = plan_batches(lengths, token_budget, max_batch_size)
    bar = _progress(progress, sum(lengths))
    with bar if bar is not None else nullcontext(), torch.inference_mode():
        task = bar.add_task(f"embedding with {info.model_id}", total=sum(lengths)) if bar is not None else None
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
            del hidden
            for b, i in enumerate(batch):
                d, w, s, e = items[i]
                slot = pending[d]
                slot.vectors[w] = pooled[b, P : P + e - s].copy()  # (e - s, D') content rows only
                if want_cls:
                    slot.cls[w] = pooled[b, 0].copy()
                slot.left -= 1
                if slot.left == 0:
                    yield _finish(d, encoded[d], pending.pop(d), info.causal, want_cls)
            if bar is not None and task is not None:
                bar.advance(task, sum(lengths[i] for i in batch))


def _finish(d: int, enc: Encoded, slot: _Pending, causal: bool, want_cls: bool) -> DocVectors:
    vecs = [v for v in slot.vectors if v is not None]
    merged = merge_windows(vecs, slot.windows, len(enc.ids), causal)  # (n, D')
    cls = np.stack([c for c in slot.cls if c is not None]) if want_cls else None  # (n_windows, D')
    return DocVectors(index=d, encoded=enc, vectors=merged, cls=cls)


def _progress(enabled: bool, total: int):  # type: ignore[no-untyped-def]
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tokens"),
        TimeRemainingColumn(),
        transient=True,
    )
