"""Per-model defaults: which layers word, token and span vectors use, and how sentences are pooled.

Word, token and span defaults were chosen by the evaluation suite (`benchmarks/eval_all.py`, results in
docs/EVALUATION.md): every candidate (single layers, contiguous layer ranges, each as is, centred, or
context-only) was scored on the *train* split of the WordNet word-in-context pairs, the best was kept, and the
test split only reports it. Models without a recipe use the top layer.

A recipe belongs to the weights, not to the name they were loaded by. At load time (`recipe_for`) it comes from:
  1. the folder's own `contextvec_recipe.json` (written by `contextvec finetune` and `contextvec train`), read
     strictly: a malformed file is a ModelLoadError naming it, never a silent "top layer";
  2. the offline name (minilm, mpnet, smollm2: their packages pin the weights the recipe was evaluated on);
  3. the weights' fingerprint (`weights_key`), so the same weights by folder path, a copy, or a re-save in
     another file format get the same defaults as by name;
  4. otherwise the top layer, not context-only.

Sentence defaults follow, in this order, the recipe file's "sentence" entry, the folder's own
sentence-transformers pipeline (models/st_folder.py), the known weights' pipeline, and contextvec's content mean.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contextvec.errors import ContextvecError, ModelLoadError
from contextvec.models.sentence_recipe import SentenceRecipe as SentenceRecipe
from contextvec.options import SENTENCE_POOLINGS, LayersArg, parse_layers

TOP_LAYER: LayersArg = -1
RECIPE_FILE = "contextvec_recipe.json"  # a model folder's own recipe (written by `contextvec finetune` / `train`)


@dataclass(frozen=True)
class Recipe:
    layers: LayersArg  # the default `layers=` for token, word and span vectors
    context_only: bool  # the default of compare_word / `contextvec compare` (uses of one word)
    evidence: str = ""  # the test accuracies behind the choice
    source: str = "no recipe: the top layer"  # where it came from (a name, the weights, a folder's file)


TOP_RECIPE = Recipe(layers=TOP_LAYER, context_only=False)


DEFAULT_SENTENCE_RECIPE = SentenceRecipe(pooling="mean", normalize=False)

# Chosen by benchmarks/eval_all.py on the WiC train split (docs/EVALUATION.md has the test numbers).
RECIPES: dict[str, Recipe] = {
    "minilm": Recipe(layers="2:6", context_only=True, evidence="WiC test 0.577 (layer 4) -> 0.598"),
    "mpnet": Recipe(layers="2:8", context_only=True, evidence="WiC test 0.597 (layer 12) -> 0.626"),
    # The search's pick for smollm2 (layer 20 + centering) beat its best single layer by 0.003 on train and lost
    # 0.007 on test: no candidate generalised, so the default is the best single layer, chosen on train.
    "smollm2": Recipe(layers=13, context_only=False, evidence="WiC test 0.553 (layer 13); search pick 0.546"),
}

# The sentence-transformers pipelines of the offline models (for a copy of their weights without those files).
SENTENCE_RECIPES: dict[str, SentenceRecipe] = {
    "minilm": SentenceRecipe("mean_all", True, 256, "sentence-transformers' all-MiniLM-L6-v2 (known weights)"),
    "mpnet": SentenceRecipe("mean_all", True, 384, "sentence-transformers' all-mpnet-base-v2 (known weights)"),
}

# weights_key of each offline model's weights as its pinned package ships them (checked by
# tests/integration/test_recipe_by_weights.py). smollm2's is of the dequantized GGUF weights.
KNOWN_WEIGHTS: dict[str, str] = {
    "3ee888c1eb59eaca": "minilm",
    "de447a761332dee8": "mpnet",
    "ce38e2e2325ac5f3": "smollm2",
}

SAMPLE = 64  # values read from each end of every tensor by weights_key


def weights_key(model: Any, skip: Collection[str] = ()) -> str:
    """A fingerprint of a model's weights, independent of the file format they were saved in: every tensor's
    name and shape and its first and last SAMPLE values. Measured on this machine: 2 ms for minilm and 16 ms
    for mpnet, where hashing every weight (onnx_export.weights_fingerprint) takes 157 ms and 953 ms; a hash
    of the weight file's head and tail is as cheap but changes when the same weights are saved again
    (safetensors header, .bin vs .safetensors, tensor names). Fine-tuning moves every tensor it trains, so a
    fine-tuned copy gets another key (and carries its own recipe file). `skip`: tensors the checkpoint did not
    hold (e.g. a BERT pooler transformers fills in at random), which would make the key differ at every load."""
    import torch

    skip = set(skip)
    h = hashlib.blake2b(digest_size=8)
    for name, tensor in sorted(model.state_dict().items()):
        if name in skip:
            continue
        flat = tensor.detach().reshape(-1)
        h.update(f"{name}:{tuple(tensor.shape)}:".encode())
        h.update(torch.cat([flat[:SAMPLE], flat[-SAMPLE:]]).float().cpu().numpy().tobytes())
    return h.hexdigest()


def recipe_for(
    folder: str | Path | None, name: str | None, key: str | None, num_layers: int
) -> tuple[Recipe, SentenceRecipe]:
    """The word and sentence recipes of a model: `folder` its files on disk (None for a hub id or a model made
    in code), `name` the offline name it was asked for (None for a path), `key` its weights_key."""
    from contextvec.models.st_folder import read_sentence_recipe

    own = read_recipe_file(folder, num_layers) if folder is not None else None
    known = name if name in RECIPES else KNOWN_WEIGHTS.get(key or "")
    if own is not None:
        word, sentence = own
    else:
        word = TOP_RECIPE if known is None else _named(known, "by name" if known == name else "by its weights")
        sentence = None
    sentence = sentence or (read_sentence_recipe(folder) if folder is not None else None)
    sentence = sentence or SENTENCE_RECIPES.get(known or "") or DEFAULT_SENTENCE_RECIPE
    return word, sentence


def _named(name: str, how: str) -> Recipe:
    r = RECIPES[name]
    return Recipe(r.layers, r.context_only, r.evidence, source=f"{name}'s evaluated recipe ({how})")


def read_recipe_file(folder: str | Path, num_layers: int) -> tuple[Recipe, SentenceRecipe | None] | None:
    """A folder's `contextvec_recipe.json`, checked; None when the folder has none.

    {"layers": "2:6" | -1 | [2, 3], "context_only": bool, "evidence": str (optional),
     "sentence": {"pooling": "mean_all", "normalize": true, "max_seq_length": 256 | null} (optional)}"""
    path = Path(folder) / RECIPE_FILE
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, f"it is not readable JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise _bad(path, f"it holds {type(raw).__name__}, not an object")
    unknown = sorted(set(raw) - {"layers", "context_only", "evidence", "sentence"})
    if unknown or "layers" not in raw or not isinstance(raw.get("context_only"), bool):
        keys = "'layers' and 'context_only' (true/false), optionally 'evidence' and 'sentence'"
        raise _bad(path, f"it needs {keys}; found keys {sorted(raw)}")
    layers = raw["layers"]
    ok_type = isinstance(layers, str) or (isinstance(layers, int) and not isinstance(layers, bool))
    ok_type = ok_type or (isinstance(layers, list) and all(type(i) is int for i in layers))
    if not ok_type:
        raise _bad(path, f"'layers' is {layers!r}; give -1, '2:6' or a list of ints")
    try:
        parse_layers(layers, num_layers)
    except ContextvecError as exc:
        raise _bad(path, f"'layers' does not fit this {num_layers}-layer model: {exc}") from None
    word = Recipe(layers, raw["context_only"], str(raw.get("evidence", "")), source=f"{RECIPE_FILE} in {folder}")
    sentence = _sentence_entry(raw.get("sentence"), path) if "sentence" in raw else None
    return word, sentence


def _sentence_entry(entry: Any, path: Path) -> SentenceRecipe:
    fix = "give {'pooling': one of " + ", ".join(SENTENCE_POOLINGS) + ", 'normalize': true/false}"
    if not isinstance(entry, dict) or set(entry) - {"pooling", "normalize", "max_seq_length"}:
        raise _bad(path, f"'sentence' is {entry!r}; {fix}")
    pooling, normalize, max_len = entry.get("pooling"), entry.get("normalize"), entry.get("max_seq_length")
    if pooling not in SENTENCE_POOLINGS or not isinstance(normalize, bool):
        raise _bad(path, f"'sentence' is {entry!r}; {fix}")
    if max_len is not None and (type(max_len) is not int or max_len < 1):
        raise _bad(path, f"'sentence.max_seq_length' is {max_len!r}; give a positive int or null")
    return SentenceRecipe(pooling, normalize, max_len, source=f"{RECIPE_FILE} in {path.parent}")


def _bad(path: Path, why: str) -> ModelLoadError:
    return ModelLoadError(
        f"{path} is not a valid contextvec recipe: {why}. Fix the file, or delete it to use the model's "
        "defaults (the top layer)."
    )


def recipe_file_content(word: Recipe, sentence: SentenceRecipe) -> dict[str, Any]:
    """What a folder contextvec writes keeps in its RECIPE_FILE: the full recipe, nothing left implicit."""
    layers = list(word.layers) if isinstance(word.layers, tuple | list) else word.layers
    return {
        "layers": layers,
        "context_only": word.context_only,
        "evidence": word.evidence,
        "sentence": {
            "pooling": sentence.pooling,
            "normalize": sentence.normalize,
            "max_seq_length": sentence.max_seq_length,
        },
    }


def write_recipe_file(folder: str | Path, word: Recipe, sentence: SentenceRecipe) -> Path:
    """Write `folder`/contextvec_recipe.json (the folder is a fresh output, written in full by its caller)."""
    path = Path(folder) / RECIPE_FILE
    path.write_text(json.dumps(recipe_file_content(word, sentence), indent=1), encoding="utf-8")
    return path


def recipe_of(embedder: object) -> Recipe:
    """The word recipe of any embedder: a contextual model's (its `info.recipe`), the top layer otherwise."""
    found = getattr(getattr(embedder, "info", None), "recipe", None)
    return found if isinstance(found, Recipe) else TOP_RECIPE
