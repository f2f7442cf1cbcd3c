"""Dynamic batching: concurrent requests with the same options share one forward call.

Each request becomes a Job (its texts, a hashable options key, a future). One worker per model takes the oldest
job, gathers more jobs with the same key until the text or token budget is full or `max_wait` has passed, runs
the merged call in a worker thread (off the event loop), and hands each job its share. The queue is bounded
(QueueFull -> HTTP 429). Cancelled jobs (a client that went away, a timeout) are skipped, never poison a batch.
If a merged call fails, each of its jobs is retried alone so only the faulty request fails; every future gets
a result or an exception, none is left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contextvec.errors import ContextvecError

logger = logging.getLogger(__name__)


class QueueFull(ContextvecError):
    """The server has more work waiting than it accepts; the client should retry later (HTTP 429)."""


@dataclass
class Job:
    key: Hashable  # requests with equal keys can share a forward call
    payload: list[Any]  # texts or spans
    n_tokens: int
    future: asyncio.Future[Any]
    enqueued: float = field(default_factory=time.perf_counter)


# run(key, payloads) -> one result per payload list, in order
Runner = Callable[[Hashable, Sequence[list[Any]]], list[Any]]


@dataclass
class BatchStats:
    batches: int = 0
    texts: int = 0
    last_batch_jobs: int = 0


class DynamicBatcher:
    def __init__(
        self,
        run: Runner,
        *,
        enabled: bool = True,
        max_batch_texts: int = 256,
        max_batch_tokens: int = 16384,
        max_wait_s: float = 0.005,
        max_queue_texts: int = 4096,
        on_batch: Callable[[int, int, float], None] | None = None,
    ) -> None:
        self._run = run
        self.enabled = enabled
        self.max_batch_texts = max_batch_texts
        self.max_batch_tokens = max_batch_tokens
        self.max_wait_s = max_wait_s
        self.max_queue_texts = max_queue_texts
        self._on_batch = on_batch
        self._jobs: list[Job] = []
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self.queued_texts = 0
        self.stats = BatchStats()

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._loop(), name="contextvec-batcher")

    async def stop(self) -> None:
        """Finish every queued job, then stop the worker."""
        while self._jobs:
            await asyncio.sleep(0.01)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def submit(self, key: Hashable, payload: list[Any], n_tokens: int) -> Any:
        """Queue one request and wait for its result (raises QueueFull when the queue is full)."""
        if self.queued_texts + len(payload) > self.max_queue_texts:
            raise QueueFull(
                f"the server is busy ({self.queued_texts} texts waiting, limit {self.max_queue_texts}); retry later."
            )
        job = Job(key, payload, n_tokens, asyncio.get_running_loop().create_future())
        self._jobs.append(job)
        self.queued_texts += len(payload)
        self._wakeup.set()
        return await job.future

    def _take_batch(self) -> list[Job]:
        """The oldest live job and the queued jobs with the same key that fit the budgets."""
        first = self._jobs[0]
        batch: list[Job] = []
        texts = tokens = 0
        for job in list(self._jobs):
            if job.key != first.key:
                continue
            if batch and (
                not self.enabled
                or texts + len(job.payload) > self.max_batch_texts
                or tokens + job.n_tokens > self.max_batch_tokens
            ):
                break
            batch.append(job)
            texts += len(job.payload)
            tokens += job.n_tokens
        for job in batch:
            self._jobs.remove(job)
            self.queued_texts -= len(job.payload)
        return [j for j in batch if not j.future.done()]  # cancelled by a timeout or a disconnect: skip

    async def _loop(self) -> None:
        while True:
            if not self._jobs:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self.enabled and self.max_wait_s > 0 and self.stats.last_batch_jobs > 1:
                await self._wait_for_company()
            batch = self._take_batch()
            if batch:
                await self._execute(batch)

    async def _wait_for_company(self) -> None:
        """Under load (the last batch served several requests), wait until as many requests are queued as the
        last batch had, but never hold the oldest request more than max_wait. Light traffic never waits."""
        deadline = self._jobs[0].enqueued + self.max_wait_s
        while len(self._jobs) < self.stats.last_batch_jobs:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), left)
            except TimeoutError:
                return

    async def _execute(self, batch: list[Job]) -> None:
        started = time.perf_counter()
        try:
            results = await asyncio.to_thread(self._run, batch[0].key, [j.payload for j in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc=exc)
            else:
                for job in batch:  # retry alone, so one faulty request cannot fail the others
                    await self._execute([job])
            return
        for job, result in zip(batch, results, strict=True):
            _settle(job, result=result)
        self.stats.batches += 1
        self.stats.texts += sum(len(j.payload) for j in batch)
        self.stats.last_batch_jobs = len(batch)
        if self._on_batch is not None:
            self._on_batch(len(batch), sum(len(j.payload) for j in batch), time.perf_counter() - started)


def _settle(job: Job, result: Any = None, exc: BaseException | None = None) -> None:
    if job.future.done():
        return
    if exc is not None:
        job.future.set_exception(exc)
    else:
        job.future.set_result(result)
