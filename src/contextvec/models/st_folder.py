"""A model folder's own sentence-transformers pipeline (`modules.json`, `1_Pooling/config.json`, `2_Normalize`,
`config_sentence_transformers.json`), read as a contextvec SentenceRecipe.

contextvec computes a pipeline exactly when it is Transformer -> Pooling (one mode: mean, cls or last token) ->
optional Normalize, with no default prompt. Anything else (a Dense or LayerNorm module, max / weighted / sqrt-len
pooling, several modes concatenated, a default prompt) is read as a recipe marked `unsupported`, so the default
sentence call refuses instead of returning contextvec's content mean under sentence-transformers' name. Both of
sentence-transformers' config formats are read: the legacy `pooling_mode_*_tokens: true` flags and the
`pooling_mode: "mean"` (or a list) of version 5 and later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contextvec.models.sentence_recipe import SentenceRecipe
from contextvec.options import SentencePooling

# sentence-transformers' pooling modes -> contextvec's sentence pooling of the same numbers
_MODES: dict[str, SentencePooling] = {
    "mean": "mean_all",  # its attention-mask mean counts [CLS] and [SEP] too
    "cls": "cls",
    "lasttoken": "last",
}
_LEGACY_FLAGS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
_COMPUTED = {"Transformer", "Pooling", "Normalize"}  # the module types contextvec computes itself


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def pooling_modes(config: dict[str, Any]) -> list[str]:
    """The pooling modes a Pooling module's config.json turns on, in either format."""
    mode = config.get("pooling_mode")
    if isinstance(mode, str):
        return [mode]
    if isinstance(mode, list):
        return [str(m) for m in mode]
    return [short for flag, short in _LEGACY_FLAGS.items() if config.get(flag) is True]


def read_sentence_recipe(folder: str | Path) -> SentenceRecipe | None:
    """The sentence recipe a folder declares through sentence-transformers' files; None when it has none."""
    folder = Path(folder)
    modules = _json(folder / "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        return None
    kinds = [(str(m.get("type", "")).rsplit(".", 1)[-1], str(m.get("path", ""))) for m in modules]
    pooling_paths = [path for kind, path in kinds if kind == "Pooling"]
    if not pooling_paths:
        return None
    source = f"sentence-transformers modules.json in {folder.name or folder}"
    config = _json(folder / pooling_paths[0] / "config.json")
    modes = pooling_modes(config) if isinstance(config, dict) else []
    normalize = any(kind == "Normalize" for kind, _ in kinds)
    st_config = _json(folder / "sentence_bert_config.json")
    max_len = st_config.get("max_seq_length") if isinstance(st_config, dict) else None
    max_len = max_len if type(max_len) is int else None
    why = _unsupported(kinds, modes, _json(folder / "config_sentence_transformers.json"))
    pooling: SentencePooling = _MODES[modes[0]] if not why else "mean"
    return SentenceRecipe(pooling, normalize and not why, max_len, source=source, unsupported=why)


def _unsupported(kinds: list[tuple[str, str]], modes: list[str], st_config: Any) -> str:
    """Why contextvec cannot reproduce this pipeline exactly ("" when it can)."""
    others = sorted({kind for kind, _ in kinds} - _COMPUTED)
    if others:
        return f"its sentence-transformers pipeline has {', '.join(others)} module(s), which contextvec does not run"
    if sum(kind == "Pooling" for kind, _ in kinds) != 1:
        return "its sentence-transformers pipeline has more than one Pooling module"
    if len(modes) != 1 or modes[0] not in _MODES:
        found = " + ".join(modes) or "none readable"
        return f"its sentence-transformers pooling is {found}; contextvec computes mean, cls or lasttoken exactly"
    if isinstance(st_config, dict) and st_config.get("default_prompt_name"):
        return f"sentence-transformers adds its default prompt {st_config['default_prompt_name']!r} to every text"
    return ""
