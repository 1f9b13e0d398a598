"""Lean read paths for the server's two hottest routes: the queue page and the
ticket detail, as plain dicts ready for ``orjson`` (issue 6 speed).

``services.queue.list_tickets`` and ``services.tickets.detail`` build pydantic
read models through an ORM session; on a 50-row page that conversion is about
two thirds of the request's CPU. These functions run the same Core statements
(``store.queue``) on one pooled connection and build the JSON form directly:
the same fields in the same order, the same ``safe_text`` cleaning and the
same masking for agents (ARCHITECTURE §9). ``tests/server/test_wire_reads.py``
compares them with the service functions, role by role, on both dialects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from agent_tui.domain.enums import AuthorKind, Sort, View
from agent_tui.domain.errors import NotFound, Unavailable
from agent_tui.domain.masking import mask_email, mask_free_text
from agent_tui.domain.safe_text import safe_line, safe_optional, safe_text
from agent_tui.domain.tables import Agent, Message, TicketLink
from agent_tui.domain.views import TicketFilters
from agent_tui.services import queue as queue_svc
from agent_tui.services.convert import split_list
from agent_tui.services.perms import sees_personal_data
from agent_tui.services.ticket_links import links_for
from agent_tui.services.tickets import MAX_THREAD
from agent_tui.store import Store
from agent_tui.store import queue as q
from agent_tui.store.events import Actor

R = TypeVar("R")

M = Message.__table__  # type: ignore[attr-defined]
AG = Agent.__table__  # type: ignore[attr-defined]
TL = TicketLink.__table__  # type: ignore[attr-defined]

#: orjson writes a UTC datetime as pydantic does ("…Z"), enums by value.
_OPTIONS = orjson.OPT_UTC_Z


def dumps(value: Any) -> bytes:
    """``value`` as JSON bytes, datetimes and enums as pydantic writes them."""
    return orjson.dumps(value, option=_OPTIONS)


def masked_for(actor: Actor) -> bool:
    return not sees_personal_data(actor)


@dataclass(frozen=True)
class _OnConnection:
    """The two Session methods ``store.queue.page`` uses, on a bare Core connection
    (a Session around it would cost more than the page's query)."""

    conn: sa.Connection

    def connection(self) -> sa.Connection:
        return self.conn

    def get_bind(self) -> sa.Connection:
        return self.conn


def run_read(store: Store, fn: Callable[[sa.Connection], R]) -> R:
    """``fn`` on one pooled connection in a read transaction, rolled back after.

    On PostgreSQL the statements run in autocommit instead: at its READ
    COMMITTED level each statement of a transaction takes its own snapshot
    anyway, so BEGIN and ROLLBACK were two round trips that changed nothing
    (measured: queue page 1.6 -> 1.1 ms wall, 0.62 -> 0.53 ms CPU). SQLite keeps
    its transaction, which does hold one snapshot for all of ``fn``'s reads.

    A dropped database becomes ``Unavailable`` (503), as in ``LocalBackend``.
    """
    try:
        with store.engine.connect() as conn:
            if not store.is_sqlite:
                conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                return fn(conn)
            finally:
                conn.rollback()
    except OperationalError as exc:
        raise Unavailable(f"the store is not available: {exc.orig or exc}") from exc


# ---------------------------------------------------------------- queue page

#: The queue row's columns in ``store.queue``'s order, which ``row_dict`` unpacks.
ROW_COLUMNS = ("id", "channel", "subject", "status", "priority", "customer_id", "tags",
               "sla_due_at", "sla_at_risk", "sla_breached", "created_at", "updated_at",
               "version", "customer_name", "assignee", "team")
if tuple(c.name for c in q._COLUMNS) != ROW_COLUMNS:  # pragma: no cover (a guard)
    raise ImportError("store.queue's row columns changed: update wire_reads.row_dict")


def row_dict(row: Any, *, masked: bool) -> dict[str, Any]:
    """``convert.ticket_row`` (and ``convert.masked_row`` for agents) as a dict.

    ``row`` starts with ``store.queue``'s columns in their order; unpacking it
    costs a third of reading sixteen attributes by name.
    """
    (ticket_id, channel, subject, status, priority, customer_id, tags, sla_due_at,
     sla_at_risk, sla_breached, created_at, updated_at, version, customer_name, assignee,
     team) = row[:16]
    subject = safe_line(subject)
    customer_name = safe_line(customer_name or "")
    tag_list = [safe_line(t) for t in split_list(tags)]
    if masked:
        subject = mask_free_text(subject)
        customer_name = mask_free_text(customer_name)
        tag_list = [mask_free_text(t) for t in tag_list]
    return {
        "id": ticket_id,
        "channel": channel,
        "subject": subject,
        "status": status,
        "priority": priority,
        "customer_id": customer_id,
        "customer_name": customer_name,
        "assignee": assignee,
        "team": team,
        "tags": tag_list,
        "sla_due_at": sla_due_at,
        "sla_at_risk": bool(sla_at_risk),
        "sla_breached": bool(sla_breached),
        "created_at": created_at,
        "updated_at": updated_at,
        "version": version,
    }


def queue_page(conn: sa.Connection, actor: Actor, view: View, *,
               view_arg: str | None = None, filters: TicketFilters | None = None,
               sort: Sort = Sort.PRIORITY, after: str | None = None,
               before: str | None = None, limit: int = 50) -> dict[str, Any]:
    """``services.queue.list_tickets`` as the JSON-ready dict of its ``Page``."""
    # A Session that is never used costs ~7 µs; spec_for uses it only to look
    # team and agent names up.
    with Session(bind=conn) as session:
        spec = queue_svc.spec_for(session, actor, view, view_arg=view_arg,
                                  filters=filters, sort=sort)
    raw = q.page(_OnConnection(conn), spec, after=after,  # type: ignore[arg-type]
                 before=before, limit=limit)
    masked = masked_for(actor)
    return {"items": [row_dict(r, masked=masked) for r in raw.rows],
            "next_cursor": raw.next_cursor, "prev_cursor": raw.prev_cursor}


# ---------------------------------------------------------------- ticket detail

_DETAIL_EXTRA = (
    q.T.c.category, q.T.c.product, q.T.c.channel_detail, q.T.c.first_response_at,
    q.T.c.solved_at, q.T.c.merged_into_id, q.C.c.id.label("customer_row_id"),
    q.C.c.email.label("customer_email"),
    # Most tickets have no link: asked here, links_for runs only for those that do.
    sa.exists().where(sa.or_(TL.c.ticket_id == q.T.c.id, TL.c.other_id == q.T.c.id))
    .label("has_links"),
)
_MESSAGES = (M.c.id, M.c.author_kind, M.c.author_agent_id, M.c.public, M.c.body,
             M.c.channel, M.c.created_at)


def _author(kind: str, agent_id: int | None, agents: dict[int, str],
            customer_name: str | None) -> str:
    if kind == AuthorKind.AGENT:
        return agents.get(agent_id, "agent") if agent_id is not None else "agent"
    if kind == AuthorKind.CUSTOMER:
        return customer_name if customer_name is not None else "customer"
    return "Bot" if kind == AuthorKind.BOT else "System"


def ticket_detail(conn: sa.Connection, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """``services.tickets.detail`` as the JSON-ready dict of its ``TicketDetail``."""
    row = conn.execute(q._base([q.T.c.id == ticket_id]).add_columns(*_DETAIL_EXTRA)).first()
    if row is None:
        raise NotFound("ticket", ticket_id)
    masked = masked_for(actor)
    msgs = list(conn.execute(sa.select(*_MESSAGES).where(M.c.ticket_id == ticket_id)
                             .order_by(M.c.id.desc()).limit(MAX_THREAD)).all())
    msgs.reverse()
    agent_ids = {m.author_agent_id for m in msgs if m.author_agent_id}
    agents: dict[int, str] = {}
    if agent_ids:
        agents = {agent_id: name for agent_id, name in conn.execute(
            sa.select(AG.c.id, AG.c.name).where(AG.c.id.in_(agent_ids)))}
    # The customer's raw name (None when the row is missing), as detail() reads it.
    customer_name = row.customer_name if row.customer_row_id is not None else None
    messages = []
    for m in msgs:
        body = safe_text(m.body)
        if masked and m.author_kind == AuthorKind.CUSTOMER:
            body = mask_free_text(body)
        messages.append({
            "id": m.id,
            "author_kind": m.author_kind,
            "author_name": safe_line(_author(m.author_kind, m.author_agent_id, agents,
                                             customer_name)),
            "public": bool(m.public),
            "body": body,
            "channel": m.channel,
            "created_at": m.created_at,
        })
    email = safe_optional(row.customer_email) if row.customer_row_id is not None else None
    if masked and email:
        email = mask_email(email)
    out = row_dict(row, masked=False)  # the detail's own row is not masked (as detail())
    out.update({
        "category": safe_optional(row.category),
        "product": safe_optional(row.product),
        "channel_detail": safe_optional(row.channel_detail),
        "customer_email": email,
        "first_response_at": row.first_response_at,
        "solved_at": row.solved_at,
        "messages": messages,
        "links": _links(conn, ticket_id) if row.has_links else [],
        "merged_into_id": row.merged_into_id,
    })
    return out


def _links(conn: sa.Connection, ticket_id: int) -> list[dict[str, Any]]:
    """The service's own ``links_for``, for the few tickets that have links."""
    with Session(bind=conn) as session:
        links = links_for(session, ticket_id)
    return [link.model_dump(mode="json") for link in links]
