"""Recipes belong to the weights: the same weights by any path or file format get the same defaults, folders
contextvec writes carry their full recipe, a malformed recipe file is an error naming it, and a
sentence-transformers pipeline contextvec cannot compute is refused instead of silently replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import tiny_bert, tiny_llama
from transformers import BertForMaskedLM, PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.errors import ModelLoadError, OptionError
from contextvec.models import recipes
from contextvec.models.backend import TorchBackend
from contextvec.models.recipes import RECIPE_FILE, Recipe, SentenceRecipe, weights_key

TEXTS = ["the river bank was wet", "a loan from the bank, approved", "we sat by the water"]


def save(model: torch.nn.Module, tok: PreTrainedTokenizerFast, folder: Path, **kw: str) -> Path:
    model.save_pretrained(folder, **kw)  # type: ignore[operator]
    tok.save_pretrained(folder)
    return folder


@pytest.fixture
def known_tiny(monkeypatch: pytest.MonkeyPatch, wordpiece_tokenizer: PreTrainedTokenizerFast) -> str:
    """Register the tiny BERT's weights as a known model "tiny" with a recipe (as minilm's are registered)."""
    monkeypatch.setitem(recipes.RECIPES, "tiny", Recipe(layers="1:3", context_only=True, evidence="test"))
    monkeypatch.setitem(
        recipes.SENTENCE_RECIPES, "tiny", SentenceRecipe("mean_all", True, 32, "tiny's sentence pipeline")
    )
    key = weights_key(tiny_bert(wordpiece_tokenizer))
    monkeypatch.setitem(recipes.KNOWN_WEIGHTS, key, "tiny")
    return key


def test_known_weights_get_their_recipe_by_any_path_and_file_format(
    known_tiny: str, tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    tok = wordpiece_tokenizer
    by_path = Embedder(str(save(tiny_bert(tok), tok, tmp_path / "copy")), device="cpu")
    base = tiny_bert(tok)
    mlm = BertForMaskedLM(base.config)  # the same encoder saved inside an MLM model: other names in the file
    mlm.bert.load_state_dict(base.state_dict(), strict=False)
    as_mlm = Embedder(str(save(mlm, tok, tmp_path / "mlm", max_shard_size="50KB")), device="cpu")
    assert len(list((tmp_path / "mlm").glob("*.safetensors"))) > 1  # and in several shards
    in_code = Embedder.from_backend(TorchBackend(tiny_bert(tok), tok, "made-in-code", device="cpu"))
    for emb in (by_path, as_mlm, in_code):
        assert (emb.info.recipe.layers, emb.info.recipe.context_only) == ("1:3", True), emb.info.recipe
        assert "by its weights" in emb.info.recipe.source
        assert (emb.info.sentence_recipe.pooling, emb.info.sentence_recipe.normalize) == ("mean_all", True)
    default = by_path.embed_words(TEXTS).vectors
    np.testing.assert_array_equal(default, by_path.embed_words(TEXTS, layers="1:3").vectors)
    np.testing.assert_array_equal(default, as_mlm.embed_words(TEXTS).vectors)
    top = by_path.embed_words(TEXTS, layers=-1).vectors
    assert not np.allclose(default, top)


def test_changed_weights_lose_the_recipe(known_tiny: str, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    model = tiny_bert(wordpiece_tokenizer)
    with torch.no_grad():  # one step of "fine-tuning": every value of one matrix moves a little
        model.encoder.layer[1].output.dense.weight.add_(1e-3)
    assert weights_key(model) != known_tiny
    backend = TorchBackend(model, wordpiece_tokenizer, "changed", device="cpu")
    assert backend.info.recipe == recipes.TOP_RECIPE and backend.info.sentence_recipe.pooling == "mean"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not readable JSON"),
        ("[1, 2]", "not an object"),
        (json.dumps({"layers": "1:3"}), "context_only"),
        (json.dumps({"layers": "1:3", "context_only": "yes"}), "context_only"),
        (json.dumps({"layer": "1:3", "context_only": True}), "found keys"),
        (json.dumps({"layers": 1.5, "context_only": True}), "'layers' is 1.5"),
        (json.dumps({"layers": "2:9", "context_only": False}), "does not fit this 3-layer model"),
        (json.dumps({"layers": -1, "context_only": False, "sentence": {"pooling": "avg", "normalize": 1}}), "sentence"),
        (json.dumps({"layers": -1, "context_only": False, "sentence": "mean"}), "sentence"),
    ],
)
def test_a_malformed_recipe_file_is_an_error_naming_it(model_dir: str, tmp_path: Path, content: str, why: str) -> None:
    folder = Path(shutil.copytree(model_dir, tmp_path / "m"))
    (folder / RECIPE_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(ModelLoadError, match=why) as err:
        Embedder(str(folder), device="cpu")
    assert str(folder / RECIPE_FILE) in str(err.value)


def test_a_recipe_file_wins_over_known_weights(known_tiny: str, tmp_path: Path, model_dir: str) -> None:
    folder = Path(shutil.copytree(model_dir, tmp_path / "m"))
    recipes.write_recipe_file(folder, Recipe(layers=[0, 2], context_only=False), SentenceRecipe("cls", False))
    info = Embedder(str(folder), device="cpu").info
    assert (info.recipe.layers, info.recipe.context_only) == ([0, 2], False)
    assert (info.sentence_recipe.pooling, info.sentence_recipe.normalize) == ("cls", False)
    assert RECIPE_FILE in info.recipe.source


def _st_folder(tmp_path: Path, tok: PreTrainedTokenizerFast, model: torch.nn.Module, *extra: str, mode: str) -> Path:
    """A tiny model saved by sentence-transformers itself: Transformer -> Pooling(mode) -> extras -> Normalize."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as st

    hf = save(model, tok, tmp_path / "hf")
    transformer = st.Transformer(str(hf))
    dim = transformer.get_embedding_dimension()
    chain: list[torch.nn.Module] = [transformer, st.Pooling(dim, pooling_mode=mode)]
    if "dense" in extra:
        chain.append(st.Dense(dim, 8))
    chain.append(st.Normalize())
    SentenceTransformer(modules=chain, device="cpu").save(str(tmp_path / "st"))
    return tmp_path / "st"


