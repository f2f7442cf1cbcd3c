"""The WordNet reader on a tiny database in WordNet's own file format, and its install message."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextvec.data import wordnet
from contextvec.errors import DatasetNotFoundError

NOUN = """  1 This software and database is being provided to you, the LICENSEE, by
00000001 14 n 02 bank 0 depository_financial_institution 0 000 | a financial institution; \
"he cashed a check at the bank"; "that bank holds the mortgage on my home"
00000002 17 n 01 bank 0 000 | sloping land beside a body of water; \
"they pulled the canoe up on the bank"; "he sat on the banks of the river"
00000003 17 n 01 river 0 000 | a large natural stream of water; "the river was wide"
"""
VERB = """00000010 40 v 01 run 0 000 | move fast; "he ran to the store"; "she runs every day"
00000011 40 v 01 run 0 000 | be in charge of; "he runs the company"
"""


@pytest.fixture
def tiny_wordnet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "data.noun").write_text(NOUN)
    (tmp_path / "data.verb").write_text(VERB)
    (tmp_path / "data.adj").write_text("")
    (tmp_path / "data.adv").write_text("")
    (tmp_path / "verb.exc").write_text("ran run\n")
    monkeypatch.setenv("CONTEXTVEC_WORDNET", str(tmp_path))
    return tmp_path


def test_examples_with_the_lemma_get_its_span_and_synset(tiny_wordnet: Path) -> None:
    examples = list(wordnet.sense_examples(folder=tiny_wordnet))
    bank = [e for e in examples if e.lemma == "bank"]
    assert [(e.text[e.start : e.end], e.synset) for e in bank] == [
        ("bank", "bank.n.00000001"),
        ("bank", "bank.n.00000001"),
        ("bank", "bank.n.00000002"),
        ("banks", "bank.n.00000002"),
    ]
    assert bank[0].gloss == "a financial institution"
    runs = [e.text[e.start : e.end] for e in examples if e.lemma == "run"]
    assert runs == ["ran", "runs", "runs"]  # "ran" through the exception list
    grouped = wordnet.examples_by_lemma(folder=tiny_wordnet)
    assert set(grouped) == {("bank", "n"), ("run", "v")}  # river has one synset


def test_inflections() -> None:
    assert {"stops", "stopped", "stopping"} <= wordnet.inflections("stop", "v")
    assert {"parties"} <= wordnet.inflections("party", "n")


def test_a_missing_wordnet_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTVEC_WORDNET", str(tmp_path))
    monkeypatch.setattr(wordnet, "Path", lambda p: tmp_path / "nowhere" if p == "/usr/share/wordnet" else Path(p))
    with pytest.raises(DatasetNotFoundError, match="apt-get install wordnet-base"):
        wordnet.locate()
