"""Read models and inputs of the Backend contract: plain pydantic, no tables.

These cross the wire in team mode, so they hold only what a screen needs and
every customer-written string in them has passed ``safe_text``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from agent_tui.domain.enums import (
    AgentStatus,
    AuthorKind,
    Channel,
    PresenceState,
    Priority,
    Role,
    Sort,
    Status,
    View,
)
from agent_tui.domain.views_links import TicketLinkView

T = TypeVar("T")


class ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class AgentView(ReadModel):
    id: int
    login: str
    name: str
    role: Role
    status: AgentStatus
    capacity: int
    skills: list[str] = []
    languages: list[str] = []
    teams: list[str] = []
    active: bool = True


class TeamView(ReadModel):
    id: int
    name: str
    description: str = ""
    members: int = 0


class TicketFilters(BaseModel):
    """Filters that narrow any view. Empty lists mean "any"."""

    model_config = ConfigDict(frozen=True)

    status: list[Status] = []
    priority: list[Priority] = []
    channel: list[Channel] = []
    team: str | None = None
    assignee: str | None = None  # a login, "me" or "none"
    tag: str | None = None
    customer_id: int | None = None
    text: str | None = None  # free text on the subject


class TicketRow(ReadModel):
    """One line of the queue."""

    id: int
    channel: Channel
    subject: str
    status: Status
    priority: Priority
    customer_id: int
    customer_name: str
    assignee: str | None = None  # login
    team: str | None = None
    tags: list[str] = []
    sla_due_at: datetime | None = None
    sla_at_risk: bool = False
    sla_breached: bool = False
    created_at: datetime
    updated_at: datetime
    version: int


class Page(ReadModel, Generic[T]):
    """A window of rows with opaque cursors to the rows after and before it."""

    items: list[T]
    next_cursor: str | None = None
    prev_cursor: str | None = None


class MessageView(ReadModel):
    id: int
    author_kind: AuthorKind
    author_name: str
    public: bool
    body: str
    channel: Channel
    created_at: datetime


class TicketDetail(TicketRow):
    category: str | None = None
    product: str | None = None
    channel_detail: str | None = None
    customer_email: str | None = None
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    messages: list[MessageView] = []
    links: list[TicketLinkView] = []  # other tickets tied to this one (issue 4)
    merged_into_id: int | None = None  # closed by a merge into that ticket


class TicketCreate(BaseModel):
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1)
    channel: Channel = Channel.EMAIL
    customer_id: int | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    priority: Priority = Priority.NORMAL
    team: str | None = None
    tags: list[str] = []
    category: str | None = None
    product: str | None = None


class TicketUpdate(BaseModel):
    """Fields an agent may change; ``None`` leaves a field as it is."""

    status: Status | None = None
    priority: Priority | None = None
    category: str | None = None
    product: str | None = None
    tags: list[str] | None = None
    team: str | None = None
    subject: str | None = None


class IdentityView(ReadModel):
    id: int
    channel: Channel
    address: str
    verified: bool = False


class OrderView(ReadModel):
    id: int
    number: str
    status: str
    amount_cents: int
    currency: str
    items: list[str] = []
    created_at: datetime


class RatingView(ReadModel):
    id: int
    ticket_id: int
    csat: int | None = None
    nps: int | None = None
    comment: str | None = None
    created_at: datetime


class CustomerView(ReadModel):
    id: int
    name: str
    email: str | None = None
    phone: str | None = None
    organization: str | None = None
    tier: str = "standard"
    language: str | None = None
    created_at: datetime
    masked: bool = False


class Customer360(ReadModel):
    customer: CustomerView
    identities: list[IdentityView] = []
    orders: list[OrderView] = []
    tickets: list[TicketRow] = []
    ratings: list[RatingView] = []
    lifetime_value_cents: int = 0
    currency: str | None = None
    open_tickets: int = 0
    last_contact_at: datetime | None = None
    repeat_contact: bool = False  # another ticket within the last 7 days
    average_csat: float | None = None
    masked: bool = False


class SavedView(ReadModel):
    id: int
    name: str
    view: View
    view_arg: str | None = None
    filters: TicketFilters = TicketFilters()
    sort: Sort = Sort.PRIORITY


class Presence(ReadModel):
    ticket_id: int
    agent: str
    state: PresenceState
    at: datetime


class EventView(ReadModel):
    seq: int
    at: datetime
    actor: str
    role: str
    source: str
    kind: str
    entity: str
    entity_id: int | None = None
    diff: dict[str, Any] = {}
