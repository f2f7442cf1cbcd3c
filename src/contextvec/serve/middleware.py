"""ASGI middleware of the server: the request-body limit and the request metrics (pure ASGI, no per-request task
or body copy), and the Prometheus metrics they and the schedulers report to; each request gets an id (X-Request-Id)."""

from __future__ import annotations

import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contextvec.serve.errors import error_response
from contextvec.serve.scheduler import request_id


class BodyLimit:
    """Refuse request bodies over `limit` bytes (413), by Content-Length and while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body is larger than {self.limit} bytes; send fewer or shorter texts."
        too_big = error_response(413, message, "request_too_large")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await too_big(scope, receive, send)
            return
        seen = 0
        exceeded = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            chunk = await receive()
            seen += len(chunk.get("body", b""))
            if seen > self.limit:
                exceeded = True  # end the body here; the app's answer is replaced by ours below
                return {"type": "http.disconnect"}
            return chunk

        async def guarded_send(reply: Message) -> None:
            if not exceeded:
                await send(reply)

        try:
            await self.app(scope, limited, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            await too_big(scope, receive, send)


class Observe:
    """Count requests by route and status and time them (pure ASGI: no per-request task or body copy)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        rid = _request_id(scope)
        token = request_id.set(rid)  # the scheduler's log lines name the requests of a failed batch

        async def watch(reply: Message) -> None:
            nonlocal status
            if reply["type"] == "http.response.start":
                status = reply["status"]
                reply["headers"] = [*reply.get("headers", []), (b"x-request-id", rid.encode())]
            await send(reply)

        try:
            await self.app(scope, receive, watch)
        finally:
            request_id.reset(token)
            path = getattr(scope.get("route"), "path", "unmatched")  # the router writes the matched route here
            self.metrics.requests.labels(path, str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)


def _request_id(scope: Scope) -> str:
    """The client's X-Request-Id when it is short and plain, else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id" and 0 < len(value) <= 64 and _PLAIN.fullmatch(value):
            return str(value.decode())
    return uuid.uuid4().hex[:16]


_PLAIN = re.compile(rb"[A-Za-z0-9._:-]+")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "contextvec_requests_total", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram("contextvec_request_seconds", "request latency", ["route"], registry=self.registry)
        self.batch_jobs = Histogram(
            "contextvec_batch_requests",
            "requests per forward batch",
            ["model"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.batch_texts = Histogram(
            "contextvec_batch_texts",
            "texts per forward batch",
            ["model"],
            buckets=(1, 4, 16, 64, 256, 1024),
            registry=self.registry,
        )
        self.forward = Histogram("contextvec_batch_seconds", "time of one batch", ["model"], registry=self.registry)
        self.queued = Gauge("contextvec_queue_texts", "texts waiting", ["model"], registry=self.registry)
