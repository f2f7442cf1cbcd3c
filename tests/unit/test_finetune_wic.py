"""Word in context: the cosine head starts at the recipe and reads exactly the vectors `Embedder(DIR)` gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import torch
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.eval.wic import fit_threshold
from contextvec.finetune import FinetuneConfig, finetune, predict
from contextvec.finetune.config import split_validation
from contextvec.finetune.data import PairExample, read_examples
from contextvec.finetune.features import pooled, units, vectors
from contextvec.finetune.folder import load_folder
from contextvec.finetune.heads import CosineHead
from contextvec.models.backend import TorchBackend
from contextvec.models.recipes import RECIPE_FILE
from contextvec.options import resolve_layer_selection

SAME = [("the river bank was wet", "we sat on the river bank"), ("the bank approved a loan", "a loan from the bank")]
DIFF = [("the river bank was wet", "the bank approved a loan"), ("we sat on the river bank", "my bank account")]


def wic_file(path: Path) -> Path:
    rows = []
    for i, ((a, b), label) in enumerate([(p, True) for p in SAME] * 3 + [(p, False) for p in DIFF] * 3):
        word = f"bank{i % 5}"  # several words, so the validation split (by word) is not empty
        s1, s2 = a.index("bank"), b.index("bank")
        rows.append(dict(word=word, sentence1=a, start1=s1, end1=s1 + 4, sentence2=b, start2=s2, end2=s2 + 4))
        rows[-1]["label"] = label
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def recipe_folder(model_dir: str, tmp_path: Path) -> str:
    folder = tmp_path / "base"
    shutil.copytree(model_dir, folder)
    (folder / RECIPE_FILE).write_text(json.dumps({"layers": "1:3", "context_only": True}))
    return str(folder)


def recipe_cosines(model: str, examples: list[PairExample]) -> npt.NDArray[np.float32]:
    """Independent of fine-tuning: the model's default span vectors (its recipe), context-only, per pair."""
    emb = Embedder(model, device="cpu")
    spans = [(e.pair.sentence1, e.pair.start1, e.pair.end1) for e in examples]
    spans2 = [(e.pair.sentence2, e.pair.start2, e.pair.end2) for e in examples]
    u = emb.embed_spans(spans, context_only=True).vectors
    v = emb.embed_spans(spans2, context_only=True).vectors
    return np.einsum("pd,pd->p", u, v) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))  # type: ignore[no-any-return]


def head_cosines(folder: Path, examples: list[PairExample]) -> npt.NDArray[np.float32]:
    backend, head, meta = load_folder(folder)
    assert isinstance(head, CosineHead) and head.context_only
    layers = resolve_layer_selection(meta["layers"], "mean", backend.info.num_layers)
    batch = [u for e in examples for u in units(e, True)]
    with torch.no_grad():
        feats = vectors(backend, batch, 16, all_layers=head.mix is not None, layers=layers)
        cos = (head(feats)[:, 1] - head.bias) / head.scale
    return cos.numpy()  # type: ignore[no-any-return]


def test_fine_tuned_cosines_are_the_folders_recipe_vectors(tmp_path: Path, model_dir: str) -> None:
    base = recipe_folder(model_dir, tmp_path)
    data = wic_file(tmp_path / "wic.jsonl")
    examples = [e for e in read_examples("wic", data) if isinstance(e, PairExample)]
    cfg = FinetuneConfig(unfreeze="last-2", epochs=2, lr=1e-2, batch_size=4)
    result = finetune("wic", data, out=tmp_path / "out", model=base, config=cfg)
    assert result.history.start_val is not None and result.val_accuracy >= result.history.start_val
    recipe = json.loads((tmp_path / "out" / RECIPE_FILE).read_text())
    assert recipe["layers"] == [1, 2] and recipe["context_only"] is True  # the base recipe, kept
    got = head_cosines(tmp_path / "out", examples)
    np.testing.assert_allclose(got, recipe_cosines(str(tmp_path / "out"), examples), atol=1e-5)
    assert not np.allclose(got, recipe_cosines(base, examples), atol=1e-3)  # the encoder did change
    preds = predict(tmp_path / "out", data)
    _, head, _ = load_folder(tmp_path / "out")
    assert isinstance(head, CosineHead)
    want = (head.scale.item() * got + head.bias.item()) > 0
    assert [row[0] == "True" for row in preds.labels] == want.tolist()


def test_the_head_starts_at_the_recipe_threshold(tmp_path: Path, model_dir: str) -> None:
    base = recipe_folder(model_dir, tmp_path)
    data = wic_file(tmp_path / "wic.jsonl")
    cfg = FinetuneConfig(unfreeze="all", epochs=1, lr=1e-12, head_lr=1e-12, val_share=0.2)
    finetune("wic", data, out=tmp_path / "out", model=base, config=cfg)
    examples = [e for e in read_examples("wic", data) if isinstance(e, PairExample)]
    train, _ = split_validation(examples, 0.2, 0)
    cos = recipe_cosines(base, examples)[train].astype(np.float32)  # the recipe, computed by the Embedder
    y = np.asarray([examples[i].pair.label for i in train])
    _, head, _ = load_folder(tmp_path / "out")
    assert isinstance(head, CosineHead)
    t = -head.bias.item() / head.scale.item()  # nothing learned (lr 1e-12): the calibrated start
    assert abs(t - fit_threshold(cos, y)) < 1e-4
    assert (((cos > t) == y).mean()) == ((cos > fit_threshold(cos, y)) == y).mean()


def test_calibrate_puts_the_threshold_between_the_classes() -> None:
    head = CosineHead(None, None, context_only=False)
    cos = np.asarray([0.1, 0.2, 0.3, 0.6, 0.7, 0.8], dtype=np.float32)
    y = np.asarray([False, False, False, True, True, True])
    a, t = head.calibrate(cos, y)
    assert 0.3 < t < 0.6 and a > 1.0
    logits = a * (cos - t)
    assert ((logits > 0) == y).all()
    assert head.bias.item() == pytest.approx(-a * t, rel=1e-5)


def test_out_of_context_units_keep_their_order(tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    from tiny_models import tiny_bert

    b = TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert", device="cpu")
    lines = wic_file(tmp_path / "wic.jsonl")
    examples = [e for e in read_examples("wic", lines) if isinstance(e, PairExample)][:3]
    batch = [u for e in examples for u in units(e, context_only=True)]
    assert [u.alone for u in batch] == [False, False, True, True] * 3
    with torch.no_grad():
        got = vectors(b, batch, 16, all_layers=False)  # (12, D): alone units ran in a batch of their own
        one_by_one = torch.cat([pooled(b, [u], 16, all_layers=False) for u in batch])
    torch.testing.assert_close(got, one_by_one, atol=1e-5, rtol=1e-5)


def test_last_k_that_misses_every_state_the_head_reads_is_refused() -> None:
    from contextvec.errors import OptionError
    from contextvec.finetune.config import check_reach

    with pytest.raises(OptionError, match=r"last-4 trains blocks 9-12.*states 2-7.*use --unfreeze last-6"):
        check_reach(4, 12, [2, 3, 4, 5, 6, 7], "last-4")  # mpnet's recipe: blocks 9-12 change none of states 2-7
    check_reach(6, 12, [2, 3, 4, 5, 6, 7], "last-6")  # block 7 makes state 7: allowed
    check_reach(4, 6, [2, 3, 4, 5], "last-4")  # minilm's recipe: blocks 3-6 change states 3-5
    check_reach(0, 12, [2], "none")  # frozen runs train the head only
