"""Static vectors: file formats (and their errors), lookups, neighbours, analogies, the Embedder interface."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from contextvec.analysis.compare import compare_word
from contextvec.errors import InputFileError, InvalidInputError, OptionError, SpanError
from contextvec.static.embedder import StaticEmbedder
from contextvec.static.formats import load_vectors, save_vectors
from contextvec.static.vectors import StaticVectors

WORDS = ["king", "queen", "man", "woman", "bank", "river", "money"]


@pytest.fixture()
def toy() -> StaticVectors:
    # planted structure: dimension 0 = royalty, 1 = gender, 2 = finance, 3 = water
    m = np.array(
        [[1, 1, 0, 0], [1, -1, 0, 0], [0, 1, 0, 0.1], [0, -1, 0, 0.1], [0, 0, 1, 0.3], [0, 0, 0, 1], [0, 0, 1, 0]],
        dtype=np.float32,
    )
    return StaticVectors(WORDS, m, name="toy", lowercase=True)


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary", "npy"])
def test_formats_round_trip(toy: StaticVectors, tmp_path: Path, fmt: str) -> None:
    path = save_vectors(
        toy, tmp_path / ("v.bin" if fmt == "word2vec-binary" else "v.txt" if fmt == "word2vec" else "vecs"), fmt
    )  # type: ignore[arg-type]
    back = load_vectors(path)
    assert back.words == toy.words
    np.testing.assert_allclose(back.matrix, toy.matrix, atol=1e-5)
    if fmt == "npy":
        assert isinstance(back.matrix, np.memmap)  # large tables are not read into memory


def test_glove_text_has_no_header(tmp_path: Path) -> None:
    p = tmp_path / "glove.txt"
    p.write_text("the 0.1 0.2 0.3\nbank 1 2 3\ncafé -1 0 1\n", encoding="utf-8")
    v = load_vectors(p)
    assert v.words == ["the", "bank", "café"] and v.dim == 3
    np.testing.assert_allclose(v.vector("bank"), [1, 2, 3])


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"3 2\na 1 2\nb 1 2 3\n", "auto", "v.txt:3: 'b' has 3 values, expected 2 (from the header)"),
        (b"3 2\na 1 2\nb 3 4\n", "auto", "the header promises 3 vectors but the file has 2"),
        (b"a 1 2\nb 1 x\n", "auto", "v.txt:2: the vector of 'b' has a value that is not a number"),
        (b"a 1 2\n\xff\xfe 1 2\n", "auto", "v.txt:2: not valid UTF-8"),
        (b"", "auto", "no vectors"),
        (b"2 x\n", "word2vec", "v.txt:1: a word2vec text file starts with 'COUNT DIM'"),
    ],
)
def test_bad_text_files_name_file_and_line(tmp_path: Path, content: bytes, fmt: str, message: str) -> None:
    p = tmp_path / "v.txt"
    p.write_bytes(content)
    with pytest.raises(InputFileError, match=re.escape(message)):
        load_vectors(p, fmt)  # type: ignore[arg-type]


def test_truncated_binary_and_missing_files(tmp_path: Path, toy: StaticVectors) -> None:
    p = save_vectors(toy, tmp_path / "v.bin", "word2vec-binary")
    p.write_bytes(p.read_bytes()[:-20])
    with pytest.raises(InputFileError, match="truncated at vector 7 of 7"):
        load_vectors(p)
    with pytest.raises(InputFileError, match="does not exist"):
        load_vectors(tmp_path / "nope.txt")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "vectors.npy").write_bytes(b"")
    with pytest.raises(InputFileError, match="holds vectors.npy and vocab.txt"):
        load_vectors(tmp_path / "folder", "npy")


def test_neighbours_similarity_and_analogy_follow_the_planted_structure(toy: StaticVectors) -> None:
    assert toy.most_similar("bank", 1)[0][0] == "money"
    a, b = toy.matrix[4], toy.matrix[6]
    assert toy.similarity("Bank", "money") == pytest.approx(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    assert toy.analogy("man", "king", "woman")[0][0] == "queen"
    with pytest.raises(InvalidInputError, match="'dragon' is not in the vocabulary of toy"):
        toy.vector("dragon")


def test_static_embedder_gives_one_vector_per_word_whatever_the_context(toy: StaticVectors) -> None:
    emb = StaticEmbedder(toy)
    texts = ["The bank by the river.", "The bank lent money."]
    words = emb.embed_words(texts)
    assert words.strings == ["bank", "river", "bank", "money"]  # unknown words are not invented...
    assert (0, 0, 3) in words.dropped and (1, 9, 13) in words.dropped  # ...but listed
    assert not np.any(np.all(words.vectors == 0, axis=1))
    np.testing.assert_array_equal(words.vectors[0], words.vectors[2])
    cmp = compare_word(emb, texts, "bank")
    assert cmp.similarity[0, 1] == pytest.approx(1.0)
    span = emb.embed_spans([("The bank lent money.", 4, 19)]).vectors[0]  # "bank lent money": known words only
    np.testing.assert_allclose(span, (toy.matrix[4] + toy.matrix[6]) / 2)
    with pytest.raises(SpanError, match="has no word in the vocabulary of toy"):
        emb.embed_spans([("The bank lent money.", 9, 13)])
    with pytest.raises(OptionError, match="a static model has a single layer"):
        emb.embed_words(texts, layers="-4:")


def test_an_uncased_vocabulary_is_looked_up_lowercased(tmp_path: Path) -> None:
    uncased = tmp_path / "uncased.txt"
    uncased.write_text("2 2\nthe 1 0\nbank 0 1\n")
    vectors = load_vectors(uncased)
    assert vectors.lookup("The") is not None and vectors.lookup("BANK") is not None
    cased = tmp_path / "cased.txt"
    cased.write_text("2 2\nThe 1 0\nbank 0 1\n")
    assert load_vectors(cased).lookup("the") is None  # a cased vocabulary keeps case
