"""Who runs the SLA sweep: ``agent-tui sla sweep`` (cron) and, while a
LocalBackend is open, a background task every ~30 s.

A run first asks (a read, an index range scan) whether anything is due, so
an idle store never takes the write lock; then it sweeps in batches, each
its own transaction. The task sleeps *after* a run finishes, so runs never
overlap or pile up; two processes sweeping at once are safe because each
ticket is claimed under its row lock (``services.sla.sweep``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Source
from agent_tui.domain.tables import Ticket, UTCDateTime, utcnow
from agent_tui.domain.views_sla import SweepAction, SweepResult
from agent_tui.services import sla
from agent_tui.store import Store
from agent_tui.store.events import Actor

log = logging.getLogger(__name__)

#: The actor the background sweep writes its events as.
SWEEP_ACTOR = Actor.system(Source.SYSTEM, login="sla")
#: A run stops after this many batches; the next run carries on.
MAX_BATCHES = 40


def anything_due(session: Session, now: datetime) -> bool:
    stmt = (select(Ticket.id).where(col(Ticket.sla_check_at).is_not(None),
                                    col(Ticket.sla_check_at) <= now).limit(1))
    return session.exec(stmt).first() is not None


def run_sweep(store: Store, actor: Actor = SWEEP_ACTOR, *, now: datetime | None = None,
              batch: int = 500) -> SweepResult:
    """Sweep until nothing is due (or ``MAX_BATCHES``); what changed, per ticket."""
    now = now or utcnow()
    with store.read() as session:
        if not anything_due(session, now):
            return SweepResult(checked=0)
    checked, changed = 0, []
    for _ in range(MAX_BATCHES):
        report = store.run_write(lambda s: sla.sweep(s, actor, now=now, limit=batch))
        checked += report.checked
        changed += [SweepAction(ticket_id=o.ticket_id, at_risk=o.became_at_risk,
                                breached=o.breaches, actions=o.actions) for o in report.outcomes]
        if not report.more or report.checked == 0:
            break
    return SweepResult(checked=checked, changed=changed)


class SlaSweeper:
    """A re-armed background sweep for one open backend."""

    def __init__(self, store: Store, interval: float = 30.0,
                 actor: Actor = SWEEP_ACTOR) -> None:
        self.store, self.interval, self.actor = store, interval, actor
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def start(self) -> None:
        """Start on the running loop; a second call does nothing."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(run_sweep, self.store, self.actor)
            except Exception:  # keep sweeping: a failed run is retried next time
                log.exception("SLA sweep failed")
            self.runs += 1

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def recompute_batch(session: Session, actor: Actor, *, after: tuple[datetime, int] | None,
                    limit: int = 500, now: datetime | None = None,
                    include_closed: bool = False) -> tuple[int, tuple[datetime, int] | None]:
    """Recompute one batch of tickets after an import or a policy change.

    Keyset pagination on ``(created_at, id)``: open tickets through the
    queue's partial index ``ix_q_open_age``; with ``include_closed`` every
    ticket (so solved ones get their breach flags too), through the primary
    key order. Returns how many were done and the key to continue after.
    """
    now = now or utcnow()
    book = sla.load_book(session)
    stmt = select(Ticket)
    if include_closed:
        if after is not None:
            stmt = stmt.where(col(Ticket.id) > after[1])
        stmt = stmt.order_by(col(Ticket.id))
    else:
        stmt = stmt.where(col(Ticket.is_open) == True)  # noqa: E712
        if after is not None:
            stmt = stmt.where(sa.tuple_(col(Ticket.created_at), col(Ticket.id)) > sa.tuple_(
                sa.literal(after[0], UTCDateTime()), sa.literal(after[1])))
        stmt = stmt.order_by(col(Ticket.created_at), col(Ticket.id))
    rows = list(session.exec(stmt.limit(limit).with_for_update()))
    tiers = sla.tiers_of(session, rows)
    for ticket in rows:
        sla.recompute(session, actor, ticket, now=now, book=book, tier=tiers.get(ticket.id),
                      escalating=False)
    session.flush()
    if not rows:
        return 0, None
    last = rows[-1]
    assert last.id is not None
    return len(rows), (last.created_at, last.id)


def _batch(session: Session, **kwargs: Any) -> tuple[int, tuple[datetime, int] | None]:
    return recompute_batch(session, **kwargs)


def run_recompute(store: Store, actor: Actor = SWEEP_ACTOR, *, include_closed: bool = False,
                  batch: int = 500, now: datetime | None = None) -> int:
    """Recompute every (open) ticket, one transaction per batch; how many."""
    now = now or utcnow()
    total, after = 0, None
    while True:
        done, after = store.run_write(functools.partial(
            _batch, actor=actor, after=after, limit=batch, now=now,
            include_closed=include_closed))
        total += done
        if done < batch or after is None:
            return total
