"""Customers and their identities, organizations, agents and teams."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.enums import AgentStatus, Channel, Role
from agent_tui.domain.tables.base import ts_column, utcnow


class OrganizationBase(SQLModel):
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    domain: str | None = Field(default=None, max_length=200)


class Organization(OrganizationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class CustomerBase(SQLModel):
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    tier: str = Field(default="standard", max_length=32)  # standard | gold | vip
    language: str | None = Field(default=None, max_length=16)
    address: str | None = Field(default=None, max_length=500)


class Customer(CustomerBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    erased_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class Identity(SQLModel, table=True):
    """One address by which a customer reaches us on one channel."""

    __table_args__ = (
        sa.UniqueConstraint("channel", "address", name="uq_identity_channel_address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: Channel = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    address: str = Field(max_length=320)
    verified: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class TeamBase(SQLModel):
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    description: str = Field(default="", max_length=500)


class Team(TeamBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lead_agent_id: int | None = Field(default=None, foreign_key="agent.id")  # SLA escalation
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class AgentBase(SQLModel):
    login: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role = Field(default=Role.AGENT, sa_column=sa.Column(sa.String(16), nullable=False))
    status: AgentStatus = Field(
        default=AgentStatus.OFFLINE,
        sa_column=sa.Column(sa.String(16), nullable=False),
    )
    capacity: int = 10
    skills: str = Field(default="", max_length=1000)  # comma-separated
    languages: str = Field(default="", max_length=200)  # comma-separated
    active: bool = True


class Agent(AgentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class AgentTeam(SQLModel, table=True):
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    team_id: int = Field(foreign_key="team.id", primary_key=True, index=True)
