"""transformers checkpoints <-> the reference transformer: one renaming table per family, used both ways.

Loading copies every tensor with its shape asserted and fails on a missing or unexpected weight; saving writes
the same names back, so a folder saved here loads with transformers (and so with `Embedder(folder)`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import torch

from contextvec.errors import ModelLoadError
from contextvec.models.reference.config import Head, TransformerConfig, bert_config, llama_config, mpnet_config

Family = Literal["bert", "llama", "mpnet"]

# ours <- transformers' base-model names; {i} is the block index
_BERT = {
    "tok_emb.weight": "embeddings.word_embeddings.weight",
    "pos_emb.weight": "embeddings.position_embeddings.weight",
    "type_emb.weight": "embeddings.token_type_embeddings.weight",
    "emb_norm.{p}": "embeddings.LayerNorm.{p}",
    "blocks.{i}.attn.q.{p}": "encoder.layer.{i}.attention.self.query.{p}",
    "blocks.{i}.attn.k.{p}": "encoder.layer.{i}.attention.self.key.{p}",
    "blocks.{i}.attn.v.{p}": "encoder.layer.{i}.attention.self.value.{p}",
    "blocks.{i}.attn.o.{p}": "encoder.layer.{i}.attention.output.dense.{p}",
    "blocks.{i}.attn_norm.{p}": "encoder.layer.{i}.attention.output.LayerNorm.{p}",
    "blocks.{i}.mlp.up.{p}": "encoder.layer.{i}.intermediate.dense.{p}",
    "blocks.{i}.mlp.down.{p}": "encoder.layer.{i}.output.dense.{p}",
    "blocks.{i}.mlp_norm.{p}": "encoder.layer.{i}.output.LayerNorm.{p}",
    "mlm_head.dense.{p}": "cls.predictions.transform.dense.{p}",
    "mlm_head.norm.{p}": "cls.predictions.transform.LayerNorm.{p}",
    "mlm_head.bias": "cls.predictions.bias",
}
_MPNET = {
    "tok_emb.weight": "embeddings.word_embeddings.weight",
    "pos_emb.weight": "embeddings.position_embeddings.weight",
    "emb_norm.{p}": "embeddings.LayerNorm.{p}",
    "rel_bias.weight": "encoder.relative_attention_bias.weight",
    "blocks.{i}.attn.{x}.{p}": "encoder.layer.{i}.attention.attn.{x}.{p}",
    "blocks.{i}.attn_norm.{p}": "encoder.layer.{i}.attention.LayerNorm.{p}",
    "blocks.{i}.mlp.up.{p}": "encoder.layer.{i}.intermediate.dense.{p}",
    "blocks.{i}.mlp.down.{p}": "encoder.layer.{i}.output.dense.{p}",
    "blocks.{i}.mlp_norm.{p}": "encoder.layer.{i}.output.LayerNorm.{p}",
}
_LLAMA = {
    "tok_emb.weight": "embed_tokens.weight",
    "blocks.{i}.attn.{x}.weight": "layers.{i}.self_attn.{x}_proj.weight",
    "blocks.{i}.mlp.{x}.weight": "layers.{i}.mlp.{x}_proj.weight",
    "blocks.{i}.attn_norm.weight": "layers.{i}.input_layernorm.weight",
    "blocks.{i}.mlp_norm.weight": "layers.{i}.post_attention_layernorm.weight",
    "final_norm.weight": "norm.weight",
    "lm_head.weight": "lm_head.weight",
}
TABLES: dict[Family, dict[str, str]] = {"bert": _BERT, "llama": _LLAMA, "mpnet": _MPNET}
# the prefix a task model (BertForMaskedLM, LlamaForCausalLM) puts before base-model names
_BASE_PREFIX: dict[Family, str] = {"bert": "bert.", "llama": "model.", "mpnet": "mpnet."}
_HEAD_KEYS = ("cls.", "lm_head.")


def _pattern(template: str) -> re.Pattern[str]:
    out = re.escape(template)
    out = out.replace(r"\{i\}", r"(?P<i>\d+)").replace(r"\{p\}", r"(?P<p>weight|bias)")
    return re.compile(out.replace(r"\{x\}", r"(?P<x>q|k|v|o|gate|up|down)") + "$")


def rename(name: str, family: Family, to_hf: bool) -> str | None:
    """One weight name in the other naming (ours -> transformers with to_hf, else back); None if unknown."""
    for ours, theirs in TABLES[family].items():
        src, dst = (ours, theirs) if to_hf else (theirs, ours)
        m = _pattern(src).match(name)
        if m:
            return dst.format(**m.groupdict())
    return None


def family_of(cfg: TransformerConfig) -> Family:
    """Which transformers architecture a config has the shape of (BERT and Llama save; MPNet loads only)."""
    if cfg.relative_buckets and cfg.position_offset == 2 and cfg.norm_place == "post" and cfg.head == "none":
        return "mpnet"
    plain_positions = not cfg.relative_buckets and not cfg.position_offset
    if cfg.positions == "learned" and cfg.norm_place == "post" and cfg.norm == "layernorm" and cfg.mlp == "gelu":
        if cfg.causal or cfg.head == "lm" or cfg.kv_heads != cfg.n_heads or not cfg.bias or not plain_positions:
            raise ModelLoadError("a BERT-shaped config must be bidirectional, with biases, full heads and no LM head.")
        return "bert"
    if cfg.positions == "rotary" and cfg.norm_place == "pre" and cfg.norm == "rmsnorm" and cfg.mlp == "swiglu":
        if not cfg.causal or cfg.bias or cfg.head == "mlm" or not cfg.final_norm:
            raise ModelLoadError("a Llama-shaped config must be causal, bias-free, with a final norm and no MLM head.")
        return "llama"
    raise ModelLoadError(
        "only BERT-shaped (learned positions, post-LN LayerNorm, GELU) and Llama-shaped (rotary, pre-LN RMSNorm, "
        "SwiGLU) transformers have a transformers format to save as."
    )


def load_state(ours: dict[str, torch.Tensor], hf_state: dict[str, torch.Tensor], cfg: TransformerConfig) -> None:
    """Copy a transformers state dict into `ours` (a model's state dict), asserting every shape; all must be used."""
    family = family_of(cfg)
    prefix = _BASE_PREFIX[family]
    filled: set[str] = set()
    for name, tensor in hf_state.items():
        base = name.removeprefix(prefix) if not name.startswith(_HEAD_KEYS) else name
        if base.endswith(("position_ids", "rotary_emb.inv_freq")) or base == "cls.predictions.decoder.bias":
            continue  # buffers recomputed here; the decoder bias is cls.predictions.bias
        if base in ("cls.predictions.decoder.weight", "lm_head.weight") and cfg.tie_embeddings:
            continue  # tied to the token embeddings
        if base.startswith(("cls.seq_relationship", "pooler.")) or (base.startswith("cls.") and cfg.head != "mlm"):
            continue  # heads this model does not carry (next-sentence, pooler, or an MLM head not asked for)
        key = rename(base, family, to_hf=False)
        if key is None or key not in ours:
            if base == "lm_head.weight" and cfg.head != "lm":
                continue
            raise ModelLoadError(f"weight {name!r} has no place in the reference {family} transformer.")
        if tuple(tensor.shape) != tuple(ours[key].shape):
            raise ModelLoadError(f"weight {name!r} has shape {tuple(tensor.shape)}, expected {tuple(ours[key].shape)}.")
        ours[key].copy_(tensor)
        filled.add(key)
    missing = sorted(set(ours) - filled)
    if missing:
        raise ModelLoadError(f"the checkpoint lacks {len(missing)} weight(s) the model needs, e.g. {missing[:3]}.")


def to_hf_state_dict(state: dict[str, torch.Tensor], cfg: TransformerConfig) -> dict[str, torch.Tensor]:
    """A model's weights under transformers' names (task-model names when it has a head): the inverse of loading."""
    family = family_of(cfg)
    prefix = _BASE_PREFIX[family] if cfg.head != "none" else ""
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        name = rename(key, family, to_hf=True)
        if name is None:
            raise ModelLoadError(f"weight {key!r} has no transformers name for {family}.")
        out[name if name.startswith(_HEAD_KEYS) else prefix + name] = tensor.detach().contiguous().clone()
    if cfg.head == "mlm":
        out["cls.predictions.decoder.weight"] = state["tok_emb.weight"].detach().clone()
    return out


def hf_config(c: TransformerConfig) -> dict[str, Any]:
    """config.json for transformers (the inverse of bert_config / llama_config)."""
    if family_of(c) == "mpnet":
        raise ModelLoadError("the reference transformer reads MPNet but saves only BERT- and Llama-shaped models.")
    if family_of(c) == "bert":
        arch = "BertForMaskedLM" if c.head == "mlm" else "BertModel"
        return {
            "architectures": [arch], "model_type": "bert", "vocab_size": c.vocab_size, "hidden_size": c.dim,
            "num_hidden_layers": c.n_layers, "num_attention_heads": c.n_heads, "intermediate_size": c.mlp_dim,
            "hidden_act": "gelu", "max_position_embeddings": c.max_positions, "type_vocab_size": c.type_vocab_size,
            "layer_norm_eps": c.norm_eps, "pad_token_id": c.pad_token_id, "position_embedding_type": "absolute",
            "hidden_dropout_prob": c.dropout, "attention_probs_dropout_prob": c.dropout,
        }  # fmt: skip
    return {
        "architectures": ["LlamaForCausalLM" if c.head == "lm" else "LlamaModel"], "model_type": "llama",
        "vocab_size": c.vocab_size, "hidden_size": c.dim, "num_hidden_layers": c.n_layers,
        "num_attention_heads": c.n_heads, "num_key_value_heads": c.kv_heads, "head_dim": c.hd,
        "intermediate_size": c.mlp_dim, "hidden_act": "silu", "max_position_embeddings": c.max_positions,
        "rms_norm_eps": c.norm_eps, "rope_theta": c.rope_theta, "tie_word_embeddings": c.tie_embeddings,
        "attention_bias": False, "mlp_bias": False, "pad_token_id": c.pad_token_id, "attention_dropout": c.dropout,
    }  # fmt: skip


def save_pretrained(
    state: dict[str, torch.Tensor], cfg: TransformerConfig, folder: str | Path, tokenizer: Any | None = None
) -> None:
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    save_file(to_hf_state_dict(state, cfg), str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(hf_config(cfg), indent=2))
    if tokenizer is not None:
        tokenizer.save_pretrained(str(out))


def _read_state(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ModelLoadError(f"folder {str(folder)!r} has no .safetensors weights for the reference transformer.")
    state: dict[str, torch.Tensor] = {}
    for f in files:
        try:
            state.update(load_file(str(f)))
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise ModelLoadError(
                f"could not read weights {str(f)!r} ({type(exc).__name__}: {exc}); the file is damaged. Save or copy "
                "the model again (for a cached offline model, run again: contextvec rebuilds its cache)."
            ) from None
    return state


def read_pretrained(name_or_folder: str, head: str = "none") -> tuple[TransformerConfig, dict[str, torch.Tensor]]:
    """A name or folder as the Embedder resolves it -> the reference config and transformers' weights."""
    from transformers import AutoConfig

    from contextvec.models.registry import resolve_model
    from contextvec.options import check_choice

    check_choice("head", head, ("none", "mlm", "lm"))
    resolved = resolve_model(name_or_folder)
    try:
        hf = AutoConfig.from_pretrained(resolved.path)
    except Exception as exc:  # transformers raises OSError, ValueError or JSON errors for a bad config.json
        raise ModelLoadError(
            f"could not read the config of {name_or_folder!r} ({type(exc).__name__}: {exc})."
        ) from None
    cfg = config_from_hf(hf, head, name_or_folder)
    return cfg, _read_state(Path(resolved.path))


def config_from_hf(hf: Any, head: str = "none", name: str = "the model") -> TransformerConfig:
    """The reference config of a transformers BERT or Llama config; any other architecture is refused."""
    if hf.model_type == "bert":
        return bert_config(hf, _head(head))
    if hf.model_type == "llama":
        return llama_config(hf, _head(head))
    if hf.model_type == "mpnet":
        return mpnet_config(hf, _head(head))
    raise ModelLoadError(
        f"{name!r} is a {hf.model_type!r} model; the reference transformer reads BERT (minilm), MPNet (mpnet) and "
        "Llama (smollm2). "
        "Use Embedder for other models."
    )


def _head(head: str) -> Head:
    return "mlm" if head == "mlm" else "lm" if head == "lm" else "none"
