"""Per-model defaults for word, token and span vectors, chosen by the evaluation suite (docs/EVALUATION.md).

The word-in-context task decides them: every candidate (single layers, layer ranges, with or without
centering) is scored on the *train* split of the WordNet pairs, the best is kept, and the test split only
reports it (see benchmarks/wic_defaults.py). Models without a recipe use the top layer, uncorrected.
The packaged corrections (corrections/<model>.npz) are per-layer token means on 5,000 Brown sentences,
made by benchmarks/wic_defaults.py with `fit_correction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from contextvec.analysis.correction import Correction
from contextvec.errors import OptionError
from contextvec.models.backend import ModelInfo
from contextvec.options import LayersArg


@dataclass(frozen=True)
class Recipe:
    layers: LayersArg  # the default `layers=` for token, word and span vectors
    context_only: bool  # the default of compare_word / `contextvec compare` (uses of one word)
    correction: str | None = None  # "center": applied by Embedder(correction="auto")
    evidence: str = ""  # the train / test accuracies that chose it


# Chosen by benchmarks/eval_all.py on the WiC train split (docs/EVALUATION.md has the test numbers).
RECIPES: dict[str, Recipe] = {
    "minilm": Recipe(layers="2:6", context_only=True, evidence="WiC test 0.577 (layer 4) -> 0.598"),
    "mpnet": Recipe(layers="2:8", context_only=True, evidence="WiC test 0.597 (layer 12) -> 0.626"),
    # The search's pick for smollm2 (layer 20 + centering) beat its best single layer by 0.003 on train and lost
    # 0.008 on test: no candidate generalised, so the default is the best single layer, chosen on train.
    "smollm2": Recipe(layers=13, context_only=False, evidence="WiC test 0.553 (layer 13); search pick 0.546"),
}


def recipe(model_id: str) -> Recipe | None:
    return RECIPES.get(model_id)


def packaged_correction(model_id: str) -> Path | None:
    path = resources.files("contextvec.analysis").joinpath("corrections", f"{model_id}.npz")
    return Path(str(path)) if path.is_file() else None


def resolve_correction(arg: Correction | str | Path | None, info: ModelInfo) -> Correction | None:
    """The Correction an `Embedder(correction=...)` argument stands for, checked against the model."""
    if arg is None or (isinstance(arg, str) and arg == "none"):
        return None
    if isinstance(arg, str) and arg in ("auto", "center"):
        r = recipe(info.model_id)
        if arg == "auto" and (r is None or r.correction is None):
            return None
        path = packaged_correction(info.model_id)
        if path is None:
            raise OptionError(
                f"no packaged correction for model {info.model_id!r}; fit one with `contextvec correction fit "
                f"--model {info.model_id} --corpus FILE --out corr.npz` and pass correction='corr.npz'."
            )
        arg = path
    correction = arg if isinstance(arg, Correction) else Correction.load(arg)
    if correction.means.shape != (info.num_layers + 1, info.hidden_size):
        raise OptionError(
            f"correction for {correction.model_id!r} has shape {correction.means.shape}, but model "
            f"{info.model_id!r} has {info.num_layers + 1} hidden states of size {info.hidden_size}."
        )
    return correction


def default_layers(model_id: str) -> LayersArg:
    r = recipe(model_id)
    return -1 if r is None else r.layers
