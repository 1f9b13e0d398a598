"""Tickets, their messages and tags.

The queue's indexes are partial and dialect-specific, so they live in the
hand-written migration ``0002`` rather than in this metadata; see
``agent_tui.store.queue`` for the queries they serve.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.enums import AuthorKind, Channel, Status
from agent_tui.domain.tables.base import ts_column, utcnow


class TicketBase(SQLModel):
    channel: Channel = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    subject: str = Field(max_length=500)
    status: Status = Field(default=Status.NEW, sa_column=sa.Column(sa.String(16), nullable=False))
    priority: int = Field(default=2)  # Priority, an IntEnum
    category: str | None = Field(default=None, max_length=100)
    product: str | None = Field(default=None, max_length=100)
    channel_detail: str | None = Field(default=None, max_length=500)  # IVR path, social network
    tags: str = Field(default="", max_length=2000)  # space-separated, mirrored in ticket_tag


class Ticket(TicketBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    is_open: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    first_response_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    solved_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    sla_due_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    first_response_due_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    resolution_due_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # SLA engine (services.sla): flags kept current on every change and by the sweep.
    next_response_due_at: datetime | None = Field(default=None,
                                                  sa_column=ts_column(nullable=True))
    sla_at_risk: bool = Field(default=False, sa_column=sa.Column(
        sa.Boolean, nullable=False, server_default=sa.false()))
    sla_breached: bool = Field(default=False, sa_column=sa.Column(
        sa.Boolean, nullable=False, server_default=sa.false()))
    # The next moment the sweep must look at this ticket (an at-risk or breach
    # moment of a running clock); partial index ix_ticket_sla_check (0004).
    sla_check_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # Closed by a merge into that ticket (0009). No foreign key: adding one to
    # the big ticket table would rebuild it on SQLite.
    merged_into_id: int | None = Field(default=None)


class TicketTag(SQLModel, table=True):
    __tablename__ = "ticket_tag"
    __table_args__ = (sa.Index("ix_ticket_tag_tag", "tag", "ticket_id"),)

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    tag: str = Field(max_length=100, primary_key=True)


class Message(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_message_ticket", "ticket_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    author_kind: AuthorKind = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    author_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    author_customer_id: int | None = Field(default=None, foreign_key="customer.id")
    public: bool = True
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    channel: Channel = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
