"""Ticket facts: the per-ticket numbers the KPIs read (see ``services.metrics``).

A fact is a pure function of the ticket row, its thread, its events and its
latest rating, so it is recomputed from scratch — never patched — whenever
any of those change: a reopen, a late rating or a re-solve simply yields a
new row and FCR, CSAT and resolution times follow. The closed-loop reaction
in ``services.lifecycle`` refreshes the fact of every changed ticket in the
same transaction; tickets written by the bulk paths (demo, import) bypass
the services, so :func:`build_missing` fills the facts of every ticket above
a watermark (``loop_setting['facts_through']``), in id-range batches that
each read three index ranges (message, event, rating).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import OPEN_STATUSES
from agent_tui.domain.tables import (
    Event,
    LoopSetting,
    Message,
    MetricBacklog,
    MetricDay,
    MetricHist,
    Rating,
    Ticket,
    TicketFact,
    utcnow,
)
from agent_tui.services import metrics_rollup as rollup

#: Handle time credits each agent message with the time since the previous
#: message of the thread, up to this cap (a proxy for the effort: there is no timer).
HANDLE_CAP_S = 15 * 60
#: Tickets per backfill transaction.
FACT_BATCH = 5_000
WATERMARK = "facts_through"

_EVENT_KINDS = ("ticket.updated", "ticket.reopened", "bot.answered", "bot.resolved",
                "bot.handoff", "sla.breached")
_OPEN = frozenset(s.value for s in OPEN_STATUSES)
_SOLVED = frozenset({"solved", "closed"})

T, M, E, R, F = (Ticket.__table__, Message.__table__, Event.__table__,  # type: ignore[attr-defined]
                 Rating.__table__, TicketFact.__table__)  # type: ignore[attr-defined]


def _s(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _reopens(diff_text: str, kind: str) -> int:
    """1 when this event moved the ticket from solved/closed back to unsolved."""
    if kind == "ticket.reopened":
        return 1
    if kind != "ticket.updated" or '"status"' not in diff_text:
        return 0
    diff = json.loads(diff_text)
    before = (diff.get("before") or {}).get("status")
    after = (diff.get("after") or {}).get("status")
    return int(before in _SOLVED and after in _OPEN)


def compute_fact(ticket: Any, messages: Sequence[Any], events: Sequence[Any],
                 rating: Any | None) -> dict[str, Any]:
    """The fact row of one ticket.

    ``ticket`` has the ``ticket`` columns, ``messages`` are (author_kind,
    public, created_at) in thread order, ``events`` (kind, diff) in seq
    order, ``rating`` (csat, nps, created_at) or None.
    """
    created_s = _s(ticket.created_at)
    assert created_s is not None
    fr_s = _s(ticket.first_response_at)
    solved_s = _s(ticket.solved_at)
    agent_replies = handle = nr_total = nr_n = 0
    bot_seen = handoff = 0
    answered = False
    prev: float | None = None
    waiting: float | None = None
    for author, public, at in messages:
        moment = at.timestamp()
        if author == "agent":
            if prev is not None:
                handle += int(min(max(moment - prev, 0.0), HANDLE_CAP_S))
            if public:
                agent_replies += 1
                answered = True
                if waiting is not None:
                    nr_total += int(moment - waiting)
                    nr_n += 1
                    waiting = None
                if bot_seen:
                    handoff = 1
        elif author == "customer":
            if answered and waiting is None:
                waiting = moment
        elif author == "bot":
            bot_seen = 1
        prev = moment
    reopens = breached = bot_resolved = 0
    for kind, diff in events:
        reopens += _reopens(diff, kind)
        if kind.startswith("bot."):
            bot_seen = 1
            handoff |= kind == "bot.handoff"
            bot_resolved |= kind == "bot.resolved"
        elif kind == "sla.breached":
            breached = 1
    sla_met: int | None = None
    if solved_s is not None:
        fr_due, res_due = ticket.first_response_due_at, ticket.resolution_due_at
        if bool(getattr(ticket, "sla_breached", False)):
            breached = 1
        if fr_due is not None and (ticket.first_response_at is None
                                   or ticket.first_response_at > fr_due):
            breached = 1
        if res_due is not None and ticket.solved_at > res_due:
            breached = 1
        if breached or fr_due is not None or res_due is not None:
            sla_met = 0 if breached else 1
    return {
        "ticket_id": ticket.id, "channel": str(ticket.channel), "team_id": ticket.team_id,
        "agent_id": ticket.assignee_id, "priority": int(ticket.priority),
        "status": str(ticket.status),
        "created_s": created_s, "first_response_s": None if fr_s is None else fr_s - created_s,
        "next_response_total_s": nr_total, "next_responses": nr_n,
        "solved_s": solved_s, "resolution_s": None if solved_s is None else solved_s - created_s,
        "agent_replies": agent_replies, "reopens": reopens, "handle_s": handle,
        "bot_touched": bot_seen, "handoff": int(handoff),
        "bot_resolved": int(bool(bot_resolved) and agent_replies == 0),
        "sla_met": sla_met,
        "rated_s": _s(rating.created_at) if rating is not None else None,
        "csat": rating.csat if rating is not None else None,
        "nps": rating.nps if rating is not None else None,
    }


def _grouped(rows: Iterable[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row[1:])
    return out


def refresh_range(session: Session, lo: int, hi: int) -> int:
    """Recompute the facts of tickets ``lo..hi`` (inclusive); return how many."""
    return _refresh(session, lambda column: column.between(lo, hi))


def refresh_tickets(session: Session, ticket_ids: Sequence[int], *,
                    chunk: int = 500) -> int:
    """Recompute the facts of the tickets ``ticket_ids`` (any order); return how many."""
    done = 0
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), chunk):
        done += _refresh(session, _among(ids[start:start + chunk]))
    return done


def _among(ids: list[int]) -> Callable[[Any], Any]:
    return lambda column: column.in_(ids)


def _refresh(session: Session, which: Callable[[Any], Any]) -> int:
    """Recompute the facts of the tickets whose id ``which(column)`` selects."""
    tickets = session.execute(sa.select(T).where(which(T.c.id))).all()
    msgs = _grouped(session.execute(
        sa.select(M.c.ticket_id, M.c.author_kind, M.c.public, M.c.created_at)
        .where(which(M.c.ticket_id)).order_by(M.c.ticket_id, M.c.id)))
    evs = _grouped(session.execute(
        sa.select(E.c.entity_id, E.c.kind, E.c.diff)
        .where(E.c.entity == "ticket", which(E.c.entity_id),
               E.c.kind.in_(_EVENT_KINDS)).order_by(E.c.entity_id, E.c.seq)))
    ratings: dict[int, Any] = {}
    for row in session.execute(
            sa.select(R.c.ticket_id, R.c.csat, R.c.nps, R.c.created_at)
            .where(which(R.c.ticket_id)).order_by(R.c.ticket_id, R.c.id)):
        ratings[row[0]] = row[1:]  # the latest rating counts
    rows = []
    for t in tickets:
        r = ratings.get(t.id)
        rating = None if r is None else _RatingRow(*r)
        rows.append(compute_fact(t, msgs.get(t.id, ()), evs.get(t.id, ()), rating))
    old = [dict(r._mapping) for r in session.execute(sa.select(F).where(which(F.c.ticket_id)))]
    rollup.apply(session, rollup.delta_for(old, rows))
    session.execute(sa.delete(F).where(which(F.c.ticket_id)))
    if rows:
        session.execute(sa.insert(F), rows)
    return len(rows)


class _RatingRow:
    __slots__ = ("created_at", "csat", "nps")

    def __init__(self, csat: int | None, nps: int | None, created_at: datetime) -> None:
        self.csat, self.nps, self.created_at = csat, nps, created_at


def refresh_fact(session: Session, ticket_id: int) -> None:
    """Recompute one ticket's fact (after a change, a rating, a close)."""
    session.flush()
    refresh_range(session, ticket_id, ticket_id)


