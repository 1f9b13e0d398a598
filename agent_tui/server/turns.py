"""Fair service under overload: the hot SQLite reads, a few per event-loop turn,
in arrival order, and a 503 when the line of waiting reads is too long (for
PostgreSQL reads, which run on threads, the same bound on reads out).

A SQLite read runs right on the event loop (``server.wire.lean_read``): it
takes ~1 ms and never yields. Saturated, one turn of the loop then runs every
request that arrived in the previous one, ~300 ms with 300 busy connections,
and only then polls the sockets again. libuv (under uvloop) accepts one new
connection per poll, so a connection that arrives while the server is
saturated waited seconds to be accepted at all (measured with strace: one
accept4 per turn, ~7 turns a second, ~185 connections in the accept queue;
wrk's p99 was 5-7 s while its p50 was ~200 ms).

``ReadTurns`` runs at most ``per_turn`` reads per turn and parks the rest in
a FIFO line that the next turns drain, so the loop polls, accepts and reads
every few milliseconds and every request waits its turn in order. A read that
would join a line already ``max_waiting`` long is refused with ``Busy`` (503
with ``Retry-After``), which the RemoteBackend retries after that pause: the
latency of admitted requests stays bounded instead of growing with the load.
Unloaded, a read runs inline as before (no extra hop).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from agent_tui.domain.errors import Unavailable

R = TypeVar("R")

#: Reads per loop turn. Fewer make shorter turns, so the loop accepts new
#: connections more often when saturated, but cost CPU per request (fewer
#: events handled per poll). Measured with wrk -c300, every connection opened
#: at once, ticket detail: p99 0.49-1.15 s at 1, 0.95-1.02 s at 4, 1.6-4.3 s
#: unbounded; server CPU per request (median of 3) 1.02, 0.88 and 0.85 ms.
PER_TURN = 4
#: Longest line of waiting reads (about half a second of work); a read that
#: would be the next one is refused with 503.
MAX_WAITING = 500


class Busy(Unavailable):
    """The server is saturated: retry after ``retry_after`` seconds (503)."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReadTurns:
    """Runs synchronous reads ``per_turn`` per event-loop turn, first come first served."""

    def __init__(self, per_turn: int = PER_TURN, max_waiting: int = MAX_WAITING) -> None:
        if per_turn < 1 or max_waiting < 0:
            raise ValueError("per_turn must be >= 1 and max_waiting >= 0")
        self.per_turn = per_turn
        self.max_waiting = max_waiting
        self.refused = 0  # reads answered with Busy, for the logs and the tests
        self.in_threads = 0  # reads handed to worker threads and not back yet
        self._line: deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = deque()
        self._ran = 0  # reads run in the current turn
        self._turn_due = False

    @property
    def waiting(self) -> int:
        return len(self._line)

    async def run(self, fn: Callable[[], R]) -> R:
        """``fn()`` now if this turn has room and nobody waits, else in its turn."""
        if not self._line and self._ran < self.per_turn:
            self._ran += 1
            self._schedule()
            return fn()
        if len(self._line) >= self.max_waiting:
            self.refused += 1
            raise Busy(f"the server is saturated ({len(self._line)} reads waiting); "
                       "retry in a second")
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._line.append((fn, done))
        self._schedule()
        return await done

    async def run_in_thread(self, fn: Callable[[], R]) -> R:
        """``fn()`` on a worker thread (a read that waits on the network), refused
        with ``Busy`` once ``max_waiting`` such reads are already out.

        PostgreSQL reads leave the loop free, but saturated they pile up behind
        the thread pool without end; the same bound as the loop's line keeps
        the wait of admitted requests bounded there too.
        """
        if self.in_threads >= self.max_waiting:
            self.refused += 1
            raise Busy(f"the server is saturated ({self.in_threads} reads waiting); "
                       "retry in a second")
        self.in_threads += 1
        try:
            return await asyncio.to_thread(fn)
        finally:
            self.in_threads -= 1

    def _schedule(self) -> None:
        # call_soon runs in the loop's next turn, after it has polled the sockets.
        if not self._turn_due:
            self._turn_due = True
            asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        self._turn_due = False
        self._ran = 0
        while self._line and self._ran < self.per_turn:
            fn, done = self._line.popleft()
            if done.done():  # its request was cancelled while it waited
                continue
            self._ran += 1
            try:
                done.set_result(fn())
            except Exception as exc:  # the read's error is its request's error
                done.set_exception(exc)
        if self._line:
            self._schedule()
