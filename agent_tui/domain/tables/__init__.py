"""SQLModel tables (ARCHITECTURE §4). Importing this package registers them all."""

from agent_tui.domain.tables.base import UTCDateTime, utcnow
from agent_tui.domain.tables.commerce import Order, Rating
from agent_tui.domain.tables.knowledge import KnowledgeArticle
from agent_tui.domain.tables.ops import (
    ApiToken,
    AuditGuard,
    BusinessHours,
    Event,
    Holiday,
    Macro,
    PresenceRow,
    SavedViewRow,
    SLAPolicy,
)
from agent_tui.domain.tables.people import Agent, AgentTeam, Customer, Identity, Organization, Team
from agent_tui.domain.tables.tickets import Message, Ticket, TicketTag

__all__ = [
    "Agent",
    "AgentTeam",
    "ApiToken",
    "AuditGuard",
    "BusinessHours",
    "Customer",
    "Event",
    "Holiday",
    "Identity",
    "KnowledgeArticle",
    "Macro",
    "Message",
    "Order",
    "Organization",
    "PresenceRow",
    "Rating",
    "SLAPolicy",
    "SavedViewRow",
    "Team",
    "Ticket",
    "TicketTag",
    "UTCDateTime",
    "utcnow",
]
