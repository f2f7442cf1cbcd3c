"""Reading and writing static vector files: word2vec text (with an "N D" header), GloVe text (no header),
word2vec binary, and contextvec's own .npy + vocabulary pair (memory-mapped). Bad files fail with the file
and line (or byte offset) and what to do."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from contextvec.errors import InputFileError
from contextvec.static.vectors import StaticVectors

FileFormat = Literal["auto", "word2vec", "glove", "word2vec-binary", "npy"]


def detect(path: Path) -> Literal["word2vec", "glove", "word2vec-binary", "npy"]:
    if path.is_dir() or path.suffix == ".npy":
        return "npy"
    if path.suffix == ".bin":
        return "word2vec-binary"
    with path.open("rb") as fh:
        first = fh.readline(4096)
    parts = first.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return "word2vec"
    return "glove"


def load_vectors(path: str | Path, fmt: FileFormat = "auto", *, lowercase: bool = False) -> StaticVectors:
    """Load a vector file; `fmt="auto"` guesses from the name and the first line."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputFileError(f"vector file {str(p)!r} does not exist.")
    kind = detect(p) if fmt == "auto" else fmt
    if kind == "npy":
        return _load_npy(p, lowercase)
    if kind == "word2vec-binary":
        return _load_binary(p, lowercase)
    return _load_text(p, header=kind == "word2vec", lowercase=lowercase)


def _load_text(path: Path, *, header: bool, lowercase: bool) -> StaticVectors:
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim: int | None = None
    expected: int | None = None
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    f"{path}:{number}: not valid UTF-8 (byte {exc.start}); re-encode the file as UTF-8."
                ) from None
            if header and number == 1:
                parts = line.split()
                if len(parts) != 2 or not all(x.isdigit() for x in parts):
                    raise InputFileError(f"{path}:1: a word2vec text file starts with 'COUNT DIM', got {line[:60]!r}.")
                expected, dim = int(parts[0]), int(parts[1])
                continue
            if not line.strip():
                continue
            word, _, rest = line.rstrip().partition(" ")
            try:
                values = np.array(rest.split(" "), dtype=np.float32)
            except ValueError:
                raise InputFileError(
                    f"{path}:{number}: the vector of {word!r} has a value that is not a number."
                ) from None
            if dim is None:
                dim = len(values)
            if len(values) != dim:
                raise InputFileError(
                    f"{path}:{number}: {word!r} has {len(values)} values, expected {dim}"
                    f"{' (from the header)' if header else ' (from the first line)'}; the file is cut or mixed."
                )
            words.append(word)
            rows.append(values)
    if not rows:
        raise InputFileError(f"{path}: no vectors in the file.")
    if expected is not None and expected != len(rows):
        raise InputFileError(
            f"{path}: the header promises {expected} vectors but the file has {len(rows)}; it may be truncated."
        )
    return StaticVectors(words, np.stack(rows), name=path.name, lowercase=lowercase or _uncased(words))


