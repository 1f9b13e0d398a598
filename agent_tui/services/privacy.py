"""Data-subject rights and retention: export or erase one customer, purge old events.

Erasure keeps the tickets as pseudonymised statistics (status, priority,
channel, timestamps, assignee) and removes everything that identifies the
person: the profile, identities, every message body and subject on their
tickets, rating comments, order items, and their personal values wherever the
event log holds them. The event log is append-only; only this module and the
retention purge open it, inside ``audit_unlocked`` and in the same transaction
as their own event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from agent_tui.domain.enums import Role
from agent_tui.domain.errors import Invalid
from agent_tui.domain.safe_text import safe_line, safe_text
from agent_tui.domain.tables import (
    Agent,
    Customer,
    Event,
    Identity,
    Message,
    Order,
    Organization,
    Rating,
    Team,
    Ticket,
    utcnow,
)
from agent_tui.services.customers import get_customer
from agent_tui.services.perms import require
from agent_tui.store import Store
from agent_tui.store.events import Actor, append_event, audit_unlocked, dump_diff

EXPORT_FORMAT = "agent-tui.customer-export/1"
ERASED = "[erased]"
#: Diff keys that hold personal values in events about the erased customer.
PERSONAL_KEYS = frozenset({
    "name", "email", "phone", "address", "addresses", "external_id", "subject", "body",
    "comment", "items", "customer_name", "customer_email", "customer_phone", "identity",
    "identities", "text", "snippet", "preview", "quote",
})
#: Shorter names would match inside unrelated words all over the log.
MIN_NAME_SWEEP = 3
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class ErasureResult(BaseModel):
    """What an erasure changed; holds counts only, never personal data."""

    customer_id: int
    tickets: int
    messages: int
    identities: int
    orders: int
    ratings: int
    events_rewritten: int
    events_swept: int
    event_seq: int


class PurgeResult(BaseModel):
    """What a retention purge removed (or would remove, on a dry run)."""

    cutoff: datetime
    count: int
    dry_run: bool
    event_seq: int | None = None


def parse_duration(text: str) -> timedelta:
    """``180d``, ``12h``, ``4w`` or ``30m`` → a positive timedelta."""
    match = _DURATION.match(text or "")
    if not match:
        raise Invalid("duration", f"{text!r} is not a duration; use e.g. 180d, 12h, 4w or 30m")
    amount = int(match.group(1))
    if amount <= 0:
        raise Invalid("duration", "must be more than 0")
    return timedelta(**{_UNITS[match.group(2).lower()]: amount})


# --- what belongs to a customer ------------------------------------------------


def _ticket_ids(customer_id: int) -> sa.Select[Any]:
    return sa.select(col(Ticket.id)).where(col(Ticket.customer_id) == customer_id)


def _message_filter(customer_id: int) -> ColumnElement[bool]:
    """Messages on the customer's tickets, and their own words on anybody's."""
    return sa.or_(col(Message.ticket_id).in_(_ticket_ids(customer_id)),
                  col(Message.author_customer_id) == customer_id)


def _about(customer_id: int) -> ColumnElement[bool]:
    """Events whose entity is the customer or one of their rows."""
    def on(entity: str, ids: sa.Select[Any]) -> ColumnElement[bool]:
        return sa.and_(col(Event.entity) == entity, col(Event.entity_id).in_(ids))

    return sa.or_(
        sa.and_(col(Event.entity) == "customer", col(Event.entity_id) == customer_id),
        on("ticket", _ticket_ids(customer_id)),
        on("message", sa.select(col(Message.id)).where(_message_filter(customer_id))),
        on("identity", sa.select(col(Identity.id)).where(col(Identity.customer_id) == customer_id)),
        on("order", sa.select(col(Order.id)).where(col(Order.customer_id) == customer_id)),
        on("rating", sa.select(col(Rating.id)).where(col(Rating.customer_id) == customer_id)),
    )


def personal_terms(session: Session, customer: Customer) -> list[str]:
    """The strings that identify this customer: name, e-mail, phone, addresses."""
    assert customer.id is not None
    terms: list[str | None] = [customer.email, customer.phone, customer.address,
                               customer.external_id]
    terms += [a for a in session.exec(
        select(Identity.address).where(Identity.customer_id == customer.id))]
    name = (customer.name or "").strip()
    if len(name) >= MIN_NAME_SWEEP:
        terms.append(name)
    seen: dict[str, str] = {}
    for term in terms:
        if term and term.strip():
            seen.setdefault(term.strip().lower(), term.strip())
    # Longest first, so an address is redacted before a name inside it.
    return sorted(seen.values(), key=len, reverse=True)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _mentions(terms: Iterable[str]) -> ColumnElement[bool] | None:
    """Events whose diff holds any term, as stored (JSON-escaped) text."""
    clauses: list[ColumnElement[bool]] = []
    for term in terms:
        for form in {term, json.dumps(term, ensure_ascii=False)[1:-1]}:
            clauses.append(col(Event.diff).ilike(_like(form), escape="\\"))
    return sa.or_(*clauses) if clauses else None


def _events_for(session: Session, customer: Customer, terms: list[str]) -> list[Event]:
    assert customer.id is not None
    where = _about(customer.id)
    mentions = _mentions(terms)
    if mentions is not None:
        where = sa.or_(where, mentions)
    return list(session.exec(select(Event).where(where).order_by(col(Event.seq))))


# --- export ------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """Every string through safe_text: the export may be printed to a terminal."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _row(obj: SQLModel, **extra: Any) -> dict[str, Any]:
    """Every column of a row as stored (model_dump would re-validate enum columns)."""
    table: sa.Table = obj.__table__  # type: ignore[attr-defined]
    return {**{c.key: getattr(obj, c.key) for c in table.columns}, **extra}


