"""Training and fine-tuning runs that end honestly: no stand-in scores without validation, no silent defaults for
explicit zeros, logged losses that are the mean they claim, errors that propagate unchanged, checkpoints that are
verified before anything in them runs, and output folders that are not silently replaced (issue 26)."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from tiny_models import tiny_bert
from transformers import PreTrainedTokenizerFast
from typer.testing import CliRunner

from contextvec.cli.main import app
from contextvec.errors import CheckpointError, OptionError, OutputPathError
from contextvec.finetune import FinetuneConfig, finetune
from contextvec.finetune.config import split_validation
from contextvec.finetune.data import PairExample, read_examples
from contextvec.finetune.folder import CHECKPOINT
from contextvec.io.atomic import HEADER, MAGIC
from contextvec.models.backend import TorchBackend
from contextvec.train import LoopConfig, NetConfig, train
from contextvec.train.batches import Batch
from contextvec.train.checkpoint import list_checkpoints
from contextvec.train.checkpoint import write_state as write_checked
from contextvec.train.loop import LoopState, run_loop
from contextvec.train.tasks import SubwordTask

SENTS = ["the river bank was wet", "we sat on the river bank", "the bank approved a loan", "a loan from the bank"]


def backend(tok: PreTrainedTokenizerFast) -> TorchBackend:
    return TorchBackend(tiny_bert(tok), tok, "tiny-bert", device="cpu")


def wic_rows(words: list[str]) -> list[dict[str, Any]]:
    """One pair per entry of `words` (that word is its key); the 'bank' spans of two sentences, same sense or not."""
    rows = []
    for i, word in enumerate(words):
        a, b = SENTS[i % 2], SENTS[(i // 2) % 2 + 2 * (i % 3 == 0)]
        s1, s2 = a.index("bank"), b.index("bank")
        rows.append(dict(word=word, sentence1=a, start1=s1, end1=s1 + 4, sentence2=b, start2=s2, end2=s2 + 4))
        rows[-1]["label"] = (i % 2) == ((i // 2) % 2 + 2 * (i % 3 == 0)) % 2
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def pairs(words: list[str], tmp_path: Path) -> list[PairExample]:
    examples = read_examples("wic", write_jsonl(tmp_path / f"pairs{len(words)}.jsonl", wic_rows(words)))
    return [e for e in examples if isinstance(e, PairExample)]


# --- finetune: no validation split -----------------------------------------------------------------------------


def test_wic_with_one_word_trains_every_epoch_and_reports_no_accuracy(tmp_path: Path, model_dir: str) -> None:
    """Every pair has the word 'bank', so no validation split by word: the run keeps its last epoch (not the start)
    and says there is no validation accuracy (it printed "best validation accuracy -0.000" and kept the start)."""
    data = write_jsonl(tmp_path / "wic.jsonl", wic_rows(["bank"] * 12))
    args = ["finetune", "wic", str(data), "--model", model_dir, "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--unfreeze", "all", "--epochs", "2", "--lr", "0.05"])
    assert result.exit_code == 0, result.output
    assert "-0.000" not in result.output and "validation accuracy" not in result.output.replace("no validation ac", "")
    assert "no validation (every pair has the word 'bank'" in result.output and "kept epoch 2" in result.output
    meta = json.loads((tmp_path / "out" / "finetune.json").read_text())
    assert meta["n_val"] == 0 and meta["val_accuracy"] is None and meta["history"]["best_epoch"] == 2
    assert [e["val_accuracy"] for e in meta["history"]["epochs"]] == [None, None]
    before = load_file(str(Path(model_dir) / "model.safetensors"))
    after = load_file(str(tmp_path / "out" / "model.safetensors"))
    changed = [k for k in before if k in after and not torch.equal(before[k], after[k])]
    assert changed, "the trained encoder was thrown away"


def test_wic_split_by_word_keeps_close_to_the_share(tmp_path: Path) -> None:
    """One word with 45 pairs and three with 5: a 10% share is at most 6 pairs, whatever the seed (it held out
    the 45-pair word for some seeds: 15 training / 45 validation)."""
    examples = pairs(["big"] * 45 + ["a"] * 5 + ["b"] * 5 + ["c"] * 5, tmp_path)
    for seed in range(12):
        train_idx, val_idx = split_validation(examples, 0.1, seed)
        assert 1 <= len(val_idx) <= 6 and len(train_idx) + len(val_idx) == 60, (seed, len(val_idx))
        held = {examples[i].pair.word for i in val_idx}
        assert held.isdisjoint(examples[i].pair.word for i in train_idx)
    assert split_validation(examples, 0.0, 0)[1] == []
    assert split_validation(pairs(["big"] * 45 + ["a"] * 50, tmp_path), 0.1, 0)[1] == []  # none fits: none, not 45
    assert len(split_validation(pairs(["a"] * 10 + ["b"] * 30, tmp_path), 0.1, 0)[1]) == 10  # the smallest, 1/4


@pytest.mark.parametrize(
    ("option", "match"),
    [({"epochs": 0}, r"epochs=0 must be >= 1"), ({"lr": 0.0}, r"lr=0\.0 must be > 0"), ({"head_lr": 0.0}, "head_lr")],
)
def test_explicit_zero_is_refused_not_replaced_by_the_default(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast, option: dict[str, Any], match: str
) -> None:
    with pytest.raises(OptionError, match=match):
        FinetuneConfig(**option).resolved(False, "classify")
    data = tmp_path / "toy.csv"
    data.write_text("text,label\n" + "".join(f"{s},{i % 2}\n" for i, s in enumerate(SENTS * 2)), encoding="utf-8")
    with pytest.raises(OptionError, match=match):
        finetune(
            "classify", data, out=tmp_path / "o", backend=backend(wordpiece_tokenizer), config=FinetuneConfig(**option)
        )
    assert not (tmp_path / "o").exists()  # refused before any work


# --- finetune: its output folder and its checkpoint --------------------------------------------------------------


def test_finetune_refuses_to_replace_a_fine_tuned_folder_without_overwrite(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast, model_dir: str
) -> None:
    data = tmp_path / "toy.csv"
    data.write_text("text,label\n" + "".join(f"{s},{i // 2}\n" for i, s in enumerate(SENTS * 2)), encoding="utf-8")
    cfg = FinetuneConfig(epochs=1)
    finetune("classify", data, out=tmp_path / "out", model=backend(wordpiece_tokenizer), config=cfg)
    first = (tmp_path / "out" / "head.safetensors").read_bytes()
    with pytest.raises(OutputPathError, match=r"already holds a fine-tuned model; add --resume .* --overwrite"):
        finetune("classify", data, out=tmp_path / "out", model=backend(wordpiece_tokenizer), config=cfg)
    assert (tmp_path / "out" / "head.safetensors").read_bytes() == first  # untouched
    again = FinetuneConfig(epochs=1, seed=3)
    finetune("classify", data, out=tmp_path / "out", model=backend(wordpiece_tokenizer), config=again, overwrite=True)
    assert (tmp_path / "out" / "head.safetensors").read_bytes() != first
    args = ["finetune", "classify", str(data), "--model", model_dir, "--out", str(tmp_path / "out"), "--epochs", "1"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert CliRunner().invoke(app, [*args, "--overwrite"]).exit_code == 0


class _Runs:
    """Unpickling this runs code: it creates the file named in its state."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def test_finetune_resume_verifies_its_checkpoint_and_runs_no_pickled_code(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    data = tmp_path / "toy.csv"
    data.write_text("text,label\n" + "".join(f"{s},{i // 2}\n" for i, s in enumerate(SENTS * 2)), encoding="utf-8")
    cfg = FinetuneConfig(epochs=2, patience=10)
    out = tmp_path / "out"
    finetune("classify", data, out=out, model=backend(wordpiece_tokenizer), config=cfg)
    ckpt = out / CHECKPOINT
    good = ckpt.read_bytes()
    assert good.startswith(MAGIC)  # the checksummed layout train/ uses

    def resume() -> None:
        finetune("classify", data, out=out, model=backend(wordpiece_tokenizer), config=cfg, resume=True)

    marker = tmp_path / "pwned"
    torch.save({"epoch": _Runs(str(marker))}, ckpt)  # a plain torch.save file someone handed over
    with pytest.raises(CheckpointError, match=r"checkpoint\.pt is not a contextvec checkpoint"):
        resume()
    payload = pickle.dumps({"epoch": _Runs(str(marker))}, protocol=2)
    ckpt.write_bytes(good[: len(MAGIC)] + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    with pytest.raises(CheckpointError, match=r"holds more than tensors and plain values, refused unread"):
        resume()
    assert not marker.exists(), "loading the checkpoint ran code"
    damaged = bytearray(good)
    damaged[HEADER + 200] ^= 0xFF
    ckpt.write_bytes(bytes(damaged))
    with pytest.raises(CheckpointError, match=r"corrupt or half-written.*delete .*checkpoint\.pt"):
        resume()
    write_checked(ckpt, {"epoch": 1})
    with pytest.raises(CheckpointError, match=r"lacks bad, best"):
        resume()
    ckpt.write_bytes(good)
    resume()  # the genuine one still resumes


# --- train: the loop's log, its errors, --num-layers -------------------------------------------------------------


class _CountingTask:
    """A task whose loss at step i is exactly i (plus 0 x a weight, so backward and the optimizer run)."""

    kind = "mlm"

    def __init__(self) -> None:
        self.model = torch.nn.Linear(1, 1)
        self.i = 0

    def batch(self, gen: torch.Generator, size: int) -> Batch:
        return Batch(ids=torch.zeros(1, 1, dtype=torch.long), mask=torch.ones(1, 1), labels=None, tokens=1)

    def loss(self, batch: Batch) -> torch.Tensor:
        self.i += 1
        return self.model.weight.sum() * 0 + float(self.i)


@pytest.mark.parametrize("log_every", [5, 60, 75])
def test_logged_loss_is_the_mean_of_the_steps_since_the_last_row(tmp_path: Path, log_every: int) -> None:
    task = _CountingTask()
    opt = torch.optim.SGD(task.model.parameters(), lr=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    loop = LoopConfig(steps=2 * log_every, log_every=log_every, checkpoint_every=10_000)
    log = tmp_path / "log.jsonl"
    run_loop(task, opt, sched, torch.Generator(), LoopState(), loop, log_path=log, checkpoint=lambda: None)  # type: ignore[arg-type]
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    n = log_every
    assert [r["step"] for r in rows] == [n, 2 * n]
    assert rows[0]["loss"] == pytest.approx(sum(range(1, n + 1)) / n)  # steps 1..n
    assert rows[1]["loss"] == pytest.approx(sum(range(n + 1, 2 * n + 1)) / n)  # steps n+1..2n


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    path.write_text("\n".join(f"{s} number {i}." for i, s in enumerate(SENTS * 8)) + "\n", encoding="utf-8")
    return path


NET = NetConfig(dim=16, hidden=16, num_layers=1, heads=2, vocab_size=120, min_count=1, seq_len=16)


def test_an_error_in_training_propagates_and_writes_nothing(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only Ctrl-C and SIGTERM save the run; a bug (here at step 4) surfaces as itself, and no half-done state
    is checkpointed or exported as a model (it used to write both from a `finally`)."""
    real, calls = SubwordTask.loss, []

    def broken(self: SubwordTask, batch: Batch) -> torch.Tensor:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("a bug in step 4")
        return real(self, batch)

    monkeypatch.setattr(SubwordTask, "loss", broken)
    out = tmp_path / "run"
    loop = LoopConfig(steps=10, batch_size=4, checkpoint_every=100, log_every=1)
    with pytest.raises(RuntimeError, match="a bug in step 4"):
        train("mlm", corpus, out, net=NET, loop=loop)
    assert list_checkpoints(out) == [] and not (out / "training.json").exists()
    assert not (out / "config.json").exists()


def test_train_num_layers_counts_and_the_old_spelling_warns(corpus: Path, tmp_path: Path) -> None:
    base = ["train", "causal", str(corpus), "--steps", "1", "--dim", "16", "--vocab-size", "100", "--seq-len", "16"]
    new = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "a"), "--num-layers", "3"])
    assert new.exit_code == 0, new.output
    assert json.loads((tmp_path / "a" / "config.json").read_text())["num_hidden_layers"] == 3
    assert "deprecated" not in new.output
    old = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "b"), "--layers", "3"])
    assert old.exit_code == 0, old.output
    assert "`train --layers N` is deprecated" in old.output and "--num-layers" in old.output
    assert json.loads((tmp_path / "b" / "config.json").read_text())["num_hidden_layers"] == 3
    both = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "c"), "--layers", "3", "--num-layers", "2"])
    assert both.exit_code == 2 and "give only --num-layers" in both.output
    with pytest.warns(DeprecationWarning, match="num_layers"):
        assert NetConfig(layers=3).num_layers == 3  # type: ignore[call-arg]
