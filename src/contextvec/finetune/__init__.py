"""Fine-tuning: train a head (and, if asked, the encoder's blocks) on labelled sentences, tagged words or
word-in-context pairs; save a folder that `predict` and `Embedder(DIR)` load. See docs/finetune.md."""

from contextvec.finetune.config import FinetuneConfig
from contextvec.finetune.predict import Predictions, predict
from contextvec.finetune.run import FinetuneResult, finetune

__all__ = ["FinetuneConfig", "FinetuneResult", "Predictions", "finetune", "predict"]
