"""Read models for routing, inbound channels and the bot (Backend contract)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent_tui.domain.enums import AgentStatus, Channel, Status
from agent_tui.domain.views import TicketRow


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class NextTicket(_Frozen):
    """The ticket ``next_ticket()`` recommends, and why, in one line."""

    ticket: TicketRow
    reason: str
    score: float
    taken: bool = False


class RouteCandidate(_Frozen):
    """One agent of the ticket's team as routing sees them."""

    login: str
    name: str
    status: AgentStatus
    load: int
    capacity: int
    eligible: bool
    why_not: str | None = None
    senior: bool = False
    rank: int | None = None  # 1 = would get the ticket


class RouteExplanation(_Frozen):
    """``route explain``: every candidate, eligible or why not, and who would get it."""

    ticket_id: int
    team: str | None
    skills: list[str]
    language: str
    vip: bool
    winner: str | None
    reason: str
    candidates: list[RouteCandidate]


class InboundResult(_Frozen):
    """What one inbound message did."""

    ticket_id: int
    customer_id: int
    customer_created: bool
    action: str  # created | continued | reopened | follow_up
    status: Status
    channel: Channel
    assignee: str | None = None
    bot: str | None = None  # answered | resolved | handoff | None
    follow_up_of: int | None = None
    events: list[str] = []
