"""build_index + Index on a tiny random BERT: rows equal the spine's, search finds the right uses, durability."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from tiny_models import CORPUS

from contextvec import Embedder
from contextvec.errors import IndexStateError, InputFileError, OutputWriteError
from contextvec.index import Index, build_index
from contextvec.index.manifest import Manifest

pytest.importorskip("lancedb")

DOCS = [f"{line} Line {i} ends here." for i, line in enumerate(CORPUS)]


def corpus(tmp_path: Path, lines: list[str] = DOCS, name: str = "c.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows(folder: Path) -> pa.Table:
    files = [str(folder / s.file) for s in Manifest.load(folder).shards if s.file]
    return pads.dataset(files, format="parquet").to_table().sort_by([("seq", "ascending"), ("start", "ascending")])


def build(src: Path, out: Path, emb: Embedder, **kw: object) -> Manifest:
    return build_index(src, out, model="tiny-bert", embedder=emb, shard_rows=60, batch_docs=4, **kw)  # type: ignore[arg-type]


def test_rows_are_the_spines_word_vectors(tmp_path: Path, bert_embedder: Embedder) -> None:
    m = build(corpus(tmp_path), tmp_path / "idx", bert_embedder)
    direct = bert_embedder.embed_words(DOCS)
    got = rows(tmp_path / "idx")
    assert got.num_rows == len(direct) == m.rows == m.table["word"]["rows"]
    assert got["seq"].to_pylist() == direct.text_index.tolist()
    assert got["start"].to_pylist() == direct.start.tolist() and got["word"].to_pylist() == direct.strings
    vectors = np.asarray(got["vector"].to_pylist(), dtype=np.float32)
    np.testing.assert_allclose(vectors, direct.vectors, atol=1e-5)
    assert m.layers["word"] == direct.layers and len(m.shards) == m.shards_planned > 1
    text, start, sent0 = got["text"][0].as_py(), got["start"][5].as_py(), got["sentence_start"][5].as_py()
    assert DOCS[0].startswith(text) and text.endswith(".")
    assert got["text"][5].as_py()[start - sent0 :].startswith(got["word"][5].as_py())
    assert all((tmp_path / "idx" / s.file).stat().st_size == s.bytes for s in m.shards if s.file)


def test_search_like_finds_the_same_use_first_and_filters_by_word(tmp_path: Path, bert_embedder: Embedder) -> None:
    build(corpus(tmp_path), tmp_path / "idx", bert_embedder)
    idx = Index.open(tmp_path / "idx", embedder=bert_embedder)
    text = DOCS[1]
    s = text.index("bank")
    hits = idx.search_like(text, s, s + 4, k=5)
    assert hits[0].doc_id == "c.txt:2" and hits[0].start == s and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert {h.word.lower() for h in hits if h.word} == {"bank"} and len(hits) == 5  # 6 uses of bank in the corpus
    assert hits[0].text[slice(*hits[0].highlight)] == "bank"
    wide = idx.search_like(text, s, s + 4, k=20, any_word=True)
    assert len({h.word for h in wide}) > 1 and wide[0].score >= wide[-1].score
    only = idx.search_like(text, s, s + 4, k=5, doc_ids=["c.txt:1"])
    assert [h.doc_id for h in only] == ["c.txt:1"]
    assert set(hits[0].to_json()) >= {"score", "doc_id", "start", "end", "word", "text"}


def test_sentence_search_and_both_levels(tmp_path: Path, bert_embedder: Embedder) -> None:
    m = build(corpus(tmp_path), tmp_path / "idx", bert_embedder, level="both")
    assert set(m.table) == {"word", "sentence"} and m.table["sentence"]["rows"] == 2 * len(DOCS)
    idx = Index.open(tmp_path / "idx", embedder=bert_embedder)
    hit = idx.search_sentences("Line 4 ends here.", k=1)[0]
    assert hit.text == "Line 4 ends here." and hit.word is None and DOCS[4][hit.start : hit.end] == hit.text
    word_only = build(corpus(tmp_path), tmp_path / "w", bert_embedder)
    assert "sentence" not in word_only.table
    with pytest.raises(Exception, match="no sentence rows"):
        Index.open(tmp_path / "w", embedder=bert_embedder).search_sentences("x")


def test_occurrences_from_the_index_match_the_stored_rows(tmp_path: Path, bert_embedder: Embedder) -> None:
    build(corpus(tmp_path), tmp_path / "idx", bert_embedder)
    occ = Index.open(tmp_path / "idx", embedder=bert_embedder).occurrences("BANK")
    assert len(occ) == 6 and set(occ.target) == {"bank"} and occ.vectors.shape == (6, bert_embedder.info.hidden_size)
    for i in range(len(occ)):
        assert occ.texts[int(occ.text_index[i])][occ.start[i] : occ.end[i]].lower() == "bank"
    direct = bert_embedder.embed_spans([(DOCS[0], DOCS[0].index("bank"), DOCS[0].index("bank") + 4)])
    np.testing.assert_allclose(occ.vectors[0], direct.vectors[0], atol=1e-5)


def test_resume_after_lost_shards_and_a_corrupt_one_gives_the_one_shot_rows(
    tmp_path: Path, bert_embedder: Embedder
) -> None:
    src = corpus(tmp_path)
    build(src, tmp_path / "once", bert_embedder)
    m = build(src, tmp_path / "idx", bert_embedder)
    m.shards = m.shards[:2]  # as if killed after shard 1
    m.complete, m.shards_planned = False, None
    m.save(tmp_path / "idx")
    (tmp_path / "idx" / "shards" / ".shard-00002.parquet.tmp").write_bytes(b"half a shard")
    shard1 = tmp_path / "idx" / m.shards[1].file  # type: ignore[operator]
    shard1.write_bytes(shard1.read_bytes()[:-20] + b"\0" * 20)  # silently damaged
    again = build(src, tmp_path / "idx", bert_embedder)
    assert again.complete and [s.rows for s in again.shards] == [
        s.rows for s in Manifest.load(tmp_path / "once").shards
    ]
    a, b = rows(tmp_path / "once"), rows(tmp_path / "idx")
    assert a.drop_columns(["vector"]).equals(b.drop_columns(["vector"]))
    np.testing.assert_allclose(np.asarray(a["vector"].to_pylist()), np.asarray(b["vector"].to_pylist()), atol=1e-5)
    assert not list((tmp_path / "idx" / "shards").glob(".*.tmp"))


def test_shards_declare_non_null_columns_and_older_nullable_shards_still_build_the_table(
    tmp_path: Path, bert_embedder: Embedder
) -> None:
    import pyarrow.parquet as pq

    from contextvec.index.manifest import sha256_file
    from contextvec.index.table import build_tables

    m = build(corpus(tmp_path), tmp_path / "idx", bert_embedder)
    last = tmp_path / "idx" / m.shards[-1].file  # type: ignore[operator]
    schema = pq.read_schema(last)
    assert not schema.field("vector").nullable and not schema.field("vector").type.value_field.nullable
    assert not schema.field("seq").nullable and schema.field("word").nullable  # null in sentence rows
    old = pq.read_table(last)  # as contextvec wrote shards before: every column nullable
    nullable = pa.schema(
        [
            pa.field(f.name, pa.list_(pa.float32(), f.type.list_size) if f.name == "vector" else f.type)
            for f in old.schema
        ]
    )
    pq.write_table(old.cast(nullable), last)  # a build resumed across versions: the table is made non-null first
    m.shards[-1].sha256, m.shards[-1].bytes = sha256_file(last), last.stat().st_size
    m.save(tmp_path / "idx")
    assert build_tables(tmp_path / "idx", m)["word"]["rows"] == m.rows
    idx = Index.open(tmp_path / "idx", embedder=bert_embedder)
    text = DOCS[0]
    s = text.index("bank")
    assert idx.search_like(text, s, s + 4, k=1)[0].doc_id == "c.txt:1"


def test_a_changed_job_or_input_is_refused_unless_overwrite(tmp_path: Path, bert_embedder: Embedder) -> None:
    src = corpus(tmp_path)
    build(src, tmp_path / "idx", bert_embedder)
    with pytest.raises(IndexStateError, match="layers.*--overwrite"):
        build(src, tmp_path / "idx", bert_embedder, layers=-1)
    src.write_text("\n".join(DOCS[:3]) + "\n", encoding="utf-8")
    with pytest.raises(IndexStateError, match="fingerprint"):
        build(src, tmp_path / "idx", bert_embedder)
    m = build(src, tmp_path / "idx", bert_embedder, overwrite=True)
    assert m.complete and rows(tmp_path / "idx")["seq"].to_numpy().max() == 2


def test_bad_input_names_file_and_line(tmp_path: Path, bert_embedder: Embedder) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        build(tmp_path / "missing.txt", tmp_path / "idx", bert_embedder)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line\nsecond \xff line\n")
    with pytest.raises(InputFileError, match=r"bad.txt:2: not valid UTF-8"):
        build(bad, tmp_path / "idx", bert_embedder)
    with pytest.raises(InputFileError, match="nothing to index"):
        build(corpus(tmp_path, ["", "   "], "empty.txt"), tmp_path / "idx2", bert_embedder)
    jl = tmp_path / "c.jsonl"
    jl.write_text('{"text": "ok text", "id": "a"}\n{"text": "\\ud800 lone"}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"c.jsonl:2"):
        build(jl, tmp_path / "idx3", bert_embedder)


def test_each_append_is_flushed_to_disk_on_the_writer_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import threading

    from contextvec.index.manifest import verify
    from contextvec.index.shards import ShardWriter

    flushed: list[str] = []
    real = os.fdatasync

    def record(fd: int) -> None:
        flushed.append(threading.current_thread().name)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", record)
    n = 3
    batch = {c: np.asarray(["x"] * n, dtype=object) for c in ("doc_id", "level", "word", "word_norm", "text")}
    batch |= {c: np.arange(n) for c in ("seq", "start", "end", "sentence_start", "sentence_end")}
    batch["vector"] = np.ones((n, 4), dtype=np.float32)
    writer = ShardWriter(tmp_path)
    writer.append(0, batch)
    writer.append(0, batch)
    writer.wait()
    assert len(flushed) == 2 and all(name.startswith("contextvec-shard-writer") for name in flushed)
    info = writer.finish(0, 0, 1)
    assert info.rows == 2 * n and verify(tmp_path, info)


def test_a_write_error_keeps_finished_shards_and_the_rerun_completes(
    tmp_path: Path, bert_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    src = corpus(tmp_path)
    real = pq.ParquetWriter.write_table
    calls = {"n": 0}

    def full_disk(self: pq.ParquetWriter, table: pa.Table, *a: object, **k: object) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(28, "No space left on device")
        real(self, table, *a, **k)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)
    with pytest.raises(OutputWriteError, match="No space left.*re-run the same command"):
        build(src, tmp_path / "idx", bert_embedder)
    kept = Manifest.load(tmp_path / "idx")
    assert len(kept.shards) > 0 and not kept.complete
    with pytest.raises(IndexStateError, match="unfinished"):
        Index.open(tmp_path / "idx")
    monkeypatch.setattr(pq.ParquetWriter, "write_table", real)
    done = build(src, tmp_path / "idx", bert_embedder)
    assert done.complete and done.rows == len(bert_embedder.embed_words(DOCS))
    assert [s.sha256 for s in done.shards[: len(kept.shards)]] == [s.sha256 for s in kept.shards]


def test_inputs_jsonl_parquet_and_folder(tmp_path: Path, bert_embedder: Embedder) -> None:
    import pyarrow.parquet as pq

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps({"text": DOCS[0], "id": "doc-a"}) + "\n", encoding="utf-8")
    pq.write_table(pa.table({"text": [DOCS[1], DOCS[2]], "id": ["p1", "p2"]}), folder / "b.parquet")
    corpus(folder, [DOCS[3]], "c.txt")
    build(folder, tmp_path / "idx", bert_embedder)
    ids = dict.fromkeys(rows(tmp_path / "idx")["doc_id"].to_pylist())
    assert list(ids) == ["doc-a", "p1", "p2", "c.txt:1"]


def test_occurrences_from_the_index_feed_sense_induction(tmp_path: Path, bert_embedder: Embedder) -> None:
    """The index's uses of "the" are the spine's word vectors, and the senses are KMeans on them (computed here)."""
    pytest.importorskip("sklearn")
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from contextvec.analysis.senses import induce_senses

    build(corpus(tmp_path), tmp_path / "idx", bert_embedder)
    occ = Index.open(tmp_path / "idx", embedder=bert_embedder).occurrences(["the"])
    direct = bert_embedder.embed_words(DOCS)
    rows_the = [i for i, w in enumerate(direct.strings) if w.lower() == "the"]  # corpus order, as occurrences
    assert len(occ) == len(rows_the) > 20
    assert occ.form == [direct.strings[i] for i in rows_the]  # "The" and "the", in corpus order
    assert all(occ.texts[int(t)] in DOCS[d] for t, d in zip(occ.text_index, direct.text_index[rows_the], strict=True))
    np.testing.assert_allclose(occ.vectors, direct.vectors[rows_the], atol=1e-5)
    senses = induce_senses(occ, k=2)
    unit = direct.vectors[rows_the] / np.linalg.norm(direct.vectors[rows_the], axis=1, keepdims=True)  # (N, D)
    want = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(unit)  # the same clustering, done here
    assert adjusted_rand_score(want, senses.assignments) == 1.0  # the same partition, whatever the label numbers
    sizes = {c.label: c.size for c in senses.clusters}
    assert sizes == {c: int((senses.assignments == c).sum()) for c in set(senses.assignments.tolist())}
    assert sum(sizes.values()) == len(occ) and min(sizes.values()) > 0


def test_index_senses_recover_two_known_senses(tmp_path: Path, bert_embedder: Embedder) -> None:
    """A corpus whose senses are known by construction: "bank" by the river and "bank" with a loan, in shuffled
    order. Sense induction from the index must split the uses exactly by construction, and choose k = 2 itself."""
    pytest.importorskip("sklearn")
    from contextvec.analysis.senses import induce_senses

    river = "We sat on the bank of the river and watched the water run by."
    money = "The bank approved my loan after a long review of the account."
    kinds = [i % 3 == 0 for i in range(15)]  # 5 river, 10 money uses
    order = np.random.default_rng(3).permutation(len(kinds)).tolist()
    kinds = [kinds[i] for i in order]
    lines = [f"{river if r else money} Line {i} ends here." for i, r in enumerate(kinds)]
    build(corpus(tmp_path, lines), tmp_path / "idx", bert_embedder)
    occ = Index.open(tmp_path / "idx", embedder=bert_embedder).occurrences("bank")
    assert len(occ) == len(lines) and occ.text_index.tolist() == list(range(len(lines)))
    for k in (2, None):
        senses = induce_senses(occ, k=k)
        assert senses.k == 2
        by_kind = {
            r: set(senses.assignments[[i for i, x in enumerate(kinds) if x == r]].tolist()) for r in (True, False)
        }
        assert len(by_kind[True]) == len(by_kind[False]) == 1 and by_kind[True] != by_kind[False]  # exact split
        sizes = {c.label: c.size for c in senses.clusters}
        assert sizes == {next(iter(by_kind[True])): 5, next(iter(by_kind[False])): 10}
        for c in senses.clusters:  # each sense's examples are uses of that sense
            template = river if c.label in by_kind[True] else money
            assert c.examples and all(template in e or e in template for e in c.examples), c.examples


FOLDING = [  # pairs whose lower() and casefold() differ (ß, final sigma, ﬁ), and NFC / NFD spellings of é
    "Die Straße ist lang, die STRASSE auch, und die strasse.",
    "ΟΔΟΣ and οδος and οδοσ are one word.",
    "The ﬁle and the FILE and the file.",
    "A café (NFC) and a cafe\u0301 (NFD) and a CAFÉ.",
]


def test_words_whose_lower_and_casefold_differ_are_one_word_everywhere(tmp_path: Path, bert_embedder: Embedder) -> None:
    """Regression (issue 26, item 3): the index's word_norm was casefolded but read_occurrences folded the query
    with lower(), so `senses straße --index` and the explorer's senses-from-index raised KeyError."""
    pytest.importorskip("sklearn")
    from typer.testing import CliRunner

    from contextvec.cli.main import app
    from contextvec.explore.jobs import Job
    from contextvec.explore.senses_view import senses_from_index

    build(corpus(tmp_path, FOLDING * 2), tmp_path / "idx", bert_embedder)
    idx = Index.open(tmp_path / "idx", embedder=bert_embedder)
    expected = {"straße": 6, "STRASSE": 6, "οδος": 6, "ΟΔΟΣ": 6, "file": 6, "ﬁle": 6, "café": 6, "cafe\u0301": 6}
    for query, n in expected.items():
        occ = idx.occurrences(query)
        assert len(occ) == n, query
        assert len(set(occ.target)) == 1 and len(occ.of(query)) == n
    assert sorted(idx.occurrences("straße").form) == sorted(["Straße", "STRASSE", "strasse"] * 2)
    payload = senses_from_index(Job("j", total=1), idx, "STRASSE", k=2, max_uses=100)
    assert payload["k"] == 2 and len(payload["sentence"]) == 6
    res = CliRunner().invoke(app, ["senses", "Straße", "--index", str(tmp_path / "idx"), "--k", "2"])
    assert res.exit_code == 0, res.output
    assert "6 occurrences, 2 sense(s)" in res.output
