"""Request bodies of the API: small pydantic models, one per write route."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent_tui.domain.enums import AgentStatus, PresenceState, Sort, View
from agent_tui.domain.views import TicketFilters, TicketUpdate
from agent_tui.domain.views_knowledge import FeedbackKind


class StatusBody(BaseModel):
    status: AgentStatus


class PresenceBody(BaseModel):
    ticket_id: int | None = None
    state: PresenceState | None = None


class SaveViewBody(BaseModel):
    view: View
    view_arg: str | None = None
    filters: TicketFilters | None = None
    sort: Sort = Sort.PRIORITY


class MessageBody(BaseModel):
    body: str
    expected_version: int | None = None


class UpdateBody(BaseModel):
    changes: TicketUpdate
    expected_version: int


class AssignBody(BaseModel):
    assignee: str | None = None
    team: str | None = None
    expected_version: int | None = None


class AssignManyBody(BaseModel):
    ticket_ids: list[int] = Field(max_length=1000)
    assignee: str | None = None
    team: str | None = None
    expected_versions: dict[int, int] | None = None


class RatingBody(BaseModel):
    csat: int | None = None
    nps: int | None = None
    comment: str | None = None


class RevealBody(BaseModel):
    reason: str


class FeedbackBody(BaseModel):
    kind: FeedbackKind | str  # checked by the service, so the error reads the same
    ticket_id: int | None = None


class InboundBody(BaseModel):
    """One customer message arriving on a channel (the HTTP twin of ``agent-tui inbound``)."""

    address: str = Field(min_length=1, max_length=320)
    body: str
    name: str | None = None
    subject: str | None = None
    team: str | None = None
    category: str | None = None
    product: str | None = None


class Count(BaseModel):
    count: int


class Seq(BaseModel):
    seq: int


class Health(BaseModel):
    status: str
    version: str
    api: str = "v1"
    database: str
    dialect: str
    events_seq: int | None = None
    subscribers: int = 0
