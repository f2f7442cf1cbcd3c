"""Long work (embedding a corpus) as a job: it runs in a worker thread, reports progress, can be cancelled, and
keeps its result for follow-up requests (labelling the points of a senses map). The page polls GET /jobs/{id}.

At most `max_running` jobs run at once; up to 4x as many wait ("queued") behind them, and beyond that a new job is
refused (HTTP 429). A job whose page has stopped polling for `idle_timeout_s` is cancelled: nobody is waiting for
it. The model work inside a job queues on the served model's scheduler like every request (serve/scheduled.py).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from contextvec.errors import ContextvecError, InvalidInputError
from contextvec.serve.scheduler import QueueFull

State = Literal["queued", "running", "done", "error", "cancelled"]
WAITING_PER_RUNNING = 4  # jobs that may wait per running slot before new ones are refused
KEEP = 16  # finished jobs kept for follow-up requests; the oldest are dropped first


class Cancelled(Exception):
    """Raised inside a job's work when the page asked to stop it."""


@dataclass
class Job:
    id: str
    total: int = 0
    done: int = 0
    state: State = "queued"
    result: dict[str, Any] | None = None
    error: str | None = None
    kept: Any = None  # what the work wants to keep for follow-ups (not sent to the page)
    idle_timeout_s: float = float("inf")
    seen: float = field(default_factory=time.monotonic)  # when the page last asked about the job
    _stop: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        """Raise Cancelled if the page asked to stop, or stopped asking (its client is gone)."""
        if self._stop.is_set():
            raise Cancelled
        if time.monotonic() - self.seen > self.idle_timeout_s:
            self._stop.set()
            raise Cancelled

    def touch(self) -> None:
        self.seen = time.monotonic()

    def cancel(self) -> None:
        self._stop.set()
        if self.state == "queued":
            self.state = "cancelled"

    @property
    def finished(self) -> bool:
        return self.state in ("done", "error", "cancelled")

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
    """The jobs of one app: start (at most `max_running` at once), look up, cancel, shut down."""

    def __init__(self, max_running: int = 2, idle_timeout_s: float = 30.0) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.max_running, self.idle_timeout_s = max_running, idle_timeout_s
        self._pool = ThreadPoolExecutor(max_workers=max_running, thread_name_prefix="explore-job")

    def start(self, work: Callable[[Job], dict[str, Any]], total: int) -> Job:
        job = Job(uuid.uuid4().hex[:12], total=total, idle_timeout_s=self.idle_timeout_s)
        with self._lock:
            active = sum(not j.finished for j in self._jobs.values())
            limit = self.max_running * (1 + WAITING_PER_RUNNING)
            if active >= limit:
                raise QueueFull(
                    f"{active} explorer jobs are running or waiting (limit {limit}); retry when one has finished."
                )
            self._jobs[job.id] = job
            for old in list(itertools.islice(self._jobs, max(0, len(self._jobs) - KEEP))):
                if self._jobs[old].finished:
                    del self._jobs[old]
        self._pool.submit(self._run, job, work)
        return job

    def shutdown(self) -> None:
        """Cancel every job (running ones stop at their next check) and take no new ones."""
        with self._lock:
            for job in self._jobs.values():
                job.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _run(job: Job, work: Callable[[Job], dict[str, Any]]) -> None:
        if job.state == "cancelled":
            return
        job.state = "running"
        try:
            job.check()  # its page may have gone while it waited
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
        if not job.finished and time.monotonic() - job.seen > job.idle_timeout_s:
            job.cancel()  # its page was gone longer than the timeout: a late poll does not revive it
        job.touch()
        return job
