"""Keyset-paginated queue queries (ARCHITECTURE §6).

Each view is a set of equality terms that match the leading columns of one
partial index from migration 0002, and each sort is that index's tail, so a
page reads only the rows it returns, 100 pages deep as on the first page.

The priority sort mixes directions (priority DESC, then oldest first); a row
value cannot express "after" for that, so a page is read in two index
ranges: the rest of the cursor's priority, then the lower priorities.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Channel, Sort, Status, View
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import Agent, Customer, Team, Ticket, TicketTag

T = Ticket.__table__  # type: ignore[attr-defined]
C = Customer.__table__  # type: ignore[attr-defined]
A = Agent.__table__  # type: ignore[attr-defined]
TM = Team.__table__  # type: ignore[attr-defined]
TT = TicketTag.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class QueueSpec:
    """A view with its filters, resolved to ids by the service layer."""

    view: View
    sort: Sort = Sort.PRIORITY
    me: int | None = None  # agent id, for MY_OPEN
    team_id: int | None = None  # for View.TEAM
    channel: Channel | None = None  # for View.CHANNEL
    statuses: Sequence[Status] = ()
    priorities: Sequence[int] = ()
    channels: Sequence[Channel] = ()
    filter_team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    tag: str | None = None
    customer_id: int | None = None
    text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _open_term(dialect: str) -> sa.TextClause:
    # Must be spelt exactly like the partial indexes' WHERE for SQLite to use them.
    return sa.text("ticket.is_open = 1" if dialect == "sqlite" else "ticket.is_open")


def conditions(spec: QueueSpec, dialect: str) -> list[Any]:
    """The WHERE terms of a view plus its filters."""
    terms: list[Any] = []
    v = spec.view
    if v is View.SOLVED:
        terms.append(sa.text("ticket.status = 'solved'"))
    else:
        terms.append(_open_term(dialect))
    if v is View.MY_OPEN:
        if spec.me is None:
            raise Invalid("view", "my_open needs a signed-in agent")
        terms.append(T.c.assignee_id == spec.me)
    elif v is View.UNASSIGNED:
        terms.append(T.c.assignee_id.is_(None))
    elif v is View.PENDING:
        terms.append(T.c.status == Status.PENDING.value)
    elif v is View.ON_HOLD:
        terms.append(T.c.status == Status.ON_HOLD.value)
    elif v is View.TEAM:
        if spec.team_id is None:
            raise Invalid("view_arg", "the team view needs a team name")
        terms.append(T.c.team_id == spec.team_id)
    elif v is View.CHANNEL:
        if spec.channel is None:
            raise Invalid("view_arg", "the channel view needs a channel")
        terms.append(T.c.channel == spec.channel.value)

    if spec.statuses:
        terms.append(T.c.status.in_([s.value for s in spec.statuses]))
    if spec.priorities:
        terms.append(T.c.priority.in_(list(spec.priorities)))
    if spec.channels:
        terms.append(T.c.channel.in_([c.value for c in spec.channels]))
    if spec.filter_team_id is not None:
        terms.append(T.c.team_id == spec.filter_team_id)
    if spec.unassigned:
        terms.append(T.c.assignee_id.is_(None))
    elif spec.assignee_id is not None:
        terms.append(T.c.assignee_id == spec.assignee_id)
    if spec.customer_id is not None:
        terms.append(T.c.customer_id == spec.customer_id)
    if spec.tag:
        terms.append(
            sa.exists().where(TT.c.ticket_id == T.c.id, TT.c.tag == spec.tag.lower())
        )
    if spec.text:
        terms.append(T.c.subject.ilike(like_pattern(spec.text), escape="\\"))
    return terms


# ---------------------------------------------------------------- cursors


def _key(sort: Sort, row: Any) -> list[Any]:
    if sort is Sort.PRIORITY:
        return [row.priority, row.created_at.isoformat(), row.id]
    if sort is Sort.AGE:
        return [row.created_at.isoformat(), row.id]
    return [row.updated_at.isoformat(), row.id]


def encode_cursor(sort: Sort, row: Any) -> str:
    raw = json.dumps({"s": sort.value, "k": _key(sort, row)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> list[Any]:
    try:
        pad = "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(cursor + pad))
        if data["s"] != sort.value:
            raise ValueError("cursor belongs to another sort")
        key = list(data["k"])
        if sort is Sort.PRIORITY:
            return [int(key[0]), datetime.fromisoformat(key[1]), int(key[2])]
        return [datetime.fromisoformat(key[0]), int(key[1])]
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise Invalid("cursor", f"not a cursor of this view: {exc}") from None


# ---------------------------------------------------------------- pages


# Built once: the FROM clause and the columns of a queue row never change.
_JOINED = (
    T.outerjoin(C, C.c.id == T.c.customer_id)
    .outerjoin(A, A.c.id == T.c.assignee_id)
    .outerjoin(TM, TM.c.id == T.c.team_id)
)
_COLUMNS = (
    T.c.id, T.c.channel, T.c.subject, T.c.status, T.c.priority, T.c.customer_id,
    T.c.tags, T.c.sla_due_at, T.c.sla_at_risk, T.c.sla_breached, T.c.created_at,
    T.c.updated_at, T.c.version,
    C.c.name.label("customer_name"), A.c.login.label("assignee"), TM.c.name.label("team"),
)


def _base(terms: list[Any]) -> sa.Select[Any]:
    return sa.select(*_COLUMNS).select_from(_JOINED).where(*terms)


def _fetch(session: Session, stmt: sa.Select[Any], limit: int) -> list[Any]:
    if limit <= 0:
        return []
    # Core execution on the session's connection: the ORM's execute path adds
    # ~0.3 ms a call and a queue row is not an ORM entity.
    return list(session.connection().execute(stmt.limit(limit)).all())


def _forward(session: Session, terms: list[Any], sort: Sort, key: list[Any] | None,
             limit: int) -> list[Any]:
    """Rows after ``key`` in the sort's order (from the start when ``key`` is None)."""
    if sort is Sort.AGE:
        extra = [] if key is None else [sa.tuple_(T.c.created_at, T.c.id) > sa.tuple_(*key)]
        return _fetch(session, _base(terms + extra).order_by(T.c.created_at, T.c.id), limit)
    if sort is Sort.UPDATED:
        extra = [] if key is None else [sa.tuple_(T.c.updated_at, T.c.id) < sa.tuple_(*key)]
        newest = (T.c.updated_at.desc(), T.c.id.desc())
        return _fetch(session, _base(terms + extra).order_by(*newest), limit)
    order = (T.c.priority.desc(), T.c.created_at, T.c.id)
    if key is None:
        return _fetch(session, _base(terms).order_by(*order), limit)
    prio, created, tid = key
    same = _fetch(session, _base([
        *terms, T.c.priority == prio,
        sa.tuple_(T.c.created_at, T.c.id) > sa.tuple_(created, tid),
    ]).order_by(T.c.created_at, T.c.id), limit)
    lower = _fetch(session, _base([*terms, T.c.priority < prio]).order_by(*order),
                   limit - len(same))
    return same + lower


