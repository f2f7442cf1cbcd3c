"""One scheduler per served model: the only way any route reaches the model.

Every piece of model work waits in one bounded queue and runs on the model's one forward thread, so two forward
passes never overlap and every route shares the same limits (a full queue is HTTP 429), timeouts (504) and metrics:

- a *batch item* is one request's texts (or spans) with a hashable options key; queued items with equal keys are
  merged into one forward call, up to `max_batch_texts` texts and `max_batch_tokens` tokens;
- a *call item* is a function of the model run alone (an explorer view, /search's query, one chunk of a job).

Interactive items go first; *background* items (explorer jobs) run when no interactive item waits, or after they
have been passed over `max_skips` times, so a long job cannot starve the embeddings and still progresses.

Under load (the last batch served several requests) the worker waits up to `max_wait` for as many requests as the
last batch had; a lone request never waits. Cancelled items (a timeout, a client gone) are skipped.

Supervision: whatever a batch raises fails only that batch's futures (a merged batch first retries each item
alone, so one faulty request cannot fail the others); an unexpected error (a result-count mismatch, a metrics
callback) is logged with the request ids, answers those requests with a 500, and the worker keeps going.
`stop(deadline_s)` drains the queue and returns by its deadline even if the forward thread is stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from contextvec.errors import ContextvecError

logger = logging.getLogger(__name__)

# The id of the HTTP request being served (set by the server's middleware), for log lines about its batch.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("contextvec_request_id", default="-")

# run(key, payloads) -> one result per payload list, in order
Runner = Callable[[Hashable, Sequence[list[Any]]], list[Any]]


class QueueFull(ContextvecError):
    """The server has more work waiting than it accepts; the client should retry later (HTTP 429)."""


class ShuttingDown(ContextvecError):
    """The server is stopping and takes no new work (HTTP 503)."""


class InternalError(Exception):
    """The scheduler failed a batch for a reason that is not the request's (HTTP 500; details in the log)."""


@dataclass
class Item:
    key: Hashable | None  # batch items with equal keys share a forward call; None: a call item, always alone
    payload: list[Any]  # batch item: texts or spans; call item: empty
    n_texts: int  # what the item counts against the queue limit
    n_tokens: int  # what it counts against the batch's token budget
    future: asyncio.Future[Any]
    call: Callable[[], Any] | None = None
    background: bool = False
    request_id: str = "-"
    enqueued: float = field(default_factory=time.perf_counter)
    skipped: int = 0  # background: times an interactive item went first


@dataclass
class Stats:
    batches: int = 0
    texts: int = 0
    last_batch_jobs: int = 0