def _owned(session: Session, model: Any, customer_id: int) -> list[Any]:
    """Rows of ``model`` that belong to the customer, oldest first."""
    return list(session.exec(select(model).where(model.customer_id == customer_id)
                             .order_by(model.id)))


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def export_customer(session: Session, actor: Actor, *, customer_id: int,
                    destination: str = "stdout") -> dict[str, Any]:
    """Everything held about one customer as one JSON-ready document.

    Profile, organization, identities, orders, ratings, every ticket with every
    message (public replies and internal notes), and every event that mentions
    them. Appends ``customer.exported`` (counts only) in the same transaction.
    """
    require(actor, Role.ADMIN, "exporting a customer's data")
    customer = get_customer(session, customer_id)
    org = session.get(Organization, customer.organization_id) if customer.organization_id else None
    identities, orders, ratings, tickets = (_owned(session, model, customer_id)
                                            for model in (Identity, Order, Rating, Ticket))
    messages = session.exec(select(Message).where(_message_filter(customer_id))
                            .order_by(col(Message.ticket_id), col(Message.id))).all()
    agent_ids = {m.author_agent_id for m in messages} | {t.assignee_id for t in tickets}
    agent_ids.discard(None)
    agents = {a.id: a for a in session.exec(select(Agent).where(col(Agent.id).in_(agent_ids)))}
    teams = {t.id: t.name for t in session.exec(select(Team))}
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    for m in messages:
        author = agents.get(m.author_agent_id) if m.author_agent_id else None
        by_ticket.setdefault(m.ticket_id, []).append(
            _row(m, author_agent=author.name if author else None))
    own_ids = {t.id for t in tickets}
    events = _events_for(session, customer, personal_terms(session, customer))
    doc = {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow(),
        "customer": _row(customer),
        "organization": _row(org) if org else None,
        "identities": [_row(i) for i in identities],
        "orders": [_row(o, items=_json_or_text(o.items)) for o in orders],
        "ratings": [_row(r) for r in ratings],
        "tickets": [
            _row(t, assignee=agents[t.assignee_id].login if t.assignee_id in agents else None,
                 team=teams.get(t.team_id), messages=by_ticket.get(t.id or 0, []))
            for t in tickets
        ],
        # Their own words on tickets that belong to somebody else (e.g. after a merge).
        "messages_on_other_tickets": [
            msg for tid, msgs in by_ticket.items() if tid not in own_ids for msg in msgs
        ],
        "events": [_row(e, diff=_json_or_text(e.diff)) for e in events],
    }
    counts = {"identities": len(identities), "orders": len(orders), "ratings": len(ratings),
              "tickets": len(tickets), "messages": len(messages), "events": len(events)}
    append_event(session, actor, kind="customer.exported", entity="customer",
                 entity_id=customer_id,
                 extra={"destination": "file" if destination == "file" else "stdout",
                        "counts": counts})
    cleaned: dict[str, Any] = _clean(doc)
    return cleaned


# --- erasure -----------------------------------------------------------------


