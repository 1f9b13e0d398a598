"""SLA engine state: each ticket's clocks and the escalation rules.

The clocks of one ticket share one *business-time counter*: ``counter_us``
is the business time (microseconds, in the policy's schedule) the ticket's
clocks have run before ``segment_start``; while the ticket is open and not
pending/on hold a segment runs from ``segment_start``. Each clock records
the counter value at which it started and, once stopped, where it stopped,
so a clock's use is ``counter - start`` and pauses cost nothing to store.
A missing row means "derive the clocks from the ticket's timestamps" (demo
and imported stores), which ``services.sla.recompute`` then writes.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.tables.base import ts_column, utcnow


def _us(nullable: bool = True) -> sa.Column[int]:
    return sa.Column(sa.BigInteger, nullable=nullable)


class TicketSla(SQLModel, table=True):
    """The running state behind a ticket's due times and SLA flags."""

    __tablename__ = "ticket_sla"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    policy_id: int | None = Field(default=None, foreign_key="sla_policy.id")
    counter_us: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))
    segment_start: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    fr_start_us: int | None = Field(default=None, sa_column=_us())
    fr_stop_us: int | None = Field(default=None, sa_column=_us())
    fr_breached: bool = False
    nr_start_us: int | None = Field(default=None, sa_column=_us())
    nr_stop_us: int | None = Field(default=None, sa_column=_us())
    nr_breached: bool = False
    res_start_us: int | None = Field(default=None, sa_column=_us())
    res_stop_us: int | None = Field(default=None, sa_column=_us())
    res_breached: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class SlaEscalationRule(SQLModel, table=True):
    """What to do when a clock breaches: data, set with ``agent-tui sla rule set``.

    ``policy_id``, ``priority`` and ``clock`` narrow the rule; ``None`` means any.
    ``action`` is ``raise_priority``, ``reassign_lead`` or ``notify_supervisor``.
    """

    __tablename__ = "sla_escalation_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    policy_id: int | None = Field(default=None, foreign_key="sla_policy.id")
    priority: int | None = None
    clock: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=32)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class SlaSetting(SQLModel, table=True):
    """Store-wide SLA settings: one row (``id = 1``), absent means the defaults."""

    __tablename__ = "sla_setting"

    id: int = Field(default=1, primary_key=True)
    at_risk_percent: int = 80  # a clock is at risk once this share of its target is used
