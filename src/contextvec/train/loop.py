"""The shared training loop: steps and/or minutes, a seeded and resumable run, checkpoints, progress reported.

Every way a run ends — its steps or minutes are used up, Ctrl-C, SIGTERM — writes a checkpoint and a loadable
model folder; a killed run (SIGKILL, power loss) loses only the steps since its last periodic checkpoint.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from contextvec.progress import Reporter, as_reporter
from contextvec.train.config import LoopConfig
from contextvec.train.tasks import Task

logger = logging.getLogger(__name__)


@dataclass
class LoopState:
    """What a checkpoint restores besides the weights: where the run is and what it has used."""

    step: int = 0
    tokens: int = 0
    seconds: float = 0.0  # training time so far, summed over resumed runs
    losses: list[float] = field(default_factory=list)  # recent losses, for the bar's smoothed value


def _done(state: LoopState, loop: LoopConfig) -> bool:
    if loop.steps is not None and state.step >= loop.steps:
        return True
    return loop.max_minutes is not None and state.seconds >= loop.max_minutes * 60


def run_loop(
    task: Task,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    gen: torch.Generator,
    state: LoopState,
    loop: LoopConfig,
    *,
    log_path: Path,
    checkpoint: Any,  # () -> None: writes a checkpoint of the current state
    progress: Reporter | bool = False,
) -> LoopState:
    """Train until `loop`'s steps or minutes are used; checkpoints every `checkpoint_every` steps.

    `progress` counts steps (`loop.steps`); a run limited by minutes alone counts them against no total."""
    model = task.model
    model.train()
    reporter = as_reporter(progress)
    with (
        reporter.task(f"training {task.kind}", loop.steps, "steps", completed=state.step) as bar,
        log_path.open("a", encoding="utf-8") as log,
    ):
        window_tokens, window_start = 0, time.perf_counter()
        while not _done(state, loop):
            start = time.perf_counter()
            batch = task.batch(gen, loop.batch_size)
            loss = task.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            state.step += 1
            state.tokens += batch.tokens
            state.seconds += time.perf_counter() - start
            keep = max(50, loop.log_every)  # enough for the bar's smoothing and a whole logging window
            state.losses = [*state.losses[-(keep - 1) :], loss.item()]
            window_tokens += batch.tokens
            if state.step % loop.log_every == 0:
                tps = window_tokens / max(time.perf_counter() - window_start, 1e-9)
                window_tokens, window_start = 0, time.perf_counter()
                row = {
                    "step": state.step,
                    "loss": sum(window := state.losses[-loop.log_every :]) / len(window),  # the steps since last row
                    "tokens": state.tokens,
                    "seconds": round(state.seconds, 2),
                    "tokens_per_s": round(tps, 1),
                }
                log.write(json.dumps(row) + "\n")
                log.flush()
                bar.describe(f"training {task.kind}  loss {row['loss']:.3f}  {tps:,.0f} tok/s")
            bar.advance()
            if state.step % loop.checkpoint_every == 0 and not _done(state, loop):
                checkpoint()
    return state
