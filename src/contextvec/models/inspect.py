"""What a transformers model and its tokenizer are, read off them once at load: the special-token template, the
window it accepts, whether it is causal, whether it has a language-model head; checks with errors that say how to
fix the folder."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from contextvec.errors import ModelLoadError, OptionError
from contextvec.models.recipes import SentenceRecipe

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

DEFAULT_MAX_WINDOW = 512  # decoders accept more, but attention cost grows with the square of the window


def special_template(tok: Tokenizer) -> tuple[list[int], list[int]]:
    """The ids the tokenizer adds before and after a text's content (e.g. [CLS] ... [SEP])."""
    plain = tok.encode("a", add_special_tokens=False).ids
    full = tok.encode("a", add_special_tokens=True).ids
    for k in range(len(full) - len(plain) + 1):
        if full[k : k + len(plain)] == plain:
            return full[:k], full[k + len(plain) :]
    raise ModelLoadError("could not locate the content tokens inside the tokenizer's special-token template")


def model_limit(config: Any, hf_tokenizer: Any) -> int:
    limits = []
    pos = getattr(config, "max_position_embeddings", None)
    if isinstance(pos, int) and pos > 0:
        if config.model_type in {"roberta", "xlm-roberta", "mpnet", "camembert", "longformer"}:
            pos -= int(getattr(config, "pad_token_id", 1) or 1) + 1  # positions start after padding_idx
        limits.append(pos)
    tmax = getattr(hf_tokenizer, "model_max_length", None)
    if isinstance(tmax, int) and 0 < tmax < 1_000_000:
        limits.append(tmax)
    return min(limits) if limits else DEFAULT_MAX_WINDOW


def is_causal(config: Any) -> bool:
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    if getattr(config, "is_decoder", False):
        return True
    return config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def check_model(model: Any, hf_tokenizer: Any, model_id: str) -> None:
    if not getattr(hf_tokenizer, "is_fast", False):
        raise ModelLoadError(
            f"model {model_id!r} has no fast (Rust) tokenizer, which contextvec needs for character offsets; "
            "add a tokenizer.json to the model folder."
        )
    if getattr(model.config, "is_encoder_decoder", False):
        raise ModelLoadError(
            f"model {model_id!r} is an encoder-decoder ({model.config.model_type}); contextvec embeds with encoders "
            "(BERT-style) and decoders (GPT-style)."
        )


def window(max_length: int | None, limit: int, n_special: int, model_id: str) -> int:
    """The window size in tokens: the one asked for, checked, or the model's limit capped at 512."""
    if max_length is None:
        return min(limit, DEFAULT_MAX_WINDOW)
    if not n_special + 2 <= max_length <= limit:
        raise OptionError(
            f"max_length={max_length} is outside {n_special + 2}..{limit} for model {model_id!r} "
            f"(its position limit is {limit} tokens, {n_special} of them special)."
        )
    return max_length


def has_lm_head(folder: str) -> bool:
    """Whether a local folder's config.json names a masked-LM or causal-LM head (e.g. `contextvec train` output)."""
    import json
    from pathlib import Path

    try:
        archs = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError, AttributeError):
        return False
    return any(str(a).endswith(("ForMaskedLM", "ForCausalLM")) for a in archs)


def checked_sentence(recipe: SentenceRecipe, suffix_ids: list[int]) -> SentenceRecipe:
    """sentence-transformers' last-token pooling reads the last token the model saw; contextvec's "last" is the
    last content token. They agree only when the tokenizer adds nothing after the content (most decoders)."""
    if recipe.pooling == "last" and suffix_ids and not recipe.unsupported and "sentence-transformers" in recipe.source:
        why = "its sentence-transformers pooling reads the last token, which is a special token for this tokenizer"
        return replace(recipe, pooling="mean", normalize=False, unsupported=why)
    return recipe


def private_tokenizer(hf_tokenizer: Any) -> Tokenizer:
    """A private copy of the Rust tokenizer: no truncation or padding (windows do that), and special-token
    strings in user text ("[CLS]") are read as text, never as control tokens."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    tok.no_truncation()
    tok.no_padding()
    tok.encode_special_tokens = True
    return tok
