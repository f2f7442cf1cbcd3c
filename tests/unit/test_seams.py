"""Paths that cross two features (issue 26): each one works, or refuses with one clear ContextvecError line.

Every test here failed on the code before the fix it guards (static models in `embed`, a transformers folder
with a vocab.txt, index resume with another spelling of the same layers, `embedder=` against `model=`, leaks of
the Ray engine and the shard writer, `doc_ids=[]`, `inflect` with `any_word`, devices and unknown options of
`Embedder`, one error prefix, and free text searched without --level sentence).
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from tiny_models import CORPUS
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.cli.main import app
from contextvec.errors import IndexStateError, InvalidInputError, OptionError

runner = CliRunner()
DOCS = [f"{line} Line {i} ends here." for i, line in enumerate(CORPUS)]


def _w2v(path: Path) -> Path:
    rng = np.random.default_rng(0)
    words = ["we", "sat", "on", "the", "bank", "river", "loan"]
    lines = [f"{len(words)} 4"] + [w + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=4)) for w in words]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_embed_runs_a_static_model(tmp_path: Path) -> None:
    """The CLI passes --backend torch and --model-dtype float32 to every loader: at their defaults they change
    nothing, so a static model takes them (it refused every option before)."""
    vectors = _w2v(tmp_path / "w2v.txt")
    src = tmp_path / "in.txt"
    src.write_text("We sat on the bank.\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    result = runner.invoke(app, ["embed", str(src), "--out", str(out), "--model", str(vectors)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column("text").to_pylist() == ["We", "sat", "on", "the", "bank"]
    from contextvec.static.formats import load_vectors

    bank = load_vectors(vectors).lookup("bank")
    assert bank is not None
    np.testing.assert_allclose(table.column("vector").to_pylist()[-1], bank, atol=1e-6)
    bad = runner.invoke(app, ["embed", str(src), "--out", str(out), "--model", str(vectors), "--backend", "onnx"])
    assert bad.exit_code == 2 and "static vector model: backend='onnx'" in bad.output


def test_a_transformers_folder_with_vocab_txt_is_a_contextual_model(model_dir: str, tmp_path: Path) -> None:
    """A BERT folder as users have it (minilm's own folder, hub downloads) holds a WordPiece vocab.txt beside
    config.json: it is no static vector folder."""
    from contextvec.loader import load_embedder

    folder = tmp_path / "my-bert"
    folder.mkdir()
    for f in Path(model_dir).iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    vocab = json.loads((Path(model_dir) / "tokenizer.json").read_text())["model"]["vocab"]
    (folder / "vocab.txt").write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n", encoding="utf-8")
    emb = load_embedder(str(folder))
    assert isinstance(emb, Embedder) and emb.contextual
    result = runner.invoke(app, ["compare", "the bank", "a river bank", "--word", "bank", "--model", str(folder)])
    assert result.exit_code == 0, result.output
    half = tmp_path / "half"  # a vector folder missing its vectors: the message names both kinds of folder
    half.mkdir()
    (half / "vocab.txt").write_text("a\n")
    bad = runner.invoke(app, ["compare", "a x", "a y", "--word", "a", "--model", str(half)])
    assert bad.exit_code == 2 and "vectors.npy and vocab.txt" in bad.output


def _build(src: Path, out: Path, emb: Embedder, **kw: Any) -> Any:
    from contextvec.index import build_index

    return build_index(src, out, model="tiny-bert", embedder=emb, shard_rows=60, batch_docs=4, **kw)


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    pytest.importorskip("lancedb")
    path = tmp_path / "c.txt"
    path.write_text("\n".join(DOCS[:6]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("first", "again"), [("-1", -1), (-1, [-1]), ("1:3", [1, 2]), ("0,2", "0, 2")])
def test_resume_takes_any_spelling_of_the_same_layers(
    corpus_file: Path, tmp_path: Path, bert_embedder: Embedder, first: Any, again: Any
) -> None:
    m = _build(corpus_file, tmp_path / "idx", bert_embedder, layers=first)
    again_m = _build(corpus_file, tmp_path / "idx", bert_embedder, layers=again)
    assert again_m.complete and again_m.rows == m.rows and again_m.layers == m.layers
    with pytest.raises(IndexStateError, match="holds a different index"):
        _build(corpus_file, tmp_path / "idx", bert_embedder, layers=1)


def test_build_refuses_an_embedder_that_is_not_model(
    corpus_file: Path, tmp_path: Path, bert_embedder: Embedder
) -> None:
    from contextvec.index import build_index

    with pytest.raises(OptionError, match="embedder= is 'tiny-bert' but model='minilm'"):
        build_index(corpus_file, tmp_path / "idx", model="minilm", embedder=bert_embedder)
    assert not (tmp_path / "idx").exists()


def test_search_filters_refuse_what_they_cannot_mean(
    corpus_file: Path, tmp_path: Path, bert_embedder: Embedder
) -> None:
    from contextvec.index import Index

    _build(corpus_file, tmp_path / "idx", bert_embedder)
    idx = Index.open(tmp_path / "idx", embedder=bert_embedder)
    s = DOCS[1].index("bank")
    hits = idx.search_like(DOCS[1], s, s + 4, k=3, doc_ids=["c.txt:2"])
    assert hits and {h.doc_id for h in hits} == {"c.txt:2"}
    with pytest.raises(InvalidInputError, match=r"doc_ids=\[\]"):  # was invalid SQL: `doc_id IN ()`
        idx.search_like(DOCS[1], s, s + 4, doc_ids=[])
    with pytest.raises(InvalidInputError, match="any_word=True"):  # inflect was silently ignored
        idx.search_like(DOCS[1], s, s + 4, any_word=True, inflect=True)


def test_the_shard_writer_thread_ends_with_the_build(
    corpus_file: Path, tmp_path: Path, bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextvec.index import shards

    writers: list[Any] = []
    real_init = shards.ShardWriter.__init__

    def record(self: Any, folder: Path) -> None:
        real_init(self, folder)
        writers.append(self)

    monkeypatch.setattr(shards.ShardWriter, "__init__", record)
    _build(corpus_file, tmp_path / "idx", bert_embedder)
    assert len(writers) == 1 and writers[0]._pool._shutdown


class _FakeRay(types.ModuleType):
    """Just enough of `ray` and `ray.data` for run_ray's scheduling, recording init and shutdown."""

    def __init__(self, fail: bool) -> None:
        super().__init__("ray")
        self.calls: list[str] = []
        self.initialized = False
        self.fail = fail
        data = types.ModuleType("ray.data")
        ctx = types.SimpleNamespace(execution_options=types.SimpleNamespace(preserve_order=False))
        data.DataContext = types.SimpleNamespace(get_current=lambda: ctx)  # type: ignore[attr-defined]
        data.read_parquet = lambda files: self  # type: ignore[attr-defined]
        self.data = data

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self) -> None:
        self.calls.append("init")
        self.initialized = True

    def shutdown(self) -> None:
        self.calls.append("shutdown")
        self.initialized = False

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0}

    def map_batches(self, *args: Any, **kwargs: Any) -> _FakeRay:
        return self

    def iter_batches(self, **kwargs: Any) -> Any:
        if self.fail:
            raise RuntimeError("an actor died")
        yield {"rows": np.zeros(1)}