@pytest.mark.parametrize(("kind", "mode"), [("bert", "mean"), ("bert", "cls"), ("llama", "lasttoken")])
def test_supported_st_pipelines_equal_sentence_transformers(
    tmp_path: Path,
    wordpiece_tokenizer: PreTrainedTokenizerFast,
    bpe_tokenizer: PreTrainedTokenizerFast,
    kind: str,
    mode: str,
) -> None:
    from sentence_transformers import SentenceTransformer

    tok = wordpiece_tokenizer if kind == "bert" else bpe_tokenizer
    model = tiny_bert(tok) if kind == "bert" else tiny_llama(tok)
    folder = _st_folder(tmp_path, tok, model, mode=mode)
    ours = Embedder(str(folder), device="cpu").embed_sentences(TEXTS)
    theirs = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, convert_to_numpy=True)
    assert ours.normalized
    np.testing.assert_allclose(ours.vectors, theirs, atol=1e-5)


@pytest.mark.parametrize(("extra", "mode", "why"), [("dense", "mean", "Dense"), ("", "max", "pooling is max")])
def test_unsupported_st_pipelines_are_refused_not_replaced(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast, extra: str, mode: str, why: str
) -> None:
    tok = wordpiece_tokenizer
    emb = Embedder(str(_st_folder(tmp_path, tok, tiny_bert(tok), extra, mode=mode)), device="cpu")
    assert why in emb.info.sentence_recipe.unsupported
    with pytest.raises(OptionError, match=why):
        emb.embed_sentences(TEXTS)
    chosen = emb.embed_sentences(TEXTS, pooling="mean")  # contextvec's own pooling, asked for by name
    assert chosen.pooling == "mean" and not chosen.normalized


def test_st_last_token_after_a_special_token_is_refused(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    tok = wordpiece_tokenizer  # BERT's tokenizer ends every text with [SEP]: ST's last token is not ours
    emb = Embedder(str(_st_folder(tmp_path, tok, tiny_bert(tok), mode="lasttoken")), device="cpu")
    with pytest.raises(OptionError, match="last token"):
        emb.embed_sentences(TEXTS)


def test_legacy_st_pooling_flags_are_read(model_dir: str, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(model_dir, tmp_path / "m"))
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    flags = {"pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(flags))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 48}))
    got = Embedder(str(folder), device="cpu").info.sentence_recipe
    assert (got.pooling, got.normalize, got.max_seq_length, got.unsupported) == ("mean_all", True, 48, "")


def test_a_finetuned_folder_carries_the_base_models_full_recipe(
    tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    from contextvec.finetune import FinetuneConfig, finetune

    tok = wordpiece_tokenizer
    base_folder = _st_folder(tmp_path, tok, tiny_bert(tok), mode="mean")  # base: mean over all tokens, unit length
    base = TorchBackend.load(str(base_folder), device="cpu")
    assert (base.info.sentence_recipe.pooling, base.info.sentence_recipe.normalize) == ("mean_all", True)
    data = tmp_path / "toy.csv"
    rows = [("the river bank was wet", "river"), ("water by the river", "river"), ("a loan from the bank", "money")]
    data.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows * 3), encoding="utf-8")
    cfg = FinetuneConfig(unfreeze="all", epochs=1, batch_size=4, val_share=0.25)
    finetune("classify", data, out=tmp_path / "ft", model=base, config=cfg)
    written = json.loads((tmp_path / "ft" / RECIPE_FILE).read_text())
    assert written["sentence"] == {"pooling": "mean_all", "normalize": True, "max_seq_length": None}
    assert (written["layers"], written["context_only"]) == (-1, False)
    tuned = Embedder(str(tmp_path / "ft"), device="cpu")
    assert not (tmp_path / "ft" / "modules.json").exists()  # so only the recipe file can carry it
    res = tuned.embed_sentences(TEXTS)
    assert res.pooling == "mean_all" and res.normalized
    np.testing.assert_allclose(res.vectors, tuned.embed_sentences(TEXTS, pooling="mean_all", normalize=True).vectors)
