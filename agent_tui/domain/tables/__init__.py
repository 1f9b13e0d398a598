"""SQLModel tables (ARCHITECTURE §4). Importing this package registers them all."""

from agent_tui.domain.tables.base import UTCDateTime, utcnow
from agent_tui.domain.tables.commerce import Order, Rating
from agent_tui.domain.tables.knowledge import KnowledgeArticle
from agent_tui.domain.tables.knowledge_search import KnowledgeFeedbackTerm
from agent_tui.domain.tables.links import TicketLink
from agent_tui.domain.tables.loop import (
    LoopSetting,
    MetricBacklog,
    MetricDay,
    MetricHist,
    SurveyRequest,
    TicketFact,
)
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
    StoreSetting,
)
from agent_tui.domain.tables.people import Agent, AgentTeam, Customer, Identity, Organization, Team
from agent_tui.domain.tables.routing import RoutingAgentState, RoutingRule, RoutingSetting
from agent_tui.domain.tables.sla import SlaEscalationRule, SlaSetting, TicketSla
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
    "KnowledgeFeedbackTerm",
    "LoopSetting",
    "Macro",
    "Message",
    "MetricBacklog",
    "MetricDay",
    "MetricHist",
    "Order",
    "Organization",
    "PresenceRow",
    "Rating",
    "RoutingAgentState",
    "RoutingRule",
    "RoutingSetting",
    "SLAPolicy",
    "SavedViewRow",
    "SlaEscalationRule",
    "SlaSetting",
    "StoreSetting",
    "SurveyRequest",
    "Team",
    "Ticket",
    "TicketFact",
    "TicketLink",
    "TicketSla",
    "TicketTag",
    "UTCDateTime",
    "utcnow",
]
