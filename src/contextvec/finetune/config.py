"""What a run trains: the `--unfreeze` choice, the encoder parameters it opens, labels, and the validation split."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from contextvec.errors import InputFileError, OptionError
from contextvec.finetune.data import Example, PairExample, TagExample, TextExample

# The encoder's learning rate per task when unfrozen (docs/finetune.md, measured on Brown POS with a fresh 12-way
# head: 1e-4 gave 0.977 on 1,800 sentences and 0.982 on 4,050; 3e-5 gave 0.933); classify and wic keep 3e-5.
ENCODER_LR: dict[str, float] = {"classify": 3e-5, "tag": 1e-4, "wic": 3e-5}


@dataclass(frozen=True)
class FinetuneConfig:
    """Training options; None means the default for the task and mode (see `resolved`)."""

    unfreeze: str = "none"  # none | last-K | all
    epochs: int | None = None  # frozen: 40 passes over cached features; else 3
    lr: float | None = None  # encoder learning rate (AdamW), default ENCODER_LR[task]
    head_lr: float | None = None  # head (and scalar mix) learning rate, default 1e-2 frozen, 1e-3 otherwise
    batch_size: int = 16
    warmup: float = 0.1  # share of the steps with a linearly rising learning rate, then a linear decay to 0
    weight_decay: float = 0.01
    patience: int | None = None  # epochs without a better validation score before stopping; 5 frozen, 1 else
    val_share: float = 0.1  # of the training examples, carved off for early stopping (by word for wic)
    seed: int = 0
    max_examples: int | None = None  # train on the first N examples (after a seeded shuffle)

    def resolved(self, frozen: bool, task: str) -> FinetuneConfig:
        """Every None filled with the default for `task` and the mode: the one place defaults live (the CLI passes
        None for an option not given)."""
        from dataclasses import replace

        self.check()
        return replace(  # `is None`, not `or`: an explicit 0 is a value (refused by `check`), never the default
            self,
            epochs=self.epochs if self.epochs is not None else (40 if frozen else 3),
            lr=self.lr if self.lr is not None else ENCODER_LR[task],
            head_lr=self.head_lr if self.head_lr is not None else (1e-2 if frozen else 1e-3),
            patience=self.patience if self.patience is not None else (5 if frozen else 1),
        )

    def check(self) -> None:
        """Refuse values a run cannot honour (epochs=0 would train nothing, lr=0 would change nothing)."""
        bad = [
            f"{name}={value!r} must be {rule}"
            for name, value, ok, rule in [
                ("epochs", self.epochs, self.epochs is None or self.epochs >= 1, ">= 1"),
                ("lr", self.lr, self.lr is None or self.lr > 0, "> 0 (to keep the encoder fixed use unfreeze='none')"),
                ("head_lr", self.head_lr, self.head_lr is None or self.head_lr > 0, "> 0"),
                ("batch_size", self.batch_size, self.batch_size >= 1, ">= 1"),
                ("warmup", self.warmup, 0 <= self.warmup < 1, "in [0, 1)"),
                ("weight_decay", self.weight_decay, self.weight_decay >= 0, ">= 0"),
                ("patience", self.patience, self.patience is None or self.patience >= 0, ">= 0"),
                ("val_share", self.val_share, 0 <= self.val_share < 1, "in [0, 1) (0: no validation)"),
                ("max_examples", self.max_examples, self.max_examples is None or self.max_examples >= 2, ">= 2"),
            ]
            if not ok
        ]
        if bad:
            raise OptionError(f"fine-tuning options: {'; '.join(bad)}.")


def parse_unfreeze(value: str, num_layers: int) -> int:
    """'none' -> 0, 'last-K' -> K, 'all' -> num_layers (the number of transformer blocks trained)."""
    m = re.fullmatch(r"last-(\d+)", value.strip())
    if value == "none":
        return 0
    if value == "all":
        return num_layers
    if m and 1 <= int(m.group(1)) <= num_layers:
        return int(m.group(1))
    raise OptionError(
        f"--unfreeze {value!r} is not valid; choose none (frozen, a scalar mix of all layers), last-K with "
        f"1 <= K <= {num_layers} (this model's blocks), or all."
    )


def check_reach(k: int, num_layers: int, read_states: Sequence[int], unfreeze: str) -> None:
    """Refuse a last-K that trains only blocks after every hidden state the head reads: the run would change
    nothing the head sees (state i is block i's output; state 0 the embeddings)."""
    if 0 < k < num_layers and max(read_states) <= num_layers - k:
        need = num_layers - max(read_states) + 1
        raise OptionError(
            f"--unfreeze {unfreeze} trains blocks {num_layers - k + 1}-{num_layers}, but the head reads hidden "
            f"states {min(read_states)}-{max(read_states)} (this model's recipe), which those blocks do not change; "
            f"use --unfreeze last-{need} or more, or all."
        )


def open_parameters(model: nn.Module, num_layers: int, k: int) -> list[nn.Parameter]:
    """Freeze the encoder except its last `k` blocks (and what follows them, e.g. a final norm); k = all opens
    everything. Returns the parameters left trainable."""
    blocks = next(
        (name for name, m in model.named_modules() if isinstance(m, nn.ModuleList) and len(m) == num_layers), None
    )
    if blocks is None and 0 < k < num_layers:
        raise OptionError(f"cannot find this model's {num_layers} blocks to open the last {k}; use --unfreeze all.")
    opened = []
    for name, p in model.named_parameters():
        if k == num_layers:
            train = True
        elif k == 0:
            train = False
        elif name.startswith(f"{blocks}."):
            train = int(name[len(f"{blocks}.") :].split(".")[0]) >= num_layers - k
        else:
            train = "embed" not in name  # after the blocks (final norm); embeddings stay frozen
        p.requires_grad_(train)
        if train:
            opened.append(p)
    return opened


def label_set(examples: Sequence[Example]) -> list[str]:
    """Sorted labels seen in training (tags for tagging, 'False'/'True' for wic)."""
    seen: set[str] = set()
    for e in examples:
        if isinstance(e, TextExample):
            seen.add(str(e.label))
        elif isinstance(e, TagExample):
            seen.update(e.tags or [])
        else:
            seen.update(["False", "True"])
    if len(seen) < 2:
        where = examples[0].where.rsplit(":", 1)[0] if examples else "the data"
        raise InputFileError(
            f"{where}: only one label ({', '.join(seen)}) in training; a classifier needs two or more."
        )
    return sorted(seen)


def targets(example: Example, index: dict[str, int]) -> list[int]:
    """Label ids of one example (one per word for tagging); an unknown label names its file and line."""
    if isinstance(example, PairExample):
        return [index[example.label]]
    labels = [example.label] if isinstance(example, TextExample) else list(example.tags or [])
    out = []
    for label in labels:
        if label not in index:
            raise InputFileError(
                f"{example.where}: label {label!r} was not seen in training; the model knows: {', '.join(index)}."
            )
        out.append(index[label])
    return out


def split_validation(examples: Sequence[Example], share: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) example indices: `share` of the examples (rounded, at least one) held out for early
    stopping, in a seeded order. Word-in-context pairs are held out a whole word at a time, so no word is in both
    sides: words are taken while their pairs fit the share (a word with more pairs than the share is skipped).
    Validation is empty when `share` is 0 or nothing can be held out: one example, one wic word, or wic words
    that each hold more than the share and more than a quarter of the pairs (docs/finetune.md, "Validation")."""
    rng = random.Random(seed)
    keys = [e.pair.word if isinstance(e, PairExample) else str(i) for i, e in enumerate(examples)]
    counts = Counter(keys)
    unique = sorted(counts)
    rng.shuffle(unique)
    held: set[str] = set()
    if share > 0 and len(unique) > 1:
        target, taken = max(1, round(len(keys) * share)), 0
        for key in unique:
            if taken + counts[key] <= target:
                held.add(key)
                taken += counts[key]
        smallest = min(unique, key=lambda k: counts[k])  # the first of the smallest in the seeded order
        if not held and 4 * counts[smallest] <= len(keys):  # every word is above the share: the smallest, if <= 1/4
            held.add(smallest)
    train = [i for i, k in enumerate(keys) if k not in held]
    val = [i for i, k in enumerate(keys) if k in held]
    return train, val


def describe_split(examples: Sequence[Example], train: Sequence[int], val: Sequence[int], share: float) -> str:
    """One line saying how the validation split was made (or why there is none), for the result and the CLI."""
    pairs = bool(examples) and isinstance(examples[0], PairExample)
    unit = "pairs" if pairs else "examples"
    words = {e.pair.word for e in examples if isinstance(e, PairExample)}
    if val:
        held = {e.pair.word for e in (examples[i] for i in val) if isinstance(e, PairExample)}
        by = f", held out by word ({len(held)} of {len(words)} words) so no word is in both" if pairs else ""
        return f"{len(train)} training / {len(val)} validation {unit} ({len(val) / len(examples):.0%}{by})"
    if share == 0:
        why = "val_share is 0"
    elif pairs and len(words) == 1:
        why = f"every pair has the word {next(iter(words))!r}, and wic validation holds out whole words"
    elif pairs:
        why = (
            f"each of the {len(words)} words holds more than a quarter of the pairs, and wic validation holds out "
            "whole words"
        )
    else:
        why = f"{len(examples)} example is too few to hold one out"
    return (
        f"{len(train)} training {unit}, no validation ({why}): every epoch is trained and the last one is kept, "
        "with no validation accuracy"
    )
