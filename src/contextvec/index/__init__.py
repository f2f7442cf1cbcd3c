"""A durable index of every word's (and sentence's) contextual vector, and search by example.

    from contextvec.index import build_index, Index
    build_index("corpus.txt", "my-index")
    Index.open("my-index").search_like("We sat on the bank of the river.", 14, 18, k=10)

Needs the `index` extra (LanceDB): pip install "contextvec[index]".
"""

from contextvec.index.build import build_index
from contextvec.index.search import Hit, Index

__all__ = ["Hit", "Index", "build_index"]
