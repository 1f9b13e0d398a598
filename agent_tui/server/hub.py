"""The live feed of one server process: one poller, many SSE subscribers.

One task tails the event log (an indexed range scan on ``seq``) and keeps
the latest events in a buffer, each already encoded as SSE frames twice: as
supervisors and admins see it (raw) and as agents see it (personal data
masked, ARCHITECTURE §9). Every subscriber reads the encoding of its role
from that buffer, so 1,000 subscribers cost one query and two encodings per
event, not 1,000. A subscriber that resumes from further back than the
buffer reads the log itself, encoded for its role, until it catches up.
Several server processes on one PostgreSQL each tail the same table, so
they see each other's events. Listeners (the token cache) get each batch
before the subscribers are woken.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple

from sqlmodel import Session

from agent_tui.domain.views import EventView
from agent_tui.services.convert import event_view, masked_event
from agent_tui.store import Store
from agent_tui.store.events import events_after, last_seq

log = logging.getLogger(__name__)

#: A comment line sent when nothing happened, so proxies and clients see a live stream.
KEEPALIVE = b": keepalive\n\n"
#: Events read from the log per query.
BATCH = 500


def frame(event: EventView) -> bytes:
    """One SSE message: ``id`` is the event's seq, so a client resumes with Last-Event-ID."""
    return b"id: %d\nevent: event\ndata: %s\n\n" % (event.seq, event.model_dump_json().encode())


class Frames(NamedTuple):
    """One event encoded for both audiences."""

    seq: int
    raw: bytes  #: for roles that see personal data
    masked: bytes  #: for agents


def encode_both(view: EventView) -> Frames:
    """Both frames of one event; an event with nothing to mask shares one bytes object."""
    raw = frame(view)
    hidden = masked_event(view)
    return Frames(view.seq, raw, raw if hidden.diff == view.diff else frame(hidden))


def _read_after(session: Session, after_seq: int, limit: int) -> list[EventView]:
    return [event_view(ev) for ev in events_after(session, after_seq, limit)]


#: Events that end the streams of the token or agent they name.
_OWNER_CHANGES = frozenset({"token.revoked", "agent.updated", "agent.disabled"})


class EventHub:
    """Tails the event log and fans it out to this process's subscribers."""

    def __init__(self, store: Store, *, poll_interval: float = 0.1, keep: int = 5000,
                 keepalive: float = 15.0) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.keep = keep
        self.keepalive = keepalive
        self._seqs: list[int] = []
        self._raw: list[bytes] = []
        self._masked: list[bytes] = []
        #: Every event with seq > floor is in the buffer.
        self.floor = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[list[EventView]], None]] = []
        self.subscribers = 0
        #: Each open stream's owner (token id, agent id), and the seq at which an
        #: event revoked that token or changed that agent: the stream ends there.
        self._owners: dict[int, tuple[int | None, int | None]] = {}
        self._ends: dict[int, int] = {}
        self._next_stream = 0

    def listen(self, listener: Callable[[list[EventView]], None]) -> None:
        """Call ``listener`` with every new batch of events (raw), before any subscriber
        is woken: whoever sees an event on the feed knows the listener has seen it."""
        self._listeners.append(listener)

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

    def _views(self, after_seq: int, limit: int = BATCH) -> list[EventView]:
        with self.store.read() as session:
            return _read_after(session, after_seq, limit)

    def _fetch_both(self, after_seq: int) -> list[tuple[EventView, Frames]]:
        return [(view, encode_both(view)) for view in self._views(after_seq)]

    def _fetch_for(self, after_seq: int, *, masked: bool) -> list[tuple[int, bytes]]:
        """A resuming subscriber's read of the log: only the encoding its role gets."""
        views = self._views(after_seq)
        return [(v.seq, frame(masked_event(v) if masked else v)) for v in views]

    @property
    def head(self) -> int:
        return self._seqs[-1] if self._seqs else self.floor

    async def _poll(self) -> None:
        while True:
            try:
                batch = await asyncio.to_thread(self._fetch_both, self.head)
            except Exception as exc:  # the database is down: keep trying, say so once a while
                log.warning("event poll failed: %s", exc)
                batch = []
                await asyncio.sleep(1.0)
            if batch:
                self._tell([view for view, _ in batch])
                for _, frames in batch:
                    self._seqs.append(frames.seq)
                    self._raw.append(frames.raw)
                    self._masked.append(frames.masked)
                if len(self._seqs) > self.keep:
                    drop = len(self._seqs) - self.keep
                    self.floor = self._seqs[drop - 1]
                    del self._seqs[:drop], self._raw[:drop], self._masked[:drop]
                changed, self._changed = self._changed, asyncio.Event()
                changed.set()
            if len(batch) < BATCH:
                await asyncio.sleep(self.poll_interval)

    def _tell(self, views: list[EventView]) -> None:
        self._end_streams(views)
        for listener in self._listeners:
            try:
                listener(views)
            except Exception:  # a broken listener must not stop the feed
                log.exception("event listener %r failed", listener)

    def _end_streams(self, views: list[EventView]) -> None:
        """Mark the streams whose token these events revoke or whose agent they change.

        A stream's role (and so its masking) is the one it connected with; an
        agent disabled, demoted or promoted, or a token revoked, ends it at that
        event, and the client's reconnect is authenticated afresh.
        """
        if not self._owners:
            return
        for view in views:
            if view.entity_id is None or view.kind not in _OWNER_CHANGES:
                continue
            for stream, (token_id, agent_id) in self._owners.items():
                hit = (token_id if view.kind == "token.revoked" else agent_id) == view.entity_id
                if hit and stream not in self._ends:
                    self._ends[stream] = view.seq

    def since(self, cursor: int, *, masked: bool) -> list[tuple[int, bytes]] | None:
        """Buffered frames after ``cursor`` for one audience; None when the buffer starts later."""
        if cursor < self.floor:
            return None
        start = bisect.bisect_right(self._seqs, cursor)
        frames = self._masked if masked else self._raw
        return list(zip(self._seqs[start:], frames[start:], strict=True))

    async def stream(self, after_seq: int, *, masked: bool,
                     owner: tuple[int | None, int | None] = (None, None)
                     ) -> AsyncIterator[bytes]:
        """Every event after ``after_seq`` as SSE frames, then follow the log forever.

        ``masked``: the subscriber is an agent and gets personal data masked.
        ``owner``: its (token id, agent id); the stream ends, before the event,
        when an event revokes that token or changes that agent.
        """
        cursor = after_seq
        self._next_stream += 1
        me = self._next_stream
        self._owners[me] = owner
        self.subscribers += 1
        try:
            yield b"retry: 1000\n\n"
            while True:
                batch = self.since(cursor, masked=masked)
                if batch is None:  # resuming from before the buffer: read the log
                    batch = await asyncio.to_thread(self._fetch_for, cursor, masked=masked)
                end = self._ends.get(me)
                if end is not None:
                    frames = [data for seq, data in batch if seq < end]
                    if frames:
                        yield b"".join(frames)
                    return
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
            self._owners.pop(me, None)
            self._ends.pop(me, None)
