"""Issue 14, defect 11: messages that say which input and which word is wrong (pre-split input, generators)."""

from __future__ import annotations

import pytest

from contextvec import Embedder
from contextvec.errors import InvalidInputError
from contextvec.text import make_documents


def test_a_non_str_pre_split_word_is_named() -> None:
    with pytest.raises(InvalidInputError, match=r"word 1 of input 0 is a NoneType \(None\)"):
        make_documents([["a", None]])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match=r"word 0 of input 1 is a int"):
        make_documents([["ok"], [3]])  # type: ignore[list-item]


@pytest.mark.parametrize("word", ["", "   ", "\x00", "\u200b", "\x00\u200d"])
def test_a_pre_split_word_without_a_visible_character_is_refused(word: str) -> None:
    with pytest.raises(InvalidInputError, match="word 1 of input 0 .*needs a visible character"):
        make_documents([["bank", word]])


def test_a_generator_gets_a_clear_error(bert_embedder: Embedder) -> None:
    with pytest.raises(InvalidInputError, match=r"not a generator: e.g. embed_words\(list\(texts\)\)"):
        make_documents(t for t in ["a", "b"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="not a generator"):
        bert_embedder.embed_words(t for t in ["a bank"])  # type: ignore[arg-type]
