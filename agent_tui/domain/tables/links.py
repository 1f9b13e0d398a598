"""Links between tickets (migration 0009).

One row per pair, stored in the direction it was made ("#5 duplicate of
#3" is ``ticket_id=5, other_id=3``); both tickets show it, so the pair is
unique in either order (checked by ``services.ticket_actions``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.tables.base import ts_column, utcnow


class TicketLink(SQLModel, table=True):
    __tablename__ = "ticket_link"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "other_id", name="uq_ticket_link_pair"),
        sa.Index("ix_ticket_link_other", "other_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    other_id: int = Field(foreign_key="ticket.id")
    kind: str = Field(max_length=16)  # LinkKind
    created_by: str = Field(default="", max_length=100)  # a login, like Event.actor
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
