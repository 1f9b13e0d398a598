"""Routing configuration and state: the skill map, settings, the rotation."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class RoutingRule(SQLModel, table=True):
    """Admin-set data: a ticket whose ``field`` equals (or, for ``keyword``,
    contains) ``value`` needs ``skill`` and, if it has no team yet, goes to
    ``team_id``. Fields: category, product, channel, keyword."""

    __tablename__ = "routing_rule"
    __table_args__ = (sa.UniqueConstraint("field", "value", name="uq_routing_rule_field_value"),)

    id: int | None = Field(default=None, primary_key=True)
    field: str = Field(max_length=16)
    value: str = Field(max_length=100)
    skill: str | None = Field(default=None, max_length=100)
    team_id: int | None = Field(default=None, foreign_key="team.id")


class RoutingSetting(SQLModel, table=True):
    """Key/value settings for routing and the bot; absent keys use the coded defaults."""

    __tablename__ = "routing_setting"

    key: str = Field(max_length=64, primary_key=True)
    value: str = Field(max_length=500)


class RoutingAgentState(SQLModel, table=True):
    """The round-robin rotation: when routing last gave each agent a ticket.

    ``last_routed_seq`` is the event seq of that ``ticket.routed`` event, a
    number every process agrees on, so ties go round in the same order
    whichever process routes.
    """

    __tablename__ = "routing_agent_state"

    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    last_routed_seq: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                          nullable=True))
    routed_total: int = 0
