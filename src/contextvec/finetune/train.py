"""The training loop: AdamW, linear warmup then decay, early stopping on validation accuracy, a checkpoint per
epoch (`resume=True` continues from it), and a progress bar with the loss and the validation score.

Without validation examples every epoch is trained and the last one is kept (there is nothing to choose by);
the history then records no validation accuracy (None), never a stand-in score."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from contextvec.errors import CheckpointError, OptionError
from contextvec.finetune.config import FinetuneConfig
from contextvec.train.checkpoint import read_checked, write_checked

logger = logging.getLogger(__name__)

# example indices -> (logits (N, C) over the batch's predictions)
Forward = Callable[[Sequence[int]], torch.Tensor]

_CHECKPOINT_KEYS = {"epoch", "bad", "best", "now", "history", "optimizer", "scheduler", "config"}


@dataclass
class History:
    epochs: list[dict[str, float | None]] = field(default_factory=list)  # per epoch: loss, validation accuracy
    best_epoch: int = 0
    best_val: float | None = None  # None without validation examples
    stopped_early: bool = False
    resumed_from: int | None = None
    start_val: float | None = None  # validation accuracy before training (the bar every epoch must beat)


def accuracy(forward: Forward, indices: Sequence[int], gold: Sequence[list[int]], batch_size: int) -> float:
    """Share of correct predictions (per word for tagging) over `indices`, in eval mode without gradients."""
    right = total = 0
    with torch.no_grad():
        for s in range(0, len(indices), batch_size):
            chunk = list(indices[s : s + batch_size])
            pred = forward(chunk).argmax(dim=-1)
            y = torch.tensor([t for i in chunk for t in gold[i]], device=pred.device)
            right += int((pred == y).sum())
            total += len(y)
    return right / max(total, 1)


def _schedule(optimizer: torch.optim.Optimizer, steps: int, warmup: float) -> torch.optim.lr_scheduler.LambdaLR:
    w = max(1, int(steps * warmup))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / w if s < w else max(0.0, (steps - s) / max(1, steps - w))
    )


@dataclass
class Trainer:
    """Everything one run updates; `modules` are put in train mode while training (the head, open blocks)."""

    params: list[tuple[list[nn.Parameter], float]]  # (parameters, learning rate) groups
    modules: list[nn.Module]
    forward: Forward
    gold: list[list[int]]  # label ids per example
    config: FinetuneConfig
    checkpoint: Path | None
    keep_start: bool = False  # the untrained state is a candidate for the best (its validation score is the bar)

    def fit(self, train: list[int], val: list[int], *, resume: bool, progress: bool) -> History:  # long: one loop
        cfg = self.config
        assert cfg.epochs is not None and cfg.patience is not None
        torch.manual_seed(cfg.seed)
        groups = [{"params": p, "lr": lr} for p, lr in self.params if p]
        opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
        per_epoch = -(-len(train) // cfg.batch_size)
        sched = _schedule(opt, per_epoch * cfg.epochs, cfg.warmup)
        history, best, start, bad = History(), self._state(), 0, 0
        if resume and self.checkpoint is not None and self.checkpoint.is_file():
            start, bad, best = self._load(opt, sched, history)
        elif val and self.keep_start:  # a head that starts at a recipe (wic): an epoch worse than it is not kept
            self._mode(False)
            history.start_val = accuracy(self.forward, val, self.gold, cfg.batch_size * 2)
            history.best_val = history.start_val - 1e-9  # a tie goes to the trained state
        gen = torch.Generator().manual_seed(cfg.seed)
        for _ in range(start):
            torch.randperm(len(train), generator=gen)  # the shuffles of the epochs already done
        bar = progress_bar(progress, "steps")
        with bar if bar is not None else nullcontext():
            task = bar.add_task("training", total=per_epoch * cfg.epochs, completed=per_epoch * start) if bar else None
            for epoch in range(start, cfg.epochs):
                order = [train[i] for i in torch.randperm(len(train), generator=gen).tolist()]
                losses = []
                self._mode(True)
                for s in range(0, len(order), cfg.batch_size):
                    chunk = order[s : s + cfg.batch_size]
                    logits = self.forward(chunk)
                    y = torch.tensor([t for i in chunk for t in self.gold[i]], device=logits.device)
                    loss = nn.functional.cross_entropy(logits, y)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()  # type: ignore[no-untyped-call]
                    torch.nn.utils.clip_grad_norm_(self._params(), 1.0)
                    opt.step()
                    sched.step()
                    losses.append(float(loss.detach()))
                    if bar is not None and task is not None:
                        bar.update(task, advance=1, description=f"epoch {epoch + 1} loss {losses[-1]:.3f}")
                self._mode(False)
                score = accuracy(self.forward, val, self.gold, cfg.batch_size * 2) if val else None
                mean_loss = sum(losses) / len(losses)
                history.epochs.append({"loss": mean_loss, "val_accuracy": score})
                shown = f"{score:.4f}" if score is not None else "none (no validation examples)"
                logger.info("epoch %d: loss %.4f, validation accuracy %s", epoch + 1, mean_loss, shown)
                if bar is not None and task is not None:
                    val_text = f" val {score:.3f}" if score is not None else ""
                    bar.update(task, description=f"epoch {epoch + 1} loss {mean_loss:.3f}{val_text}")
                if score is None or history.best_val is None or score > history.best_val:  # no validation: the last
                    history.best_val, history.best_epoch, best, bad = score, epoch + 1, self._state(), 0
                else:
                    bad += 1
                self._save(opt, sched, history, epoch + 1, bad, best)
                if bad > cfg.patience:
                    history.stopped_early = True
                    break
        self._restore(best)
        return history

    def _mode(self, training: bool) -> None:
        for m in self.modules:
            m.train(training)

    def _params(self) -> list[nn.Parameter]:
        return [p for ps, _ in self.params for p in ps]

    def _state(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self._params()]

    def _restore(self, state: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, v in zip(self._params(), state, strict=True):
                p.copy_(v)

    def _save(self, opt: Any, sched: Any, history: History, epoch: int, bad: int, best: list[torch.Tensor]) -> None:
        if self.checkpoint is None:
            return
        state = {"epoch": epoch, "bad": bad, "best": best, "now": self._state(), "history": asdict(history)}
        state |= {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "config": asdict(self.config)}
        write_checked(self.checkpoint, state)  # atomic and checksummed: a crash mid-write leaves the previous one

    def _load(self, opt: Any, sched: Any, history: History) -> tuple[int, int, list[torch.Tensor]]:
        assert self.checkpoint is not None
        fix = f"delete {self.checkpoint} and run without --resume to start again"
        state = read_checked(self.checkpoint, fix)  # checksum first, then tensors and plain values only
        missing = sorted(_CHECKPOINT_KEYS - set(state))
        if missing:
            raise CheckpointError(f"checkpoint {self.checkpoint} lacks {', '.join(missing)}; {fix}.")
        if state["config"] != asdict(self.config):
            raise OptionError(
                f"{self.checkpoint} was written with other options ({state['config']}); run with the same options "
                "to resume, or without --resume to start again."
            )
        self._restore(state["now"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        for k, v in state["history"].items():
            setattr(history, k, v)
        history.resumed_from = state["epoch"]
        return int(state["epoch"]), int(state["bad"]), list(state["best"])


def progress_bar(enabled: bool, unit: str) -> Any:
    """A rich bar (description, bar, done/total, unit, elapsed), or None when off."""
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn()
    )
