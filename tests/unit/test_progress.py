"""The one progress reporter: library code reports through it, only RichReporter draws, and only on a terminal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from tiny_models import CORPUS
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.cli.main import app
from contextvec.pipeline.embed_file import embed_file
from contextvec.progress import SILENT, Reporter, RichReporter, Task, as_reporter


class Recorder(Reporter):
    """Keeps every task opened and every advance, as a caller's own reporter would."""

    def __init__(self) -> None:
        self.tasks: list[dict[str, object]] = []

    @contextmanager
    def task(self, description: str, total: float | None, unit: str, *, completed: float = 0) -> Iterator[Task]:
        record: dict[str, object] = {"description": description, "total": total, "unit": unit, "done": completed}
        self.tasks.append(record)

        class Recording:
            def advance(self, n: float = 1) -> None:
                record["done"] = float(record["done"]) + n  # type: ignore[arg-type]

            def update(self, completed: float) -> None:
                record["done"] = completed

            def describe(self, description: str) -> None:
                record["last"] = description

        yield Recording()


def _draw(console: Console, quiet: bool = False) -> str:
    with RichReporter(console, quiet=quiet).task("working [hard]", 4, "docs") as task:
        task.advance(3)
        task.describe("working, 3 done")
        task.advance()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_a_terminal_gets_the_same_columns_everywhere() -> None:
    shown = _draw(Console(file=io.StringIO(), force_terminal=True, width=140))
    assert "working, 3 done" in shown and "4/4" in shown and "docs" in shown and "docs/s" in shown
    assert "ETA" in shown


def test_no_terminal_or_quiet_draws_nothing() -> None:
    assert _draw(Console(file=io.StringIO(), force_terminal=False)) == ""
    assert _draw(Console(file=io.StringIO(), force_terminal=True), quiet=True) == ""


def test_library_default_is_silent_and_true_means_a_rich_bar() -> None:
    assert as_reporter(False) is SILENT and as_reporter(None) is SILENT
    assert isinstance(as_reporter(True), RichReporter)
    rec = Recorder()
    assert as_reporter(rec) is rec
    with SILENT.task("x", 2, "steps") as task:
        task.advance(2)  # does nothing, raises nothing


def test_embed_file_reports_every_text_to_the_callers_reporter(tmp_path: Path, bert_embedder: Embedder) -> None:
    src = tmp_path / "in.txt"
    src.write_text("\n".join(CORPUS[:7]) + "\n\n", encoding="utf-8")  # a blank line is no text
    rec = Recorder()
    embed_file(bert_embedder, src, tmp_path / "out.parquet", chunk_size=3, progress=rec)
    assert [(t["total"], t["unit"], t["done"]) for t in rec.tasks] == [(7, "texts", 7)]


def test_the_engine_reports_tokens(bert_embedder: Embedder) -> None:
    rec = Recorder()
    texts = CORPUS[:4]
    bert_embedder.embed_words(texts, progress=rec)
    n_tokens = sum(len(bert_embedder.backend.tokenize([t])[0].ids) + 2 for t in texts)  # + [CLS], [SEP]
    assert [(t["total"], t["unit"], t["done"]) for t in rec.tasks] == [(n_tokens, "tokens", n_tokens)]


def test_quiet_is_a_root_option(tmp_path: Path, model_dir: str) -> None:
    src = tmp_path / "in.txt"
    src.write_text("The bank.\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["-q", "embed", str(src), "--out", str(out), "--model", model_dir])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
