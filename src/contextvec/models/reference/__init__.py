"""The reference transformer: config, modules, trace, and transformers weight mapping (see model.py)."""

from contextvec.models.reference.config import TransformerConfig
from contextvec.models.reference.model import Transformer
from contextvec.models.reference.trace import LayerTrace, TransformerOutput

__all__ = ["LayerTrace", "Transformer", "TransformerConfig", "TransformerOutput"]
