"""Every ticket event carries the ticket's queue row as the write commits it.

A queue that is live updates its rows from the feed instead of re-fetching
its window and counts on every event (with 300 clients re-fetching at once
that costs the server over a second). So each ``entity="ticket"`` event a
write appends gets ``diff["row"]``: the ticket's ``TicketRow`` as
``services.queue`` serialises it for a page.

The row is built when the write commits, not when the event is appended:
the reactions that run after a change's event (routing, SLA due times,
escalation) change the row further, and nobody can read the log or the
queue between the two, so the row a page fetch returns is the one as
committed. Every event of the write about a ticket carries that same row.

The event rows are filled in before commit, in the write's own
transaction: they are not visible to anyone yet, so this is still an
append, and the log's guard is lifted (as ``store.events.audit_unlocked``
does) only for the UPDATE of those rows; the trigger refuses any other.
Importing this module installs the two session hooks; the services that
append ticket events import it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from agent_tui.domain.tables import AuditGuard, Event
from agent_tui.store.events import dump_diff

_PENDING = "agent_tui.ticket_events"  # session.info key: this write's new ticket events
_EVENT = Event.__table__  # type: ignore[attr-defined]
_GUARD = AuditGuard.__table__  # type: ignore[attr-defined]


def _collect(session: Session, _flush: UOWTransaction) -> None:
    # after_flush still lists what was new before the flush.
    new = [o for o in session.new if isinstance(o, Event) and o.entity == "ticket"
           and o.entity_id is not None]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


def attach_rows(session: Session) -> None:
    """Put each ticket's committed-to-be queue row on this write's ticket events."""
    if not session.info.get(_PENDING):
        return
    session.flush()  # anything still pending, and its events, first
    events: list[Event] = session.info.pop(_PENDING, [])
    if not events:
        return
    from agent_tui.services.queue import queue_row  # queue imports tickets, which imports us

    rows: dict[int, dict[str, Any] | None] = {}
    for ev in events:
        assert ev.entity_id is not None
        if ev.entity_id not in rows:
            row = queue_row(session, ev.entity_id)
            rows[ev.entity_id] = None if row is None else row.model_dump(mode="json")
    stamped: list[tuple[Event, str]] = []
    for ev in events:
        row_json = rows[ev.entity_id or 0]
        if row_json is None:
            continue  # the ticket is gone (erased): nothing for a queue to show
        try:
            diff = json.loads(ev.diff or "{}")
        except ValueError:
            continue
        diff["row"] = row_json
        stamped.append((ev, dump_diff(diff)))
    if stamped:
        _write(session, stamped)


def _write(session: Session, stamped: list[tuple[Event, str]]) -> None:
    """UPDATE the events' diffs on the session's connection, with the log unlocked.

    Core statements, as ``store.events.audit_unlocked`` would run them through the
    ORM (whose UPDATE path cost ~1 ms of a ~9 ms write); the ORM objects are told
    the new value, so nothing is left dirty to flush again.
    """
    conn = session.connection()
    toggle = False
    if conn.dialect.name == "sqlite":
        # A longer row moves the event's cell; without secure_delete the old copy
        # stays in the page's free space, where a later erasure could not reach it.
        toggle = not conn.exec_driver_sql("PRAGMA secure_delete").scalar()
        if toggle:  # off (not Debian's default build): on for these rows only
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
    guard = _GUARD.update().where(_GUARD.c.id == 1)
    conn.execute(guard.values(unlocked=1))
    try:
        conn.execute(_EVENT.update().where(_EVENT.c.seq == sa.bindparam("k_seq"))
                     .values(diff=sa.bindparam("k_diff")),
                     [{"k_seq": ev.seq, "k_diff": text} for ev, text in stamped])
    finally:
        conn.execute(guard.values(unlocked=0))
        if toggle:
            conn.exec_driver_sql("PRAGMA secure_delete = OFF")
    for ev, text in stamped:
        set_committed_value(ev, "diff", text)


def _forget(session: Session, *_args: object) -> None:
    """After a rollback, of the write or of a savepoint in it: keep the events that stay."""
    pending = session.info.pop(_PENDING, None)
    kept = [ev for ev in pending or [] if sa.inspect(ev).persistent]
    if kept:
        session.info[_PENDING] = kept


sa.event.listen(Session, "after_flush", _collect)
sa.event.listen(Session, "before_commit", attach_rows)
sa.event.listen(Session, "after_soft_rollback", _forget)  # every rollback, savepoints too
