"""Library calls leave the process as they found it: os.environ, the root logger's level and handlers, torch's
thread count and torch's global RNG are the same after `build_index`, `finetune`, `train` and the ONNX export."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from tiny_models import CORPUS, tiny_bert
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.models.backend import TorchBackend


@pytest.fixture
def distinctive_state() -> Iterator[None]:
    """Put the process in a state no library default would produce (so a change is visible), then restore it."""
    root = logging.getLogger()
    level, threads = root.level, torch.get_num_threads()
    rng = torch.get_rng_state()
    root.setLevel(logging.INFO + 3)
    torch.set_num_threads(max(1, threads - 1) if threads > 1 else 1)
    torch.manual_seed(20240607)
    try:
        yield
    finally:
        root.setLevel(level)
        torch.set_num_threads(threads)
        torch.set_rng_state(rng)


def _snapshot() -> dict[str, Any]:
    root = logging.getLogger()
    return {
        "os.environ": dict(os.environ),
        "root logger level": root.level,
        "root logger handlers": list(root.handlers),
        "torch threads": torch.get_num_threads(),
        "torch global RNG": torch.get_rng_state().clone(),
    }


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    for key, was in before.items():
        now = after[key]
        same = torch.equal(was, now) if isinstance(was, torch.Tensor) else was == now
        if not same:
            out.append(key if key != "os.environ" else f"os.environ: {set(was.items()) ^ set(now.items())}")
    return out


def _build_index(tmp: Path, tok: PreTrainedTokenizerFast, bert: Embedder) -> Callable[[], object]:
    pytest.importorskip("lancedb")
    from contextvec.index import build_index

    src = tmp / "c.txt"
    src.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    return lambda: build_index(src, tmp / "idx", model="tiny-bert", embedder=bert, shard_rows=60, batch_docs=4)


def _finetune(tmp: Path, tok: PreTrainedTokenizerFast, bert: Embedder) -> Callable[[], object]:
    from contextvec.finetune import FinetuneConfig, finetune
    from contextvec.finetune.data import TextExample

    rows = [("the river bank was muddy", "river"), ("the bank lent money", "money")] * 4
    data = [TextExample(text, label, f"x:{i}") for i, (text, label) in enumerate(rows)]
    backend = TorchBackend(tiny_bert(tok), tok, "tiny-bert", device="cpu")
    cfg = FinetuneConfig(unfreeze="all", epochs=2, batch_size=4, val_share=0.25)
    return lambda: finetune("classify", data, out=tmp / "ft", model=backend, config=cfg)


def _train(tmp: Path, tok: PreTrainedTokenizerFast, bert: Embedder) -> Callable[[], object]:
    from contextvec.train import LoopConfig, NetConfig, train

    rnd = random.Random(0)
    lines = [" ".join(rnd.sample(CORPUS, 2)) for _ in range(20)]
    (tmp / "t.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    net = NetConfig(dim=16, hidden=16, num_layers=1, heads=2, vocab_size=120, min_count=1, seq_len=16, dropout=0.1)
    loop = LoopConfig(steps=3, batch_size=4, checkpoint_every=2, log_every=1)
    return lambda: train("mlm", tmp / "t.txt", tmp / "tr", net=net, loop=loop)


def _onnx_export(tmp: Path, tok: PreTrainedTokenizerFast, bert: Embedder) -> Callable[[], object]:
    pytest.importorskip("onnxruntime")
    from contextvec.models import onnx_export

    model = tiny_bert(tok)
    return lambda: onnx_export.onnx_entry(model, "tiny-bert", "int8")  # float32 export, then quantization


def _task_embeddings(tmp: Path, tok: PreTrainedTokenizerFast, bert: Embedder) -> Callable[[], object]:
    from contextvec.static.task import demo_baskets, train_task_embeddings

    baskets = demo_baskets()[:200]
    return lambda: train_task_embeddings(baskets, dim=4, epochs=1)


def _linear_probe(tmp: Path, tok: PreTrainedTokenizerFast, bert: Embedder) -> Callable[[], object]:
    import numpy as np

    from contextvec.eval.probes import linear_probe

    x = np.random.default_rng(0).normal(size=(20, 3))
    y = ["a" if v > 0 else "b" for v in x[:, 0]]
    return lambda: linear_probe(x, y, x, y, epochs=5)


CALLS = {
    "build_index": _build_index,
    "finetune": _finetune,
    "train": _train,
    "onnx_export": _onnx_export,
    "task_embeddings": _task_embeddings,
    "linear_probe": _linear_probe,
}


@pytest.mark.parametrize("call", list(CALLS))
def test_a_library_call_leaves_the_process_as_it_found_it(
    call: str,
    tmp_path: Path,
    wordpiece_tokenizer: PreTrainedTokenizerFast,
    bert_embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    distinctive_state: None,
) -> None:
    monkeypatch.setenv("CONTEXTVEC_CACHE", str(tmp_path / "cache"))  # set before the snapshot: not the call's
    run = CALLS[call](tmp_path, wordpiece_tokenizer, bert_embedder)  # models are built here, outside the check
    before = _snapshot()
    run()
    assert _changed(before, _snapshot()) == []