class _Redactor:
    """Replaces a customer's personal strings inside event diffs."""

    def __init__(self, terms: list[str], name: str | None) -> None:
        parts = []
        for term in terms:
            pattern = re.escape(term)
            if name is not None and term == name:
                # A name only as a whole word, so "Ann" leaves "Annual" alone.
                pattern = rf"(?<!\w){pattern}(?!\w)"
            parts.append(pattern)
        self.pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def text(self, value: str) -> str:
        return self.pattern.sub(ERASED, value) if self.pattern else value

    def value(self, value: Any, keys: frozenset[str] = frozenset()) -> Any:
        """Redact strings in ``value``; drop whole values under personal ``keys``."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: (ERASED if k in keys and v not in (None, "", [], {}) else
                        self.value(v, keys)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, keys) for v in value]
        return value


def _rewrite_events(session: Session, events: list[Event], about_ids: set[int],
                    redactor: _Redactor) -> tuple[int, int]:
    rewritten = swept = 0
    for event in events:
        assert event.seq is not None
        try:
            diff: Any = json.loads(event.diff or "{}")
        except ValueError:
            diff = None
        about = event.seq in about_ids
        keys = PERSONAL_KEYS | ({"reason"} if event.entity == "customer" else frozenset())
        if diff is None:
            new = json.dumps({"redacted": ERASED}) if about else redactor.text(event.diff)
        else:
            new = dump_diff(redactor.value(diff, keys if about else frozenset()))
        if new != event.diff:
            session.execute(sa.update(Event).where(col(Event.seq) == event.seq).values(diff=new))
            if about:
                rewritten += 1
            else:
                swept += 1
    return rewritten, swept


def erase_customer(session: Session, actor: Actor, *, customer_id: int,
                   reason: str) -> ErasureResult:
    """Erase one customer's personal data in the caller's transaction (admin only).

    On SQLite the connection's ``secure_delete`` is on for the duration, so
    the bytes of replaced values are zeroed in the pages rather than left in
    free space. Call :func:`scrub_after_erase` after the commit.
    """
    require(actor, Role.ADMIN, "erasing a customer")
    reason = safe_line(reason).strip()
    if len(reason) < 3:
        raise Invalid("reason", "say why the data is erased (e.g. the request's reference)")
    customer = get_customer(session, customer_id)
    if customer.erased_at is not None:
        raise Invalid("customer", f"#{customer_id} was already erased on "
                      f"{customer.erased_at:%Y-%m-%d %H:%M} UTC")
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        previous = session.execute(sa.text("PRAGMA secure_delete")).scalar()
        session.execute(sa.text("PRAGMA secure_delete = ON"))
    try:
        result = _erase(session, actor, customer, reason)
    finally:
        if sqlite:
            session.execute(sa.text(f"PRAGMA secure_delete = {int(previous or 0)}"))
    return result


def _erase(session: Session, actor: Actor, customer: Customer, reason: str) -> ErasureResult:
    assert customer.id is not None
    cid = customer.id
    terms = personal_terms(session, customer)
    redactor = _Redactor(terms, (customer.name or "").strip() or None)
    about_ids = set(session.exec(select(Event.seq).where(_about(cid))))
    events = _events_for(session, customer, terms)
    with audit_unlocked(session):
        rewritten, swept = _rewrite_events(session, events, {s for s in about_ids if s}, redactor)

    def run(stmt: Any) -> int:
        return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    messages = run(sa.update(Message).where(_message_filter(cid)).values(body=ERASED))
    tickets = run(sa.update(Ticket).where(col(Ticket.customer_id) == cid).values(
        subject=ERASED, channel_detail=None, version=col(Ticket.version) + 1))
    ratings = run(sa.update(Rating).where(sa.or_(
        col(Rating.customer_id) == cid, col(Rating.ticket_id).in_(_ticket_ids(cid))))
        .values(comment=None))
    orders = run(sa.update(Order).where(col(Order.customer_id) == cid).values(items="[]"))
    identities = run(sa.delete(Identity).where(col(Identity.customer_id) == cid))
    now = utcnow()
    # The organization link goes too: with the tickets it could single the person out.
    run(sa.update(Customer).where(col(Customer.id) == cid).values(
        name=f"Erased customer #{cid}", email=None, phone=None, address=None, external_id=None,
        organization_id=None, erased_at=now, updated_at=now))
    session.expire(customer)
    counts = {"tickets": tickets, "messages": messages, "identities": identities,
              "orders": orders, "ratings": ratings, "events_rewritten": rewritten,
              "events_swept": swept}
    event = append_event(session, actor, kind="customer.erased", entity="customer",
                         entity_id=cid, extra={"reason": redactor.text(reason),
                                               "counts": counts})
    assert event.seq is not None
    return ErasureResult(customer_id=cid, event_seq=event.seq, **counts)


def scrub_after_erase(store: Store) -> bool:
    """After an erasure commits on SQLite, checkpoint and truncate the WAL so
    older page images holding the erased values leave the disk files.

    Returns False when readers kept the checkpoint from completing (the WAL is
    then truncated by a later checkpoint). PostgreSQL needs nothing here.
    """
    if not store.is_sqlite:
        return True
    # A raw connection runs in autocommit; a checkpoint inside a transaction fails.
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        busy, _log, _done = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cur.close()
    finally:
        raw.close()
    return not busy


# --- retention ---------------------------------------------------------------


def purge_events(session: Session, actor: Actor, *, older_than: timedelta,
                 dry_run: bool = False, now: datetime | None = None) -> PurgeResult:
    """Delete events older than ``older_than`` (admin only); record the purge."""
    require(actor, Role.ADMIN, "purging the event log")
    if older_than <= timedelta(0):
        raise Invalid("older_than", "must be more than 0")
    cutoff = (now or utcnow()) - older_than
    old = col(Event.at) < cutoff
    count = int(session.exec(select(sa.func.count()).select_from(Event).where(old)).one())
    if dry_run:
        return PurgeResult(cutoff=cutoff, count=count, dry_run=True)
    with audit_unlocked(session):
        session.execute(sa.delete(Event).where(old))
    event = append_event(session, actor, kind="events.purged", entity="event", entity_id=None,
                         extra={"cutoff": cutoff.isoformat(), "count": count,
                                "older_than_seconds": int(older_than.total_seconds())})
    return PurgeResult(cutoff=cutoff, count=count, dry_run=False, event_seq=event.seq)
