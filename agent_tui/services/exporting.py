"""Exporting tickets, customers, orders, kb articles and the event log.

Rows stream out in id (events: seq) order, a batch at a time with keyset
queries inside one read transaction (a snapshot on PostgreSQL too), so a
1M-row table never sits in memory and the file is consistent.

Columns are the import columns (see :mod:`agent_tui.services.importing`)
plus ``id``, so an export re-imports cleanly::

    tickets:   id, external_id, subject, body, status, priority, channel,
               customer_email, customer_name, customer_phone, team, assignee,
               tags, created_at, category, product
    customers: id, external_id, name, email, phone, organization, tier,
               language, created_at
    orders:    id, external_id, customer_email, number, status, amount,
               currency, items, created_at
    kb:        id, external_id, title, body, tags, locale, status, created_at
    events:    seq, at, actor, role, source, kind, entity, entity_id, diff

``body`` is a ticket's first message. Where a row has no external id the
exporter writes ``agent-tui:<id>``; importing the file again matches that
row (same id, still no external id, same ``created_at``), so a round trip
changes nothing, and importing it into another store keeps a stable key.
Customer text is written as stored (it was cleaned on the way in). CSV
goes through the ``csv`` module (RFC 4180 quoting); JSONL is UTF-8 with
``ensure_ascii=False``. In CSV an event's ``diff`` and an order's ``items``
are JSON text; in JSONL they are JSON values. Exports carry personal data:
each one needs an admin and leaves an ``export.completed`` event.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Priority, Role
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import (
    Agent,
    Customer,
    Event,
    KnowledgeArticle,
    Message,
    Order,
    Organization,
    Team,
    Ticket,
)
from agent_tui.services.importing.columns import OWN_ID_PREFIX
from agent_tui.services.importing.orders_kb import stored_items
from agent_tui.services.perms import require
from agent_tui.store import Store
from agent_tui.store.events import Actor, append_event

T = Ticket.__table__  # type: ignore[attr-defined]
C = Customer.__table__  # type: ignore[attr-defined]
O = Organization.__table__  # type: ignore[attr-defined]  # noqa: E741
TM = Team.__table__  # type: ignore[attr-defined]
A = Agent.__table__  # type: ignore[attr-defined]
M = Message.__table__  # type: ignore[attr-defined]
OR = Order.__table__  # type: ignore[attr-defined]
KA = KnowledgeArticle.__table__  # type: ignore[attr-defined]
EV = Event.__table__  # type: ignore[attr-defined]

BATCH_SIZE = 1000
FORMATS = ("csv", "jsonl")

EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": ("id", "external_id", "subject", "body", "status", "priority", "channel",
                "customer_email", "customer_name", "customer_phone", "team", "assignee", "tags",
                "created_at", "category", "product"),
    "customers": ("id", "external_id", "name", "email", "phone", "organization", "tier",
                  "language", "created_at"),
    "orders": ("id", "external_id", "customer_email", "number", "status", "amount", "currency",
               "items", "created_at"),
    "kb": ("id", "external_id", "title", "body", "tags", "locale", "status", "created_at"),
    "events": ("seq", "at", "actor", "role", "source", "kind", "entity", "entity_id", "diff"),
}
EXPORT_KINDS: tuple[str, ...] = tuple(EXPORT_COLUMNS)

#: ``progress(rows_written)``, called after each batch.
ExportProgress = Callable[[int], None]


def _external_id(row: Any) -> str:
    return str(row.external_id) if row.external_id else f"{OWN_ID_PREFIX}{row.id}"


def _pages(session: Session, stmt: sa.Select[Any], key: sa.ColumnElement[Any],
           batch_size: int) -> Iterator[list[Any]]:
    """Keyset pages of ``stmt`` ordered by ``key``: never more than a batch in memory."""
    last: Any = None
    while True:
        page_stmt = stmt.order_by(key).limit(batch_size)
        if last is not None:
            page_stmt = page_stmt.where(key > last)
        rows = list(session.execute(page_stmt).all())
        if not rows:
            return
        yield rows
        last = rows[-1]._mapping[key]
        if len(rows) < batch_size:
            return


def _tickets(session: Session, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    stmt = (sa.select(T.c.id, T.c.external_id, T.c.subject, T.c.status, T.c.priority,
                      T.c.channel, C.c.email, C.c.name, C.c.phone, TM.c.name.label("team"),
                      A.c.login.label("assignee"), T.c.tags, T.c.created_at, T.c.category,
                      T.c.product)
            .select_from(T.join(C, C.c.id == T.c.customer_id)
                         .outerjoin(TM, TM.c.id == T.c.team_id)
                         .outerjoin(A, A.c.id == T.c.assignee_id)))
    for rows in _pages(session, stmt, T.c.id, batch_size):
        ids = [r.id for r in rows]
        first = (sa.select(sa.func.min(M.c.id)).where(M.c.ticket_id.in_(ids))
                 .group_by(M.c.ticket_id))
        bodies = {tid: body for tid, body in session.execute(
            sa.select(M.c.ticket_id, M.c.body).where(M.c.id.in_(first)))}
        yield [{
            "id": r.id, "external_id": _external_id(r), "subject": r.subject,
            "body": bodies.get(r.id, ""), "status": r.status,
            "priority": Priority(r.priority).label, "channel": r.channel,
            "customer_email": r.email, "customer_name": r.name, "customer_phone": r.phone,
            "team": r.team, "assignee": r.assignee, "tags": r.tags, "created_at": r.created_at,
            "category": r.category, "product": r.product,
        } for r in rows]


def _customers(session: Session, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    stmt = (sa.select(C.c.id, C.c.external_id, C.c.name, C.c.email, C.c.phone,
                      O.c.name.label("organization"), C.c.tier, C.c.language, C.c.created_at)
            .select_from(C.outerjoin(O, O.c.id == C.c.organization_id)))
    for rows in _pages(session, stmt, C.c.id, batch_size):
        yield [{**r._asdict(), "external_id": _external_id(r)} for r in rows]


def _orders(session: Session, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    stmt = (sa.select(OR.c.id, OR.c.external_id, C.c.email, OR.c.number, OR.c.status,
                      OR.c.amount_cents, OR.c.currency, OR.c["items"], OR.c.created_at)
            .select_from(OR.join(C, C.c.id == OR.c.customer_id)))
    for rows in _pages(session, stmt, OR.c.id, batch_size):
        yield [{
            "id": r.id, "external_id": _external_id(r), "customer_email": r.email,
            "number": r.number, "status": r.status,
            "amount": str(Decimal(r.amount_cents).scaleb(-2)), "currency": r.currency,
            "items": stored_items(r.items), "created_at": r.created_at,
        } for r in rows]


def _articles(session: Session, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    stmt = sa.select(KA.c.id, KA.c.external_id, KA.c.title, KA.c.body, KA.c.tags, KA.c.locale,
                     KA.c.status, KA.c.created_at)
    for rows in _pages(session, stmt, KA.c.id, batch_size):
        yield [{**r._asdict(), "external_id": _external_id(r)} for r in rows]


def _events(session: Session, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    stmt = sa.select(EV.c.seq, EV.c.at, EV.c.actor, EV.c.role, EV.c.source, EV.c.kind,
                     EV.c.entity, EV.c.entity_id, EV.c.diff)
    for rows in _pages(session, stmt, EV.c.seq, batch_size):
        out = []
        for r in rows:
            row = r._asdict()
            try:
                row["diff"] = json.loads(r.diff or "{}")
            except ValueError:  # written by hand outside the app: keep the text
                row["diff"] = r.diff
            out.append(row)
        yield out


_SOURCES: dict[str, Callable[[Session, int], Iterator[list[dict[str, Any]]]]] = {
    "tickets": _tickets, "customers": _customers, "orders": _orders, "kb": _articles,
    "events": _events,
}


def iter_batches(session: Session, kind: str, *,
                 batch_size: int = BATCH_SIZE) -> Iterator[list[dict[str, Any]]]:
    """The rows of ``kind`` as dicts of :data:`EXPORT_COLUMNS`, a batch at a time."""
    if kind not in _SOURCES:
        raise Invalid("kind", f"unknown kind {kind!r}: use {', '.join(EXPORT_KINDS)}")
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for every page, as SQLite's read transaction gives.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return _SOURCES[kind](session, batch_size)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def format_for(name: str | None, fmt: str | None) -> str:
    """The explicit format, else the one the output file's name says, else CSV."""
    if fmt:
        if fmt not in FORMATS:
            raise Invalid("format", f"unknown format {fmt!r}: use csv or jsonl")
        return fmt
    if name and name.lower().endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


