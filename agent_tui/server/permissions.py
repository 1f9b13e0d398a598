"""The permission matrix: which role each route needs, as one committed table.

The server enforces it before a route runs (``auth.caller``), the services
check again on the data, and ``tests/server/test_permissions.py`` checks the
table route by route for every role and for bad tokens. ``None`` means the
route is open to anonymous callers. ``method`` names the Backend protocol
method the route implements (``""`` for routes outside the protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_tui.domain.enums import Role

A, S, ADM = Role.AGENT, Role.SUPERVISOR, Role.ADMIN


@dataclass(frozen=True)
class Rule:
    http: str
    path: str
    role: Role | None
    method: str


MATRIX: tuple[Rule, ...] = (
    # -- open --------------------------------------------------------------
    Rule("GET", "/api/v1/health", None, ""),
    # -- session -----------------------------------------------------------
    Rule("GET", "/api/v1/me", A, "whoami"),
    Rule("PUT", "/api/v1/me/status", A, "set_status"),
    Rule("PUT", "/api/v1/presence", A, "set_presence"),
    Rule("GET", "/api/v1/presence", A, "presence"),
    Rule("GET", "/api/v1/agents", A, "list_agents"),
    Rule("GET", "/api/v1/teams", A, "list_teams"),
    # -- queue -------------------------------------------------------------
    Rule("GET", "/api/v1/tickets", A, "list_tickets"),
    Rule("GET", "/api/v1/tickets/count", A, "count"),
    Rule("GET", "/api/v1/views", A, "list_views"),
    Rule("PUT", "/api/v1/views/{name}", A, "save_view"),
    Rule("DELETE", "/api/v1/views/{name}", A, "delete_view"),
    # -- tickets -----------------------------------------------------------
    Rule("POST", "/api/v1/tickets", A, "create_ticket"),
    Rule("GET", "/api/v1/tickets/{ticket_id}", A, "get_ticket"),
    Rule("PATCH", "/api/v1/tickets/{ticket_id}", A, "update_ticket"),
    Rule("POST", "/api/v1/tickets/{ticket_id}/replies", A, "reply"),
    Rule("POST", "/api/v1/tickets/{ticket_id}/notes", A, "note"),
    Rule("POST", "/api/v1/tickets/{ticket_id}/assign", A, "assign"),
    Rule("POST", "/api/v1/tickets/{ticket_id}/ratings", A, "record_rating"),
    # -- workspace actions -------------------------------------------------
    Rule("GET", "/api/v1/macros", A, "list_macros"),
    Rule("POST", "/api/v1/tickets/{ticket_id}/macros/{macro_id}", A, "apply_macro"),
    Rule("POST", "/api/v1/tickets/{ticket_id}/escalate", A, "escalate"),
    Rule("POST", "/api/v1/tickets/{ticket_id}/merge", A, "merge"),
    Rule("PUT", "/api/v1/tickets/{ticket_id}/links/{other_id}", A, "link"),
    Rule("DELETE", "/api/v1/tickets/{ticket_id}/links/{other_id}", A, "unlink"),
    # -- customers ---------------------------------------------------------
    Rule("GET", "/api/v1/customers", A, "search_customers"),
    Rule("GET", "/api/v1/customers/{customer_id}", A, "get_360"),
    Rule("POST", "/api/v1/customers/{customer_id}/reveal", A, "reveal_customer"),
    # -- knowledge ---------------------------------------------------------
    Rule("GET", "/api/v1/tickets/{ticket_id}/suggestions", A, "suggest"),
    Rule("GET", "/api/v1/kb/search", A, "search_kb"),
    Rule("GET", "/api/v1/kb/articles/{article_id}", A, "get_article"),
    Rule("POST", "/api/v1/kb/articles/{article_id}/feedback", A, "article_feedback"),
    # -- routing -----------------------------------------------------------
    Rule("GET", "/api/v1/next-ticket", A, "next_ticket"),
    Rule("POST", "/api/v1/next-ticket", A, "next_ticket"),
    Rule("GET", "/api/v1/tickets/{ticket_id}/route", A, "route_explain"),
    # -- sla ---------------------------------------------------------------
    Rule("GET", "/api/v1/tickets/{ticket_id}/sla", A, "sla_clocks"),
    Rule("GET", "/api/v1/sla/policies", A, "list_sla_policies"),
    # -- metrics and monitor (supervisors and admins) ----------------------
    Rule("GET", "/api/v1/metrics", S, "metrics_snapshot"),
    Rule("GET", "/api/v1/monitor", S, "monitor_snapshot"),
    Rule("POST", "/api/v1/tickets/assign", S, "assign_many"),
    # -- events ------------------------------------------------------------
    Rule("GET", "/api/v1/events/last", A, "last_seq"),
    Rule("GET", "/api/v1/events", A, "subscribe"),
    # -- channels (integrations run on an admin's token) -------------------
    Rule("POST", "/api/v1/inbound/{channel}", ADM, ""),
)

#: (HTTP method, path template) → the rule; what the server looks up per request.
BY_ROUTE: dict[tuple[str, str], Rule] = {(r.http, r.path): r for r in MATRIX}


def rule_for(http: str, path: str) -> Rule | None:
    return BY_ROUTE.get((http.upper(), path))
