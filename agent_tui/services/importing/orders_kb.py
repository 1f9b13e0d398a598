"""Importing orders (for the customer 360) and knowledge-base articles."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from agent_tui.domain.tables import KnowledgeArticle, Order, utcnow
from agent_tui.services.importing.batch import (
    KindWriter,
    insert_with_ids,
    match_existing,
    update_many,
)
from agent_tui.services.importing.records import ArticleRecord, OrderRecord, RowError
from agent_tui.store.events import changes

OR = Order.__table__  # type: ignore[attr-defined]
KA = KnowledgeArticle.__table__  # type: ignore[attr-defined]

_ORDER_COLUMNS = [OR.c.id, OR.c.external_id, OR.c.customer_id, OR.c.number, OR.c.status,
                  OR.c.amount_cents, OR.c.currency, OR.c["items"], OR.c.created_at]
_ARTICLE_COLUMNS = [KA.c.id, KA.c.external_id, KA.c.title, KA.c.body, KA.c.tags, KA.c.locale,
                    KA.c.status, KA.c.created_at, KA.c.version]


def stored_items(text: str | None) -> list[str]:
    """An order's items column (a JSON list) as a list of strings."""
    try:
        loaded = json.loads(text or "[]")
    except ValueError:
        return [text or ""]
    return [str(i) for i in loaded] if isinstance(loaded, list) else [str(loaded)]


class OrderWriter(KindWriter):
    """Orders belong to a customer found (or created) by ``customer_email``."""

    entity = "order"

    def apply(self, session: Session, records: list[OrderRecord]) -> list[RowError]:
        existing = match_existing(session, OR, records, _ORDER_COLUMNS)
        customers = self.customers.resolve(session, [r.customer for r in records])
        creates: list[tuple[OrderRecord, int | None]] = []
        updates: list[tuple[OrderRecord, Any, dict[str, Any], dict[str, Any]]] = []
        for r in records:
            cid = customers[r.customer.key]
            row = existing.get(r.external_id)
            if row is None:
                creates.append((r, cid))
                continue
            old = {"customer_id": row.customer_id, "number": row.number, "status": row.status,
                   "amount_cents": row.amount_cents, "currency": row.currency,
                   "items": stored_items(row.items), "created_at": row.created_at}
            new = dict(old, customer_id=cid, number=r.number)
            for column in ("status", "amount_cents", "currency", "created_at"):
                value = getattr(r, column)
                if value is not None:
                    new[column] = value
            if "items" in r.given:
                new["items"] = r.items
            before, after = changes(old, new)
            if after:
                updates.append((r, row, before, after))
            else:
                self.unchanged += 1
        self.created += len(creates)
        self.updated += len(updates)
        if self.writing:
            self._write(session, creates, updates)
        return []

    def _write(self, session: Session, creates: list[tuple[OrderRecord, int | None]],
               updates: list[tuple[OrderRecord, Any, dict[str, Any], dict[str, Any]]]) -> None:
        now = utcnow()
        rows: list[dict[str, Any]] = [
            {"external_id": r.external_id, "customer_id": cid, "number": r.number,
             "status": r.status or "placed", "amount_cents": r.amount_cents or 0,
             "currency": r.currency or "USD", "items": json.dumps(r.items, ensure_ascii=False),
             "created_at": r.created_at or now, "updated_at": now} for r, cid in creates]
        ids = insert_with_ids(session, OR, rows)
        for oid, row, (r, _) in zip(ids, rows, creates, strict=True):
            self.sink.add(kind="order.imported", entity="order", entity_id=oid,
                          after={**row, "items": r.items})
        params = []
        for _r, row, _before, after in updates:
            new = {"customer_id": row.customer_id, "number": row.number, "status": row.status,
                   "amount_cents": row.amount_cents, "currency": row.currency,
                   "items": row.items, "created_at": row.created_at}
            new.update(after)
            if "items" in after:
                new["items"] = json.dumps(after["items"], ensure_ascii=False)
            params.append({"id": row.id, **new, "updated_at": now})
        update_many(session, OR, params)
        for r, row, before, after in updates:
            self.sink.add(kind="order.updated", entity="order", entity_id=row.id,
                          before=before, after=after, extra={"external_id": r.external_id})
        self.sink.flush(session)


class ArticleWriter(KindWriter):
    """Knowledge-base articles; an update bumps the article's version."""

    entity = "kb article"

    def apply(self, session: Session, records: list[ArticleRecord]) -> list[RowError]:
        existing = match_existing(session, KA, records, _ARTICLE_COLUMNS)
        creates: list[ArticleRecord] = []
        updates: list[tuple[ArticleRecord, Any, dict[str, Any], dict[str, Any]]] = []
        for r in records:
            row = existing.get(r.external_id)
            if row is None:
                creates.append(r)
                continue
            old = {"title": row.title, "body": row.body, "tags": row.tags,
                   "locale": row.locale, "status": row.status, "created_at": row.created_at}
            new = dict(old, title=r.title, body=r.body)
            if "tags" in r.given:
                new["tags"] = " ".join(r.tags)
            for column in ("locale", "status", "created_at"):
                value = getattr(r, column)
                if value is not None:
                    new[column] = value
            before, after = changes(old, new)
            if after:
                updates.append((r, row, before, after))
            else:
                self.unchanged += 1
        self.created += len(creates)
        self.updated += len(updates)
        if self.writing:
            self._write(session, creates, updates)
        return []

    def _write(self, session: Session, creates: list[ArticleRecord],
               updates: list[tuple[ArticleRecord, Any, dict[str, Any], dict[str, Any]]]) -> None:
        now = utcnow()
        rows = [{"title": r.title, "body": r.body, "tags": " ".join(r.tags),
                 "locale": r.locale or "en", "status": r.status or "published",
                 "external_id": r.external_id, "version": 1, "used_count": 0,
                 "helpful_count": 0, "created_at": r.created_at or now, "updated_at": now}
                for r in creates]
        ids = insert_with_ids(session, KA, rows)
        for aid, row in zip(ids, rows, strict=True):
            self.sink.add(kind="kb.imported", entity="kb", entity_id=aid, after={
                k: row[k] for k in ("external_id", "title", "tags", "locale", "status",
                                    "created_at")})
        params = []
        for _r, row, before, after in updates:
            new = {"title": row.title, "body": row.body, "tags": row.tags,
                   "locale": row.locale, "status": row.status, "created_at": row.created_at}
            new.update(after)
            params.append({"id": row.id, **new, "updated_at": now})
            if "body" in after:  # the audit trail notes the change, not the whole text
                before["body"] = f"({len(row.body)} characters)"
                after["body"] = f"({len(new['body'])} characters)"
            before["version"], after["version"] = row.version, row.version + 1
        update_many(session, KA, params, version=KA.c.version + 1)
        for r, row, before, after in updates:
            self.sink.add(kind="kb.updated", entity="kb", entity_id=row.id,
                          before=before, after=after, extra={"external_id": r.external_id})
        self.sink.flush(session)
