"""The dynamic batcher alone: coalescing, budgets, queue-full, failures and cancellations."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Hashable, Sequence
from typing import Any

import pytest

from contextvec.serve.batcher import DynamicBatcher, QueueFull


def recorder() -> tuple[list[list[list[Any]]], Any]:
    calls: list[list[list[Any]]] = []

    def run(key: Hashable, payloads: Sequence[list[Any]]) -> list[Any]:
        calls.append([list(p) for p in payloads])
        return [(key, [x.upper() for x in p]) for p in payloads]

    return calls, run


async def _submit_all(b: DynamicBatcher, n: int, key: Hashable = "k") -> list[Any]:
    b.start()
    try:
        return await asyncio.gather(*(b.submit(key, [f"t{i}"], 1) for i in range(n)))
    finally:
        await b.stop()


def test_concurrent_requests_share_forward_calls_and_get_their_own_results() -> None:
    calls, run = recorder()
    b = DynamicBatcher(run, max_batch_texts=16, max_wait_s=0.05)
    results = asyncio.run(_submit_all(b, 40))
    assert [r[1] for r in results] == [[f"T{i}"] for i in range(40)]
    assert len(calls) == 3 and [len(c) for c in calls] == [16, 16, 8]


def test_without_batching_each_request_is_its_own_call() -> None:
    calls, run = recorder()
    results = asyncio.run(_submit_all(DynamicBatcher(run, enabled=False), 10))
    assert len(calls) == 10 and [r[1] for r in results] == [[f"T{i}"] for i in range(10)]


def test_only_requests_with_equal_options_are_merged() -> None:
    calls, run = recorder()

    async def go() -> list[Any]:
        b = DynamicBatcher(run, max_wait_s=0.05)
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
        b = DynamicBatcher(run, max_batch_tokens=100, max_wait_s=0.05)
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
        b = DynamicBatcher(slow, max_queue_texts=4, max_wait_s=0)
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
        b = DynamicBatcher(run, max_wait_s=0.05)
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
        b = DynamicBatcher(run, max_wait_s=0.05)
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
        b = DynamicBatcher(run, max_wait_s=0.2)
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
