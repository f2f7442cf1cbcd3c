"""The scheduler alone: coalescing, budgets, queue-full, failures, cancellations, call items, priorities,
supervision and shutdown."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Hashable, Sequence
from typing import Any

import pytest

from contextvec.serve.scheduler import InternalError, QueueFull, Scheduler, ShuttingDown


def recorder() -> tuple[list[list[list[Any]]], Any]:
    calls: list[list[list[Any]]] = []

    def run(key: Hashable, payloads: Sequence[list[Any]]) -> list[Any]:
        calls.append([list(p) for p in payloads])
        return [(key, [x.upper() for x in p]) for p in payloads]

    return calls, run


async def _submit_all(b: Scheduler, n: int, key: Hashable = "k") -> list[Any]:
    b.start()
    try:
        return await asyncio.gather(*(b.submit(key, [f"t{i}"], 1) for i in range(n)))
    finally:
        await b.stop()


def test_concurrent_requests_share_forward_calls_and_get_their_own_results() -> None:
    calls, run = recorder()
    b = Scheduler(run, max_batch_texts=16, max_wait_s=0.05)
    results = asyncio.run(_submit_all(b, 40))
    assert [r[1] for r in results] == [[f"T{i}"] for i in range(40)]
    assert len(calls) == 3 and [len(c) for c in calls] == [16, 16, 8]


def test_without_batching_each_request_is_its_own_call() -> None:
    calls, run = recorder()
    results = asyncio.run(_submit_all(Scheduler(run, enabled=False), 10))
    assert len(calls) == 10 and [r[1] for r in results] == [[f"T{i}"] for i in range(10)]


def test_only_requests_with_equal_options_are_merged() -> None:
    calls, run = recorder()

    async def go() -> list[Any]:
        b = Scheduler(run, max_wait_s=0.05)
        b.start()
        try:
            return await asyncio.gather(*(b.submit("ab"[i % 2], [str(i)], 1) for i in range(6)))
        finally:
            await b.stop()

    results = asyncio.run(go())
    assert sorted(len(c) for c in calls) == [3, 3]
    assert [r[0] for r in results] == ["a", "b"] * 3


def test_token_budget_splits_batches() -> None:
    calls, run = recorder()

    async def go() -> None:
        b = Scheduler(run, max_batch_tokens=100, max_wait_s=0.05)
        b.start()
        await asyncio.gather(*(b.submit("k", [str(i)], 40) for i in range(5)))
        await b.stop()

    asyncio.run(go())
    assert [len(c) for c in calls] == [2, 2, 1]


def test_queue_full_is_refused_while_work_waits() -> None:
    gate = threading.Event()

    def slow(key: Hashable, payloads: Sequence[list[Any]]) -> list[Any]:
        gate.wait(5)
        return [None for _ in payloads]

    async def go() -> None:
        b = Scheduler(slow, max_queue_texts=4, max_wait_s=0)
        b.start()
        first = asyncio.ensure_future(b.submit("k", ["a"], 1))  # taken by the worker, blocks in the thread
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(b.submit("k", ["b", "c"], 1)) for _ in range(2)]  # 4 texts queued
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull, match="4 texts waiting, limit 4"):
            await b.submit("k", ["d"], 1)
        gate.set()
        await asyncio.gather(first, *waiting)
        await b.stop()

    asyncio.run(go())


def test_a_failing_request_fails_alone_and_nothing_hangs() -> None:
    def run(key: Hashable, payloads: Sequence[list[Any]]) -> list[Any]:
        if any("bad" in p for p in payloads):
            raise ValueError("bad text")
        return [p for p in payloads]

    async def go() -> list[Any]:
        b = Scheduler(run, max_wait_s=0.05)
        b.start()
        out = await asyncio.wait_for(
            asyncio.gather(*(b.submit("k", ["bad" if i == 3 else "ok"], 1) for i in range(8)), return_exceptions=True),
            5,
        )
        await b.stop()
        return out

    out = asyncio.run(go())
    assert isinstance(out[3], ValueError)
    assert all(o == ["ok"] for i, o in enumerate(out) if i != 3)


def test_cancelled_requests_are_skipped() -> None:
    calls, run = recorder()

    async def go() -> Any:
        b = Scheduler(run, max_wait_s=0.05)
        b.start()
        gone = asyncio.ensure_future(b.submit("k", ["gone"], 1))
        kept = asyncio.ensure_future(b.submit("k", ["kept"], 1))
        await asyncio.sleep(0)
        gone.cancel()  # the client disconnected
        result = await kept
        await b.stop()
        return result

    assert asyncio.run(go()) == ("k", ["KEPT"])
    assert calls == [[["kept"]]]


def test_under_load_the_worker_waits_for_company_but_light_traffic_does_not() -> None:
    calls, run = recorder()

    async def go() -> tuple[float, float]:
        b = Scheduler(run, max_wait_s=0.2)
        b.start()
        t0 = asyncio.get_running_loop().time()
        await b.submit("k", ["alone"], 1)  # nothing ran before: no waiting
        alone = asyncio.get_running_loop().time() - t0
        await asyncio.gather(*(b.submit("k", [str(i)], 1) for i in range(4)))  # a batch of 4: now "under load"
        first = asyncio.ensure_future(b.submit("k", ["a"], 1))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(b.submit("k", [x], 1)) for x in "bcd"]  # arrive within max_wait
        await asyncio.gather(first, *rest)
        waited = asyncio.get_running_loop().time() - t0
        await b.stop()
        return alone, waited

    alone, _ = asyncio.run(go())
    assert alone < 0.1
    assert calls[-1] == [["a"], ["b"], ["c"], ["d"]]  # the late three joined the first one's batch


def test_all_model_work_runs_on_one_thread_one_item_at_a_time() -> None:
    threads: set[int] = set()
    running, overlap = [0], [0]

    def work() -> int:
        running[0] += 1
        overlap[0] = max(overlap[0], running[0])
        threads.add(threading.get_ident())
        threading.Event().wait(0.002)
        running[0] -= 1
        return threading.get_ident()

    def run(key: Hashable, payloads: Sequence[list[Any]]) -> list[Any]:
        return [work() for _ in payloads[:1]] * len(payloads)

    async def go() -> None:
        b = Scheduler(run, max_wait_s=0)
        b.start()
        batches = [b.submit(k, ["x"], 1) for k in "abab"]
        calls = [b.call(work) for _ in range(6)]
        await asyncio.gather(*batches, *calls)
        await b.stop()

    asyncio.run(go())
    assert overlap[0] == 1  # never two model calls at once
    assert len(threads) == 1 and threading.get_ident() not in threads  # one forward thread, not the event loop's


def test_background_calls_yield_to_interactive_ones_but_are_not_starved() -> None:
    order: list[str] = []
    gate = threading.Event()

    async def go() -> None:
        b = Scheduler(lambda k, p: [None] * len(p), max_wait_s=0, max_skips=2)
        b.start()
        blocker = asyncio.ensure_future(b.call(lambda: gate.wait(5)))  # holds the forward thread
        await asyncio.sleep(0.05)
        jobs = [asyncio.ensure_future(b.call(lambda i=i: order.append(f"job{i}"), background=True)) for i in range(2)]
        reqs = [asyncio.ensure_future(b.call(lambda i=i: order.append(f"req{i}"))) for i in range(5)]
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(blocker, *jobs, *reqs)
        await b.stop()

    asyncio.run(go())
    # interactive first; the oldest job runs once it has been passed over max_skips=2 times
    assert order == ["req0", "req1", "job0", "req2", "req3", "job1", "req4"]


def test_a_batch_the_scheduler_cannot_answer_fails_with_500_and_the_next_request_succeeds() -> None:
    mismatch = [True]

    def run(key: Hashable, payloads: Sequence[list[Any]]) -> list[Any]:
        if mismatch[0]:
            mismatch[0] = False
            return []  # one result short: the scheduler's own error, not the request's
        return [p for p in payloads]

    async def go() -> tuple[Any, Any, bool]:
        b = Scheduler(run, max_wait_s=0)
        b.start()
        first = await asyncio.gather(b.submit("k", ["a"], 1), return_exceptions=True)
        second = await asyncio.wait_for(b.submit("k", ["b"], 1), 5)
        alive = b.alive
        await b.stop()
        return first[0], second, alive

    first, second, alive = asyncio.run(go())
    assert isinstance(first, InternalError) and "0 results for a batch of 1" in str(first)
    assert second == ["b"] and alive


def test_a_failing_metrics_callback_does_not_kill_the_worker(caplog: pytest.LogCaptureFixture) -> None:
    def on_batch(jobs: int, texts: int, seconds: float) -> None:
        raise RuntimeError("metrics backend down")

    async def go() -> list[Any]:
        b = Scheduler(lambda k, p: list(p), max_wait_s=0, on_batch=on_batch)
        b.start()
        out = [await asyncio.wait_for(b.submit("k", [str(i)], 1), 5) for i in range(3)]
        await b.stop()
        return out

    assert asyncio.run(go()) == [["0"], ["1"], ["2"]]
    assert "unexpected error in a batch" in caplog.text


def test_stop_returns_by_its_deadline_with_a_stuck_runner_and_answers_what_is_left() -> None:
    stuck = threading.Event()

    async def go() -> tuple[float, list[Any]]:
        b = Scheduler(lambda k, p: [stuck.wait(10)] * len(p), max_wait_s=0)
        b.start()
        pending = [asyncio.ensure_future(b.submit("k", [str(i)], 1)) for i in range(3)]
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        await b.stop(deadline_s=0.3)
        took = time.monotonic() - t0
        out = await asyncio.gather(*pending, return_exceptions=True)
        with pytest.raises(ShuttingDown):
            await b.submit("k", ["late"], 1)
        return took, out

    took, out = asyncio.run(go())
    stuck.set()
    assert took < 2.0  # bounded by the deadline, not by the stuck call (10 s)
    assert all(isinstance(o, ShuttingDown) for o in out)