def _backward(session: Session, terms: list[Any], sort: Sort, key: list[Any],
              limit: int) -> list[Any]:
    """Rows before ``key``, nearest first (the caller reverses them)."""
    if sort is Sort.AGE:
        stmt = _base([*terms, sa.tuple_(T.c.created_at, T.c.id) < sa.tuple_(*key)])
        return _fetch(session, stmt.order_by(T.c.created_at.desc(), T.c.id.desc()), limit)
    if sort is Sort.UPDATED:
        stmt = _base([*terms, sa.tuple_(T.c.updated_at, T.c.id) > sa.tuple_(*key)])
        return _fetch(session, stmt.order_by(T.c.updated_at, T.c.id), limit)
    prio, created, tid = key
    same = _fetch(session, _base([
        *terms, T.c.priority == prio,
        sa.tuple_(T.c.created_at, T.c.id) < sa.tuple_(created, tid),
    ]).order_by(T.c.created_at.desc(), T.c.id.desc()), limit)
    order = (T.c.priority, T.c.created_at.desc(), T.c.id.desc())
    higher = _fetch(session, _base([*terms, T.c.priority > prio]).order_by(*order),
                    limit - len(same))
    return same + higher


@dataclass(frozen=True)
class RawPage:
    rows: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def page(session: Session, spec: QueueSpec, *, after: str | None = None,
         before: str | None = None, limit: int = 50) -> RawPage:
    """One page of the queue after (or before) an opaque cursor."""
    if after and before:
        raise Invalid("cursor", "give after or before, not both")
    if not 1 <= limit <= 500:
        raise Invalid("limit", "must be between 1 and 500")
    dialect = session.get_bind().dialect.name
    terms = conditions(spec, dialect)
    sort = spec.sort
    if before:
        rows = _backward(session, terms, sort, decode_cursor(sort, before), limit + 1)
        more_before = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        prev = encode_cursor(sort, rows[0]) if rows and more_before else None
        return RawPage(rows, encode_cursor(sort, rows[-1]) if rows else before, prev)
    key = decode_cursor(sort, after) if after else None
    rows = _forward(session, terms, sort, key, limit + 1)
    more_after = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(sort, rows[-1]) if rows and more_after else None
    prev = (encode_cursor(sort, rows[0]) if rows else after) if after else None
    return RawPage(rows, nxt, prev)


def count(session: Session, spec: QueueSpec) -> int:
    terms = conditions(spec, session.get_bind().dialect.name)
    stmt = sa.select(sa.func.count()).select_from(T).where(*terms)
    return int(session.execute(stmt).scalar_one())
