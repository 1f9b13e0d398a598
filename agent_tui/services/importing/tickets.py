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

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import AuthorKind, Channel, Priority, Status
from agent_tui.domain.tables import Message, Ticket, TicketTag, utcnow
from agent_tui.services.importing.batch import (
    KindWriter,
    bulk_insert,
    insert_with_ids,
    match_existing,
    update_many,
)
from agent_tui.services.importing.records import RowError, TicketRecord
from agent_tui.store.events import changes

T = Ticket.__table__  # type: ignore[attr-defined]
M = Message.__table__  # type: ignore[attr-defined]
TT = TicketTag.__table__  # type: ignore[attr-defined]

_COLUMNS = [T.c.id, T.c.external_id, T.c.subject, T.c.status, T.c.priority, T.c.channel,
            T.c.category, T.c.product, T.c.tags, T.c.team_id, T.c.assignee_id,
            T.c.customer_id, T.c.created_at, T.c.solved_at, T.c.closed_at, T.c.version]


def _body_note(body: str) -> str:
    # Bodies can be long; the audit trail says that one changed, not what it said.
    return f"({len(body)} characters)"


class TicketWriter(KindWriter):
    entity = "ticket"

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
            old = self._state(row, first.get(row.id, (None, ""))[1])
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
        return []

    def _first_messages(self, session: Session, ticket_ids: list[int]) -> dict[int, tuple[int,
                                                                                     str]]:
        """The first message of each ticket: the one ``body`` describes."""
        if not ticket_ids:
            return {}
        first_ids = (sa.select(sa.func.min(M.c.id)).where(M.c.ticket_id.in_(ticket_ids))
                     .group_by(M.c.ticket_id))
        stmt = sa.select(M.c.ticket_id, M.c.id, M.c.body).where(M.c.id.in_(first_ids))
        return {tid: (mid, body) for tid, mid, body in session.execute(stmt)}

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
        if not creates:
            return
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for r, cid in creates:
            status = r.status or Status.NEW
            at = r.created_at or now
            rows.append({
                "channel": (r.channel or Channel.EMAIL).value, "subject": r.subject,
                "status": status.value, "priority": r.priority or int(Priority.NORMAL),
                "category": r.category, "product": r.product, "channel_detail": None,
                "tags": " ".join(r.tags), "external_id": r.external_id, "customer_id": cid,
                "assignee_id": r.assignee_id, "team_id": r.team_id, "is_open": status.is_open,
                "version": 1, "created_at": at, "updated_at": at, "first_response_at": None,
                "solved_at": None, "closed_at": None, "sla_due_at": None,
                "first_response_due_at": None, "resolution_due_at": None,
            })
        ids = insert_with_ids(session, T, rows)
        bulk_insert(session, M, [
            {"ticket_id": tid, "author_kind": AuthorKind.CUSTOMER.value, "author_agent_id": None,
             "author_customer_id": row["customer_id"], "public": True, "body": r.body,
             "channel": row["channel"], "created_at": row["created_at"]}
            for tid, row, (r, _) in zip(ids, rows, creates, strict=True)])
        tags = [{"ticket_id": tid, "tag": tag}
                for tid, (r, _) in zip(ids, creates, strict=True) for tag in r.tags]
        bulk_insert(session, TT, tags)
        for tid, row, (r, _) in zip(ids, rows, creates, strict=True):
            self.sink.add(kind="ticket.imported", entity="ticket", entity_id=tid, after={
                "external_id": r.external_id, "subject": r.subject, "status": row["status"],
                "priority": Priority(row["priority"]).label, "channel": row["channel"],
                "team": self.lookups.team_names.get(r.team_id) if r.team_id else None,
                "assignee": (self.lookups.agent_logins.get(r.assignee_id)
                             if r.assignee_id else None),
                "tags": row["tags"], "customer_id": row["customer_id"],
                "category": r.category, "product": r.product, "created_at": row["created_at"],
            })

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
