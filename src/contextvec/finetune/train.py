"""The training loop: AdamW, linear warmup then decay, early stopping on validation accuracy, a checkpoint per
epoch (atomic and checksummed, io.atomic; `resume=True` continues from it), and progress reported per step with
the loss and the validation score.

Without validation examples every epoch is trained and the last one is kept (there is nothing to choose by);
the history then records no validation accuracy (None), never a stand-in score."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from contextvec.errors import CheckpointError, OptionError
from contextvec.finetune.config import FinetuneConfig
from contextvec.progress import Reporter, Task, as_reporter
from contextvec.scoped import seeded
from contextvec.train.checkpoint import read_state, write_state

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
class _Run:
    """Where a run is: its history, the best state so far, epochs done and epochs since the best."""

    history: History
    best: list[torch.Tensor]
    epoch: int = 0
    bad: int = 0


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

    def fit(self, train: list[int], val: list[int], *, resume: bool, progress: Reporter | bool = False) -> History:
        """Train on `train`, keep the state that scored best on `val`; `progress` counts optimizer steps.
        Dropout draws from torch's global RNG inside `scoped.seeded`: the caller's is kept."""
        cfg = self.config
        assert cfg.epochs is not None and cfg.patience is not None
        with seeded(cfg.seed) as gen:
            opt, sched, per_epoch = self._optimizer(len(train))
            run = self._start(opt, sched, val, resume)
            for _ in range(run.epoch):
                torch.randperm(len(train), generator=gen)  # the shuffles of the epochs already done
            total, done = per_epoch * cfg.epochs, per_epoch * run.epoch
            with as_reporter(progress).task("training", total, "steps", completed=done) as task:
                while run.epoch < cfg.epochs and not run.history.stopped_early:
                    order = [train[i] for i in torch.randperm(len(train), generator=gen).tolist()]
                    losses = self._epoch(order, opt, sched, task, run.epoch)
                    self._end_epoch(run, losses, val, task)
                    self._save(opt, sched, run.history, run.epoch, run.bad, run.best)
                    run.history.stopped_early = run.bad > cfg.patience
        self._restore(run.best)
        return run.history

    def _optimizer(self, n_train: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR, int]:
        """AdamW over the parameter groups, its schedule over the whole run, and the steps per epoch."""
        cfg = self.config
        assert cfg.epochs is not None
        groups = [{"params": p, "lr": lr} for p, lr in self.params if p]
        opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
        per_epoch = -(-n_train // cfg.batch_size)
        return opt, _schedule(opt, per_epoch * cfg.epochs, cfg.warmup), per_epoch

    def _start(self, opt: Any, sched: Any, val: list[int], resume: bool) -> _Run:
        """Where the run starts: a checkpoint's state (resume), or the untrained state, scored as the bar to beat
        when `keep_start`."""
        run = _Run(History(), self._state())
        if resume and self.checkpoint is not None and self.checkpoint.is_file():
            run.epoch, run.bad, run.best = self._load(opt, sched, run.history)
        elif val and self.keep_start:  # a head that starts at a recipe (wic): an epoch worse than it is not kept
            self._mode(False)
            run.history.start_val = accuracy(self.forward, val, self.gold, self.config.batch_size * 2)
            run.history.best_val = run.history.start_val - 1e-9  # a tie goes to the trained state
        return run

    def _epoch(self, order: list[int], opt: Any, sched: Any, task: Task, epoch: int) -> list[float]:
        """One pass over `order` in batches; returns each step's loss."""
        losses = []
        self._mode(True)
        for s in range(0, len(order), self.config.batch_size):
            chunk = order[s : s + self.config.batch_size]
            logits = self.forward(chunk)
            y = torch.tensor([t for i in chunk for t in self.gold[i]], device=logits.device)
            loss = nn.functional.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(self._params(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            task.advance()
            task.describe(f"epoch {epoch + 1} loss {losses[-1]:.3f}")
        self._mode(False)
        return losses

    def _end_epoch(self, run: _Run, losses: list[float], val: list[int], task: Task) -> None:
        """Score the epoch on `val` and keep the best state, counting epochs since; without validation examples
        the last epoch is kept and its score is None."""
        cfg = self.config
        score = accuracy(self.forward, val, self.gold, cfg.batch_size * 2) if val else None
        mean_loss = sum(losses) / len(losses)
        run.history.epochs.append({"loss": mean_loss, "val_accuracy": score})
        run.epoch += 1
        shown = f"{score:.4f}" if score is not None else "none (no validation examples)"
        logger.info("epoch %d: loss %.4f, validation accuracy %s", run.epoch, mean_loss, shown)
        task.describe(f"epoch {run.epoch} loss {mean_loss:.3f}" + (f" val {score:.3f}" if score is not None else ""))
        best = run.history.best_val
        if score is None or best is None or score > best:  # no validation: the last epoch is kept
            run.history.best_val, run.history.best_epoch, run.best, run.bad = score, run.epoch, self._state(), 0
        else:
            run.bad += 1

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
        write_state(self.checkpoint, state)  # atomic and checksummed: a crash mid-write leaves the previous one

    def _load(self, opt: Any, sched: Any, history: History) -> tuple[int, int, list[torch.Tensor]]:
        assert self.checkpoint is not None
        fix = f"delete {self.checkpoint} and run without --resume to start again"
        state = read_state(self.checkpoint, fix)  # checksum first, then tensors and plain values only
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
