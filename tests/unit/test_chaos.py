"""Chaos: kill an embedding job at random moments; after the next run there are no stray files, and the output
is always either complete or absent (issue 14, defect 2).

The job runs in a subprocess (a small driver script using the library and the tiny BERT built in code), so the
kill is real: SIGKILL leaves its temp file behind, which the next run must remove; SIGTERM under `sigterm_exits`
must remove it on the way out.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from contextvec import Embedder
from contextvec.pipeline.embed_file import embed_file

TESTS = Path(__file__).resolve().parents[1]
DRIVER = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from tiny_models import _wordpiece, tiny_bert
from contextvec import Embedder
from contextvec.io.atomic import sigterm_exits
from contextvec.models.backend import TorchBackend
from contextvec.pipeline.embed_file import embed_file

tok = _wordpiece()
embedder = Embedder.from_backend(TorchBackend(tiny_bert(tok), tok, "tiny-bert", device="cpu"), token_budget=256)
print("ready", flush=True)
with sigterm_exits():
    embed_file(embedder, Path(sys.argv[1]), Path(sys.argv[2]), chunk_size=int(sys.argv[3]))
"""
LINES = 150  # with chunks of 8, about 1-3 s of writes: kills land before, during and after them
CHUNK = 8


def _input(folder: Path) -> Path:
    src = folder / "in.txt"
    rng = random.Random(0)
    words = ["the", "bank", "river", "didn't", "3.14", "😀", "世界", "café", "e-mail", "U.S."]
    src.write_text("\n".join(" ".join(rng.choices(words, k=12)) for _ in range(LINES)) + "\n")
    return src


def _start(src: Path, out: Path) -> subprocess.Popen[str]:
    script = DRIVER.format(tests=str(TESTS))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(src), str(out), str(CHUNK)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture(scope="module")
def expected_rows(tmp_path_factory: pytest.TempPathFactory, bert_embedder: Embedder) -> int:
    folder = tmp_path_factory.mktemp("reference")
    return embed_file(bert_embedder, _input(folder), folder / "ref.parquet", chunk_size=CHUNK)


def _complete_or_absent(out: Path, expected: int) -> bool:
    if not out.exists():
        return False
    assert pq.read_metadata(out).num_rows == expected  # a published file is always whole
    return True


def _wait_for_writes(proc: subprocess.Popen[str], out: Path) -> None:
    deadline = time.monotonic() + 60
    while not any(out.parent.glob(".vec.parquet.*.tmp")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_a_random_moment_then_rerun(
    tmp_path: Path, bert_embedder: Embedder, expected_rows: int, seed: int
) -> None:
    src, out = _input(tmp_path), tmp_path / "out" / "vec.parquet"
    proc = _start(src, out)
    if seed > 1:
        _wait_for_writes(proc, out)  # seeds 2 and 3 land while chunks are being written
    time.sleep(random.Random(seed).uniform(0.0, 0.5 if seed > 1 else 3.0))
    proc.kill()
    killed_mid_run = proc.wait(timeout=30) == -signal.SIGKILL and not _complete_or_absent(out, expected_rows)
    if seed > 1 and killed_mid_run:
        assert any(out.parent.glob(".vec.parquet.*.tmp"))  # SIGKILL cannot clean up: the next run must
    assert embed_file(bert_embedder, src, out, chunk_size=CHUNK) == expected_rows  # the next run
    assert sorted(p.name for p in out.parent.iterdir()) == ["vec.parquet"]  # the killed run's temp is gone
    assert _complete_or_absent(out, expected_rows)


def test_sigterm_mid_run_leaves_nothing(tmp_path: Path, expected_rows: int) -> None:
    src, out = _input(tmp_path), tmp_path / "out" / "vec.parquet"
    proc = _start(src, out)
    _wait_for_writes(proc, out)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    if code == 0:  # it finished first: then the output must be whole
        assert _complete_or_absent(out, expected_rows)
    else:
        assert code == 128 + signal.SIGTERM
        assert not out.parent.exists() or list(out.parent.iterdir()) == []
