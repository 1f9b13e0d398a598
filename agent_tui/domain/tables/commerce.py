"""External commerce data shown in the customer 360: orders and ratings."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.tables.base import ts_column, utcnow


class Order(SQLModel, table=True):
    __tablename__ = "customer_order"  # ORDER is a reserved word

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    number: str = Field(max_length=100, index=True)
    status: str = Field(default="placed", max_length=32)
    amount_cents: int = 0
    currency: str = Field(default="USD", max_length=3)
    items: str = Field(default="[]", sa_column=sa.Column(sa.Text, nullable=False))  # JSON list
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Rating(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    csat: int | None = None  # 1..5
    nps: int | None = None  # 0..10
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
