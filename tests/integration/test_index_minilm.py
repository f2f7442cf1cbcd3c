"""The index on the real minilm: search by example separates the senses of "bank"; sentence search finds topics."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("lancedb")

CORPUS = [
    "She deposited her salary at the bank on Monday.",
    "The bank raised its interest rates again.",
    "He asked the bank for a loan to buy a house.",
    "We had a picnic on the grassy bank of the river.",
    "The canoe drifted toward the muddy bank of the stream.",
    "Fishermen lined the bank of the lake at dawn.",
    "The orchestra played a symphony by Mahler.",
    "Stock markets fell sharply after the announcement.",
]


@pytest.mark.slow
def test_search_by_example_finds_the_same_sense_of_bank(tmp_path: Path) -> None:
    from contextvec.index import Index, build_index
    from contextvec.text import find_word

    (tmp_path / "c.txt").write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    m = build_index(tmp_path / "c.txt", tmp_path / "idx", model="minilm", level="both", shard_rows=20)
    assert m.complete and m.layers["word"] and m.table["word"]["rows"] > 60
    idx = Index.open(tmp_path / "idx")
    like = "They walked along the bank of the river."
    hits = idx.search_like(like, *find_word(like, "bank"), k=3)
    assert {h.doc_id for h in hits} == {"c.txt:4", "c.txt:5", "c.txt:6"}
    money = "I need to go to the bank to withdraw cash."
    hits = idx.search_like(money, *find_word(money, "bank"), k=3)
    assert {h.doc_id for h in hits} == {"c.txt:1", "c.txt:2", "c.txt:3"}
    top = idx.search_sentences("classical music concert", k=1)[0]
    assert top.doc_id == "c.txt:7"
    occ = idx.occurrences("bank")
    assert len(occ) == 6 and occ.layers == m.layers["word"]
