"""Output files (issue 14, defects 2-6): checked before any work, written atomically, no temp left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from contextvec import Embedder
from contextvec.errors import InputFileError, OutputPathError
from contextvec.io.atomic import remove_stale_temps, sigterm_exits, temp_path
from contextvec.io.destination import check_destination
from contextvec.io.parquet import ParquetSink
from contextvec.io.readers import read_records
from contextvec.pipeline.embed_file import embed_file


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped, so no process has this id (until the OS reuses it, which takes a while)


def test_temps_of_killed_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    out = tmp_path / "vec.parquet"
    stale = tmp_path / f".vec.parquet.{_dead_pid()}.tmp"
    live = tmp_path / f".vec.parquet.{os.getppid()}.tmp"  # our parent is alive
    other = tmp_path / f".other.parquet.{_dead_pid()}.tmp"
    for f in (stale, live, other):
        f.write_bytes(b"x" * 10)
    assert remove_stale_temps(out) == [stale]
    assert not stale.exists() and live.exists() and other.exists()


def test_a_new_sink_clears_stale_temps_and_a_failed_one_leaves_nothing(tmp_path: Path) -> None:
    import pyarrow as pa

    out = tmp_path / "vec.parquet"
    stale = tmp_path / f".vec.parquet.{_dead_pid()}.tmp"
    stale.write_bytes(b"half a file")
    with pytest.raises(RuntimeError), ParquetSink(out) as sink:
        sink.write(pa.table({"a": [1, 2]}))
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("vec.txt", "suffix '.txt' is not an output format; end the name with .parquet or .jsonl"),
        ("vec", "suffix '\\(none\\)'"),
        ("folder.parquet", "is an existing folder"),
        ("in.txt/x.parquet", "is a file, not a folder"),
        ("in.txt", "is the input file"),
    ],
)
def test_bad_destinations_are_refused_before_any_work(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "folder.parquet").mkdir()
    (tmp_path / "in.txt").write_text("hello\n")
    with pytest.raises(OutputPathError, match=message):
        check_destination(tmp_path / name, [tmp_path / "in.txt"])


def test_the_input_is_never_the_output(tmp_path: Path) -> None:
    src = tmp_path / "same.jsonl"
    src.write_text('{"text": "hello"}\n')
    (tmp_path / "link.jsonl").symlink_to(src)
    for out in (src, tmp_path / "link.jsonl", tmp_path / "sub" / ".." / "same.jsonl"):
        with pytest.raises(OutputPathError, match="is the input file"):
            check_destination(out, [src])
    assert src.read_text() == '{"text": "hello"}\n'


def test_kernel_filesystems_and_unwritable_folders_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(OutputPathError, match="under /proc, a kernel filesystem"):
        check_destination(Path("/proc/self/x.parquet"))

    def no_write(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("contextvec.io.destination.tempfile.mkstemp", no_write)
    with pytest.raises(OutputPathError, match="cannot write in folder .*Permission denied"):
        check_destination(tmp_path / "new" / "deep" / "vec.parquet")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission bits")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputPathError, match="cannot write in folder"):
            check_destination(ro / "vec.parquet")
    finally:
        ro.chmod(0o755)


def test_missing_parent_folders_are_fine_and_writes_nothing(tmp_path: Path) -> None:
    assert check_destination(tmp_path / "a" / "b" / "vec.JSONL") == "jsonl"
    assert list(tmp_path.iterdir()) == []


def test_embed_file_checks_before_embedding_and_writes_jsonl(bert_embedder: Embedder, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("We sat on the bank.\n\nThe bank approved it.\n")
    with pytest.raises(OutputPathError, match="is the input file"):
        embed_file(bert_embedder, src, src)
    assert src.read_text().startswith("We sat")
    out = tmp_path / "out" / "vec.jsonl"
    n = embed_file(bert_embedder, src, out, level="word", vector_dtype="float16")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == n == 11
    assert rows[0]["line"] == 1 and rows[0]["text"] == "We" and len(rows[0]["vector"]) == 32
    assert rows[-1]["line"] == 3 and rows[-1]["text"] == "."
    expected = bert_embedder.embed_words(["We sat on the bank."]).vectors[0]
    assert max(abs(a - b) for a, b in zip(rows[0]["vector"], expected, strict=True)) < 1e-2  # float16
    assert sorted(p.name for p in out.parent.iterdir()) == ["vec.jsonl"]


def test_a_folder_as_input_says_it_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "some-folder").mkdir()
    with pytest.raises(InputFileError, match="'.*some-folder' is a folder; give a .txt or .jsonl file"):
        next(read_records(tmp_path / "some-folder"))


def test_sigterm_unwinds_so_the_temp_file_is_deleted(tmp_path: Path) -> None:
    out = tmp_path / "vec.parquet"
    script = f"""
import os, signal, time
import pyarrow as pa
from pathlib import Path
from contextvec.io.atomic import sigterm_exits
from contextvec.io.parquet import ParquetSink
with sigterm_exits(), ParquetSink(Path({str(out)!r})) as sink:
    sink.write(pa.table({{"a": [1]}}))
    print("ready", flush=True)
    time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    assert temp_path(out).with_name(f".vec.parquet.{proc.pid}.tmp").exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_sigterm_exits_restores_the_previous_handler() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_exits():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