def _watermark(session: Session) -> int:
    value = session.execute(sa.select(LoopSetting.value)  # type: ignore[call-overload]
                            .where(LoopSetting.key == WATERMARK)).scalar()
    return int(value or 0)


def pending_facts(session: Session) -> int:
    """How many ticket ids above the watermark may lack a fact (0 = all built). O(1)."""
    top = session.execute(sa.select(sa.func.max(T.c.id))).scalar() or 0
    return max(0, int(top) - _watermark(session))


def build_missing(session_factory: Callable[[], Any], *, batch: int = FACT_BATCH,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Build the facts of every ticket above the watermark, one transaction per batch.

    ``session_factory()`` is a context manager yielding a write session (e.g.
    ``store.write``); each batch moves the watermark, so an interrupted run
    resumes where it stopped. Returns the number of facts built.
    """
    built = 0
    with session_factory() as s:
        start, top = _watermark(s), int(s.execute(sa.select(sa.func.max(T.c.id))).scalar() or 0)
    total = max(0, top - start)
    lo = start + 1
    while lo <= top:
        hi = min(top, lo + batch - 1)
        with session_factory() as s:
            built += refresh_range(s, lo, hi)
            _set_watermark(s, hi)
        if progress is not None:
            progress(hi - start, total)
        lo = hi + 1
    return built


def _set_watermark(session: Session, value: int) -> None:
    row = session.get(LoopSetting, WATERMARK)
    if row is None:
        session.add(LoopSetting(key=WATERMARK, value=str(value), updated_at=utcnow()))
    else:
        row.value, row.updated_at = str(value), utcnow()
        session.add(row)
    session.flush()


def rebuild_all(session_factory: Callable[[], Any], *, batch: int = FACT_BATCH,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Throw away every fact and counter and build them again (a repair)."""
    with session_factory() as s:
        for table in (F, MetricDay.__table__, MetricHist.__table__,  # type: ignore[attr-defined]
                      MetricBacklog.__table__):  # type: ignore[attr-defined]
            s.execute(sa.delete(table))
        _set_watermark(s, 0)
    return build_missing(session_factory, batch=batch, progress=progress)