class Scheduler:
    def __init__(
        self,
        run: Runner,
        *,
        name: str = "model",
        enabled: bool = True,
        max_batch_texts: int = 256,
        max_batch_tokens: int = 16384,
        max_wait_s: float = 0.01,
        max_queue_texts: int = 4096,
        max_skips: int = 4,
        on_batch: Callable[[int, int, float], None] | None = None,
    ) -> None:
        self._run, self.name = run, name
        self.enabled = enabled
        self.max_batch_texts, self.max_batch_tokens = max_batch_texts, max_batch_tokens
        self.max_wait_s, self.max_queue_texts, self.max_skips = max_wait_s, max_queue_texts, max_skips
        self._on_batch = on_batch
        self._items: list[Item] = []
        self._running: list[Item] = []
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None  # the model's one forward thread
        self._closing = False
        self.loop: asyncio.AbstractEventLoop | None = None  # the event loop it runs on, once started
        self.queued_texts = 0
        self.stats = Stats()

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._worker is None:
            self._closing = False
            self.loop = asyncio.get_running_loop()
            self._wakeup = asyncio.Event()
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"contextvec-forward-{self.name}")
            self._worker = asyncio.get_running_loop().create_task(
                self._loop(), name=f"contextvec-scheduler-{self.name}"
            )

    @property
    def alive(self) -> bool:
        return self._worker is not None and not self._worker.done()

    async def stop(self, deadline_s: float = 30.0) -> None:
        """Take no new work, finish what is queued, then stop; by `deadline_s` at the latest, whatever is left
        (and a stuck forward call) is answered 503 and abandoned."""
        self._closing = True
        end = time.monotonic() + deadline_s
        while (self._items or self._running) and self.alive and time.monotonic() < end:
            await asyncio.sleep(0.01)
        left = self._items + self._running
        for item in left:
            _settle(item, exc=ShuttingDown("the server stopped before this request ran; retry on another server."))
        if left:
            logger.warning("scheduler %s stopped with %d unfinished requests: %s", self.name, len(left), _ids(left))
        self._items, self._running, self.queued_texts = [], [], 0
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._worker), max(0.0, end - time.monotonic()) + 0.1)
            self._worker = None
        if self._thread is not None:
            self._thread.shutdown(wait=False, cancel_futures=True)  # a stuck call is not waited for
            self._thread = None

    # -- submitting --------------------------------------------------------------------------------------------

    async def submit(self, key: Hashable, payload: list[Any], n_tokens: int) -> Any:
        """Queue one request's texts (or spans) for a shared forward call; wait for this request's result."""
        return await self._enqueue(Item(key, payload, len(payload), n_tokens, self._future()))

    async def call(
        self, fn: Callable[[], Any], *, n_texts: int = 1, n_tokens: int = 0, background: bool = False
    ) -> Any:
        """Queue `fn` (which uses the model) to run alone on the forward thread; wait for what it returns."""
        return await self._enqueue(Item(None, [], n_texts, n_tokens, self._future(), call=fn, background=background))

    def _future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _enqueue(self, item: Item) -> Any:
        if self._closing or self._wakeup is None:
            raise ShuttingDown("the server is shutting down and takes no new requests; retry on another server.")
        if self.queued_texts + item.n_texts > self.max_queue_texts:
            raise QueueFull(
                f"the server is busy ({self.queued_texts} texts waiting, limit {self.max_queue_texts}); retry later."
            )
        item.request_id = request_id.get()
        self._items.append(item)
        self.queued_texts += item.n_texts
        self._wakeup.set()
        return await item.future

    # -- the worker ----------------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        assert self._wakeup is not None
        while True:
            if not self._items:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch: list[Item] = []
            try:
                if self.enabled and self.max_wait_s > 0 and self.stats.last_batch_jobs > 1:
                    await self._wait_for_company()
                batch = self._take()
                if batch:
                    await self._execute(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # supervision: fail this batch, keep serving the next ones
                logger.exception("scheduler %s: unexpected error in a batch of requests %s", self.name, _ids(batch))
                failure = exc if isinstance(exc, InternalError) else InternalError(f"{type(exc).__name__}: {exc}")
                for item in batch:
                    _settle(item, exc=failure)
            finally:
                self._running = []

    def _first(self) -> Item:
        """The item to run next: the oldest interactive one, unless a background one has waited its turns."""
        oldest_bg = next((i for i in self._items if i.background), None)
        if oldest_bg is not None and oldest_bg.skipped >= self.max_skips:
            return oldest_bg
        first = next((i for i in self._items if not i.background), oldest_bg)
        assert first is not None
        if oldest_bg is not None and first is not oldest_bg:
            oldest_bg.skipped += 1
        return first

    def _take(self) -> list[Item]:
        """The next item and the queued items that can share its forward call within the budgets."""
        first = self._first()
        batch, texts, tokens = [first], first.n_texts, first.n_tokens
        if first.key is not None and self.enabled:
            for item in self._items:
                if item is first or item.key != first.key:
                    continue
                if texts + item.n_texts > self.max_batch_texts or tokens + item.n_tokens > self.max_batch_tokens:
                    break
                batch.append(item)
                texts += item.n_texts
                tokens += item.n_tokens
        for item in batch:
            self._items.remove(item)
            self.queued_texts -= item.n_texts
        return [i for i in batch if not i.future.done()]  # cancelled by a timeout or a disconnect: skip

    async def _wait_for_company(self) -> None:
        """Under load, wait until as many requests are queued as the last batch had, but never hold the oldest
        request more than max_wait. Light traffic never waits."""
        assert self._wakeup is not None
        deadline = self._items[0].enqueued + self.max_wait_s
        while len(self._items) < self.stats.last_batch_jobs:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), left)
            except TimeoutError:
                return

    def _work(self, batch: list[Item]) -> list[Any]:
        """On the forward thread: one model call for the whole batch."""
        first = batch[0]
        if first.call is not None:
            return [first.call()]
        return self._run(first.key, [i.payload for i in batch])

    async def _execute(self, batch: list[Item]) -> None:
        assert self._thread is not None
        self._running = batch
        started = time.perf_counter()
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._thread, self._work, batch)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc=exc)
            else:
                for item in batch:  # retry alone, so one faulty request cannot fail the others
                    await self._execute([item])
            return
        if len(results) != len(batch):
            raise InternalError(f"the model gave {len(results)} results for a batch of {len(batch)} requests.")
        for item, result in zip(batch, results, strict=True):
            _settle(item, result=result)
        texts = sum(i.n_texts for i in batch)
        self.stats.batches += 1
        self.stats.texts += texts
        self.stats.last_batch_jobs = len(batch)
        if self._on_batch is not None:
            self._on_batch(len(batch), texts, time.perf_counter() - started)


def _ids(items: Sequence[Item]) -> str:
    return ",".join(i.request_id for i in items) or "-"


def _settle(item: Item, result: Any = None, exc: BaseException | None = None) -> None:
    if item.future.done():
        return
    if exc is not None:
        item.future.set_exception(exc)
    else:
        item.future.set_result(result)
