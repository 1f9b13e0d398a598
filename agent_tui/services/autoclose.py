"""Auto-close: solved tickets become closed after a number of days.

The number of days is a store setting (``loop_setting['autoclose_after_days']``,
default 4), set with ``agent-tui close-solved --after 5d --save``. Old solved
tickets are found through the partial index ``ix_q_solved_at`` (solved
tickets only, by ``solved_at``), and closed in batches of ``limit`` per
transaction so the write lock is never held for long. Each close is a real
ticket change: the row is locked and re-checked (an agent may have reopened
it meanwhile), its ``version`` goes up — so an agent editing it gets a
Conflict rather than a silent overwrite — and it writes its own
``ticket.updated`` event (``reason: auto-close``), like any other status
change, so the audit trail and the live feed need nothing special. One
event per ticket rather than one batch event: every reader of a ticket's
history (FCR, the queue, the UI's live rows) then sees the close.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Role, Source, Status
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import LoopSetting, Ticket, utcnow
from agent_tui.services.lifecycle import TicketChange, ticket_changed
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event

SETTING = "autoclose_after_days"
DEFAULT_AFTER_DAYS = 4
MAX_AFTER_DAYS = 365
BATCH = 500
AUTOCLOSE_ACTOR = Actor.system(Source.SYSTEM, login="autoclose")


def get_after_days(session: Session) -> int:
    """The store's setting, or the default when nobody set one."""
    row = session.get(LoopSetting, SETTING)
    return int(row.value) if row is not None else DEFAULT_AFTER_DAYS


def _check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_AFTER_DAYS:
        raise Invalid("after", f"must be a whole number of days from 0 to {MAX_AFTER_DAYS}")
    return days


def set_after_days(session: Session, actor: Actor, days: int) -> int:
    """Store the number of days after which solved tickets close (admins)."""
    require(actor, Role.ADMIN, "changing the auto-close setting")
    days = _check_days(days)
    before = get_after_days(session)
    row = session.get(LoopSetting, SETTING) or LoopSetting(key=SETTING, value="")
    row.value, row.updated_at = str(days), utcnow()
    session.add(row)
    session.flush()
    append_event(session, actor, kind="setting.updated", entity="loop_setting", entity_id=None,
                 before={SETTING: before}, after={SETTING: days})
    return days


#: The partial index ix_q_solved_at is used only when the query names it literally.
_SOLVED = sa.text("ticket.status = 'solved'")


def _due(cutoff: datetime, limit: int) -> Any:
    return (sa.select(Ticket.id).where(_SOLVED, col(Ticket.solved_at) < cutoff)  # type: ignore[call-overload]
            .order_by(col(Ticket.solved_at), col(Ticket.id)).limit(limit))


def due_count(session: Session, now: datetime, after_days: int) -> int:
    """How many solved tickets are old enough to close (for a dry run)."""
    cutoff = now - timedelta(days=_check_days(after_days))
    stmt = sa.select(sa.func.count()).select_from(Ticket).where(
        _SOLVED, col(Ticket.solved_at) < cutoff)
    return int(session.execute(stmt).scalar() or 0)


def close_solved(session: Session, now: datetime, after_days: int, *,
                 actor: Actor = AUTOCLOSE_ACTOR, limit: int = BATCH) -> list[int]:
    """Close up to ``limit`` tickets solved more than ``after_days`` before ``now``.

    Returns the ids closed; call again (in a new transaction) until it
    returns an empty list.
    """
    cutoff = now - timedelta(days=_check_days(after_days))
    closed: list[int] = []
    for ticket_id in list(session.execute(_due(cutoff, limit)).scalars()):
        ticket = session.exec(select(Ticket).where(Ticket.id == ticket_id)
                              .with_for_update()).first()
        if (ticket is None or Status(ticket.status) is not Status.SOLVED
                or ticket.solved_at is None or ticket.solved_at >= cutoff):
            continue  # reopened or re-solved since the scan
        old_version = ticket.version
        ticket.status = Status.CLOSED
        ticket.is_open = False
        ticket.closed_at = now
        ticket.version += 1
        ticket.updated_at = utcnow()
        session.add(ticket)
        session.flush()
        append_event(session, actor, kind="ticket.updated", entity="ticket", entity_id=ticket_id,
                     before={"status": Status.SOLVED.value, "version": old_version},
                     after={"status": Status.CLOSED.value, "version": ticket.version},
                     extra={"reason": "auto-close", "after_days": after_days})
        ticket_changed(session, actor, ticket,
                       TicketChange("updated", Status.SOLVED, Status.CLOSED))
        closed.append(ticket_id)
    return closed
