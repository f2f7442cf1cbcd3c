"""One atomic writer and one corpus reader, used by every tool that writes durable files or reads a corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.analysis.compare import compare_word
from contextvec.errors import CheckpointError, InputFileError, OutputWriteError
from contextvec.io.atomic import read_checked, write_atomic, write_checked
from contextvec.io.corpus import corpus_texts, open_corpus
from contextvec.static.corpus import CorpusWords
from contextvec.train.corpus import load_corpus


def test_a_checked_file_round_trips_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.ckpt"
    write_checked(path, b"payload bytes")
    assert read_checked(path, "fix it") == b"payload bytes"
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.ckpt"]  # no temp file left
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # one damaged bit in the payload
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt or half-written.*fix it"):
        read_checked(path, "fix it")
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CheckpointError, match="cut short"):
        read_checked(path, "fix it")


def test_a_failed_atomic_write_is_an_error_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_atomic(path, b"old")
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(OutputWriteError, match="cannot write .*file/m.json.*then retry"):
        write_atomic(tmp_path / "file" / "m.json", b"new", then=", then retry")
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["file", "manifest.json"]


def test_a_damaged_finetune_checkpoint_is_refused_on_resume(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    from tiny_models import tiny_bert

    from contextvec.finetune import FinetuneConfig, finetune
    from contextvec.finetune.data import TextExample
    from contextvec.finetune.folder import CHECKPOINT
    from contextvec.models.backend import TorchBackend

    data = [TextExample(t, lab, f"x:{i}") for i, (t, lab) in enumerate([("a river", "r"), ("a loan", "m")] * 3)]
    cfg = FinetuneConfig(epochs=1)

    def run(resume: bool) -> object:
        backend = TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert", device="cpu")
        return finetune("classify", data, out=tmp_path / "out", model=backend, config=cfg, resume=resume)

    run(False)
    ckpt = tmp_path / "out" / CHECKPOINT
    read_checked(ckpt, "")  # written with a checksum
    ckpt.write_bytes(ckpt.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match=f"{CHECKPOINT}.*without --resume"):
        run(True)


def test_every_tool_reads_the_same_documents(tmp_path: Path) -> None:
    src = tmp_path / "c.txt"
    src.write_bytes("\ufeffThe bank of the river.\n\n  \nA loan from the bank.\r\nLast line".encode())
    want = ["The bank of the river.", "A loan from the bank.", "Last line"]  # BOM and line ends dropped
    assert [d.text for d in open_corpus(src).documents()] == want  # index
    assert list(corpus_texts(src)) == want  # senses --corpus, contextuality, correction fit
    assert list(CorpusWords(src).texts()) == want  # static train, distill
    corpus = load_corpus(src)  # train: each document one text
    assert corpus.train == [[t] for t in want] and corpus.heldout == []
    assert list(corpus_texts(src, limit=2)) == want[:2]


def test_the_corpus_reader_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    bad = tmp_path / "c.txt"
    bad.write_bytes(b"fine\n\xff\xfe broken\n")
    with pytest.raises(InputFileError, match="c.txt:2: not valid UTF-8"):
        list(CorpusWords(bad).texts())
    with pytest.raises(InputFileError, match="does not exist"):
        load_corpus(tmp_path / "missing.txt")
    (tmp_path / "blank.txt").write_text("\n \n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no text to train on"):
        load_corpus(tmp_path / "blank.txt")


def test_compare_says_whether_it_used_context_only_in_a_field(bert_embedder: Embedder) -> None:
    texts = ["We sat on the bank.", "The bank lent money."]
    assert compare_word(bert_embedder, texts, "bank", context_only=True).context_only is True
    plain = compare_word(bert_embedder, texts, "bank", context_only=False)
    assert plain.context_only is False and "context_only" not in plain.spans.layers
