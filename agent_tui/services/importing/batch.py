"""Batched database work shared by the kinds: matching, customers, events.

Rows are matched and written a batch at a time with Core statements (one
``IN`` query per lookup, one executemany per insert), because a 100k-row
file row by row through the ORM would take minutes instead of seconds.
The same code runs in the validation pass (``writing=False``: it only
counts what it would do) and in the write pass, so a dry run reports
exactly what the import would do against the store as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Channel
from agent_tui.domain.tables import Customer, Identity, utcnow
from agent_tui.services.importing.columns import OWN_ID_PREFIX
from agent_tui.services.importing.records import CustomerRef, Lookups, Record, RowError
from agent_tui.services.importing.writes import (
    IN_CHUNK,
    EventSink,
    allocate_ids,
    bulk_insert,
    encode_diff,
    insert_tuples,
    insert_with_ids,
    is_sqlite,
    select_where_in,
    stamper,
)
from agent_tui.store.events import Actor

C = Customer.__table__  # type: ignore[attr-defined]
ID = Identity.__table__  # type: ignore[attr-defined]

_NEW_CUSTOMER = ("id", "name", "email", "phone", "tier", "created_at", "updated_at")

__all__ = ["ID", "C", "EventSink", "KindWriter", "bulk_insert", "insert_with_ids"]


def own_id(external_id: str | None) -> int | None:
    """``agent-tui:42`` → 42: an export of a row that had no external id."""
    if external_id and external_id.startswith(OWN_ID_PREFIX):
        tail = external_id[len(OWN_ID_PREFIX):]
        if tail.isdigit():
            return int(tail)
    return None


class _Keyed(Protocol):
    @property
    def external_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime | None: ...


def match_existing(session: Session, table: sa.Table, records: Sequence[_Keyed],
                   columns: Sequence[sa.Column[Any]]) -> dict[str, Any]:
    """Stored rows by the external id of the records that name them.

    ``agent-tui:<id>`` (what the exporter writes for a row without an
    external id) names row ``<id>`` when that row still has no external id
    and its ``created_at`` is the one in the file; so re-importing an export
    into the same store changes nothing, and importing it into another store
    does not overwrite an unrelated row that happens to have the same id.
    """
    external = list({r.external_id for r in records if r.external_id})
    if not external:
        return {}
    found: dict[str, Any] = {
        row.external_id: row
        for row in select_where_in(session, table, columns, "external_id", external)}
    by_id: dict[int, _Keyed] = {}
    for r in records:
        number = own_id(r.external_id)
        if number is not None and r.external_id not in found and r.created_at is not None:
            by_id[number] = r
    if by_id:
        for row in select_where_in(session, table, columns, "id", list(by_id),
                                   also="external_id IS NULL"):
            record = by_id[row.id]
            if row.created_at == record.created_at and record.external_id:
                found[record.external_id] = row
    return found


class CustomerResolver:
    """Customers for ``customer_email``/``customer_phone``, created when unknown.

    The same resolution as ``customers.find_or_create`` (e-mail identity,
    then the customer's e-mail, then phone identity), done a batch at a time.
    In the validation pass a customer that would be created resolves to None.
    """

    def __init__(self, *, writing: bool, sink: EventSink) -> None:
        self.writing = writing
        self.sink = sink
        self.known: dict[str, int | None] = {}
        self.created = 0
        self._orphans = OrphanEmails()
        #: Phone → key of the customer this import creates with it. Row by row,
        #: ``find_or_create`` finds that customer by phone for a later row with
        #: an unknown e-mail and the same phone; the store cannot say so yet in
        #: the same batch, nor ever in a dry run (which used to count one
        #: customer more per shared phone than the import created).
        self._new_phones: dict[str, str] = {}

    def resolve(self, session: Session, refs: Sequence[CustomerRef]) -> dict[str, int | None]:
        wanted: dict[str, CustomerRef] = {}
        for ref in refs:
            if ref.key not in self.known:
                wanted.setdefault(ref.key, ref)
        if wanted:
            found = self._find(session, list(wanted.values()))
            self.known.update(found)
            missing: list[CustomerRef] = []
            same_as: dict[str, str] = {}  # key → key of a new customer with its phone
            for key, ref in wanted.items():
                if key in found:
                    continue
                first = self._new_phones.get(ref.phone) if ref.phone else None
                if first is not None:
                    same_as[key] = first
                    continue
                missing.append(ref)
                if ref.phone:
                    self._new_phones[ref.phone] = key
            self.created += len(missing)
            if self.writing:
                self.known.update(self._create(session, missing))
            else:
                self.known.update((r.key, None) for r in missing)
            self.known.update((key, self.known[first]) for key, first in same_as.items())
        return {ref.key: self.known[ref.key] for ref in refs}

    def _find(self, session: Session, refs: list[CustomerRef]) -> dict[str, int]:
        found: dict[str, int] = {}
        emails = [r.email for r in refs if r.email]
        if emails:
            owners = email_owners(session, emails, self._orphans)
            found.update(("email:" + e, c) for e, c in owners.items())
        by_phone = {r.phone: r.key for r in refs if r.phone and r.key not in found}
        if by_phone:
            for address, cid in identities(session, Channel.PHONE, list(by_phone)):
                found[by_phone[address]] = cid
        return found

    def _create(self, session: Session, refs: list[CustomerRef]) -> dict[str, int]:
        if not refs:
            return {}
        now = stamper(session)(utcnow())
        ids = allocate_ids(session, C, len(refs))
        rows: list[tuple[Any, ...]] = []
        for cid, r in zip(ids, refs, strict=True):
            name = r.name or (r.email or r.phone or "").split("@")[0]
            rows.append((cid, name, r.email, r.phone, "standard", now, now))
            self.sink.add_encoded("customer.created", "customer", cid, encode_diff({
                "after": {"email": r.email, "name": name, "phone": r.phone}, "via": "import"}))
        insert_tuples(session, C, _NEW_CUSTOMER, rows)
        add_identities(session, [(cid, r.email, r.phone) for cid, r in zip(ids, refs, strict=True)])
        return {r.key: cid for cid, r in zip(ids, refs, strict=True)}


def customer_values(*, name: str, email: str | None, phone: str | None, now: datetime,
                    external_id: str | None = None, organization_id: int | None = None,
                    tier: str = "standard", language: str | None = None,
                    created_at: datetime | None = None) -> dict[str, Any]:
    """Every column of a new customer row, for Core inserts."""
    return {"name": name, "email": email, "phone": phone, "tier": tier, "language": language,
            "address": None, "external_id": external_id, "organization_id": organization_id,
            "created_at": created_at or now, "updated_at": now, "erased_at": None}


class OrphanEmails:
    """Customers whose ``email`` has no e-mail identity, loaded once per pass.

    ``find_or_create`` falls back to ``customer.email`` when no identity
    matches. That column has no index, so asking it once per batch would
    scan the table a hundred times on a big import; such customers are rare
    (everything this app creates gets an identity), so one scan suffices.
    """

    def __init__(self) -> None:
        self._by_email: dict[str, int] | None = None

    def get(self, session: Session) -> dict[str, int]:
        if self._by_email is None:
            has_identity = sa.select(ID.c.id).where(ID.c.channel == Channel.EMAIL.value,
                                                    ID.c.address == C.c.email)
            stmt = (sa.select(C.c.email, C.c.id)
                    .where(C.c.email.is_not(None), ~has_identity.exists())
                    .order_by(C.c.id.desc()))  # the lowest id wins, as in find_or_create
            self._by_email = {str(e): int(i) for e, i in session.execute(stmt)}
        return self._by_email


def email_owners(session: Session, emails: Sequence[str],
                 orphans: OrphanEmails) -> dict[str, int]:
    """The customer each e-mail address belongs to: identity first, then ``customer.email``."""
    owners = dict(identities(session, Channel.EMAIL, emails))
    rest = [e for e in emails if e not in owners]
    if rest:
        fallback = orphans.get(session)
        owners.update((e, fallback[e]) for e in rest if e in fallback)
    return owners


def identities(session: Session, channel: Channel,
               addresses: Sequence[str]) -> list[tuple[str, int]]:
    """``(address, customer_id)`` of the known identities among ``addresses``."""
    wanted = list(set(addresses))
    if not wanted:
        return []
    if is_sqlite(session):
        # The driver directly: compiling an IN of a thousand parameters per batch
        # costs more than SQLite's lookups.
        driver: Any = session.connection().connection.driver_connection
        found: list[tuple[str, int]] = []
        for at in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[at:at + IN_CHUNK]
            found += driver.execute(
                "SELECT address, customer_id FROM identity WHERE channel = ? AND address IN "
                f"({', '.join('?' * len(chunk))})", (channel.value, *chunk)).fetchall()
        return found
    stmt = sa.select(ID.c.address, ID.c.customer_id).where(
        ID.c.channel == channel.value, ID.c.address.in_(wanted))
    return [(a, int(c)) for a, c in session.execute(stmt)]


def add_identities(session: Session,
                   wanted: Sequence[tuple[int, str | None, str | None]]) -> None:
    """Attach e-mail and phone identities, skipping addresses already known."""
    now = stamper(session)(utcnow())
    rows: list[tuple[Any, ...]] = []
    for channel, position in ((Channel.EMAIL, 1), (Channel.PHONE, 2)):
        pairs = [(w[0], w[position]) for w in wanted if w[position]]
        taken = {a for a, _ in identities(session, channel, [str(a) for _, a in pairs])}
        for cid, address in pairs:
            if address not in taken:
                taken.add(str(address))
                rows.append((cid, channel.value, address, False, now))
    insert_tuples(session, ID, ("customer_id", "channel", "address", "verified", "created_at"),
                  rows)


class KindWriter:
    """Matches, counts and (in the write pass) writes the records of one kind."""

    entity = ""

    def __init__(self, *, writing: bool, actor: Actor, lookups: Lookups) -> None:
        self.writing = writing
        self.lookups = lookups
        self.sink = EventSink(actor)
        self.customers = CustomerResolver(writing=writing, sink=self.sink)
        self.created = self.updated = self.unchanged = 0
        self._seen: dict[str, int] = {}

    def key(self, record: Record) -> tuple[str, str]:
        """(column, value) that identifies the record's entity within a file."""
        return "external_id", record.external_id or ""

    def claim(self, record: Record) -> RowError | None:
        """Refuse a second row for the same entity within one file."""
        column, key = self.key(record)
        first = self._seen.get(key)
        if first is not None:
            return RowError(record.line, column,
                            f"{key!r} is also on line {first}; each row must be a different "
                            f"{self.entity}")
        self._seen[key] = record.line
        return None

    def apply(self, session: Session, records: list[Any]) -> list[RowError]:
        """Match and count ``records``; write them in the write pass.

        Returns the rows refused because of what is stored (nothing of
        those is written).
        """
        raise NotImplementedError

    def side_effects(self) -> dict[str, int]:
        """Other rows the import created, for the summary."""
        return {"customers_created": self.customers.created} if self.customers.created else {}

    def finish(self, session: Session) -> None:
        self.sink.flush(session)



def update_many(session: Session, table: sa.Table, rows: list[dict[str, Any]],
                **computed: Any) -> None:
    """``UPDATE table SET ... WHERE id = :id`` for each dict of new values.

    Every dict has the same keys (``id`` plus the columns); ``computed`` adds
    SQL expressions such as ``version=table.c.version + 1``.
    """
    if not rows:
        return
    columns = [k for k in rows[0] if k != "id"]
    # Bind names must differ from column names in an UPDATE's SET clause.
    stmt = (sa.update(table).where(table.c.id == sa.bindparam("p_id"))
            .values(**{k: sa.bindparam("p_" + k) for k in columns}, **computed))
    session.execute(stmt, [{"p_" + k: v for k, v in row.items()} for row in rows])
