"""Limits that keep one caller from hurting the others: body size, rate, SSE cap.

All three are per server process (a ``--workers N`` server allows N times the
rate and the SSE cap per user); that is stated in ``agent-tui serve --help``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The largest request body accepted (ARCHITECTURE §9: 1 MiB).
MAX_BODY = 1024 * 1024


def _too_large_body(limit: int) -> bytes:
    return (b'{"error":"PayloadTooLarge","message":"the request body is larger than '
            + str(limit).encode() + b' bytes"}')


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes with 413.

    Checks Content-Length first; a chunked body is counted as it arrives and
    cut off as soon as it passes the limit, so a huge upload is never held.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    await self._refuse(send)
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge(self.limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _too_large_body(self.limit)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(HTTPException):
    """Raised from ``receive``: FastAPI lets HTTPExceptions through its body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per API token: ``rate`` requests a second, bursts of ``burst``.

    ``rate <= 0`` turns the limit off (benchmarks, a trusted single user).
    """

    rate: float
    burst: int
    _buckets: dict[int, _Bucket] = field(default_factory=dict)

    def allow(self, key: int) -> float:
        """0.0 if the request may go ahead, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), at=now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


@dataclass
class StreamCap:
    """At most ``per_user`` open event streams per agent login."""

    per_user: int
    _open: dict[str, int] = field(default_factory=dict)

    def acquire(self, login: str) -> bool:
        if self._open.get(login, 0) >= self.per_user:
            return False
        self._open[login] = self._open.get(login, 0) + 1
        return True

    def release(self, login: str) -> None:
        left = self._open.get(login, 0) - 1
        if left > 0:
            self._open[login] = left
        else:
            self._open.pop(login, None)

    def open_for(self, login: str) -> int:
        return self._open.get(login, 0)
