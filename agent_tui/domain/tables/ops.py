"""Operational tables: SLA, hours, macros, tokens, saved views, presence, events."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.tables.base import ts_column, utcnow


class BusinessHours(SQLModel, table=True):
    __tablename__ = "business_hours"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    timezone: str = Field(default="UTC", max_length=64)
    # JSON: {"mon": ["09:00", "17:00"], ...}; a missing day is closed.
    schedule: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))


class Holiday(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    business_hours_id: int = Field(foreign_key="business_hours.id", index=True)
    day: date
    name: str = Field(default="", max_length=100)


class SLAPolicy(SQLModel, table=True):
    __tablename__ = "sla_policy"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    priority: int | None = None  # Priority; None = any
    tier: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=100)
    first_response_minutes: int
    next_response_minutes: int | None = None
    resolution_minutes: int
    business_hours_id: int | None = Field(default=None, foreign_key="business_hours.id")
    active: bool = True


class Macro(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    actions: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))  # JSON
    locale: str = Field(default="en", max_length=16)
    active: bool = True


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    name: str = Field(default="", max_length=100)
    prefix: str = Field(max_length=16)  # shown to people; the secret is never stored
    token_hash: str = Field(max_length=128, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    expires_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class SavedViewRow(SQLModel, table=True):
    __tablename__ = "saved_view"
    __table_args__ = (sa.UniqueConstraint("agent_id", "name", name="uq_saved_view_agent_name"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    name: str = Field(max_length=100)
    view: str = Field(max_length=32)
    view_arg: str | None = Field(default=None, max_length=100)
    filters: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))  # JSON
    sort: str = Field(default="priority", max_length=16)


class PresenceRow(SQLModel, table=True):
    """Who is looking at or writing on a ticket; rows expire, they are not history."""

    __tablename__ = "presence"
    __table_args__ = (sa.Index("ix_presence_ticket", "ticket_id"),)

    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    state: str = Field(max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Event(SQLModel, table=True):
    """The append-only event log: audit trail and live feed (ARCHITECTURE §5).

    ``actor`` is a login string rather than a foreign key so that history
    outlives the agent row.
    """

    __table_args__ = (
        sa.Index("ix_event_entity", "entity", "entity_id", "seq"),
        {"sqlite_autoincrement": True},  # never reuse a seq, even after a purge
    )

    seq: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                          primary_key=True, autoincrement=True)
    )
    at: datetime = Field(default_factory=utcnow, sa_column=ts_column(index=True))
    actor: str = Field(max_length=100)
    role: str = Field(max_length=16)
    source: str = Field(max_length=16)
    kind: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: int | None = None
    diff: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))  # JSON


class AuditGuard(SQLModel, table=True):
    """One row; ``unlocked = 1`` only inside the retention and erase transactions.

    The append-only triggers on ``event`` read it, so an UPDATE or DELETE of
    the log outside those two paths is refused by the database itself.
    """

    __tablename__ = "audit_guard"

    id: int = Field(default=1, primary_key=True)
    unlocked: int = 0


class StoreSetting(SQLModel, table=True):
    """Store-wide settings that belong to no one part (e.g. the app's default agent)."""

    __tablename__ = "store_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
