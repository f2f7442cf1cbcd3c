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

from contextvec.data.images import ImageSet, load_images
from contextvec.errors import CheckpointError, OptionError, OutputPathError
from contextvec.io.atomic import sigterm_exits
from contextvec.models.recipes import DEFAULT_SENTENCE_RECIPE, TOP_RECIPE, write_recipe_file
from contextvec.progress import Reporter
from contextvec.scoped import seeded
from contextvec.train.checkpoint import latest_checkpoint, list_checkpoints, save_checkpoint
from contextvec.train.config import (
    DEFAULT_NETS,
    Kind,
    LoopConfig,
    NetConfig,
    as_dict,
    check_kind,
    check_loop,
    check_net,
)
from contextvec.train.corpus import Corpus, load_corpus
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
    heldout: dict[str, float]  # perplexity on the held-out documents (vit: masked-patch error); {} when none
    final_loss: float


@dataclass
class _Run:
    """Everything a checkpoint holds, and the folder it all goes to."""

    kind: Kind
    data: Corpus | ImageSet
    net: NetConfig
    loop: LoopConfig
    vocabulary: Any  # JSON-able: a word list (elmo) or a tokenizer's JSON
    task: Task
    optimizer: torch.optim.Optimizer
    scheduler: Any
    gen: torch.Generator  # batches and masking
    state: LoopState
    out: Path

    def checkpoint(self) -> None:
        state = {
            "kind": self.kind,
            "corpus": self.data.name,
            "fingerprint": self.data.fingerprint(),
            "net": as_dict(self.net),
            "vocabulary": self.vocabulary,
            "model": self.task.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "data_rng": self.gen.get_state(),
            "torch_rng": torch.get_rng_state(),  # dropout's: the run's own (scoped.seeded), not the caller's
            "loop_state": as_dict(self.state),
        }
        save_checkpoint(self.out, self.state.step, state, self.loop.keep_checkpoints)

    def restore(self, saved: dict[str, Any]) -> None:
        self.task.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.gen.set_state(saved["data_rng"])
        torch.set_rng_state(saved["torch_rng"])
        self.state = LoopState(**saved["loop_state"])

    def finish(self) -> TrainResult:
        """Score the held-out documents and write the loadable folder (temp folder, then a rename per file)."""
        self.task.model.eval()
        heldout = self.task.heldout(self.loop.eval_tokens, self.loop.batch_size)
        recent = self.state.losses[-10:]
        loss = sum(recent) / max(1, len(recent))
        self._export(self._summary(loss, heldout))
        logger.info("trained %s: %d steps, held-out %s, folder %s", self.kind, self.state.step, heldout, self.out)
        return TrainResult(self.out, self.state.step, self.state.tokens, self.state.seconds / 60, heldout, loss)

    def _summary(self, loss: float, heldout: dict[str, float]) -> dict[str, Any]:
        """training.json: what was trained on, how long, how well."""
        return {
            "kind": self.kind,
            "corpus": self.data.name,
            "train_documents": len(self.data.train),
            "heldout_documents": len(self.data.heldout),
            "steps": self.state.step,
            "tokens": self.state.tokens,
            "minutes": round(self.state.seconds / 60, 2),
            "final_train_loss": loss,
            "heldout": heldout,
            "net": as_dict(self.net),
            "loop": as_dict(self.loop),
        }

    def _export(self, summary: dict[str, Any]) -> None:
        """The loadable model folder, written to a temp folder beside it and moved in one file at a time."""
        tmp = self.out / f".export.{int(time.time() * 1e6)}.tmp"
        tmp.mkdir(parents=True)
        try:
            self.task.export(tmp)
            write_recipe_file(tmp, TOP_RECIPE, DEFAULT_SENTENCE_RECIPE)  # explicit: no evaluated recipe yet
            (tmp / "training.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
            for f in sorted(tmp.iterdir()):
                f.replace(self.out / f.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _prepare(
    kind: Kind, data: Corpus | ImageSet, out: Path, net: NetConfig | None, loop: LoopConfig, resume: bool
) -> _Run:
    if not resume and list_checkpoints(out):
        raise OutputPathError(
            f"{out} already holds a training run's checkpoints: add --resume to continue it, or choose another --out."
        )
    saved = latest_checkpoint(out) if resume else None
    if saved is not None:
        if saved["kind"] != kind or saved["fingerprint"] != data.fingerprint():
            other = "images" if kind == "vit" else "text"
            raise CheckpointError(
                f"--resume: the checkpoint in {out} is from a {saved['kind']} run on other {other} "
                f"(corpus {saved['corpus']!r}); resume with the same kind and corpus, or choose another --out."
            )
        held = NetConfig(**{("num_layers" if k == "layers" else k): v for k, v in saved["net"].items()})  # 0.1's key
        if net is not None and net != held:
            raise OptionError(
                f"--resume: the checkpoint in {out} holds a network of {held}; a resumed run "
                "keeps its network, so leave out the size options (or start a new run in another --out)."
            )
        net = held  # the network the checkpoint holds
    net = net or DEFAULT_NETS[kind]
    check_net(kind, net)
    vocabulary = saved["vocabulary"] if saved is not None else train_vocabulary(kind, net, data)
    task = build_task(kind, net, data, vocabulary)
    optimizer = torch.optim.AdamW(task.model.parameters(), lr=loop.lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / loop.warmup))
    gen = torch.Generator().manual_seed(loop.seed)
    run = _Run(kind, data, net, loop, vocabulary, task, optimizer, scheduler, gen, LoopState(), out)
    if saved is not None:
        run.restore(saved)
    return run


def train(
    kind: str,
    corpus: str | Path,
    out: str | Path,
    *,
    net: NetConfig | None = None,
    loop: LoopConfig | None = None,
    resume: bool = False,
    progress: Reporter | bool = False,
) -> TrainResult:
    """Train an ELMo biLM ("elmo"), a BERT-style masked LM ("mlm") or a GPT-style causal LM ("causal") on
    `corpus` ("brown" or a text file, one document per line), or a masked-patch image model ("vit") on images
    ("digits", "photos", a folder of PNG / JPEG files or a .npy array), and write a model folder to `out`.

    `loop` sets the length (steps and/or max_minutes, counted over resumed runs too), the seed and checkpoints;
    `net` the network's size (default: the kind's tiny config; a resumed run keeps its own). Every end of a run
    (done, Ctrl-C, SIGTERM) writes a checkpoint and the folder. `progress` counts steps (contextvec.progress).
    Initialisation and dropout draw from torch's global RNG inside `scoped.seeded`: the caller's is kept.

    >>> train("elmo", "brown", "elmo-brown", loop=LoopConfig(max_minutes=10))  # doctest: +SKIP
    """
    k = check_kind(kind)
    loop = loop or LoopConfig()
    check_loop(loop)
    out = Path(out)
    with seeded(loop.seed):
        data = load_images(corpus) if k == "vit" else load_corpus(corpus)
        run = _prepare(k, data, out, net, loop, resume)
        out.mkdir(parents=True, exist_ok=True)
        with sigterm_exits():
            try:
                log = out / "train_log.jsonl"
                parts = (run.task, run.optimizer, run.scheduler, run.gen, run.state, loop)
                run_loop(*parts, log_path=log, checkpoint=run.checkpoint, progress=progress)
            except (KeyboardInterrupt, SystemExit):  # Ctrl-C and SIGTERM: keep what was learned, resumable
                run.checkpoint()
                run.finish()
                raise
            # any other error propagates as it is: the state it left may be broken, and the last periodic
            # checkpoint (not a half-done step) is what --resume should continue from
        run.checkpoint()
        return run.finish()
