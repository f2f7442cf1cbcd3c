"""Degenerate training data at every entry point that learns from data (issue 26): one example, one label, one
word, all-identical texts, no validation split, zero epochs. Each cell either trains with a documented, finite
result or raises one ContextvecError saying why — never a negative "accuracy", a NaN loss or a silent default."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tiny_models import tiny_bert
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.analysis.correction import fit_correction
from contextvec.errors import ContextvecError, InputFileError, InvalidInputError, OptionError
from contextvec.finetune import FinetuneConfig, finetune
from contextvec.models.backend import TorchBackend
from contextvec.static.corpus import CorpusWords
from contextvec.static.train import train_lsa, train_word2vec
from contextvec.train import LoopConfig, NetConfig, train

CASES: dict[str, list[tuple[str, str]]] = {  # (text, label)
    "one_example": [("the river bank", "a")],
    "one_label": [("the river bank", "a"), ("a loan from the bank", "a")],
    "one_word": [("bank", "a"), ("bank", "b")],  # every text is the one word
    "identical": [("the river bank", "a"), ("the river bank", "b")] * 4,
    "no_validation": [("the river bank", "a"), ("a loan from the bank", "b")] * 3,
    "epochs_0": [("the river bank", "a"), ("a loan from the bank", "b")] * 3,
}
ENTRIES = ["finetune", "train", "word2vec", "lsa", "correction"]
OK = "ok"
NA = "n/a"
# what each cell must do: OK (trains; its numbers checked below), or (error class, message pattern), or NA
EXPECTED: dict[tuple[str, str], Any] = {
    ("finetune", "one_example"): (InputFileError, "only one label"),
    ("finetune", "one_label"): (InputFileError, "only one label"),
    ("finetune", "one_word"): OK,
    ("finetune", "identical"): OK,
    ("finetune", "no_validation"): OK,
    ("finetune", "epochs_0"): (OptionError, r"epochs=0 must be >= 1"),
    ("train", "one_example"): OK,
    ("train", "one_label"): NA,
    ("train", "one_word"): OK,
    ("train", "identical"): OK,
    ("train", "no_validation"): OK,  # fewer than 10 documents: all trained on, no held-out perplexity ({})
    ("train", "epochs_0"): (OptionError, r"--steps 0 must be >= 1"),
    ("word2vec", "one_example"): OK,
    ("word2vec", "one_label"): NA,
    ("word2vec", "one_word"): (OptionError, r"only one word \('bank'\)"),
    ("word2vec", "identical"): OK,
    ("word2vec", "no_validation"): NA,
    ("word2vec", "epochs_0"): (OptionError, r"epochs=0 must be >= 1"),
    ("lsa", "one_example"): (OptionError, r"too small for an SVD"),
    ("lsa", "one_label"): NA,
    ("lsa", "one_word"): (OptionError, r"fewer than 2 words"),
    ("lsa", "identical"): (OptionError, r"dim=4 is more than this corpus supports.*at most 2"),
    ("lsa", "no_validation"): NA,
    ("lsa", "epochs_0"): NA,
    ("correction", "one_example"): OK,
    ("correction", "one_label"): NA,
    ("correction", "one_word"): OK,  # two tokens of one word: a mean; one token alone is refused (below)
    ("correction", "identical"): (InvalidInputError, r"span only"),  # whitening; centering them works
    ("correction", "no_validation"): NA,
    ("correction", "epochs_0"): NA,
}


def _run(entry: str, case: str, rows: list[tuple[str, str]], tmp_path: Path, tok: PreTrainedTokenizerFast) -> Any:
    texts = [t for t, _ in rows]
    if entry == "finetune":
        data = tmp_path / "d.csv"
        data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows), encoding="utf-8")
        cfg = FinetuneConfig(epochs=0 if case == "epochs_0" else 2, val_share=0.0 if case == "no_validation" else 0.1)
        b = TorchBackend(tiny_bert(tok), tok, "tiny-bert", device="cpu")
        return finetune("classify", data, out=tmp_path / "o", model=b, config=cfg)
    if entry == "train":
        corpus = tmp_path / "c.txt"
        corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
        net = NetConfig(dim=16, hidden=16, num_layers=1, heads=2, vocab_size=60, min_count=1, seq_len=16)
        loop = LoopConfig(steps=0 if case == "epochs_0" else 3, batch_size=2, warmup=1)
        return train("mlm", corpus, tmp_path / "o", net=net, loop=loop)
    if entry == "word2vec":
        epochs = 0 if case == "epochs_0" else 2
        return train_word2vec(CorpusWords(texts), vector_size=4, min_count=1, epochs=epochs, workers=1)[0]
    if entry == "lsa":
        return train_lsa(CorpusWords(texts), dim=4, min_count=1)
    emb = Embedder.from_backend(TorchBackend(tiny_bert(tok), tok, "tiny-bert", device="cpu"))
    return fit_correction(emb, texts, kind="whiten" if case == "identical" else "center", layers=-1)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("entry", ENTRIES)
def test_degenerate_data(entry: str, case: str, tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    expected = EXPECTED[(entry, case)]
    if expected == NA:
        pytest.skip(f"{entry} has no {case.replace('_', ' ')}")
    if expected != OK:
        cls, match = expected
        with pytest.raises(cls, match=match) as info:
            _run(entry, case, CASES[case], tmp_path, wordpiece_tokenizer)
        assert isinstance(info.value, ContextvecError) and "\n" not in str(info.value).strip()
        return
    result = _run(entry, case, CASES[case], tmp_path, wordpiece_tokenizer)
    if entry == "finetune":  # an accuracy is a share of right answers, or None without validation examples
        if result.n_val == 0:
            assert result.val_accuracy is None and result.history.best_epoch == 2 and result.validation
        else:
            assert result.val_accuracy is not None and 0.0 <= result.val_accuracy <= 1.0
        assert all(math.isfinite(e["loss"]) for e in result.history.epochs)
        assert case != "no_validation" or result.n_val == 0
    elif entry == "train":
        assert result.steps == 3 and math.isfinite(result.final_loss) and result.heldout == {}
        assert Embedder(str(result.folder), device="cpu").embed_words(["bank"]).vectors.shape == (1, 16)
    elif entry == "word2vec":
        assert len(result.words) >= 2 and np.isfinite(result.matrix).all()
    else:
        assert np.isfinite(result.means).all() and result.means.shape[0] == 4  # tiny bert: 3 blocks + embeddings


def test_a_correction_needs_two_tokens(wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    emb = Embedder.from_backend(TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "t", device="cpu"))
    with pytest.raises(InvalidInputError, match="at least 2 tokens"):
        fit_correction(emb, ["bank"], kind="center")
