"""`contextvec.finetune.finetune`: read the data, open the encoder as asked, train the head (and blocks), save."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from contextvec.engine import run_options
from contextvec.errors import OptionError
from contextvec.finetune.config import (
    FinetuneConfig,
    check_reach,
    describe_split,
    label_set,
    open_parameters,
    parse_unfreeze,
    split_validation,
    targets,
)
from contextvec.finetune.data import TASKS, Example, Task, read_examples
from contextvec.finetune.features import Unit, units, vectors
from contextvec.finetune.folder import CHECKPOINT, check_out, save_folder
from contextvec.finetune.heads import CosineHead, Head, make_head
from contextvec.finetune.train import Forward, History, Trainer
from contextvec.models.backend import ModelInfo, TorchBackend
from contextvec.models.recipes import DEFAULT_SENTENCE_RECIPE, Recipe, recipe_file_content
from contextvec.models.registry import DEFAULT_MODEL
from contextvec.options import LayerSelection, check_choice, renamed, resolve_layer_selection
from contextvec.progress import Reporter, as_reporter
from contextvec.scoped import seeded

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneResult:
    out: Path
    task: str
    unfreeze: str
    labels: list[str]
    n_train: int
    n_val: int
    val_accuracy: float | None  # the kept epoch's validation accuracy; None when there was no validation split
    layer_weights: list[float] | None  # frozen runs: the learned scalar mix, one weight per hidden state 0..L
    history: History
    seconds: float
    validation: str = ""  # how the validation split was made, or why there is none (one line)


@dataclass(frozen=True)
class _Plan:
    """What a run trains on and how, decided from the data and the encoder before any training."""

    task: Task
    cfg: FinetuneConfig  # every default filled in for the task and mode
    k: int  # transformer blocks trained (0: frozen encoder)
    examples: list[Example]
    labels: list[str]
    gold: list[list[int]]  # label ids per example
    layers: LayerSelection  # the hidden states the head reads
    context_only: bool
    per_example: list[list[Unit]]  # every text checked before any training
    stride: int

    @property
    def frozen(self) -> bool:
        return self.k == 0


def finetune(
    task: Task,
    data: str | Path | Sequence[Example],
    *,
    out: str | Path,
    model: str | TorchBackend = DEFAULT_MODEL,
    config: FinetuneConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Reporter | bool = False,
    backend: TorchBackend | None = None,
) -> FinetuneResult:
    """Fine-tune `model` (a name, a folder, or a loaded TorchBackend) on labelled `data` (a file, or examples) and
    save a folder that `predict` and `Embedder(out)` load. `config.unfreeze`: none (frozen encoder, scalar mix of
    all layers), last-K or all. An `out` that already holds a fine-tuned model is refused unless `resume`
    (continue it) or `overwrite`. `progress` reports the frozen features and the training steps
    (contextvec.progress). Randomness is seeded by `config.seed` without touching the caller's torch RNG
    (scoped.seeded). `backend=` is the deprecated spelling of `model=<TorchBackend>` (everywhere else `backend`
    names a runtime, "torch" or "onnx")."""
    if backend is not None:
        renamed("finetune(backend=<TorchBackend>)", "finetune(model=<TorchBackend>)")
        model = backend
    t0 = time.perf_counter()
    check_choice("task", task, TASKS)
    config = config or FinetuneConfig()
    config.check()
    out = Path(out)
    check_out(out, resume, overwrite)
    examples = read_examples(task, data) if isinstance(data, str | Path) else list(data)
    if isinstance(model, str):
        _check_tunable(model)
    backend = model if isinstance(model, TorchBackend) else TorchBackend.load(model)
    plan = _plan(task, examples, config, backend)
    with seeded(plan.cfg.seed):  # the head's initialisation
        head = _head(task, backend, plan)
    history, n_train, n_val, validation = _train(backend, head, plan, out, resume, progress)
    backend.model.eval()
    weights = head.mix.weights().tolist() if head.mix is not None else None
    seconds = time.perf_counter() - t0
    result = FinetuneResult(
        out, task, config.unfreeze, plan.labels, n_train, n_val, history.best_val, weights, history, seconds, validation
    )
    _save(out, backend, head, result, plan)
    return result


def _check_tunable(model: str) -> None:
    """Static vectors and ELMo folders have no transformer blocks to fine-tune: refused before anything loads."""
    from contextvec.models.elmo import MODEL_TYPE, read_model_type
    from contextvec.models.registry import resolve_model
    from contextvec.static.packaged import is_static

    if is_static(model):
        kind = "static vectors"
    else:
        resolved = resolve_model(model)
        if resolved.source == "hub" or read_model_type(resolved.path) != MODEL_TYPE:
            return
        kind = "an ELMo folder (contextvec train elmo)"
    raise OptionError(
        f"fine-tuning needs a transformers model (minilm, mpnet, or a transformers folder); {model!r} is {kind}."
    )


def _plan(task: Task, examples: list[Example], config: FinetuneConfig, backend: TorchBackend) -> _Plan:
    """Resolve the options against the encoder, sample and label the examples, and check every text."""
    info = backend.info
    k = parse_unfreeze(config.unfreeze, info.num_layers)
    cfg = config.resolved(k == 0, task)
    if cfg.max_examples is not None and cfg.max_examples < len(examples):
        examples = random.Random(cfg.seed).sample(examples, cfg.max_examples)
    labels = label_set(examples)
    index = {name: i for i, name in enumerate(labels)}
    # wic reads the recipe's word vectors (its layers, context-only or not); classify and tag the top layer
    layers = resolve_layer_selection(info.recipe.layers if task == "wic" else -1, "mean", info.num_layers)
    context_only = task == "wic" and info.recipe.context_only
    check_reach(k, info.num_layers, layers.indices, config.unfreeze)
    per_example = [units(e, context_only) for e in examples]
    stride = run_options(backend, None, 4096, 32).stride
    gold = [targets(e, index) for e in examples]
    return _Plan(task, cfg, k, examples, labels, gold, layers, context_only, per_example, stride)


def _head(task: Task, backend: TorchBackend, plan: _Plan) -> Head:
    info = backend.info
    n_states = info.num_layers + 1 if plan.frozen else None
    head = make_head(task, info.hidden_size, len(plan.labels), n_states, plan.layers.indices, plan.context_only)
    return head.to(backend.device)


def _train(
    backend: TorchBackend, head: Head, plan: _Plan, out: Path, resume: bool, progress: Reporter | bool
) -> tuple[History, int, int, str]:
    """Open the blocks to train, build the forward pass, split off validation and run the trainer."""
    cfg = plan.cfg
    opened = open_parameters(backend.model, backend.info.num_layers, plan.k)
    if plan.frozen:
        forward = _cached_forward(backend, head, plan.per_example, plan.stride, as_reporter(progress))
    else:
        forward = _live_forward(backend, head, plan.per_example, plan.stride, plan.layers)
    train_idx, val_idx = split_validation(plan.examples, cfg.val_share, cfg.seed)
    validation = describe_split(plan.examples, train_idx, val_idx, cfg.val_share)
    (logger.info if val_idx else logger.warning)("%s: %s", plan.task, validation)
    if isinstance(head, CosineHead):
        _calibrate(head, forward, train_idx, plan.gold, cfg.batch_size * 2)
    assert cfg.lr is not None and cfg.head_lr is not None
    trainer = Trainer(
        params=[(opened, cfg.lr), (list(head.parameters()), cfg.head_lr)],
        # wic: the encoder trains without dropout, so the cosines the head's threshold sees in training are the
        # ones it meets at prediction (with dropout they shift and the threshold follows them)
        modules=[head] if plan.frozen or isinstance(head, CosineHead) else [head, backend.model],
        forward=forward,
        gold=plan.gold,
        config=cfg,
        checkpoint=out / CHECKPOINT,
        keep_start=isinstance(head, CosineHead),
    )
    history = trainer.fit(train_idx, val_idx, resume=resume, progress=progress)
    return history, len(train_idx), len(val_idx), validation


def _save(out: Path, backend: TorchBackend, head: Head, result: FinetuneResult, plan: _Plan) -> None:
    """The model folder: the encoder, the head, what the run did (meta) and the recipe the folder loads with."""
    info = backend.info
    meta = _meta(result, info.model_id, plan.frozen, info.num_layers, plan.cfg) | {
        "layers": list(plan.layers.indices),
        "context_only": plan.context_only,
    }
    recipe = _recipe(info, plan.frozen, result.task, plan.layers, plan.context_only)
    save_folder(out, backend, head, meta, recipe)


def _calibrate(head: CosineHead, forward: Forward, train: list[int], gold: list[list[int]], batch: int) -> None:
    """Set the cosine head's a, b from the training pairs' cosines (the head starts at the recipe's threshold)."""
    import numpy as np

    with torch.no_grad():
        cosines = torch.cat([forward(train[s : s + batch])[:, 1] for s in range(0, len(train), batch)])  # (P,)
    a, t = head.calibrate(cosines.cpu().numpy(), np.asarray([gold[i][0] == 1 for i in train]))
    logger.info("cosine head starts at the recipe: threshold %.4f on %d training pairs, scale %.1f", t, len(train), a)


def _cached_forward(
    backend: TorchBackend, head: Head, per_example: list[list[Unit]], stride: int, progress: Reporter
) -> Forward:
    """Frozen encoder: every layer's group vectors computed once, (G, L+1, D); the head trains on the cache."""
    feats, starts = [], [0]
    with progress.task("features (frozen encoder, once)", len(per_example), "examples") as task:
        for s in range(0, len(per_example), 32):
            chunk = per_example[s : s + 32]
            feats.append(vectors(backend, [u for us in chunk for u in us], stride, all_layers=True))
            starts.extend(starts[-1] + sum(len(u.groups) for u in us) for us in chunk)
            task.advance(len(chunk))
    cache = torch.cat(feats)  # (G, L+1, D)

    def forward(indices: Sequence[int]) -> torch.Tensor:
        rows = torch.cat([torch.arange(starts[i], starts[i + 1]) for i in indices])
        logits: torch.Tensor = head(cache[rows.to(cache.device)])
        return logits

    return forward


def _live_forward(
    backend: TorchBackend, head: Head, per_example: list[list[Unit]], stride: int, layers: LayerSelection
) -> Forward:
    def forward(indices: Sequence[int]) -> torch.Tensor:
        batch = [u for i in indices for u in per_example[i]]
        logits: torch.Tensor = head(vectors(backend, batch, stride, all_layers=False, layers=layers))
        return logits

    return forward


def _recipe(info: ModelInfo, frozen: bool, task: str, layers: LayerSelection, context_only: bool) -> dict[str, Any]:
    """The folder's full recipe: word defaults as below, and the base model's sentence pooling, written out (the
    saved folder has no sentence-transformers modules to read it from)."""
    base = info.recipe
    if frozen:  # the encoder is unchanged: keep its recipe
        word = Recipe(base.layers, base.context_only, f"{info.model_id}'s recipe, encoder frozen. {base.evidence}")
    elif task == "wic":  # the head read the base recipe's vectors: they stay the default, now sharpened
        why = f"fine-tuned on word-in-context pairs through {info.model_id}'s recipe (cosine head)"
        word = Recipe(list(layers.indices), context_only, why)
    else:
        word = Recipe(-1, False, "fine-tuned: the head reads the top layer")
    sentence = info.sentence_recipe if not info.sentence_recipe.unsupported else DEFAULT_SENTENCE_RECIPE
    return recipe_file_content(word, sentence)


def _meta(result: FinetuneResult, base: str, frozen: bool, num_layers: int, cfg: FinetuneConfig) -> dict[str, Any]:
    return {
        "task": result.task,
        "labels": result.labels,
        "base_model": base,
        "unfreeze": result.unfreeze,
        "n_states": num_layers + 1 if frozen else None,
        "layer_weights": result.layer_weights,
        "n_train": result.n_train,
        "n_val": result.n_val,
        "val_accuracy": result.val_accuracy,
        "history": asdict(result.history),
        "config": asdict(cfg),
        "seconds": round(result.seconds, 1),
    }
