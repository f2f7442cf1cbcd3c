"""Training small contextual models on an offline corpus: ELMo (biLSTM LM), BERT-style MLM, GPT-style causal LM.

    from contextvec.train import train, LoopConfig
    result = train("elmo", "brown", "elmo-brown", loop=LoopConfig(max_minutes=10))
    Embedder(str(result.folder))

Importing this package is cheap (the CLI reads its defaults); torch loads with `train`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contextvec.train.config import DEFAULT_NETS, KINDS, LoopConfig, NetConfig

if TYPE_CHECKING:
    from contextvec.train.run import TrainResult, train

__all__ = ["DEFAULT_NETS", "KINDS", "LoopConfig", "NetConfig", "TrainResult", "train"]


def __getattr__(name: str) -> Any:
    if name in ("train", "TrainResult"):
        from contextvec.train import run

        return getattr(run, name)
    raise AttributeError(f"module 'contextvec.train' has no attribute {name!r}")
