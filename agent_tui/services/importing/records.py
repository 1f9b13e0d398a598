"""Validating one row into a typed record, without touching the database.

The only outside knowledge a row needs is the teams and agents of the store
(:class:`Lookups`, loaded once per pass). Everything that depends on other
rows or on stored data (duplicates, matching, e-mail owners) is checked by
the kind's writer in batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from agent_tui.domain.enums import Channel, Status
from agent_tui.domain.tables import Agent, Team
from agent_tui.services.importing import fields as f
from agent_tui.services.importing.columns import CUSTOMER_TIERS, KB_STATUSES
from agent_tui.services.importing.source import RawRow
from agent_tui.services.tickets import MAX_BODY

V = TypeVar("V")
KB_MAX_BODY = 500_000


@dataclass(frozen=True)
class RowError:
    """A problem with one row, said as ``line N: column: message``."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.message}"


@dataclass
class Lookups:
    """Teams and agents by every name a foreign export may use for them."""

    teams: dict[str, int]
    agents: dict[str, int]
    team_names: dict[int, str]
    agent_logins: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> Lookups:
        team_names = {tid: name for tid, name in session.exec(select(Team.id, Team.name))
                      if tid is not None}
        teams = {name.lower(): tid for tid, name in team_names.items()}
        agents: dict[str, int] = {}
        agent_logins: dict[int, str] = {}
        names: dict[str, list[int]] = {}
        rows = session.exec(select(Agent.id, Agent.login, Agent.email, Agent.name)
                            .order_by(col(Agent.id)))
        for aid, login, email, name in rows:
            assert aid is not None
            agent_logins[aid] = login
            agents[login.lower()] = aid
            if email:
                agents.setdefault(email.strip().lower(), aid)
            names.setdefault(" ".join(name.split()).casefold(), []).append(aid)
        for name, ids in names.items():
            if len(ids) == 1:  # a name two agents share identifies nobody
                agents.setdefault(name, ids[0])
        return cls(teams=teams, agents=agents, team_names=team_names, agent_logins=agent_logins)


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """Who a row is about, resolved like ``customers.find_or_create``."""

    email: str | None
    phone: str | None = None
    name: str | None = None
    #: What identifies the customer within an import (asked several times per row).
    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"email:{self.email}" if self.email
                           else f"phone:{self.phone}")

    def __reduce__(self) -> tuple[Any, ...]:
        # A slots dataclass unpickles through a Python ``__setstate__``
        # (``fields()`` per object): too slow for a forked reader's 100k rows.
        return CustomerRef, (self.email, self.phone, self.name)


@dataclass(slots=True)  # a big import keeps 100k of them between its passes
class TicketRecord:
    line: int
    given: frozenset[str]
    external_id: str
    subject: str
    body: str
    customer: CustomerRef
    status: Status | None
    priority: int | None
    channel: Channel | None
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    category: str | None
    product: str | None
    created_at: datetime | None
    #: What a created ticket's rows are made of, worked out ahead by the
    #: validating worker (see ``tickets.prepare``); not part of the record's value.
    prepared: Any = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return TicketRecord, (
            self.line, self.given, self.external_id, self.subject, self.body, self.customer,
            self.status, self.priority, self.channel, self.team_id, self.assignee_id, self.tags,
            self.category, self.product, self.created_at, self.prepared)


@dataclass
class CustomerRecord:
    line: int
    given: frozenset[str]
    external_id: str | None
    name: str
    email: str | None
    phone: str | None
    organization: str | None
    tier: str | None
    language: str | None
    created_at: datetime | None

    @property
    def key(self) -> str:
        """What identifies the row within one file."""
        if self.external_id:
            return self.external_id
        return f"email:{self.email}" if self.email else f"phone:{self.phone}"


@dataclass
class OrderRecord:
    line: int
    given: frozenset[str]
    external_id: str
    customer: CustomerRef
    number: str
    status: str | None
    amount_cents: int | None
    currency: str | None
    items: list[str]
    created_at: datetime | None


@dataclass
class ArticleRecord:
    line: int
    given: frozenset[str]
    external_id: str
    title: str
    body: str
    tags: list[str]
    locale: str | None
    status: str | None
    created_at: datetime | None


Record = TicketRecord | CustomerRecord | OrderRecord | ArticleRecord


class _Row:
    """A raw row plus the errors found while reading its cells."""

    def __init__(self, raw: RawRow) -> None:
        self.raw = raw
        self.given = frozenset(raw.cells)
        self.errors = [RowError(raw.line, column, msg) for column, msg in raw.problems]

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.raw.line, column, message))

    def filled(self, column: str) -> bool:
        cell = self.raw.cells.get(column)
        return bool(cell) and not (cell.__class__ is str and cell.isspace())  # type: ignore[union-attr]

    def get(self, column: str, parse: Callable[..., V], *args: Any,
            required: bool = False) -> V | None:
        cell = self.raw.cells.get(column)
        if not cell or (cell.__class__ is str and cell.isspace()):  # type: ignore[union-attr]
            if required:
                self.error(column, "required" if column in self.given else "missing")
            return None
        try:
            return parse(cell, *args)
        except f.FieldError as exc:
            self.error(column, str(exc))
            return None

    def external_id(self, *, required: bool, kind: str) -> str | None:
        value = self.get("external_id", f.line, 200)
        if required and not value:
            self.error("external_id", f"required: {kind} are matched by external_id so that "
                                      "importing a file twice does not duplicate them")
        return value or None

    def one_of(self, columns: tuple[str, ...]) -> None:
        if not any(self.filled(c) for c in columns):
            self.error(columns[0], f"give {' or '.join(columns)}")


