"""Rows for the bulk loader: table specs, batches, epoch timestamps, staging files.

Light on purpose: worker processes import this (and not the loader) to
build batches and write staging files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from agent_tui.domain import tables as _tables  # noqa: F401  (registers the metadata)
from agent_tui.domain.tables.base import UTCDateTime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(value: datetime) -> int:
    """A timezone-aware datetime as integer microseconds since 1970 (UTC)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: bulk rows take timezone-aware UTC times only")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(value: int) -> datetime:
    """The inverse of :func:`epoch_us`."""
    seconds, micros = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


@dataclass(frozen=True)
class TableSpec:
    """How one table is staged: its columns in row order and its local ids."""

    table: str
    columns: tuple[str, ...]
    key: str | None = None  # column holding a batch-local id (0, 1, …)
    refs: tuple[tuple[str, str], ...] = ()  # (column, table) holding batch-local ids of `table`


def _spec(table: str, columns: str, key: str | None = None,
          refs: Sequence[tuple[str, str]] = ()) -> TableSpec:
    return TableSpec(table, tuple(columns.split()), key, tuple(refs))


# Parents before children: promotion follows this order.
SPECS: dict[str, TableSpec] = {s.table: s for s in (
    _spec("agent", "id login name email role status capacity skills languages active created_at",
          key="id"),
    _spec("team", "id name description lead_agent_id created_at", key="id",
          refs=[("lead_agent_id", "agent")]),
    _spec("agentteam", "agent_id team_id", refs=[("agent_id", "agent"), ("team_id", "team")]),
    _spec("business_hours", "id name timezone schedule", key="id"),
    _spec("holiday", "business_hours_id day name", refs=[("business_hours_id", "business_hours")]),
    _spec("sla_policy", "id name priority tier category first_response_minutes "
          "next_response_minutes resolution_minutes business_hours_id active", key="id",
          refs=[("business_hours_id", "business_hours")]),
    _spec("sla_escalation_rule", "id name policy_id priority clock action active created_at",
          key="id", refs=[("policy_id", "sla_policy")]),
    _spec("routing_rule", "id field value skill team_id", key="id", refs=[("team_id", "team")]),
    _spec("routing_setting", "key value"),
    _spec("store_setting", "key value updated_at"),
    _spec("macro", "id name body actions locale active", key="id"),
    _spec("knowledge_article", "id title body tags locale status external_id version used_count "
          "helpful_count created_at updated_at", key="id"),
    _spec("organization", "id name domain created_at", key="id"),
    _spec("customer", "id name email phone tier language address external_id organization_id "
          "created_at updated_at", key="id"),
    _spec("identity", "customer_id channel address verified created_at",
          refs=[("customer_id", "customer")]),
    _spec("customer_order", "customer_id external_id number status amount_cents currency items "
          "created_at updated_at", refs=[("customer_id", "customer")]),
    _spec("ticket", "id channel subject status priority category product channel_detail tags "
          "external_id customer_id assignee_id team_id is_open version created_at updated_at "
          "first_response_at solved_at closed_at sla_due_at first_response_due_at "
          "resolution_due_at next_response_due_at sla_at_risk sla_breached sla_check_at",
          key="id"),
    _spec("message", "ticket_id author_kind author_agent_id author_customer_id public body "
          "channel created_at", refs=[("ticket_id", "ticket")]),
    _spec("ticket_tag", "ticket_id tag", refs=[("ticket_id", "ticket")]),
    _spec("rating", "id ticket_id customer_id csat nps comment created_at", key="id",
          refs=[("ticket_id", "ticket")]),
    # actor, role and source come from the loader's Actor; seq from the database.
    _spec("event", "at kind entity entity_id diff"),
)}

#: Indexes whose keys a time-ordered load inserts in random order: a million-ticket
#: load is faster dropping and rebuilding these (measured), not the others.
RANDOM_ORDER_INDEXES = ("ix_event_at", "ix_message_customer", "ix_ticket_customer_id")

#: Tables whose secondary indexes a fresh big load may drop and rebuild.
BIG_TABLES = ("ticket", "message", "ticket_tag", "event", "customer", "identity",
              "customer_order", "rating")


def kind(table: str, column: str) -> str:
    """"ts", "date", "bool", "int" or "text": how a staged value is typed."""
    col_type = SQLModel.metadata.tables[table].c[column].type
    if isinstance(col_type, UTCDateTime):
        return "ts"
    if isinstance(col_type, sa.Date):
        return "date"
    if isinstance(col_type, sa.Boolean):
        return "bool"
    if isinstance(col_type, sa.Integer):
        return "int"
    return "text"


@dataclass
class Batch:
    """Rows for one write transaction: table → tuples in ``SPECS[table].columns`` order."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def table(self, name: str) -> list[tuple[Any, ...]]:
        """The (mutable) row list of ``name``, created on first use."""
        if name not in SPECS:
            raise KeyError(f"no bulk spec for table {name!r}")
        return self.rows.setdefault(name, [])

    def counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in self.rows.items() if r}


@dataclass(frozen=True)
class BatchResult:
    """What one write did: the id base of each keyed table and the rows per table."""

    bases: dict[str, int]
    counts: dict[str, int]

    def id_of(self, table: str, local: int) -> int:
        return self.bases[table] + local


def sqlite_stage_ddl(schema: str) -> list[str]:
    # Untyped columns: values are stored exactly as bound, converted on promotion.
    return [f'CREATE TABLE IF NOT EXISTS {schema}."{s.table}" ({", ".join(s.columns)})'
            for s in SPECS.values()]


def insert_sql(schema: str, spec: TableSpec) -> str:
    marks = ", ".join("?" * len(spec.columns))
    return f'INSERT INTO {schema}."{spec.table}" ({", ".join(spec.columns)}) VALUES ({marks})'


def stage_file(path: Path, batch: Batch) -> Path:
    """Write ``batch`` into a new SQLite staging file (for a worker process).

    The file has no journal and no indexes: it is scratch that the loader
    attaches, promotes and deletes.
    """
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        for ddl in sqlite_stage_ddl("main"):
            conn.execute(ddl)
        conn.execute("BEGIN")
        for name, rows in batch.rows.items():
            if rows:
                conn.executemany(insert_sql("main", SPECS[name]), rows)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path
