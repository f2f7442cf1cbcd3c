"""Fine-tuning on tiny in-code models: the grad path pools like the engine, loss falls, frozen stays frozen,
folders round-trip, and bad files get errors naming file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
from tiny_models import tiny_bert
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.errors import InputFileError, OptionError
from contextvec.finetune import FinetuneConfig, finetune, predict
from contextvec.finetune.data import TagExample, TextExample, read_examples
from contextvec.finetune.features import pooled, units
from contextvec.finetune.folder import load_folder
from contextvec.finetune.predict import Predictions, predict_labels
from contextvec.models.backend import TorchBackend

POS = ["the river bank was wet", "we sat on the river bank", "water by the river", "the road by the river"]
NEG = ["the bank approved a loan", "a loan from the bank", "my bank account", "the loan was approved"]


def backend(tok: PreTrainedTokenizerFast, max_length: int | None = None) -> TorchBackend:
    return TorchBackend(tiny_bert(tok), tok, "tiny-bert", device="cpu", max_length=max_length)


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in rows), encoding="utf-8")
    return path


def toy_rows(n: int = 3) -> list[tuple[str, str]]:
    return [(t, "river") for t in POS] * n + [(t, "money") for t in NEG] * n


def test_group_vectors_equal_the_engine_words(wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    # a window of 8 tokens: the long text is cut into several windows and merged, as the engine does
    b = backend(wordpiece_tokenizer, max_length=8)
    emb = Embedder.from_backend(b, stride=2, token_budget=256)
    texts = [["we", "sat", "on", "the", "river", "bank", "unbelievably", "tired"], ["bank"]]
    expected = emb.embed_words(texts, layers=-1).vectors  # (W, D) the engine's words, top layer
    examples = [TagExample(words, None, f"t:{i}") for i, words in enumerate(texts)]
    batch = [u for e in examples for u in units(e)]
    with torch.no_grad():
        top = pooled(b, batch, 2, all_layers=False)  # (W, D) through the grad path
        every = pooled(b, batch, 2, all_layers=True)  # (W, L+1, D)
    np.testing.assert_allclose(top.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(every[:, -1].numpy(), expected, atol=1e-5)
    first = emb.embed_words(texts, layers=0).vectors
    np.testing.assert_allclose(every[:, 0].numpy(), first, atol=1e-5)


def test_group_vectors_equal_raw_transformers(wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    b = backend(wordpiece_tokenizer)
    text = "unbelievably tired"
    enc = wordpiece_tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        hidden = b.model(**enc, output_hidden_states=True).hidden_states[-1][0]  # (T, D) with [CLS], [SEP]
        word_ids = enc.word_ids()
        want = torch.stack([hidden[[i for i, w in enumerate(word_ids) if w == k]].mean(0) for k in (0, 1)])
        got = pooled(b, units(TagExample(text.split(), None, "x:1")), 16, all_layers=False)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_loss_falls_on_a_separable_task(tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    data = write_csv(tmp_path / "toy.csv", toy_rows())
    cfg = FinetuneConfig(unfreeze="all", epochs=6, lr=1e-3, batch_size=4, patience=10, val_share=0.25)
    result = finetune("classify", data, out=tmp_path / "out", model=backend(wordpiece_tokenizer), config=cfg)
    losses = [e["loss"] for e in result.history.epochs]
    assert losses[-1] < 0.5 * losses[0]
    assert result.val_accuracy == 1.0
    assert result.labels == ["money", "river"]


def test_frozen_run_leaves_the_encoder_bit_identical(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    b = backend(wordpiece_tokenizer)
    before = {k: v.clone() for k, v in b.model.state_dict().items()}
    data = write_csv(tmp_path / "toy.csv", toy_rows())
    result = finetune("classify", data, out=tmp_path / "out", model=b, config=FinetuneConfig(epochs=5))
    for k, v in b.model.state_dict().items():
        assert torch.equal(v, before[k]), k
    saved = TorchBackend.load(str(tmp_path / "out"), device="cpu").model.state_dict()
    for k, v in before.items():  # (transformers adds a fresh pooler on load; the encoder's own weights match)
        assert torch.equal(saved[k], v), k
    assert result.layer_weights is not None and len(result.layer_weights) == 4  # embeddings + 3 blocks
    assert sum(result.layer_weights) == pytest.approx(1.0)
    assert result.history.epochs[-1]["loss"] < result.history.epochs[0]["loss"]


def test_tagging_folder_round_trips(tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    sentences = [("the river bank", "D N N"), ("we sat on the road", "P V A D N"), ("a loan was approved", "D N V V")]
    conll = "".join(
        "".join(f"{w} {t}\n" for w, t in zip(s.split(), ts.split(), strict=True)) + "\n" for s, ts in sentences
    )
    data = tmp_path / "tags.conll"
    data.write_text(conll * 3, encoding="utf-8")
    b = backend(wordpiece_tokenizer)
    cfg = FinetuneConfig(unfreeze="last-1", epochs=2, lr=1e-3, batch_size=4)
    finetune("tag", data, out=tmp_path / "out", model=b, config=cfg)
    b.model.eval()
    examples = read_examples("tag", data)
    _, head, meta = load_folder(tmp_path / "out")
    assert meta["task"] == "tag" and meta["labels"] == ["A", "D", "N", "P", "V"]
    in_memory = predict_labels(b, head, examples, 16)
    reloaded = predict(tmp_path / "out", data)
    ids = {name: i for i, name in enumerate(meta["labels"])}
    assert [[ids[x] for x in row] for row in reloaded.labels] == in_memory
    assert reloaded.accuracy is not None
    # the folder is an ordinary model: its word vectors (top layer, the recipe it saved) are the tuned encoder's
    words = [e.words for e in examples[:3] if isinstance(e, TagExample)]
    vectors = Embedder(str(tmp_path / "out"), device="cpu").embed_words(words).vectors
    with torch.no_grad():
        tuned = pooled(b, [u for w in words for u in units(TagExample(w, None, "x"))], 16, all_layers=False)
    np.testing.assert_allclose(vectors, tuned.numpy(), atol=1e-5)
    assert not np.allclose(
        vectors, Embedder.from_backend(backend(wordpiece_tokenizer)).embed_words(words, layers=-1).vectors
    )


def direct_wic_logits(folder: Path, rows: list[dict[str, Any]], emb: Embedder) -> npt.NDArray[np.float64]:
    """logit(same sense) of each pair, computed without contextvec's fine-tuning code: the head's weights read from
    head.safetensors, the target's vector of every layer from `emb.embed_spans` (emb = Embedder(folder)), ELMo's mix
    gamma * sum_k softmax(s)_k h_k (frozen encoder) or the recipe's layers, then a * cos(u, v) + b."""
    from safetensors.numpy import load_file

    w = load_file(str(folder / "head.safetensors"))
    meta = json.loads((folder / "finetune.json").read_text())
    assert meta["labels"] == ["False", "True"] and meta["context_only"] is False
    spans = [[(r[f"sentence{i}"], r[f"start{i}"], r[f"end{i}"]) for r in rows] for i in (1, 2)]
    if "mix.scalars" in w:  # frozen: (K,) scalars over the L+1 states
        s = w["mix.scalars"].astype(np.float64)
        mix = np.exp(s - s.max()) / np.exp(s - s.max()).sum()  # softmax, (K,)
        per_layer = [np.stack([emb.embed_spans(sp, layers=k).vectors for k in range(len(s))]) for sp in spans]
        u, v = (float(w["mix.gamma"]) * np.einsum("k,kpd->pd", mix, h) for h in per_layer)  # (P, D) each
    else:
        u, v = (emb.embed_spans(sp, layers=meta["layers"]).vectors for sp in spans)
    cos = np.einsum("pd,pd->p", u, v) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))  # (P,)
    return float(w["scale"]) * cos + float(w["bias"])  # type: ignore[no-any-return]