def _lookup(row: _Row, column: str, table: dict[str, int], what: str) -> int | None:
    raw = row.get(column, f.line, 320)
    if not raw:
        return None
    key = " ".join(raw.split()).casefold()
    found = table.get(key)
    if found is None:
        row.error(column, f"no {what} {raw!r} in this store; add it first, or map it: "
                          f"--map \"{column}:{raw}=NAME\"")
    return found


def ticket(raw: RawRow, lookups: Lookups) -> TicketRecord | list[RowError]:
    """Validate one ticket row."""
    row = _Row(raw)
    ext = row.external_id(required=True, kind="tickets")
    subject = row.get("subject", f.line, 10_000, required=True)
    body = row.get("body", f.body, MAX_BODY, required=True)
    email = row.get("customer_email", f.email)
    phone = row.get("customer_phone", f.phone)
    row.one_of(("customer_email", "customer_phone"))
    record = TicketRecord(
        line=raw.line, given=row.given, external_id=ext or "",
        subject=(subject or "")[:500], body=body or "",
        customer=CustomerRef(email=email, phone=phone,
                             name=row.get("customer_name", f.line, 200)),
        status=row.get("status", f.choice, Status, "status"),
        priority=row.get("priority", f.priority),
        channel=row.get("channel", f.choice, Channel, "channel"),
        team_id=_lookup(row, "team", lookups.teams, "team"),
        assignee_id=_lookup(row, "assignee", lookups.agents, "agent"),
        tags=row.get("tags", f.tags) or [],
        category=row.get("category", f.line, 100) or None,
        product=row.get("product", f.line, 100) or None,
        created_at=row.get("created_at", f.timestamp),
    )
    return row.errors or record


def customer(raw: RawRow, lookups: Lookups) -> CustomerRecord | list[RowError]:
    """Validate one customer row."""
    row = _Row(raw)
    ext = row.external_id(required=False, kind="customers")
    row.one_of(("external_id", "email", "phone"))
    record = CustomerRecord(
        line=raw.line, given=row.given, external_id=ext,
        name=row.get("name", f.line, 200) or "",
        email=row.get("email", f.email), phone=row.get("phone", f.phone),
        organization=row.get("organization", f.line, 200) or None,
        tier=row.get("tier", f.word, CUSTOMER_TIERS, "tier"),
        language=row.get("language", f.language),
        created_at=row.get("created_at", f.timestamp),
    )
    return row.errors or record


def order(raw: RawRow, lookups: Lookups) -> OrderRecord | list[RowError]:
    """Validate one order row."""
    row = _Row(raw)
    ext = row.external_id(required=True, kind="orders")
    status = row.get("status", f.line, 32)
    record = OrderRecord(
        line=raw.line, given=row.given, external_id=ext or "",
        customer=CustomerRef(email=row.get("customer_email", f.email, required=True)),
        number=row.get("number", f.line, 100, required=True) or "",
        status=status.lower() if status else None,
        amount_cents=row.get("amount", f.amount_cents),
        currency=row.get("currency", f.currency),
        items=row.get("items", f.items) or [],
        created_at=row.get("created_at", f.timestamp),
    )
    return row.errors or record


def article(raw: RawRow, lookups: Lookups) -> ArticleRecord | list[RowError]:
    """Validate one knowledge-base article row."""
    row = _Row(raw)
    ext = row.external_id(required=True, kind="kb articles")
    record = ArticleRecord(
        line=raw.line, given=row.given, external_id=ext or "",
        title=row.get("title", f.line, 300, required=True) or "",
        body=row.get("body", f.body, KB_MAX_BODY, required=True) or "",
        tags=row.get("tags", f.tags) or [],
        locale=row.get("locale", f.language),
        status=row.get("status", f.word, KB_STATUSES, "status"),
        created_at=row.get("created_at", f.timestamp),
    )
    return row.errors or record


VALIDATORS: dict[str, Callable[[RawRow, Lookups], Any]] = {
    "tickets": ticket, "customers": customer, "orders": order, "kb": article,
}


def validate(kind: str, raw: RawRow, lookups: Lookups) -> Record | list[RowError]:
    """A record of ``kind`` from ``raw``, or every problem the row has."""
    if raw.problems and not raw.cells:
        # Not a row at all (broken JSON, not an object): one message, not one per column.
        return [RowError(raw.line, column, msg) for column, msg in raw.problems]
    result: Record | list[RowError] = VALIDATORS[kind](raw, lookups)
    return result
