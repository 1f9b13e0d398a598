"""Importing tickets: match by external id, resolve customers, write in bulk.

A new ticket gets its customer (found or created by e-mail/phone), its first
customer message from ``body``, its tags in ``ticket_tag`` and a
``ticket.imported`` event. A known ticket is compared field by field and
updated in place (version + 1, one ``ticket.updated`` event) only when
something differs. Imports mirror the source system: statuses are taken as
they are (the agents' transition rules do not apply) and no solve or close
time is invented.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import AuthorKind, Channel, Priority, Status
from agent_tui.domain.tables import Message, Ticket, TicketTag, utcnow
from agent_tui.services.importing.batch import KindWriter, match_existing, update_many
from agent_tui.services.importing.facts import NewTicketFacts, new_fact
from agent_tui.services.importing.records import Lookups, RowError, TicketRecord
from agent_tui.services.importing.writes import (
    IN_CHUNK,
    allocate_ids,
    bulk_insert,
    insert_tuples,
    is_sqlite,
    stamper,
)
from agent_tui.services.metrics_facts import refresh_tickets
from agent_tui.store.events import changes

T = Ticket.__table__  # type: ignore[attr-defined]
M = Message.__table__  # type: ignore[attr-defined]
TT = TicketTag.__table__  # type: ignore[attr-defined]

_COLUMNS = [T.c.id, T.c.external_id, T.c.subject, T.c.status, T.c.priority, T.c.channel,
            T.c.category, T.c.product, T.c.tags, T.c.team_id, T.c.assignee_id,
            T.c.customer_id, T.c.created_at, T.c.solved_at, T.c.closed_at, T.c.version]


# The id and the customer last: what :func:`prepare` cannot know comes at the end.
_TICKET_INSERT = ("channel", "subject", "status", "priority", "category", "product", "tags",
                  "external_id", "assignee_id", "team_id", "is_open", "version", "created_at",
                  "updated_at", "id", "customer_id")
_MESSAGE_INSERT = ("author_kind", "public", "body", "channel", "created_at", "ticket_id",
                   "author_customer_id")
# Enum properties cost a Python call each; a 100k-row import asks them 100k times.
_STATUS = {s: (s.value, s.is_open) for s in Status}
_PRIORITY_LABEL = {int(p): p.label for p in Priority}
_NORMAL = int(Priority.NORMAL)


_CUSTOMER_KIND = AuthorKind.CUSTOMER.value

#: A created ticket's rows before it has an id and a customer: the ticket and
#: message tuples (in ``_TICKET_INSERT``/``_MESSAGE_INSERT`` order without the
#: last two), the event's JSON before and after the customer id, and its fact.
Prepared = tuple[tuple[Any, ...], tuple[Any, ...], str, str, dict[str, Any]]


def _js(value: str | None) -> str:
    """A JSON string or null, as ``encode_diff`` writes it (``ensure_ascii=False``)."""
    return "null" if value is None else encode_basestring(value)


def prepare(r: TicketRecord, at: datetime, stamp: Callable[[datetime | None], Any],
            lookups: Lookups) -> Prepared:
    """The parts of a created ticket's rows that depend on the row alone.

    ``at`` is its ``created_at`` (the import's time when the row has none).
    The ``ticket.imported`` event is written here as ``encode_diff`` writes
    ``{"after": {...}}`` (keys sorted, ``", "`` and ``": "``, strings
    escaped by the same function), in two parts around the customer id;
    a test holds the two to the same text. Four times faster than the encoder.
    """
    status, is_open = _STATUS[r.status or Status.NEW]
    channel = (r.channel or Channel.EMAIL).value
    priority = r.priority or _NORMAL
    at_text = stamp(at)
    tag_text = " ".join(r.tags)
    assignee = lookups.agent_logins.get(r.assignee_id) if r.assignee_id else None
    team = lookups.team_names.get(r.team_id) if r.team_id else None
    head = (f'{{"after": {{"assignee": {_js(assignee)}, "category": {_js(r.category)}, '
            f'"channel": {_js(channel)}, "created_at": "{at.isoformat()}", "customer_id": ')
    tail = (f', "external_id": {_js(r.external_id)}, '
            f'"priority": {_js(_PRIORITY_LABEL[priority])}, "product": {_js(r.product)}, '
            f'"status": {_js(status)}, "subject": {_js(r.subject)}, "tags": {_js(tag_text)}, '
            f'"team": {_js(team)}}}}}')
    return (
        (channel, r.subject, status, priority, r.category, r.product, tag_text, r.external_id,
         r.assignee_id, r.team_id, is_open, 1, at_text, at_text),
        (_CUSTOMER_KIND, True, r.body, channel, at_text),
        head, tail,
        new_fact(channel, r.team_id, r.assignee_id, priority, status, at),
    )


def _body_note(body: str) -> str:
    # Bodies can be long; the audit trail says that one changed, not what it said.
    return f"({len(body)} characters)"


class TicketWriter(KindWriter):
    entity = "ticket"
    #: Set by the write pass to build the created tickets' KPI facts in its transaction.
    facts: NewTicketFacts | None = None

    def finish(self, session: Session) -> None:
        super().finish(session)
        if self.facts is not None:
            self.facts.finish(session)

    def apply(self, session: Session, records: list[TicketRecord]) -> list[RowError]:
        existing = match_existing(session, T, records, _COLUMNS)
        customers = self.customers.resolve(session, [r.customer for r in records])
        first = self._first_messages(session, [row.id for row in existing.values()])
        creates: list[tuple[TicketRecord, int | None]] = []
        updates: list[tuple[TicketRecord, Any, dict[str, Any], dict[str, Any]]] = []
        for record in records:
            cid = customers[record.customer.key]
            row = existing.get(record.external_id)
            if row is None:
                creates.append((record, cid))
                continue
            body = first.get(row.id, (None, ""))[1]
            if self._unchanged(row, body, record, cid):
                self.unchanged += 1
                continue
            old = self._state(row, body)
            new = self._merge(old, record, cid)
            before, after = changes(old, new)
            if after:
                updates.append((record, row, before, after))
            else:
                self.unchanged += 1
        self.created += len(creates)
        self.updated += len(updates)
        if self.writing:
            self._insert(session, creates)
            self._update(session, updates, first)
            self.sink.flush(session)
            if updates:
                # What a fact reads changed (status, channel, team, times, its
                # ticket.updated event): recomputed, as the services do for one ticket.
                refresh_tickets(session, [row.id for _r, row, _b, _a in updates])
        return []

    def _first_messages(self, session: Session, ticket_ids: list[int]) -> dict[int, tuple[int,
                                                                                     str]]:
        """The first message of each ticket: the one ``body`` describes."""
        if not ticket_ids:
            return {}
        if is_sqlite(session):
            driver: Any = session.connection().connection.driver_connection
            found: dict[int, tuple[int, str]] = {}
            for at in range(0, len(ticket_ids), IN_CHUNK):
                chunk = ticket_ids[at:at + IN_CHUNK]
                found.update((tid, (mid, body)) for tid, mid, body in driver.execute(
                    "SELECT ticket_id, id, body FROM message WHERE id IN (SELECT min(id) "
                    f"FROM message WHERE ticket_id IN ({', '.join('?' * len(chunk))}) "
                    "GROUP BY ticket_id)", chunk))
            return found
        first_ids = (sa.select(sa.func.min(M.c.id)).where(M.c.ticket_id.in_(ticket_ids))
                     .group_by(M.c.ticket_id))
        stmt = sa.select(M.c.ticket_id, M.c.id, M.c.body).where(M.c.id.in_(first_ids))
        return {tid: (mid, body) for tid, mid, body in session.execute(stmt)}

    def _unchanged(self, row: Any, body: str, r: TicketRecord, cid: int | None) -> bool:
        """``not changes(old, merge(old, r))[1]`` without building either dict.

        Re-importing a file is mostly unchanged rows; this is their whole cost.
        """
        if (r.subject != row.subject or r.body != body or cid != row.customer_id
                or (r.status is not None and r.status.value != row.status)
                or (r.priority is not None and r.priority != row.priority)
                or (r.channel is not None and r.channel.value != row.channel)
                or (r.created_at is not None and r.created_at != row.created_at)):
            return False
        given = r.given
        if "tags" in given and " ".join(r.tags) != row.tags:
            return False
        if "category" in given and r.category != row.category:
            return False
        if "product" in given and r.product != row.product:
            return False
        teams, agents = self.lookups.team_names, self.lookups.agent_logins
        if "team" in given and (teams.get(r.team_id) if r.team_id else None) != (
                teams.get(row.team_id) if row.team_id else None):
            return False
        return "assignee" not in given or (
            agents.get(r.assignee_id) if r.assignee_id else None) == (
            agents.get(row.assignee_id) if row.assignee_id else None)

    def _state(self, row: Any, body: str) -> dict[str, Any]:
        """A stored ticket as the comparable fields of an event, with names for ids."""
        return {
            "subject": row.subject, "body": body, "status": str(row.status),
            "priority": Priority(row.priority).label, "channel": str(row.channel),
            "category": row.category, "product": row.product, "tags": row.tags,
            "team": self.lookups.team_names.get(row.team_id) if row.team_id else None,
            "assignee": (self.lookups.agent_logins.get(row.assignee_id)
                         if row.assignee_id else None),
            "customer_id": row.customer_id, "created_at": row.created_at,
        }

    def _merge(self, old: dict[str, Any], r: TicketRecord, cid: int | None) -> dict[str, Any]:
        """The stored state with what the row says applied (see the module docs on blanks)."""
        new = dict(old, subject=r.subject, body=r.body, customer_id=cid)
        if r.status is not None:
            new["status"] = r.status.value
        if r.priority is not None:
            new["priority"] = Priority(r.priority).label
        if r.channel is not None:
            new["channel"] = r.channel.value
        if r.created_at is not None:
            new["created_at"] = r.created_at
        given = r.given
        if "category" in given:
            new["category"] = r.category
        if "product" in given:
            new["product"] = r.product
        if "tags" in given:
            new["tags"] = " ".join(r.tags)
        if "team" in given:
            new["team"] = self.lookups.team_names.get(r.team_id) if r.team_id else None
        if "assignee" in given:
            new["assignee"] = self.lookups.agent_logins.get(r.assignee_id) if r.assignee_id \
                else None
        return new

    def _insert(self, session: Session, creates: list[tuple[TicketRecord, int | None]]) -> None:
        """New tickets, their first messages, tags and ``ticket.imported`` events.

        The hot path of a big import: plain tuples to the driver, each row's
        parts from :func:`prepare` (done ahead by the validating worker when
        there is one), joined here with the ticket's id and customer.
        """
        if not creates:
            return
        stamp = stamper(session)
        now = utcnow()
        ids = allocate_ids(session, T, len(creates))
        tickets: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        tags: list[tuple[int, str]] = []
        facts: list[tuple[int, dict[str, Any]]] = []
        add_event = self.sink.add_encoded
        lookups = self.lookups
        for tid, (r, cid) in zip(ids, creates, strict=True):
            parts = r.prepared
            if parts is None or r.created_at is None:
                parts = prepare(r, r.created_at or now, stamp, lookups)
            r.prepared = None  # used once; a retry prepares again
            ticket, message, head, tail, fact = parts
            tickets.append((*ticket, tid, cid))
            messages.append((*message, tid, cid))
            tags.extend((tid, tag) for tag in r.tags)
            facts.append((tid, fact))
            add_event("ticket.imported", "ticket", tid,
                      f"{head}{'null' if cid is None else cid}{tail}")
        insert_tuples(session, T, _TICKET_INSERT, tickets)
        insert_tuples(session, M, _MESSAGE_INSERT, messages)
        insert_tuples(session, TT, ("ticket_id", "tag"), tags)
        if self.facts is not None:
            self.facts.add(session, facts)

    def _update(self, session: Session,
                updates: list[tuple[TicketRecord, Any, dict[str, Any], dict[str, Any]]],
                first: dict[int, tuple[int, str]]) -> None:
        if not updates:
            return
        now = utcnow()
        params, bodies, retag = [], [], []
        for r, row, before, after in updates:
            status = Status(after.get("status", row.status))
            params.append({
                "id": row.id, "subject": r.subject,
                "status": status.value, "is_open": status.is_open,
                "priority": int(Priority.parse(after.get("priority", row.priority))),
                "channel": after.get("channel", row.channel),
                "category": after.get("category", row.category),
                "product": after.get("product", row.product),
                "tags": after.get("tags", row.tags),
                # A changed team/assignee came from the row, so the row's id is the new one.
                "team_id": r.team_id if "team" in after else row.team_id,
                "assignee_id": r.assignee_id if "assignee" in after else row.assignee_id,
                "customer_id": after.get("customer_id", row.customer_id),
                "created_at": after.get("created_at", row.created_at),
                # Reopened in the source: the ticket is no longer solved or closed.
                "solved_at": None if status.is_open else row.solved_at,
                "closed_at": None if status.is_open else row.closed_at,
                "updated_at": now,
            })
            if "body" in after and row.id in first:
                bodies.append({"id": first[row.id][0], "body": r.body})
                before["body"], after["body"] = _body_note(before["body"] or ""), \
                    _body_note(r.body)
            if "tags" in after:
                retag.append((row.id, r.tags))
            before["version"], after["version"] = row.version, row.version + 1
        update_many(session, T, params, version=T.c.version + 1)
        update_many(session, M, bodies)
        if retag:
            session.execute(sa.delete(TT).where(TT.c.ticket_id.in_([tid for tid, _ in retag])))
            bulk_insert(session, TT, [{"ticket_id": tid, "tag": tag}
                                      for tid, tags in retag for tag in tags])
        for r, row, before, after in updates:
            self.sink.add(kind="ticket.updated", entity="ticket", entity_id=row.id,
                          before=before, after=after,
                          extra={"external_id": r.external_id, "via": "import"})