def predict_recording_logits(
    folder: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Predictions, npt.NDArray[np.float32]]:
    """`predict(folder, data)`, and the logit(same sense) of every pair its head returned on the way."""
    import importlib

    predict_module = importlib.import_module("contextvec.finetune.predict")  # the package's `predict` shadows it
    seen: list[npt.NDArray[np.float32]] = []

    def recording(folder: Path) -> Any:
        backend, head, meta = load_folder(folder)
        head.register_forward_hook(lambda _m, _i, out: seen.append(out[:, 1].detach().numpy().copy()))
        return backend, head, meta

    monkeypatch.setattr(predict_module, "load_folder", recording)
    preds = predict(folder, data)
    return preds, np.concatenate(seen)


def test_wic_pairs_train_and_predict(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = []
    for i, (a, b) in enumerate([(POS[0], POS[1]), (NEG[0], NEG[1]), (POS[0], NEG[0]), (POS[1], NEG[1])] * 3):
        rows.append(
            {
                "word": f"bank{i % 4}",
                "sentence1": a,
                "start1": a.index("bank") if "bank" in a else 0,
                "end1": (a.index("bank") + 4) if "bank" in a else 3,
                "sentence2": b,
                "start2": b.index("bank") if "bank" in b else 0,
                "end2": (b.index("bank") + 4) if "bank" in b else 3,
                "label": i % 4 < 2,
            }
        )
    data = tmp_path / "wic.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = finetune(
        "wic", data, out=tmp_path / "out", backend=backend(wordpiece_tokenizer), config=FinetuneConfig(epochs=3)
    )
    assert result.labels == ["False", "True"]
    assert result.n_val > 0 and result.n_train + result.n_val == len(rows)
    preds, seen = predict_recording_logits(tmp_path / "out", data, monkeypatch)
    tuned = Embedder(str(tmp_path / "out"), device="cpu")
    logits = direct_wic_logits(tmp_path / "out", rows, tuned)
    assert np.ptp(logits) > 1e-3 and np.abs(logits).min() > 1e-4  # pairs differ, and none sits on the threshold
    np.testing.assert_allclose(seen, logits, atol=1e-4)  # the numbers predict decided on
    assert [row[0] for row in preds.labels] == [str(bool(z > 0)) for z in logits]
    assert preds.accuracy == pytest.approx(np.mean((logits > 0) == np.asarray([r["label"] for r in rows])))
    # a head that leans on other layers and splits the pairs at their median: predict follows the saved weights
    from safetensors.numpy import load_file, save_file

    head_file = tmp_path / "out" / "head.safetensors"
    w = load_file(str(head_file))
    w["mix.scalars"] = np.linspace(2.0, -2.0, len(w["mix.scalars"])).astype(np.float32)  # favour the low layers
    save_file(w, str(head_file))
    moved = direct_wic_logits(tmp_path / "out", rows, tuned)
    assert np.abs(moved - logits).max() > 1e-3  # the mix matters
    w["bias"] = np.asarray(w["bias"] - np.median(moved), dtype=np.float32)
    save_file(w, str(head_file))
    split_logits = direct_wic_logits(tmp_path / "out", rows, tuned)
    again, seen = predict_recording_logits(tmp_path / "out", data, monkeypatch)
    np.testing.assert_allclose(seen, split_logits, atol=1e-4)
    labels = [row[0] for row in again.labels]
    assert labels == [str(bool(z > 0)) for z in split_logits] and {"True", "False"} <= set(labels)
    # with a "split" field, training reads only the train rows; predict reads them all
    split = tmp_path / "split.jsonl"
    split.write_text(
        "".join(json.dumps({**r, "split": "train" if i < 8 else "test"}) + "\n" for i, r in enumerate(rows))
    )
    assert len(read_examples("wic", split)) == 8 and len(read_examples("wic", split, labelled=False)) == len(rows)


