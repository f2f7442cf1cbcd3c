"""Long work (embedding a corpus) as a job: it runs in a worker thread, reports progress, can be cancelled, and
keeps its result for follow-up requests (labelling the points of a senses map). The page polls GET /jobs/{id}."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from contextvec.errors import ContextvecError, InvalidInputError

State = Literal["running", "done", "error", "cancelled"]
KEEP = 16  # finished jobs kept for follow-up requests; the oldest are dropped first


class Cancelled(Exception):
    """Raised inside a job's work when the page asked to stop it."""


@dataclass
class Job:
    id: str
    total: int = 0
    done: int = 0
    state: State = "running"
    result: dict[str, Any] | None = None
    error: str | None = None
    kept: Any = None  # what the work wants to keep for follow-ups (not sent to the page)
    _stop: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        if self._stop.is_set():
            raise Cancelled

    def cancel(self) -> None:
        self._stop.set()

    def counted(self, items: Iterable[str]) -> Iterator[str]:
        """Yield `items`, counting each as done and stopping with Cancelled once the job is cancelled."""
        for item in items:
            self.check()
            self.done += 1
            yield item

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "state": self.state, "done": self.done, "total": self.total}
        if self.result is not None:
            out["result"] = self.result
        if self.error is not None:
            out["error"] = self.error
        return out


class Jobs:
    """The jobs of one app: start, look up, cancel."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, work: Callable[[Job], dict[str, Any]], total: int) -> Job:
        job = Job(uuid.uuid4().hex[:12], total=total)
        with self._lock:
            self._jobs[job.id] = job
            for old in list(itertools.islice(self._jobs, max(0, len(self._jobs) - KEEP))):
                if self._jobs[old].state != "running":
                    del self._jobs[old]
        threading.Thread(target=self._run, args=(job, work), daemon=True, name=f"explore-{job.id}").start()
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Job], dict[str, Any]]) -> None:
        try:
            job.result = work(job)
            job.state = "done"
        except Cancelled:
            job.state = "cancelled"
        except ContextvecError as exc:
            job.error, job.state = str(exc), "error"
        except Exception as exc:  # a job must end in a state the page can show, never hang in "running"
            job.error, job.state = f"internal error ({type(exc).__name__}: {exc})", "error"

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise InvalidInputError(f"no job {job_id!r} on this server (finished jobs are kept {KEEP} at most).")
        return job
