"""The live feed of one server process: one poller, many SSE subscribers.

One task tails the event log (an indexed range scan on ``seq``) and keeps
the latest events, each already encoded as an SSE frame, in a buffer; every
subscriber reads from that buffer, so 1,000 subscribers cost one query per
poll, not 1,000. A subscriber that resumes from further back than the buffer
reads the log itself until it catches up. Several server processes on one
PostgreSQL each tail the same table, so they see each other's events.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlmodel import Session

from agent_tui.domain.views import EventView
from agent_tui.services.convert import event_view
from agent_tui.store import Store
from agent_tui.store.events import events_after, last_seq

log = logging.getLogger(__name__)

#: A comment line sent when nothing happened, so proxies and clients see a live stream.
KEEPALIVE = b": keepalive\n\n"


def frame(event: EventView) -> bytes:
    """One SSE message: ``id`` is the event's seq, so a client resumes with Last-Event-ID."""
    return b"id: %d\nevent: event\ndata: %s\n\n" % (event.seq, event.model_dump_json().encode())


def _read_after(session: Session, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
    views = [event_view(ev) for ev in events_after(session, after_seq, limit)]
    return [(view.seq, frame(view)) for view in views]


class EventHub:
    """Tails the event log and fans it out to this process's subscribers."""

    def __init__(self, store: Store, *, poll_interval: float = 0.1, keep: int = 5000,
                 keepalive: float = 15.0) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.keep = keep
        self.keepalive = keepalive
        self._seqs: list[int] = []
        self._frames: list[bytes] = []
        #: Every event with seq > floor is in the buffer.
        self.floor = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.subscribers = 0

    async def start(self) -> None:
        self.floor = await asyncio.to_thread(self._last_seq)
        self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _last_seq(self) -> int:
        with self.store.read() as session:
            return last_seq(session)

    def _fetch(self, after_seq: int, limit: int = 500) -> list[tuple[int, bytes]]:
        with self.store.read() as session:
            return _read_after(session, after_seq, limit)

    @property
    def head(self) -> int:
        return self._seqs[-1] if self._seqs else self.floor

    async def _poll(self) -> None:
        while True:
            try:
                batch = await asyncio.to_thread(self._fetch, self.head)
            except Exception as exc:  # the database is down: keep trying, say so once a while
                log.warning("event poll failed: %s", exc)
                batch = []
                await asyncio.sleep(1.0)
            if batch:
                for seq, data in batch:
                    self._seqs.append(seq)
                    self._frames.append(data)
                if len(self._seqs) > self.keep:
                    drop = len(self._seqs) - self.keep
                    self.floor = self._seqs[drop - 1]
                    del self._seqs[:drop], self._frames[:drop]
                changed, self._changed = self._changed, asyncio.Event()
                changed.set()
            if len(batch) < 500:
                await asyncio.sleep(self.poll_interval)

    def since(self, cursor: int) -> list[tuple[int, bytes]] | None:
        """Buffered frames after ``cursor``; None when the buffer starts later."""
        if cursor < self.floor:
            return None
        start = bisect.bisect_right(self._seqs, cursor)
        return list(zip(self._seqs[start:], self._frames[start:], strict=True))

    async def stream(self, after_seq: int) -> AsyncIterator[bytes]:
        """Every event after ``after_seq`` as SSE frames, then follow the log forever."""
        cursor = after_seq
        self.subscribers += 1
        try:
            yield b"retry: 1000\n\n"
            while True:
                batch = self.since(cursor)
                if batch is None:  # resuming from before the buffer: read the log
                    batch = await asyncio.to_thread(self._fetch, cursor)
                if batch:
                    cursor = batch[-1][0]
                    yield b"".join(data for _, data in batch)
                    continue
                waiter = self._changed
                try:
                    await asyncio.wait_for(waiter.wait(), self.keepalive)
                except TimeoutError:
                    yield KEEPALIVE
        finally:
            self.subscribers -= 1