@pytest.mark.parametrize("fail", [False, True])
def test_a_ray_started_by_the_build_is_shut_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool) -> None:
    from contextvec.io.corpus import Doc
    from contextvec.pipeline.embed_batch import JobSpec
    from contextvec.pipeline.engines import run_ray
    from contextvec.text import make_document

    fake = _FakeRay(fail)
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setitem(sys.modules, "ray.data", fake.data)
    doc = Doc(seq=0, doc_id="0", where="c.txt:1", document=make_document("a b", 0))
    stream = run_ray(JobSpec(), [(0, [doc])], tmp_path / ".staging", batch_docs=1, concurrency=1)
    if fail:
        with pytest.raises(RuntimeError):
            list(stream)
    else:
        assert len(list(stream)) == 1
    assert fake.calls == ["init", "shutdown"] and not (tmp_path / ".staging").exists()
    fake.initialized, fake.calls, fake.fail = True, [], False  # the caller's own Ray is left running
    assert len(list(run_ray(JobSpec(), [(0, [doc])], tmp_path / ".s2", batch_docs=1, concurrency=1))) == 1
    assert fake.calls == []


def test_nothing_to_stage_leaves_no_staging_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextvec.pipeline.embed_batch import JobSpec
    from contextvec.pipeline.engines import run_ray

    fake = _FakeRay(False)
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setitem(sys.modules, "ray.data", fake.data)
    assert list(run_ray(JobSpec(), [], tmp_path / ".staging", batch_docs=1, concurrency=1)) == []
    assert not (tmp_path / ".staging").exists() and fake.calls == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only build's message")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_on_a_cpu_machine_is_an_option_error(model_dir: str, device: str) -> None:
    with pytest.raises(OptionError, match=rf"device='{device}': this (torch build|machine) has"):
        Embedder(model_dir, device=device)


def test_bad_devices_and_unknown_options_are_option_errors(model_dir: str) -> None:
    with pytest.raises(OptionError, match=r"device='gpu' is not valid; choose auto, cpu, cuda"):
        Embedder(model_dir, device="gpu")
    with pytest.raises(OptionError, match=r"Embedder\(\) got unknown option\(s\) foo; valid options: model, device"):
        Embedder(model_dir, foo=1)  # type: ignore[call-arg]


def _commands(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subs = getattr(command, "commands", None)
    if not subs:
        return [prefix]
    return [p for name, sub in subs.items() for p in _commands(sub, (*prefix, name))]


def _all_commands() -> list[tuple[str, ...]]:
    import typer

    return _commands(typer.main.get_command(app))


@pytest.mark.parametrize("path", _all_commands(), ids=" ".join)
def test_every_command_starts_its_errors_with_the_same_prefix(path: tuple[str, ...]) -> None:
    """A usage mistake and a ContextvecError both print 'error: ...' (click printed 'Error: ...')."""
    result = runner.invoke(app, [*path, "--no-such-flag"])
    assert result.exit_code == 2
    assert "error: No such option: --no-such-flag" in result.output and "Error:" not in result.output


def test_an_unknown_command_and_a_missing_argument_use_the_prefix_too(model_dir: str, tmp_path: Path) -> None:
    for args in (["bogus"], ["index", "build"], ["embed", "x.txt"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and result.output.count("error: ") == 1 and "Error:" not in result.output
    result = runner.invoke(app, ["compare", "a", "b", "--word", "bank", "--model", model_dir])
    assert result.exit_code == 2 and result.output.startswith("error: text 0")


def test_free_text_search_without_level_sentence_says_to_add_it(
    corpus_file: Path, tmp_path: Path, bert_embedder: Embedder
) -> None:
    _build(corpus_file, tmp_path / "idx", bert_embedder)
    result = runner.invoke(app, ["search", str(tmp_path / "idx"), "rivers and banks"])
    assert result.exit_code == 2
    assert "add --level sentence" in result.output.replace("\n", " ")
