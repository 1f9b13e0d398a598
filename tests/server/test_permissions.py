"""The permission matrix, route by route, for every role and for bad tokens.

Every route of the app must be in ``agent_tui.server.permissions.MATRIX``
and every row of the matrix must be a route; then each route is called as
agent, supervisor, admin, anonymous, with an expired, a revoked and an
unknown token, and the answer must be what the matrix says: 401 without a
valid token, 403 below the route's role, neither at or above it.
"""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

from agent_tui.backend import Backend
from agent_tui.domain.enums import Role
from agent_tui.server.permissions import MATRIX, Rule
from backend_client import RemoteBackend
from tests.server.conftest import Served

ROLES = {"alice": Role.AGENT, "sam": Role.SUPERVISOR, "ada": Role.ADMIN}
BAD_TOKENS = ("anonymous", "expired", "revoked", "bogus")


def _request(rule: Rule, served: Served, who: str) -> tuple[str, dict[str, Any] | None,
                                                             dict[str, Any]]:
    """A well-formed request for ``rule`` (path, JSON body, query) as ``who`` would send it."""
    path = (rule.path.replace("{ticket_id}", str(served.ticket_id))
            .replace("{customer_id}", str(served.customer_id))
            .replace("{article_id}", str(served.article_id))
            .replace("{macro_id}", "1").replace("{other_id}", str(served.ticket_id + 1))
            .replace("{name}", f"view-{who}").replace("{channel}", "email"))
    body: dict[str, Any] | None = None
    query: dict[str, Any] = {}
    bodies: dict[str, dict[str, Any]] = {
        "set_status": {"status": "online"},
        "set_presence": {"ticket_id": served.ticket_id, "state": "viewing"},
        "save_view": {"view": "all_open"},
        "create_ticket": {"subject": "Printer on fire", "body": "help",
                          "customer_email": "dan@example.com"},
        "update_ticket": {"changes": {"priority": 3}, "expected_version": 10_000},
        "reply": {"body": "On it"}, "note": {"body": "internal"},
        "assign": {"assignee": who, "team": "billing"},
        "record_rating": {"csat": 5},
        "reveal_customer": {"reason": "verifying the caller"},
        "article_feedback": {"kind": "used", "ticket_id": served.ticket_id},
        "assign_many": {"ticket_ids": [served.ticket_id], "assignee": None},
        "apply_macro": {"expected_version": 1},
        "escalate": {"reason": "angry customer", "expected_version": 1},
        "merge": {"into_id": served.ticket_id + 1, "expected_version": 1},
        "link": {"kind": "related"},
    }
    if rule.method in bodies:
        body = bodies[rule.method]
    if rule.path == "/api/v1/inbound/{channel}":
        body = {"address": "eve@example.com", "body": "where is my parcel?"}
    if rule.method == "presence":
        query = {"ticket_id": served.ticket_id}
    if rule.method in ("search_customers", "search_kb"):
        query = {"q": "refund"}
    return path, body, query


def _call(served: Served, rule: Rule, who: str) -> tuple[int, str]:
    path, body, query = _request(rule, served, who)
    headers = served.auth(who)
    with httpx.Client(base_url=served.url, timeout=10.0) as client:
        if rule.method == "subscribe":
            with client.stream("GET", path, headers=headers, params={"after": 0}) as response:
                return response.status_code, ""
        response = client.request(rule.http, path, headers=headers, json=body, params=query)
        assert response.status_code < 500, (rule, who, response.text)
        message = response.json().get("message", "") if response.content.startswith(b"{") else ""
        return response.status_code, str(message)


def test_every_route_is_in_the_matrix(served: Served) -> None:
    spec = httpx.get(served.url + "/api/v1/openapi.json").json()
    routes = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    rows = {(r.http, r.path) for r in MATRIX}
    assert routes == rows, f"not in the matrix: {routes - rows}; not routes: {rows - routes}"
    assert len(rows) == len(MATRIX), "a route appears twice in the matrix"


def test_every_backend_method_has_a_route_and_a_remote_implementation() -> None:
    protocol = {name for name, _ in inspect.getmembers(Backend, inspect.isfunction)
                if not name.startswith("_")}
    routed = {r.method for r in MATRIX if r.method} | {"close"}
    assert protocol - routed == set(), f"Backend methods with no route: {protocol - routed}"
    missing = {name for name in protocol
               if getattr(RemoteBackend, name, None) is getattr(Backend, name, None)
               or not callable(getattr(RemoteBackend, name, None))}
    assert missing == set(), f"Backend methods RemoteBackend does not implement: {missing}"
    for name in protocol:  # same parameters, so a screen can call either backend alike
        want = list(inspect.signature(getattr(Backend, name)).parameters)
        got = list(inspect.signature(getattr(RemoteBackend, name)).parameters)
        assert got == want, f"RemoteBackend.{name}{got} differs from Backend.{name}{want}"


@pytest.mark.parametrize("rule", MATRIX, ids=lambda r: f"{r.http} {r.path}")
def test_route_obeys_the_matrix(served: Served, rule: Rule) -> None:
    matrix_refusal = f"{rule.http} {rule.path} needs the"
    for who in BAD_TOKENS:
        status, _ = _call(served, rule, who)
        if rule.role is None:
            assert status == 200, (who, status)
        else:
            assert status == 401, f"{who} got {status} on {rule.http} {rule.path}"
    for who, role in ROLES.items():
        status, message = _call(served, rule, who)
        if rule.role is not None and role.rank < rule.role.rank:
            assert status == 403, f"{who} ({role}) got {status} on {rule.http} {rule.path}"
            assert message.startswith(matrix_refusal), message
        else:
            # The route lets the role in; a service may still refuse the data (an agent
            # taking a ticket someone else holds), but never with the matrix's refusal.
            assert status != 401, f"{who} ({role}) got 401 on {rule.path}"
            assert not message.startswith(matrix_refusal), f"{who} ({role}): {message}"


def test_refusals_say_why(served: Served) -> None:
    for who, needle in (("expired", "expired"), ("revoked", "revoked"),
                        ("anonymous", "Bearer")):
        response = httpx.get(served.url + "/api/v1/me", headers=served.auth(who))
        assert response.status_code == 401
        assert needle in response.json()["message"]
    response = httpx.get(served.url + "/api/v1/monitor", headers=served.auth("alice"))
    assert response.status_code == 403
    assert "supervisor" in response.json()["message"]
