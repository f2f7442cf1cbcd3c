"""The output folder: an ordinary transformers model folder (encoder + tokenizer) that `Embedder(DIR)` loads,
plus contextvec's recipe for it, the trained head and a record of the run.

    config.json, model.safetensors, tokenizer files   the (fine-tuned) encoder, transformers' format
    contextvec_recipe.json                            default layers for word/token/span vectors
    head.safetensors, finetune.json                   the head's weights; task, labels, mode, scores
    checkpoint.pt                                     the last epoch's training state (for --resume)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contextvec.errors import InputFileError, OptionError, OutputPathError
from contextvec.finetune.heads import Head, make_head
from contextvec.models.backend import TorchBackend
from contextvec.models.recipes import RECIPE_FILE

HEAD_FILE = "head.safetensors"
META_FILE = "finetune.json"
CHECKPOINT = "checkpoint.pt"


def check_out(out: Path, resume: bool, overwrite: bool = False) -> None:
    """Before any work: `out` must be new or empty, or a fine-tuning folder to continue (`resume`) or replace
    (`overwrite`, which deletes its checkpoint first) — the way `train` and `index build` treat their folders."""
    if resume and overwrite:
        raise OptionError("--resume continues the run in --out and --overwrite replaces it; choose one.")
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"--out {out} is a file; give a folder for the fine-tuned model.")
    ours = (out / META_FILE).exists() or (out / CHECKPOINT).exists()
    if out.is_dir() and any(out.iterdir()) and not ours:
        raise OutputPathError(f"--out {out} is a non-empty folder that is not a fine-tuning output; use a new folder.")
    if resume and not (out / CHECKPOINT).is_file():
        raise OutputPathError(f"--resume: {out / CHECKPOINT} does not exist; run once without --resume first.")
    if ours and not resume and not overwrite:
        raise OutputPathError(
            f"--out {out} already holds a fine-tuned model; add --resume to continue its run, --overwrite to "
            "replace it, or choose another --out."
        )
    if overwrite:
        (out / CHECKPOINT).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def save_folder(out: Path, backend: TorchBackend, head: Head, meta: dict[str, Any], recipe: dict[str, Any]) -> None:
    from safetensors.torch import save_file
    from transformers.utils import logging as hf_logging

    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # a local save's bar is noise
    try:
        backend.model.save_pretrained(out)
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
    backend.hf_tokenizer.save_pretrained(out)
    (out / RECIPE_FILE).write_text(json.dumps(recipe, indent=1), encoding="utf-8")
    save_file({k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}, str(out / HEAD_FILE))
    (out / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")


def load_folder(folder: str | Path) -> tuple[TorchBackend, Head, dict[str, Any]]:
    """The encoder (eval mode), the head and the run record of a fine-tuning folder; a missing, malformed or
    mismatched finetune.json or head.safetensors is an InputFileError naming the file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    meta_path, head_path = folder / META_FILE, folder / HEAD_FILE
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(
            f"{folder} is not a fine-tuned model folder ({META_FILE}: {exc}); make one with `contextvec finetune`."
        ) from None
    problem = _meta_problem(meta)
    if problem:
        raise InputFileError(f"{meta_path} is malformed: {problem}; run `contextvec finetune` again to remake it.")
    backend = TorchBackend.load(str(folder))
    dim, n_labels = backend.info.hidden_size, len(meta["labels"])
    head = make_head(
        meta["task"], dim, n_labels, meta.get("n_states"), meta.get("layers"), meta.get("context_only", False)
    )
    try:
        head.load_state_dict(load_file(str(head_path)))
    except (OSError, SafetensorError, RuntimeError) as exc:  # missing, damaged, or weights of another shape
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise InputFileError(
            f"{head_path} does not hold this folder's {meta['task']} head ({first}); run `contextvec finetune` again."
        ) from None
    return backend, head.to(backend.device).eval(), meta


def _meta_problem(meta: Any) -> str | None:
    """What is wrong with a finetune.json's fields the loader relies on, or None."""
    from contextvec.finetune.data import TASKS

    if not isinstance(meta, dict):
        return f"a JSON {type(meta).__name__}, not an object"
    if meta.get("task") not in TASKS:
        return f"task {meta.get('task')!r} is not one of {', '.join(TASKS)}"
    labels = meta.get("labels")
    if not (isinstance(labels, list) and len(labels) >= 2 and all(isinstance(x, str) for x in labels)):
        return f"labels must be a list of two or more strings, got {labels!r}"
    n_states, layers = meta.get("n_states"), meta.get("layers")
    if n_states is not None and not (isinstance(n_states, int) and n_states >= 1):
        return f"n_states must be null or an integer >= 1, got {n_states!r}"
    if layers is not None and not (isinstance(layers, list) and all(isinstance(x, int) for x in layers)):
        return f"layers must be null or a list of integers, got {layers!r}"
    if not isinstance(meta.get("context_only", False), bool):
        return f"context_only must be true or false, got {meta.get('context_only')!r}"
    return None