def test_resume_continues_from_the_checkpoint(tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    data = write_csv(tmp_path / "toy.csv", toy_rows())
    cfg = FinetuneConfig(epochs=3, patience=10)
    first = finetune("classify", data, out=tmp_path / "out", model=backend(wordpiece_tokenizer), config=cfg)
    again = finetune(
        "classify", data, out=tmp_path / "out", backend=backend(wordpiece_tokenizer), config=cfg, resume=True
    )
    assert again.history.resumed_from == 3
    assert again.history.epochs == first.history.epochs  # nothing left to train; the record carries over
    with pytest.raises(OptionError, match="other options"):
        finetune(
            "classify",
            data,
            out=tmp_path / "out",
            backend=backend(wordpiece_tokenizer),
            config=FinetuneConfig(epochs=4),
            resume=True,
        )


def test_unknown_label_at_predict_names_file_and_line(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    data = write_csv(tmp_path / "toy.csv", toy_rows(1))
    finetune(
        "classify", data, out=tmp_path / "out", backend=backend(wordpiece_tokenizer), config=FinetuneConfig(epochs=1)
    )
    test = write_csv(tmp_path / "test.csv", [("the river", "river"), ("a loan", "cash")])
    with pytest.raises(InputFileError, match=r"test\.csv:3: label 'cash' was not seen in training"):
        predict(tmp_path / "out", test)
    unlabeled = tmp_path / "new.csv"
    unlabeled.write_text("text\nthe river bank\n", encoding="utf-8")
    assert predict(tmp_path / "out", unlabeled).accuracy is None


@pytest.mark.parametrize(
    ("name", "content", "task", "match"),
    [
        ("a.jsonl", '{"words": ["a", "b"], "tags": ["D"]}\n', "tag", r"a\.jsonl:1: 2 words but 1 tags"),
        ("b.conll", "the D\nriver N\n\nbank\n", "tag", r"b\.conll:4: 'bank' has a word but no tag"),
        ("c.jsonl", '{"text": "ok", "label": "x"}\n{"text": "bad",\n', "classify", r"c\.jsonl:2: not valid JSON"),
        ("d.csv", "", "classify", r"d\.csv:1: the header is empty"),
        ("e.csv", "text,label\n", "classify", r"e\.csv is empty"),
        ("f.conll", "\n\n", "tag", r"f\.conll is empty"),
        ("g.jsonl", '{"text": "", "label": "x"}\n', "classify", r"g\.jsonl:1: 'text' is missing or empty"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, name: str, content: str, task: str, match: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=match):
        read_examples(task, tmp_path / name)  # type: ignore[arg-type]


def test_bad_unfreeze_and_one_label(tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    data = write_csv(tmp_path / "toy.csv", toy_rows(1))
    with pytest.raises(OptionError, match=r"last-K with 1 <= K <= 3"):
        finetune(
            "classify",
            data,
            out=tmp_path / "o1",
            backend=backend(wordpiece_tokenizer),
            config=FinetuneConfig(unfreeze="last-9"),
        )
    one = write_csv(tmp_path / "one.csv", [("a", "x"), ("b", "x")])
    with pytest.raises(InputFileError, match="only one label"):
        finetune("classify", one, out=tmp_path / "o2", model=backend(wordpiece_tokenizer))
    assert TextExample("a", "x", "f:1").label == "x"


def test_cli_finetune_and_predict(tmp_path: Path, model_dir: str) -> None:
    from typer.testing import CliRunner

    from contextvec.cli.main import app

    data = write_csv(tmp_path / "toy.csv", toy_rows(2))
    runner = CliRunner()
    args = ["finetune", "classify", str(data), "--model", model_dir, "--out", str(tmp_path / "out"), "--epochs", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "learned layer weights (0 = embeddings): 0:" in result.output
    result = runner.invoke(app, ["predict", str(tmp_path / "out"), str(data)])
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stdout.splitlines() if x]
    assert len(lines) == len(toy_rows(2)) and set(lines) <= {"river", "money"}
    bad = runner.invoke(app, ["finetune", "tag", str(data), "--out", str(tmp_path / "o2"), "--unfreeze", "some"])
    assert bad.exit_code == 2 and "toy.csv:1" in bad.output  # a CSV read as CoNLL: its header has no tag


def test_a_folder_recipe_sets_the_default_layers(tmp_path: Path, model_dir: str) -> None:
    import shutil

    from contextvec.errors import ModelLoadError
    from contextvec.models.recipes import RECIPE_FILE

    folder = tmp_path / "m"
    shutil.copytree(model_dir, folder)
    (folder / RECIPE_FILE).write_text(json.dumps({"layers": "1:3", "context_only": True}))
    emb = Embedder(str(folder), device="cpu")
    assert emb.info.recipe.layers == "1:3" and emb.info.recipe.context_only is True
    res = emb.embed_words(["the river bank"])
    np.testing.assert_array_equal(res.vectors, emb.embed_words(["the river bank"], layers="1:3").vectors)
    assert not np.allclose(res.vectors, emb.embed_words(["the river bank"], layers=-1).vectors)
    (folder / RECIPE_FILE).write_text("{not json")
    with pytest.raises(ModelLoadError, match=RECIPE_FILE):  # a malformed recipe is an error naming the file
        Embedder(str(folder), device="cpu")


def test_cli_and_python_share_the_task_defaults(tmp_path: Path, model_dir: str) -> None:
    from typer.testing import CliRunner

    from contextvec.cli.main import app

    data = tmp_path / "tags.conll"
    data.write_text("the D\nriver N\n\na D\nloan N\n\n" * 4, encoding="utf-8")
    args = ["finetune", "tag", str(data), "--model", model_dir, "--unfreeze", "all", "--epochs", "1"]
    assert CliRunner().invoke(app, [*args, "--out", str(tmp_path / "cli")]).exit_code == 0
    finetune("tag", data, out=tmp_path / "py", model=model_dir, config=FinetuneConfig(unfreeze="all", epochs=1))
    cli, py = (json.loads((tmp_path / d / "finetune.json").read_text())["config"] for d in ("cli", "py"))
    assert cli == py and cli["lr"] == 1e-4 and cli["head_lr"] == 1e-3  # tagging's measured default
