"""The ELMo backend: a folder written by `contextvec train elmo` behind the same contract as TorchBackend.

Tokens are words (contextvec.text's UAX #29 rule, the one every level uses), looked up in the folder's vocabulary;
a word it lacks becomes <unk> (no character model). Windows are <s> words </s>; hidden states are the token
layer and each LSTM layer, L+1 in all, and nothing is causal (the backward LM reads the right context).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from contextvec.errors import ModelLoadError, OptionError
from contextvec.models.backend import DType, Encoded, ModelInfo
from contextvec.models.elmo import BOS, EOS, PAD, SPECIALS, UNK, ElmoBiLM, ElmoConfig
from contextvec.models.recipes import DEFAULT_SENTENCE_RECIPE, TOP_RECIPE, Recipe, SentenceRecipe, read_recipe_file
from contextvec.options import check_choice
from contextvec.text import split_words

MODEL_LIMIT = 4096  # words per window; an LSTM has no position table, this only bounds memory


def encode_words(text: str, index: dict[str, int], lowercase: bool) -> Encoded:
    """A text's words (contextvec.text's rule) as vocabulary ids (<unk> when absent) with their char offsets.

    The one word lookup of ELMo: training (contextvec.train) and embedding both use it.
    """
    spans = split_words(text)  # (W, 2)
    ids = [index.get(text[s:e].lower() if lowercase else text[s:e], UNK) for s, e in spans.tolist()]
    return Encoded(ids=np.asarray(ids, dtype=np.int64), offsets=spans.astype(np.int64))


def vocab_index(vocab: list[str]) -> dict[str, int]:
    """word -> id for the real words (the specials are never looked up from text)."""
    return {w: i for i, w in enumerate(vocab) if i >= len(SPECIALS)}


class ElmoBackend:
    """A trained ELMo biLM and its word vocabulary."""

    name = "torch"  # the runtime (models/contract.py): the biLM runs in torch

    def __init__(
        self,
        model: ElmoBiLM,
        vocab: list[str],
        model_id: str,
        *,
        device: str = "auto",
        dtype: DType = "float32",
        max_length: int | None = None,
        recipe: Recipe = TOP_RECIPE,
        sentence_recipe: SentenceRecipe | None = None,
    ) -> None:
        check_choice("dtype", dtype, ("float32", "bfloat16", "float16"))
        cfg = model.config
        if list(vocab[: len(SPECIALS)]) != list(SPECIALS) or len(vocab) != cfg.vocab_size:
            raise ModelLoadError(
                f"ELMo model {model_id!r}: vocab.json has {len(vocab)} entries starting {vocab[:4]}, expected "
                f"{cfg.vocab_size} starting {list(SPECIALS)}; the folder's files do not belong together."
            )
        self.device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)
        self.model = model.to(device=self.device, dtype=getattr(torch, dtype)).eval()
        self.precision: str = dtype
        self.vocab = vocab
        self.index = vocab_index(vocab)
        self.lowercase = cfg.lowercase
        self.prefix_ids, self.suffix_ids, self.pad_id = [BOS], [EOS], PAD
        window = cfg.max_length if max_length is None else max_length
        if not 3 <= window <= MODEL_LIMIT:
            raise OptionError(f"max_length={window} is outside 3..{MODEL_LIMIT} words for ELMo model {model_id!r}.")
        self.info = ModelInfo(
            model_id=model_id,
            architecture="ElmoBiLM",
            num_layers=cfg.layers,
            hidden_size=2 * cfg.dim,
            max_length=window,
            model_limit=MODEL_LIMIT,
            causal=False,
            has_cls=False,  # <s> is a boundary marker, not a sentence summary
            parameters=sum(p.numel() for p in model.parameters()),
            sentence_recipe=sentence_recipe or DEFAULT_SENTENCE_RECIPE,
            recipe=recipe,
        )

    @classmethod
    def load(
        cls,
        folder: str,
        model_id: str,
        *,
        device: str = "auto",
        dtype: DType = "float32",
        max_length: int | None = None,
    ) -> ElmoBackend:
        """Load config.json, vocab.json and model.safetensors from `folder`; weights with safetensors only (nothing
        is unpickled). A missing or malformed file is a ModelLoadError naming it."""
        path = Path(folder)
        cfg = _read_config(path / "config.json", model_id)
        vocab = _read_vocab(path / "vocab.json", model_id)
        weights = path / "model.safetensors"
        state = _read_weights(weights, model_id)
        model = ElmoBiLM(cfg)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:  # missing, unexpected or misshapen weights
            lines = [x.strip() for x in str(exc).strip().splitlines()[1:]] or [type(exc).__name__]
            first = "; ".join(lines)[:300]  # the missing / unexpected / misshapen keys
            raise ModelLoadError(
                f"ELMo model {model_id!r}: {weights} does not match {path / 'config.json'} ({first}); the folder's "
                "files do not belong together. Train or copy the folder again."
            ) from None
        if not 3 <= cfg.max_length <= MODEL_LIMIT:
            raise ModelLoadError(
                f"ELMo model {model_id!r}: {path / 'config.json'} sets max_length={cfg.max_length}, outside "
                f"3..{MODEL_LIMIT} words; fix the file or train the folder again."
            )
        word, sentence = read_recipe_file(path, cfg.layers) or (TOP_RECIPE, None)
        return cls(
            model,
            vocab,
            model_id,
            device=device,
            dtype=dtype,
            max_length=max_length,
            recipe=word,
            sentence_recipe=sentence,
        )

    def tokenize(self, texts: Sequence[str]) -> list[Encoded]:
        """Each text's words (the house rule) as vocabulary ids, with their character offsets."""
        return [encode_words(text, self.index, self.lowercase) for text in texts]

    def piece(self, token_id: int) -> str:
        return self.vocab[token_id] if 0 <= token_id < len(self.vocab) else ""

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, T) ids and mask -> L+1 hidden states, each (B, T, 2d), on the backend's device."""
        with torch.inference_mode():
            return tuple(self.model(input_ids.to(self.device), attention_mask.to(self.device)))

    def attentions(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise OptionError(
            f"model {self.info.model_id!r} is an ELMo biLSTM: it has no attention to show. Use a transformer "
            "(minilm, mpnet, smollm2, or a folder from `contextvec train mlm|causal`)."
        )


def _missing(file: Path, model_id: str) -> ModelLoadError:
    return ModelLoadError(
        f"ELMo model {model_id!r}: {file.name} is missing from {file.parent}; an ELMo folder holds config.json, "
        "vocab.json and model.safetensors (as `contextvec train elmo` writes them)."
    )


def _read_json(file: Path, model_id: str) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _missing(file, model_id) from None
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
        raise ModelLoadError(
            f"ELMo model {model_id!r}: {file} is not valid JSON ({exc}); train or copy the folder again."
        ) from None


def _read_config(file: Path, model_id: str) -> ElmoConfig:
    data = _read_json(file, model_id)
    try:
        return ElmoConfig.from_json(data)
    except ValueError as exc:
        raise ModelLoadError(
            f"ELMo model {model_id!r}: {file} is malformed: {exc}; train or copy the folder again."
        ) from None


def _read_vocab(file: Path, model_id: str) -> list[str]:
    vocab = _read_json(file, model_id)
    if not (isinstance(vocab, list) and all(isinstance(w, str) for w in vocab)):
        raise ModelLoadError(
            f"ELMo model {model_id!r}: {file} must hold a JSON list of words (strings); train or copy the folder again."
        )
    seen: set[str] = set()
    for w in vocab:
        if w in seen:
            raise ModelLoadError(
                f"ELMo model {model_id!r}: {file} lists {w!r} twice; each word has one id. Train the folder again."
            )
        seen.add(w)
    return vocab


def _read_weights(file: Path, model_id: str) -> dict[str, torch.Tensor]:
    """safetensors only: a pickle (or anything else) in its place is refused unread, never unpickled."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not file.is_file():
        raise _missing(file, model_id)
    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(
            f"ELMo model {model_id!r}: {file} is damaged or not a safetensors file ({exc}); train or copy the "
            "folder again."
        ) from None
