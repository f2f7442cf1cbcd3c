"""Progress: library code reports it, the CLI (or a caller who asks) draws it. The one progress module.

Long work (embedding a corpus, building an index, training, fine-tuning) takes a `Reporter` and opens one task per
phase, then advances it:

    with reporter.task("indexing", total=n_docs, unit="docs") as task:
        for batch in batches:
            ...
            task.advance(len(batch))
            task.describe(f"indexing ({rows:,} rows)")  # optional: what the description says now

`SILENT` (the default of every library function) draws nothing. `RichReporter` draws each task as a Rich bar on
stderr with the same columns everywhere: description, bar, done/total and unit, rate (unit/s), elapsed, ETA. It
draws only when stderr is a terminal and it was not made quiet (`contextvec --quiet`). A library function's
`progress=True` means "a person is waiting": a `RichReporter`; `False` means `SILENT`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console


class Task(Protocol):
    """One phase of work being reported."""

    def advance(self, n: float = 1) -> None:
        """`n` more units done."""

    def update(self, completed: float) -> None:
        """Set how many units are done (for work that measures itself, such as a timed training run)."""

    def describe(self, description: str) -> None:
        """Replace the text shown before the bar (e.g. with the latest loss)."""


class _SilentTask:
    def advance(self, n: float = 1) -> None:
        pass

    def update(self, completed: float) -> None:
        pass

    def describe(self, description: str) -> None:
        pass


class Reporter:
    """Receives progress and shows nothing: what library calls use unless they are given another reporter."""

    @contextmanager
    def task(self, description: str, total: float | None, unit: str, *, completed: float = 0) -> Iterator[Task]:
        """A task of `total` units (None: unknown) named `unit` ("docs", "steps", "texts"), `completed` done."""
        yield _SilentTask()


SILENT = Reporter()


class RichReporter(Reporter):
    """Each task is a Rich bar on `console` (default: stderr), unless `quiet` or the console is no terminal."""

    def __init__(self, console: Console | None = None, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet

    @contextmanager
    def task(self, description: str, total: float | None, unit: str, *, completed: float = 0) -> Iterator[Task]:
        from rich.console import Console
        from rich.markup import escape

        console = self.console or Console(stderr=True)  # stdout stays for results
        if self.quiet or not console.is_terminal:
            yield _SilentTask()
            return
        bar = _rich_progress(console, unit)
        with bar:
            task_id = bar.add_task(escape(description), total=total, completed=completed)
            yield _RichTask(bar, task_id)


class _RichTask:
    def __init__(self, bar: Any, task_id: Any) -> None:
        self.bar, self.task_id = bar, task_id

    def advance(self, n: float = 1) -> None:
        self.bar.advance(self.task_id, n)

    def update(self, completed: float) -> None:
        self.bar.update(self.task_id, completed=completed)

    def describe(self, description: str) -> None:
        from rich.markup import escape

        self.bar.update(self.task_id, description=escape(description))


def _rich_progress(console: Console, unit: str) -> Any:
    """The columns every bar has: description, bar, done/total unit, unit/s, elapsed, ETA."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.1f} {unit}/s")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )


def as_reporter(progress: Reporter | bool | None) -> Reporter:
    """A library function's `progress` argument as a reporter: True draws (RichReporter), False/None is silent."""
    if isinstance(progress, Reporter):
        return progress
    return RichReporter() if progress else SILENT
