"""ELMo (Peters et al., 2018), small: a forward and a backward LSTM language model over words.

    token layer   e_t = E[w_t]                                   (B, T, d)   the same for both directions
    forward LM    f_t^1 = LSTM_f1(e_1..e_t),  f_t^2 = LSTM_f2(f^1)_t + f_t^1     reads left to right
    backward LM   b_t^1 = LSTM_b1(e_T..e_t),  b_t^2 = LSTM_b2(b^1)_t + b_t^1     reads right to left
    softmax       p(w_{t+1} | w_1..w_t) = softmax(E f_t^2),  p(w_{t-1} | w_t..w_T) = softmax(E b_t^2)  (tied E)

The L+1 = 3 representations of a word are [e_t; e_t], [f_t^1; b_t^1] and [f_t^2; b_t^2], each (B, T, 2d): the
token layer is duplicated so every layer has the same width, as in the paper. A task mixes them with a learned
scalar mix (contextvec.pooling.scalar_mix); for vectors, pick a layer or the mean with `layers=`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

MODEL_TYPE = "contextvec-elmo"  # config.json's model_type: how the loader tells an ELMo folder from transformers'
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")  # ids 0..3 of every ELMo vocabulary
PAD, UNK, BOS, EOS = range(4)


@dataclass(frozen=True)
class ElmoConfig:
    vocab_size: int
    dim: int = 128  # token embedding = LSTM output (projection) per direction; representations are 2 * dim
    hidden: int = 128  # LSTM cells per layer and direction; more than dim are projected down to dim (ELMo: 4096 -> 512)
    layers: int = 2
    dropout: float = 0.1
    lowercase: bool = True  # words are looked up lowercased (a small corpus has few of each cased form)
    max_length: int = 512  # default window in words, <s> and </s> included; an LSTM itself has no position limit

    def to_json(self) -> dict[str, Any]:
        return {"model_type": MODEL_TYPE, "architectures": ["ElmoBiLM"], **asdict(self)}

    @classmethod
    def from_json(cls, data: Any) -> ElmoConfig:
        """The config a config.json holds; ValueError saying which field is wrong (type or range), never a default
        for a field that is there but malformed. Keys that are not fields (model_type, architectures) are ignored."""
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        names = {f.name for f in fields(cls)}
        if "vocab_size" not in data:
            raise ValueError("vocab_size is missing")
        for name in ("vocab_size", "dim", "hidden", "layers", "max_length"):
            low = len(SPECIALS) + 1 if name == "vocab_size" else 1
            value = data.get(name, low)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        dropout = data.get("dropout", 0.0)
        if not (isinstance(dropout, int | float) and not isinstance(dropout, bool) and 0.0 <= dropout < 1.0):
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        if not isinstance(data.get("lowercase", True), bool):
            raise ValueError(f"lowercase must be true or false, got {data['lowercase']!r}")
        return cls(**{k: v for k, v in data.items() if k in names})


class Direction(nn.Module):
    """One LSTM language model (one direction): `layers` single-layer LSTMs, residual from the second on."""

    def __init__(self, cfg: ElmoConfig) -> None:
        super().__init__()
        self.lstms = nn.ModuleList(
            # hidden > dim: project the cells down to dim as ELMo does (torch's slower LSTM path); hidden == dim: none
            nn.LSTM(cfg.dim, cfg.hidden, proj_size=cfg.dim if cfg.hidden > cfg.dim else 0, batch_first=True)
            for _ in range(cfg.layers)
        )
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, T, d) inputs, already in reading order -> one (B, T, d) output per layer."""
        outs: list[torch.Tensor] = []
        h = x
        for k, lstm in enumerate(self.lstms):
            y, _ = lstm(self.drop(h))  # (B, T, d)
            h = y + h if k > 0 else y  # residual between LSTM layers, as in ELMo
            outs.append(h)
        return outs


def reverse_index(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) mask of right-padded rows -> (B, T) gather index that reverses each row's real tokens in place.

    Position t < n_b maps to n_b - 1 - t, padding maps to itself; applying it twice is the identity.
    """
    B, T = mask.shape
    n = mask.sum(dim=1, keepdim=True)  # (B, 1) real tokens per row
    t = torch.arange(T, device=mask.device).expand(B, T)  # (B, T)
    return torch.where(t < n, n - 1 - t, t)


def _gather_rows(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x (B, T, d), index (B, T) -> x[b, index[b, t]] (B, T, d)."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class ElmoBiLM(nn.Module):
    """The two language models with a shared (tied) token embedding and softmax."""

    def __init__(self, cfg: ElmoConfig) -> None:
        super().__init__()
        self.config = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim, padding_idx=PAD)
        self.forward_lm = Direction(cfg)
        self.backward_lm = Direction(cfg)
        self.drop = nn.Dropout(cfg.dropout)
        nn.init.normal_(self.embed.weight, std=cfg.dim**-0.5)

    def directions(
        self, ids: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """(B, T) ids and mask -> token layer (B, T, d), forward and backward layer outputs (each (B, T, d)).

        Backward outputs are put back in reading order: b[t] has read tokens t..n-1.
        """
        e = self.embed(ids)  # (B, T, d)
        fwd = self.forward_lm(e)
        rev = reverse_index(mask)  # (B, T)
        bwd = [_gather_rows(h, rev) for h in self.backward_lm(_gather_rows(e, rev))]
        return e, fwd, bwd

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, T) ids and mask -> L+1 hidden states, each (B, T, 2d): [e; e], then [f^k; b^k] per layer."""
        e, fwd, bwd = self.directions(ids, mask)
        return (torch.cat([e, e], dim=-1), *(torch.cat([f, b], dim=-1) for f, b in zip(fwd, bwd, strict=True)))

    def lm_losses(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean next-word (forward) and previous-word (backward) cross-entropy over the real tokens of a batch.

        Rows are <s> w_1 .. w_n </s>: the forward LM predicts w_1 .. </s>, the backward LM <s> .. w_n.
        """
        _, fwd, bwd = self.directions(ids, mask)
        W = self.embed.weight  # (V, d): the tied softmax
        f_logits = self.drop(fwd[-1][:, :-1]) @ W.T  # (B, T-1, V), position t predicts t+1
        b_logits = self.drop(bwd[-1][:, 1:]) @ W.T  # (B, T-1, V), position t+1 predicts t
        f_target = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)  # (B, T-1); padding is ignored
        b_target = ids[:, :-1].masked_fill(mask[:, 1:] == 0, -100)
        ce = nn.functional.cross_entropy
        return ce(f_logits.flatten(0, 1), f_target.flatten()), ce(b_logits.flatten(0, 1), b_target.flatten())


def save_elmo(model: ElmoBiLM, vocab: list[str], folder: Path) -> None:
    """Write config.json, vocab.json and model.safetensors (the caller publishes the folder atomically)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(model.config.to_json(), indent=1), encoding="utf-8")
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))


def read_model_type(folder: str | Path) -> str | None:
    """config.json's model_type, or None when the folder has none (a hub id, a broken file: transformers decides)."""
    path = Path(folder) / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("model_type") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
