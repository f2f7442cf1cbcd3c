"""`contextvec train`: each kind learns (the loss falls), its folder round-trips through Embedder with the same
numbers as transformers (or the biLM) computes from the saved weights, runs are seeded, and checkpoints resume."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.cli.main import app
from contextvec.errors import CheckpointError, OptionError, OutputPathError
from contextvec.models.elmo import BOS, EOS, ElmoBiLM, ElmoConfig
from contextvec.train import LoopConfig, NetConfig, train
from contextvec.train.checkpoint import list_checkpoints, load_checkpoint
from contextvec.train.tasks import SubwordTask

NET = NetConfig(dim=16, hidden=16, num_layers=2, heads=2, vocab_size=120, min_count=1, seq_len=16, dropout=0.1)
TEXT = "The teacher sat on the river bank."


def _loop(**kw: object) -> LoopConfig:
    base = {"steps": 30, "batch_size": 8, "lr": 1e-2, "warmup": 3, "checkpoint_every": 10, "log_every": 5}
    return LoopConfig(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rnd = random.Random(0)
    subj = ["the cat", "a dog", "the bank", "my friend", "the river", "a bird", "the teacher"]
    verb = ["sat on", "looked at", "walked to", "ran past", "slept near"]
    obj = ["the mat", "the river bank", "a big tree", "the old house", "the money"]
    lines = [
        " ".join(f"{rnd.choice(subj).capitalize()} {rnd.choice(verb)} {rnd.choice(obj)}." for _ in range(3))
        for _ in range(40)
    ]
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trained")
    return {k: train(k, corpus, root / k, net=NET, loop=_loop()).folder for k in ("elmo", "mlm", "causal")}


@pytest.mark.parametrize("kind", ["elmo", "mlm", "causal"])
def test_loss_falls_and_heldout_perplexity_is_reported(trained: dict[str, Path], kind: str) -> None:
    log = [json.loads(line) for line in (trained[kind] / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [5, 10, 15, 20, 25, 30]
    assert log[-1]["loss"] < 0.85 * log[0]["loss"], [r["loss"] for r in log]
    summary = json.loads((trained[kind] / "training.json").read_text())
    assert summary["steps"] == 30 and summary["heldout_documents"] == 4  # every 10th of 40 lines
    assert 1 < summary["heldout"]["perplexity"] < NET.vocab_size


@pytest.mark.parametrize("kind", ["mlm", "causal"])
def test_subword_folder_round_trips_through_embedder(trained: dict[str, Path], kind: str) -> None:
    from transformers import AutoModel, AutoTokenizer

    folder = trained[kind]
    emb = Embedder(str(folder), device="cpu")
    assert emb.info.causal == (kind == "causal") and emb.num_states == NET.num_layers + 1
    tok = AutoTokenizer.from_pretrained(str(folder))
    ref_model = AutoModel.from_pretrained(str(folder)).eval()
    enc = tok(TEXT, return_tensors="pt")
    with torch.no_grad():
        hidden = ref_model(**enc, output_hidden_states=True).hidden_states  # (L+1) x (1, T, D)
    n_special = 1 if kind == "mlm" else 0  # [CLS] ... [SEP] around the content, or nothing
    for layer in range(NET.num_layers + 1):
        got = emb.embed_tokens([TEXT], layers=layer).vectors
        k = min(len(got), NET.seq_len - 2 * n_special)  # the first window's tokens (a tiny BPE cuts into bytes)
        ref = hidden[layer][0, n_special : n_special + k].numpy()
        np.testing.assert_allclose(got[:k], ref, atol=1e-5, rtol=0)
    again = Embedder(str(folder), device="cpu").embed_words([TEXT]).vectors
    np.testing.assert_array_equal(emb.embed_words([TEXT]).vectors, again)


def test_elmo_folder_round_trips_through_embedder(trained: dict[str, Path]) -> None:
    folder = trained["elmo"]
    final = load_checkpoint(list_checkpoints(folder)[-1])  # the weights the loop ended with
    cfg = ElmoConfig.from_json(json.loads((folder / "config.json").read_text()))
    model = ElmoBiLM(cfg).eval()
    model.load_state_dict(final["model"])
    emb = Embedder(str(folder), device="cpu")
    ids = emb.backend.tokenize([TEXT])[0].ids
    row = torch.tensor([[BOS, *ids.tolist(), EOS]])
    with torch.no_grad():
        states = model(row, torch.ones_like(row))
    for layer in range(3):
        np.testing.assert_allclose(emb.embed_words([TEXT], layers=layer).vectors, states[layer][0, 1:-1], atol=1e-6)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind", ["elmo", "mlm"])
def test_seeded_runs_repeat_and_resume_continues_the_same_run(corpus: Path, tmp_path: Path, kind: str) -> None:
    whole = train(kind, corpus, tmp_path / "whole", net=NET, loop=_loop(steps=8, checkpoint_every=4, log_every=1))
    again = train(kind, corpus, tmp_path / "again", net=NET, loop=_loop(steps=8, checkpoint_every=4, log_every=1))
    other = train(kind, corpus, tmp_path / "other", net=NET, loop=_loop(steps=8, seed=1, log_every=1))
    assert _same(_weights(whole.folder), _weights(again.folder))
    assert not _same(_weights(whole.folder), _weights(other.folder))
    first = train(kind, corpus, tmp_path / "split", net=NET, loop=_loop(steps=4, checkpoint_every=4, log_every=1))
    assert first.steps == 4
    resumed = train(kind, corpus, tmp_path / "split", loop=_loop(steps=8, checkpoint_every=4, log_every=1), resume=True)
    assert resumed.steps == 8 and _same(_weights(whole.folder), _weights(resumed.folder))
    steps = [json.loads(x)["step"] for x in (tmp_path / "split" / "train_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))  # the resumed run went on from step 5


def test_interrupted_run_leaves_a_loadable_folder_and_resumes(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = SubwordTask.batch, []

    def interrupted(self: SubwordTask, gen: torch.Generator, size: int) -> object:
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt  # Ctrl-C during step 6
        return real(self, gen, size)

    monkeypatch.setattr(SubwordTask, "batch", interrupted)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train("causal", corpus, out, net=NET, loop=_loop(steps=20, checkpoint_every=100))
    assert [p.name for p in list_checkpoints(out)] == ["step-00000005.ckpt"]
    assert Embedder(str(out), device="cpu").embed_words([TEXT]).vectors.shape == (8, NET.dim)
    monkeypatch.setattr(SubwordTask, "batch", real)
    assert train("causal", corpus, out, loop=_loop(steps=9), resume=True).steps == 9


def test_corrupt_or_half_written_checkpoint_is_refused(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train("elmo", corpus, out, net=NET, loop=_loop(steps=6, checkpoint_every=3))
    older, newest = list_checkpoints(out)
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])  # half-written
    with pytest.raises(CheckpointError, match=r"corrupt or half-written.*delete it to resume from .*step-00000003"):
        train("elmo", corpus, out, loop=_loop(steps=9), resume=True)
    flipped = bytearray(data)
    flipped[-100] ^= 0xFF  # one damaged byte
    newest.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="corrupt or half-written"):
        train("elmo", corpus, out, loop=_loop(steps=9), resume=True)
    newest.write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(CheckpointError, match="not a contextvec checkpoint"):
        train("elmo", corpus, out, loop=_loop(steps=9), resume=True)
    newest.unlink()  # as the message says: the previous checkpoint takes over
    assert train("elmo", corpus, out, loop=_loop(steps=4), resume=True).steps == 4 and older.exists()


def test_run_mistakes_are_clear_errors(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="--steps N and/or --max-minutes"):
        train("elmo", corpus, tmp_path / "a", net=NET, loop=LoopConfig())
    with pytest.raises(OptionError, match="not one of elmo, mlm, causal"):
        train("bert", corpus, tmp_path / "a", loop=_loop())
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        train("elmo", corpus, tmp_path / "a", loop=_loop(), resume=True)
    train("elmo", corpus, tmp_path / "b", net=NET, loop=_loop(steps=2))
    with pytest.raises(OutputPathError, match="add --resume"):
        train("elmo", corpus, tmp_path / "b", net=NET, loop=_loop(steps=2))
    with pytest.raises(OptionError, match="keeps its network"):
        train("elmo", corpus, tmp_path / "b", net=replace(NET, dim=32), loop=_loop(steps=4), resume=True)
    with pytest.raises(CheckpointError, match="from a elmo run on other text"):
        train("mlm", corpus, tmp_path / "b", loop=_loop(steps=4), resume=True)


def test_cli_trains_a_folder_that_compare_loads(corpus: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["train", "elmo", str(corpus), "--out", str(out), "--steps", "3", "--dim", "16", "--vocab-size", "100"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "trained elmo for 3 steps" in result.output
    result = runner.invoke(app, ["compare", "the river bank", "the bank sat", "--word", "bank", "--model", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["train", "elmo", str(corpus), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--max-minutes" in result.output


@pytest.mark.parametrize("kind", ["elmo", "mlm", "causal"])
def test_trained_folders_carry_their_full_recipe(trained: dict[str, Path], kind: str) -> None:
    from contextvec.models.recipes import RECIPE_FILE

    written = json.loads((trained[kind] / RECIPE_FILE).read_text())
    assert written["layers"] == -1 and written["context_only"] is False
    assert written["sentence"] == {"pooling": "mean", "normalize": False, "max_seq_length": None}
    info = Embedder(str(trained[kind]), device="cpu").info
    assert RECIPE_FILE in info.recipe.source and RECIPE_FILE in info.sentence_recipe.source
