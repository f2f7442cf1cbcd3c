"""`contextvec predict DIR FILE`: labels from a fine-tuned folder for every example of a file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from contextvec.engine import run_options
from contextvec.finetune.config import targets
from contextvec.finetune.data import Example, TagExample, read_examples
from contextvec.finetune.features import units, vectors
from contextvec.finetune.folder import load_folder
from contextvec.finetune.heads import CosineHead, Head
from contextvec.models.backend import TorchBackend
from contextvec.options import LayerSelection, resolve_layer_selection


@dataclass(frozen=True)
class Predictions:
    task: str
    examples: list[Example]
    labels: list[list[str]]  # per example: one label (classify, wic) or one tag per word (tag)
    accuracy: float | None  # when the file has labels (per word for tagging)


def predict_labels(
    backend: TorchBackend,
    head: Head,
    examples: Sequence[Example],
    stride: int,
    batch_size: int = 32,
    layers: LayerSelection | None = None,
) -> list[list[int]]:
    """The predicted label id of every prediction (one per word for tagging), grouped per example; `layers`: what
    a fine-tuned encoder's head reads (default the top layer; a frozen head mixes every layer itself)."""
    frozen = head.mix is not None
    context_only = isinstance(head, CosineHead) and head.context_only
    out: list[list[int]] = []
    with torch.no_grad():
        for s in range(0, len(examples), batch_size):
            chunk = examples[s : s + batch_size]
            batch = [u for e in chunk for u in units(e, context_only)]
            feats = vectors(backend, batch, stride, all_layers=frozen, layers=layers)
            ids = head(feats).argmax(dim=-1).tolist()
            k = 0
            for e in chunk:
                n = len(e.words) if isinstance(e, TagExample) else 1
                out.append([int(i) for i in ids[k : k + n]])
                k += n
    return out


def predict(folder: str | Path, data: str | Path | Sequence[Example]) -> Predictions:
    """Labels for every example of `data` (a file in the task's format, labels optional). Labels in the file
    that training never saw raise InputFileError naming the file and line."""
    backend, head, meta = load_folder(folder)
    task, labels = meta["task"], list(meta["labels"])
    examples = read_examples(task, data, labelled=False) if isinstance(data, str | Path) else list(data)
    index = {name: i for i, name in enumerate(labels)}
    has_gold = all(_labelled(e) for e in examples)
    gold = [targets(e, index) for e in examples] if has_gold else None  # checks labels before the model runs
    stride = run_options(backend, None, 4096, 32).stride
    layers = resolve_layer_selection(meta.get("layers", [-1]), "mean", backend.info.num_layers)
    ids = predict_labels(backend, head, examples, stride, layers=layers)
    named = [[labels[i] for i in row] for row in ids]
    acc = None
    if gold is not None:
        pairs = [(p, g) for row, gs in zip(ids, gold, strict=True) for p, g in zip(row, gs, strict=True)]
        acc = sum(p == g for p, g in pairs) / max(len(pairs), 1)
    return Predictions(task, examples, named, acc)


def _labelled(e: Example) -> bool:
    if isinstance(e, TagExample):
        return e.tags is not None
    return getattr(e, "label", None) is not None
