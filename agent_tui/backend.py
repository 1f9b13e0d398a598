"""THE contract between the UI (or any client) and a store (ARCHITECTURE §3).

``LocalBackend`` implements it over a store in this process;
``backend_client.RemoteBackend`` over HTTP. Screens, widgets and the client
import this module and nothing else of the core; it re-exports the enums,
read models and errors they need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from agent_tui.domain.enums import (
    AgentStatus,
    AuthorKind,
    Channel,
    PresenceState,
    Priority,
    Role,
    Sort,
    Source,
    Status,
    View,
)
from agent_tui.domain.errors import (
    BackendError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unavailable,
)
from agent_tui.domain.safe_text import safe_line, safe_text
from agent_tui.domain.views import (
    AgentView,
    Customer360,
    CustomerView,
    EventView,
    IdentityView,
    MessageView,
    OrderView,
    Page,
    Presence,
    RatingView,
    SavedView,
    TeamView,
    TicketCreate,
    TicketDetail,
    TicketFilters,
    TicketRow,
    TicketUpdate,
)
from agent_tui.domain.views_actions import (
    LinkKind,
    MacroActions,
    MacroResult,
    MacroView,
    TicketLinkView,
)
from agent_tui.domain.views_knowledge import (
    ArticleView,
    FeedbackKind,
    SnippetSpan,
    Suggestion,
)
from agent_tui.domain.views_metrics import (
    Backlog,
    DurationStats,
    GroupBy,
    Kpis,
    MetricGroup,
    MetricsSnapshot,
)
from agent_tui.domain.views_monitor import (
    AgentBoardRow,
    AssignResult,
    BreachForecast,
    HourlySeries,
    MonitorSnapshot,
    SlaTicket,
)
from agent_tui.domain.views_routing import (
    InboundResult,
    NextTicket,
    RouteCandidate,
    RouteExplanation,
)
from agent_tui.domain.views_sla import (
    BusinessHoursView,
    EscalationRuleView,
    SlaClock,
    SlaPolicyView,
)

__all__ = [  # noqa: RUF022 (grouped by area of the contract, not sorted)
    "AgentStatus", "AgentView", "AuthorKind", "Backend", "BackendError", "Channel", "Conflict",
    "Customer360", "CustomerView", "EventView", "Forbidden", "IdentityView", "Invalid",
    "MessageView", "NotFound", "OrderView", "Page", "Presence", "PresenceState", "Priority",
    "RatingView", "Role", "SavedView", "Sort", "Source", "Status", "TeamView", "TicketCreate",
    "TicketDetail", "TicketFilters", "TicketRow", "TicketUpdate", "Unavailable", "View",
    "safe_line", "safe_text",
    # routing
    "InboundResult", "NextTicket", "RouteCandidate", "RouteExplanation",
    # knowledge
    "ArticleView", "FeedbackKind", "SnippetSpan", "Suggestion",
    # sla
    "BusinessHoursView", "EscalationRuleView", "SlaClock", "SlaPolicyView",
    # metrics
    "Backlog", "DurationStats", "GroupBy", "Kpis", "MetricGroup", "MetricsSnapshot",
    # monitor
    "AgentBoardRow", "AssignResult", "BreachForecast", "HourlySeries", "MonitorSnapshot",
    "SlaTicket",
    # workspace actions: macros, escalate, merge, link
    "LinkKind", "MacroActions", "MacroResult", "MacroView", "TicketLinkView",
]


@runtime_checkable
class Backend(Protocol):
    """Everything a screen may ask of the product. All methods are async.

    Errors are the typed ``BackendError`` subclasses above; nothing else
    escapes, so a screen can show any failure as a message.
    """

    #: Human-readable description of where this backend points (a path or a URL).
    location: str

    # -- session ---------------------------------------------------------
    async def whoami(self) -> AgentView: ...
    async def set_status(self, status: AgentStatus) -> AgentView: ...
    async def set_presence(self, ticket_id: int | None, state: PresenceState | None) -> None: ...
    async def presence(self, ticket_ids: list[int]) -> list[Presence]: ...
    async def list_agents(self) -> list[AgentView]: ...
    async def list_teams(self) -> list[TeamView]: ...

    # -- queue -----------------------------------------------------------
    async def list_tickets(self, view: View, *, view_arg: str | None = None,
                           filters: TicketFilters | None = None, sort: Sort = Sort.PRIORITY,
                           after: str | None = None, before: str | None = None,
                           limit: int = 50) -> Page[TicketRow]: ...
    async def count(self, view: View, *, view_arg: str | None = None,
                    filters: TicketFilters | None = None) -> int: ...
    async def save_view(self, name: str, view: View, *, view_arg: str | None = None,
                        filters: TicketFilters | None = None,
                        sort: Sort = Sort.PRIORITY) -> SavedView: ...
    async def list_views(self) -> list[SavedView]: ...
    async def delete_view(self, name: str) -> None: ...

    # -- tickets ---------------------------------------------------------
    async def get_ticket(self, ticket_id: int) -> TicketDetail: ...
    async def create_ticket(self, data: TicketCreate) -> TicketDetail: ...
    async def reply(self, ticket_id: int, body: str, *,
                    expected_version: int | None = None) -> TicketDetail: ...
    async def note(self, ticket_id: int, body: str, *,
                   expected_version: int | None = None) -> TicketDetail: ...
    async def update_ticket(self, ticket_id: int, changes: TicketUpdate, *,
                            expected_version: int) -> TicketDetail: ...
    async def assign(self, ticket_id: int, assignee: str | None, *, team: str | None = None,
                     expected_version: int | None = None) -> TicketDetail: ...

    # -- workspace actions: macros, escalate, merge, link ----------------
    async def list_macros(self) -> list[MacroView]: ...
    async def apply_macro(self, ticket_id: int, macro_id: int, *,
                          expected_version: int) -> MacroResult: ...
    async def escalate(self, ticket_id: int, reason: str, *, team: str | None = None,
                       expected_version: int) -> TicketDetail: ...
    async def merge(self, source_id: int, into_id: int, *, expected_version: int,
                    other_customer: bool = False) -> TicketDetail: ...
    async def link(self, ticket_id: int, other_id: int,
                   kind: LinkKind = LinkKind.RELATED) -> TicketDetail: ...
    async def unlink(self, ticket_id: int, other_id: int) -> TicketDetail: ...

    # -- customers -------------------------------------------------------
    async def get_360(self, customer_id: int) -> Customer360: ...
    async def reveal_customer(self, customer_id: int, reason: str) -> Customer360: ...
    async def search_customers(self, query: str, *, limit: int = 20) -> list[CustomerView]: ...

    # -- knowledge -------------------------------------------------------
    async def suggest(self, ticket_id: int, *, k: int = 5) -> list[Suggestion]: ...
    async def search_kb(self, query: str, *, k: int = 10) -> list[Suggestion]: ...
    async def get_article(self, article_id: int) -> ArticleView: ...
    async def article_feedback(self, article_id: int, kind: FeedbackKind, *,
                               ticket_id: int | None = None) -> int: ...

    # -- routing ---------------------------------------------------------
    async def next_ticket(self, *, take: bool = False) -> NextTicket | None: ...
    async def route_explain(self, ticket_id: int) -> RouteExplanation: ...

    # -- sla -------------------------------------------------------------
    async def sla_clocks(self, ticket_id: int) -> list[SlaClock]: ...
    async def list_sla_policies(self) -> list[SlaPolicyView]: ...

    # -- metrics ---------------------------------------------------------
    async def metrics_snapshot(self, window: str = "7d",
                               group_by: GroupBy | None = None) -> MetricsSnapshot: ...
    async def record_rating(self, ticket_id: int, *, csat: int | None = None,
                            nps: int | None = None, comment: str | None = None) -> RatingView: ...

    # -- monitor (supervisors and admins) --------------------------------
    async def monitor_snapshot(self, window: str = "7d") -> MonitorSnapshot: ...
    async def assign_many(self, ticket_ids: list[int], assignee: str | None, *,
                          team: str | None = None,
                          expected_versions: dict[int, int] | None = None
                          ) -> list[AssignResult]: ...

    # -- events ----------------------------------------------------------
    async def last_seq(self) -> int: ...
    def subscribe(self, after_seq: int) -> AsyncIterator[EventView]: ...

    async def close(self) -> None: ...