def _load_binary(path: Path, lowercase: bool) -> StaticVectors:
    data = path.read_bytes()
    buf = io.BytesIO(data)
    head = buf.readline().split()
    if len(head) != 2 or not all(x.isdigit() for x in head):
        raise InputFileError(f"{path}:1: a word2vec binary file starts with 'COUNT DIM\\n'.")
    count, dim = int(head[0]), int(head[1])
    words: list[str] = []
    matrix = np.empty((count, dim), dtype=np.float32)
    for i in range(count):
        start = buf.tell()
        chars = bytearray()
        while (ch := buf.read(1)) not in (b" ", b""):
            if ch != b"\n":
                chars += ch
        raw = buf.read(4 * dim)
        if len(raw) < 4 * dim:
            raise InputFileError(
                f"{path}: truncated at vector {i + 1} of {count} (byte {start}); the file is incomplete."
            )
        try:
            words.append(chars.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputFileError(f"{path}: the word of vector {i + 1} (byte {start}) is not valid UTF-8.") from None
        matrix[i] = np.frombuffer(raw, dtype="<f4")
    return StaticVectors(words, matrix, name=path.name, lowercase=lowercase or _uncased(words))


def _uncased(words: list[str]) -> bool:
    """A vocabulary without a single uppercase letter is uncased: look words up lowercased (e.g. "The" -> "the")."""
    return not any(w != w.lower() for w in words)


def _load_npy(path: Path, lowercase: bool) -> StaticVectors:
    folder = path if path.is_dir() else path.parent
    npy = path if path.suffix == ".npy" else folder / "vectors.npy"
    vocab = folder / "vocab.txt"
    if not npy.is_file() or not vocab.is_file():
        raise InputFileError(f"{folder}: a contextvec vector folder holds vectors.npy and vocab.txt.")
    matrix = np.load(npy, mmap_mode="r")
    words = vocab.read_text(encoding="utf-8").splitlines()
    fallback = _ngram_fallback(folder)
    lower = lowercase or (folder / "LOWERCASE").is_file()
    return StaticVectors(words, matrix, name=folder.name, lowercase=lower, fallback=fallback)


NGRAMS, NGRAMS_META = "ngrams.npy", "ngrams.json"  # fastText's n-gram buckets, saved without pickle


def save_ngrams(folder: Path, wv: Any) -> None:
    """Keep a fastText model's n-gram vectors beside its vectors.npy (plain arrays and JSON, nothing pickled), so
    unseen words get vectors from their n-grams after loading."""
    np.save(folder / NGRAMS, np.asarray(wv.vectors_ngrams, dtype=np.float32), allow_pickle=False)
    meta = {"min_n": int(wv.min_n), "max_n": int(wv.max_n), "bucket": int(wv.bucket)}
    (folder / NGRAMS_META).write_text(json.dumps(meta), encoding="utf-8")


def _ngram_fallback(folder: Path) -> Callable[[str], np.ndarray | None] | None:
    """The n-gram vector of an unseen word (fastText's rule: the mean of its hashed n-grams' rows), or None when
    the folder has no n-grams. gensim's pickled gensim.kv (contextvec 0.2.0) is refused: loading it can run code."""
    if (folder / "gensim.kv").is_file() and not (folder / NGRAMS).is_file():
        raise InputFileError(
            f"{folder / 'gensim.kv'} is a pickle (gensim's format, written by contextvec 0.2.0): loading it could run "
            f"code, so contextvec no longer reads it. Train again to get {NGRAMS} + {NGRAMS_META}, or delete "
            "gensim.kv to use the vocabulary's vectors only (unseen words then have none)."
        )
    if not (folder / NGRAMS).is_file():
        return None
    try:
        meta = json.loads((folder / NGRAMS_META).read_text(encoding="utf-8"))
        min_n, max_n, bucket = (meta[k] for k in ("min_n", "max_n", "bucket"))
        table = np.load(folder / NGRAMS, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"{folder}: n-gram files {NGRAMS} / {NGRAMS_META} are unreadable ({exc}).") from None
    if not all(isinstance(v, int) and v >= 1 for v in (min_n, max_n, bucket)) or min_n > max_n:
        raise InputFileError(f"{folder / NGRAMS_META}: min_n, max_n and bucket must be integers >= 1, got {meta}.")
    if table.ndim != 2 or table.shape[0] != bucket:
        raise InputFileError(f"{folder / NGRAMS}: shape {table.shape}, but {NGRAMS_META} says {bucket} buckets.")
    from gensim.models.fasttext import ft_ngram_hashes

    def fallback(word: str) -> np.ndarray | None:
        hashes = ft_ngram_hashes(word, min_n, max_n, bucket)
        if not hashes:
            return None
        return np.asarray(table[hashes].mean(axis=0), dtype=np.float32)  # (n-grams, D) -> (D,)

    return fallback


def save_vectors(vectors: StaticVectors, path: str | Path, fmt: Literal["word2vec", "word2vec-binary", "npy"]) -> Path:
    """Write vectors as word2vec text, word2vec binary, or a folder with vectors.npy + vocab.txt."""
    p = Path(path)
    if fmt == "npy":
        p.mkdir(parents=True, exist_ok=True)
        np.save(p / "vectors.npy", np.asarray(vectors.matrix, dtype=np.float32))
        (p / "vocab.txt").write_text("\n".join(vectors.words) + "\n", encoding="utf-8")
        if vectors.lowercase:
            (p / "LOWERCASE").write_text("lookups lowercase the word first\n")
        return p
    matrix = np.asarray(vectors.matrix, dtype=np.float32)
    with p.open("wb") as fh:
        fh.write(f"{len(vectors.words)} {vectors.dim}\n".encode())
        for word, row in zip(vectors.words, matrix, strict=True):
            if fmt == "word2vec":
                fh.write((word + " " + " ".join(f"{x:.6g}" for x in row) + "\n").encode("utf-8"))
            else:
                fh.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
    return p
