"""GGUF (quantized llama.cpp) models: dequantize once with transformers, cache as a plain transformers folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from contextvec.errors import ModelLoadError
from contextvec.models.cache import build_once, cache_root

logger = logging.getLogger(__name__)


def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in ("config.json", "model.safetensors", "tokenizer.json"))


def dequantized_folder(gguf_file: Path) -> Path:
    """A cached folder (config.json, model.safetensors, tokenizer) holding `gguf_file`'s dequantized weights."""
    stat = gguf_file.stat()
    final = cache_root() / "models" / f"{gguf_file.stem}-{stat.st_size}"

    def build(tmp: Path) -> None:
        import torch
        from safetensors.torch import save_file
        from transformers import AutoModelForCausalLM, AutoTokenizer

        logger.warning("dequantizing %s once into %s (about 30 s)", gguf_file.name, final)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name)
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf_file.parent), gguf_file=gguf_file.name, dtype=torch.float32
            )
        except Exception as exc:  # transformers raises many types here; report them as one clear error
            raise ModelLoadError(f"could not read GGUF file {str(gguf_file)!r}: {exc}") from exc
        # transformers refuses save_pretrained on a GGUF-loaded model: write the state dict and config directly.
        state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        tokenizer.save_pretrained(str(tmp))

    return build_once(final, build, _complete)
