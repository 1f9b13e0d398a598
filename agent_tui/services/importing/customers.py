"""Importing customers: match by external id, else by e-mail (or phone).

A row whose external id is unknown but whose e-mail already belongs to a
customer (one created by a ticket import, say) adopts that customer instead
of creating a second one, as long as that customer has no other external id.
An e-mail that belongs to a different customer than the row names is an
error: two customers cannot share one address. Erased customers are never
brought back.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Channel
from agent_tui.domain.tables import Organization, utcnow
from agent_tui.services.importing.batch import (
    C,
    KindWriter,
    OrphanEmails,
    add_identities,
    customer_values,
    email_owners,
    identities,
    insert_with_ids,
    match_existing,
    own_id,
    update_many,
)
from agent_tui.services.importing.records import CustomerRecord, Record, RowError
from agent_tui.store.events import changes

O = Organization.__table__  # type: ignore[attr-defined]  # noqa: E741

_COLUMNS = [C.c.id, C.c.external_id, C.c.name, C.c.email, C.c.phone, C.c.organization_id,
            C.c.tier, C.c.language, C.c.created_at, C.c.erased_at]


class CustomerWriter(KindWriter):
    entity = "customer"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._emails: dict[str, tuple[str, int]] = {}  # e-mail → (row key, line) in this file
        self._orgs: dict[str, int | None] = {}  # name → id (None: would be created)
        self._org_names: dict[int, str] = {}
        self.organizations_created = 0
        self._orphans = OrphanEmails()

    def key(self, record: Record) -> tuple[str, str]:
        assert isinstance(record, CustomerRecord)
        if record.external_id:
            return "external_id", record.external_id
        return ("email", record.key) if record.email else ("phone", record.key)

    def side_effects(self) -> dict[str, int]:
        out = super().side_effects()
        if self.organizations_created:
            out["organizations_created"] = self.organizations_created
        return out

    def apply(self, session: Session, records: list[CustomerRecord]) -> list[RowError]:
        errors: list[RowError] = []
        existing = match_existing(session, C, records, _COLUMNS)
        email_owner = email_owners(session, [r.email for r in records if r.email], self._orphans)
        phone_owner = dict(identities(session, Channel.PHONE,
                                      [r.phone for r in records if r.phone and not r.email]))
        rows = {row.id: row for row in existing.values()}
        wanted = (set(email_owner.values()) | set(phone_owner.values())) - set(rows)
        if wanted:
            stmt = sa.select(*_COLUMNS).where(C.c.id.in_(list(wanted)))
            rows.update((row.id, row) for row in session.execute(stmt))
        self._organizations(session, [r.organization for r in records if r.organization],
                            [row.organization_id for row in rows.values()])
        creates: list[CustomerRecord] = []
        updates: list[tuple[CustomerRecord, Any, dict[str, Any], dict[str, Any]]] = []
        for r in records:
            problem = self._claim_email(r)
            row = existing.get(r.external_id) if r.external_id else None
            owner = email_owner.get(r.email) if r.email else (
                phone_owner.get(r.phone) if r.phone else None)
            if problem is None and row is None and owner is not None:
                candidate = rows[owner]
                if r.external_id and candidate.external_id not in (None, r.external_id):
                    what = r.email or r.phone
                    problem = RowError(r.line, "email" if r.email else "phone",
                                       f"{what} belongs to customer #{candidate.id} "
                                       f"(external_id {candidate.external_id!r})")
                row = candidate
            elif problem is None and row is not None and r.email and owner not in (None, row.id):
                problem = RowError(r.line, "email",
                                   f"{r.email} belongs to another customer, #{owner}")
            if problem is None and row is not None and row.erased_at is not None:
                problem = RowError(r.line, "external_id",
                                   f"customer #{row.id} was erased on request; "
                                   "their data cannot be imported again")
            if problem is not None:
                errors.append(problem)
            elif row is None:
                creates.append(r)
            else:
                old = self._state(row)
                before, after = changes(old, self._merge(old, r, row))
                if after:
                    updates.append((r, row, before, after))
                else:
                    self.unchanged += 1
        self.created += len(creates)
        self.updated += len(updates)
        if self.writing:
            self._insert(session, creates)
            self._update(session, updates)
            self.sink.flush(session)
        return errors

    def _claim_email(self, r: CustomerRecord) -> RowError | None:
        if not r.email:
            return None
        first = self._emails.get(r.email)
        if first is not None and first[0] != r.key:
            return RowError(r.line, "email", f"{r.email} is also on line {first[1]}, "
                                             "for another customer")
        self._emails.setdefault(r.email, (r.key, r.line))
        return None

    def _organizations(self, session: Session, names: list[str], ids: list[int | None]) -> None:
        """Learn the organizations the batch names (creating them in the write pass)."""
        unknown_ids = [i for i in set(ids) if i is not None and i not in self._org_names]
        unknown = [n for n in set(names) if n not in self._orgs]
        if unknown_ids or unknown:
            stmt = sa.select(O.c.id, O.c.name).where(
                sa.or_(O.c.id.in_(unknown_ids), O.c.name.in_(unknown)))
            for oid, name in session.execute(stmt):
                self._orgs[name] = oid
                self._org_names[oid] = name
        missing = [n for n in unknown if n not in self._orgs]
        self.organizations_created += len(missing)
        if not self.writing:
            self._orgs.update((n, None) for n in missing)
            return
        now = utcnow()
        new_ids = insert_with_ids(session, O, [{"name": n, "domain": None, "created_at": now}
                                                    for n in missing])
        for oid, name in zip(new_ids, missing, strict=True):
            self._orgs[name] = oid
            self._org_names[oid] = name

    def _state(self, row: Any) -> dict[str, Any]:
        org = self._org_names.get(row.organization_id) if row.organization_id else None
        return {"external_id": row.external_id, "name": row.name, "email": row.email,
                "phone": row.phone, "organization": org, "tier": row.tier,
                "language": row.language, "created_at": row.created_at}

    def _merge(self, old: dict[str, Any], r: CustomerRecord, row: Any) -> dict[str, Any]:
        new = dict(old)
        # A row found through its own export keeps having no external id.
        if r.external_id and own_id(r.external_id) != row.id:
            new["external_id"] = r.external_id
        for column in ("name", "email", "phone", "tier", "created_at"):
            value = getattr(r, column)
            if value:
                new[column] = value
        for column in ("organization", "language"):
            if column in r.given:
                new[column] = getattr(r, column)
        return new

    def _insert(self, session: Session, creates: list[CustomerRecord]) -> None:
        if not creates:
            return
        now = utcnow()
        rows = [customer_values(
            name=r.name or (r.email or r.phone or r.external_id or "").split("@")[0],
            email=r.email, phone=r.phone, now=now, external_id=r.external_id,
            organization_id=self._orgs.get(r.organization) if r.organization else None,
            tier=r.tier or "standard", language=r.language, created_at=r.created_at,
        ) for r in creates]
        ids = insert_with_ids(session, C, rows)
        add_identities(session, [(cid, r.email, r.phone)
                                 for cid, r in zip(ids, creates, strict=True)])
        for cid, r, row in zip(ids, creates, rows, strict=True):
            self.sink.add(kind="customer.imported", entity="customer", entity_id=cid, after={
                "external_id": r.external_id, "name": row["name"], "email": r.email,
                "phone": r.phone, "organization": r.organization, "tier": row["tier"],
                "language": r.language, "created_at": row["created_at"]})

    def _update(self, session: Session,
                updates: list[tuple[CustomerRecord, Any, dict[str, Any], dict[str, Any]]]) -> None:
        if not updates:
            return
        now = utcnow()
        params = []
        for _r, row, _before, after in updates:
            new = dict(self._state(row), **after)
            org = new["organization"]
            params.append({"id": row.id, "external_id": new["external_id"], "name": new["name"],
                           "email": new["email"], "phone": new["phone"],
                           "organization_id": self._orgs.get(org) if org else None,
                           "tier": new["tier"], "language": new["language"],
                           "created_at": new["created_at"], "updated_at": now})
        update_many(session, C, params)
        add_identities(session, [(row.id, after.get("email"), after.get("phone"))
                                 for _r, row, _b, after in updates])
        for r, row, before, after in updates:
            self.sink.add(kind="customer.updated", entity="customer", entity_id=row.id,
                          before=before, after=after,
                          extra={"external_id": r.external_id, "via": "import"})
