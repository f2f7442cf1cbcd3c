"""The reference transformer, for readers and for training: `from contextvec.transformer import Transformer`.

See contextvec/models/reference/ (model.py reads like the equations) and docs/inside.md.
"""

from contextvec.models.reference import LayerTrace, Transformer, TransformerConfig, TransformerOutput

__all__ = ["LayerTrace", "Transformer", "TransformerConfig", "TransformerOutput"]