def export(store: Store, actor: Actor, *, kind: str, out: TextIO, fmt: str,
           target: str = "stdout", batch_size: int = BATCH_SIZE,
           progress: ExportProgress | None = None) -> int:
    """Write every ``kind`` row to ``out`` as CSV or JSONL; return the row count.

    Exports carry personal data, so they need an admin and leave an
    ``export.completed`` event naming the kind, format, target and count.
    """
    require(actor, Role.ADMIN, "exporting data")
    fmt = format_for(None, fmt)
    columns = EXPORT_COLUMNS.get(kind)
    if columns is None:
        raise Invalid("kind", f"unknown kind {kind!r}: use {', '.join(EXPORT_KINDS)}")
    count = 0
    with store.read() as session:
        writer = None
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(columns)
        for batch in iter_batches(session, kind, batch_size=batch_size):
            if writer is not None:
                writer.writerows([[_csv_cell(row[c]) for c in columns] for row in batch])
            else:
                out.writelines(json.dumps({c: _json_value(row[c]) for c in columns},
                                          ensure_ascii=False) + "\n" for row in batch)
            count += len(batch)
            if progress is not None:
                progress(count)
    out.flush()
    with store.write() as session:
        append_event(session, actor, kind="export.completed", entity="export", entity_id=None,
                     extra={"kind": kind, "format": fmt, "target": target, "rows": count})
    return count
