"""`contextvec.train.train`: one call from a corpus to a model folder Embedder loads (and `contextvec train`)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from contextvec.errors import CheckpointError, OutputPathError
from contextvec.io.atomic import sigterm_exits
from contextvec.train.checkpoint import latest_checkpoint, list_checkpoints, save_checkpoint
from contextvec.train.config import DEFAULT_NETS, LoopConfig, NetConfig, as_dict, check_kind, check_loop, check_net
from contextvec.train.corpus import load_corpus
from contextvec.train.loop import LoopState, run_loop
from contextvec.train.setup import build_task, train_vocabulary
from contextvec.train.tasks import Task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    folder: Path  # the model folder: Embedder(str(folder)) loads it
    steps: int
    tokens: int
    minutes: float
    heldout: dict[str, float]  # perplexity on the held-out documents ({} when the corpus has none)
    final_loss: float


def _export(task: Task, out: Path, summary: dict[str, Any]) -> None:
    """Write the loadable folder: files go to a temp folder first, then each is renamed into OUT."""
    tmp = out / f".export.{int(time.time() * 1e6)}.tmp"
    tmp.mkdir(parents=True)
    try:
        task.model.eval()
        task.export(tmp)
        (tmp / "training.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        for f in sorted(tmp.iterdir()):
            f.replace(out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def train(
    kind: str,
    corpus: str | Path,
    out: str | Path,
    *,
    net: NetConfig | None = None,
    loop: LoopConfig | None = None,
    resume: bool = False,
    progress: bool = False,
) -> TrainResult:
    """Train an ELMo biLM ("elmo"), a BERT-style masked LM ("mlm") or a GPT-style causal LM ("causal") on
    `corpus` ("brown" or a text file, one document per line) and write a model folder to `out`.

    >>> train("elmo", "brown", "elmo-brown", loop=LoopConfig(max_minutes=10))  # doctest: +SKIP
    """
    k = check_kind(kind)
    loop = loop or LoopConfig()
    check_loop(loop)
    out = Path(out)
    if not resume and list_checkpoints(out):
        raise OutputPathError(
            f"{out} already holds a training run's checkpoints: add --resume to continue it, or choose another --out."
        )
    data = load_corpus(corpus)
    saved = latest_checkpoint(out) if resume else None
    if saved is not None:
        if saved["kind"] != k or saved["fingerprint"] != data.fingerprint():
            raise CheckpointError(
                f"--resume: the checkpoint in {out} is from a {saved['kind']} run on other text "
                f"(corpus {saved['corpus']!r}); resume with the same kind and corpus, or choose another --out."
            )
        net = NetConfig(**saved["net"])  # the network the checkpoint holds
    net = net or DEFAULT_NETS[k]
    check_net(k, net)
    torch.manual_seed(loop.seed)
    vocabulary = saved["vocabulary"] if saved is not None else train_vocabulary(k, net, data)
    task = build_task(k, net, data, vocabulary)
    optimizer = torch.optim.AdamW(task.model.parameters(), lr=loop.lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / loop.warmup))
    gen = torch.Generator().manual_seed(loop.seed)
    state = LoopState()
    if saved is not None:
        task.model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        gen.set_state(saved["data_rng"])
        torch.set_rng_state(saved["torch_rng"])
        state = LoopState(**saved["loop_state"])
    out.mkdir(parents=True, exist_ok=True)

    def checkpoint() -> None:
        save_checkpoint(
            out,
            state.step,
            {
                "kind": k,
                "corpus": data.name,
                "fingerprint": data.fingerprint(),
                "net": as_dict(net),
                "vocabulary": vocabulary,
                "model": task.model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "data_rng": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "loop_state": as_dict(state),
            },
            loop.keep_checkpoints,
        )

    with sigterm_exits():
        try:
            run_loop(
                task,
                optimizer,
                scheduler,
                gen,
                state,
                loop,
                log_path=out / "train_log.jsonl",
                checkpoint=checkpoint,
                progress=progress,
            )
        finally:  # Ctrl-C and SIGTERM too: keep what was learned, loadable and resumable
            checkpoint()
            task.model.eval()
            heldout = task.heldout(loop.eval_tokens, loop.batch_size)
            loss = sum(state.losses[-10:]) / max(1, len(state.losses[-10:]))
            summary = {
                "kind": k,
                "corpus": data.name,
                "train_documents": len(data.train),
                "heldout_documents": len(data.heldout),
                "steps": state.step,
                "tokens": state.tokens,
                "minutes": round(state.seconds / 60, 2),
                "final_train_loss": loss,
                "heldout": heldout,
                "net": as_dict(net),
                "loop": as_dict(loop),
            }
            _export(task, out, summary)
    logger.info("trained %s: %d steps, held-out %s, folder %s", k, state.step, heldout, out)
    return TrainResult(out, state.step, state.tokens, state.seconds / 60, heldout, loss)
