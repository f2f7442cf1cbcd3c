"""contextvec: contextual embeddings per token, word, span and sentence, offline, for texts of any length."""

from contextvec.embedder import Embedder
from contextvec.errors import ContextvecError
from contextvec.results import (
    Embeddings,
    SentenceEmbeddings,
    SpanEmbeddings,
    TokenEmbeddings,
    WordEmbeddings,
    cosine,
)

__version__ = "0.2.0"

__all__ = [
    "ContextvecError",
    "Embedder",
    "Embeddings",
    "SentenceEmbeddings",
    "SpanEmbeddings",
    "TokenEmbeddings",
    "WordEmbeddings",
    "__version__",
    "cosine",
]
