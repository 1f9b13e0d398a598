"""The ASGI fast path (server.hot_reads) answers exactly as the FastAPI routes do.

A query parameter FastAPI ignores (``x=1``) sends the same request down the
documented route instead, so every pair below is one request answered both
ways: same status, same body bytes, same content type — errors included.
"""

from __future__ import annotations

import httpx
import pytest

from agent_tui.domain.enums import Sort, View
from agent_tui.server.hot_reads import queue_args, ticket_id_of
from tests.server.conftest import Served


def _both(client: httpx.Client, path: str, params: dict[str, str | int] | None = None,
          headers: dict[str, str] | None = None) -> tuple[httpx.Response, httpx.Response]:
    fast = client.get(path, params=params, headers=headers)
    slow = client.get(path, params={**(params or {}), "x": 1}, headers=headers)
    return fast, slow


def _same(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    assert fast.headers["content-type"] == slow.headers["content-type"]
    assert fast.headers.get("www-authenticate") == slow.headers.get("www-authenticate")


@pytest.mark.parametrize("who", ["ada", "sam", "alice", "bob"])
def test_queue_and_detail_as_every_role(served: Served, who: str) -> None:
    with httpx.Client(base_url=served.url, headers=served.auth(who)) as client:
        queries: list[dict[str, str | int]] = [
            {}, {"view": "all_open", "limit": 50}, {"sort": "age", "limit": 1},
            {"view": "team", "view_arg": "billing"}, {"view": "my_open"},
            {"view": "unassigned", "sort": "updated"}]
        for params in queries:
            fast, slow = _both(client, "/api/v1/tickets", params)
            assert fast.status_code == 200
            _same(fast, slow)
        first = client.get("/api/v1/tickets", params={"limit": 1, "sort": "age"}).json()
        if first["next_cursor"]:
            _same(*_both(client, "/api/v1/tickets", {"limit": 1, "sort": "age",
                                                     "after": first["next_cursor"]}))
        fast, slow = _both(client, f"/api/v1/tickets/{served.ticket_id}")
        assert fast.status_code == 200
        _same(fast, slow)


def test_errors_are_the_routes_errors(served: Served) -> None:
    with httpx.Client(base_url=served.url) as client:
        for who in ["expired", "revoked", "bogus", "nobody"]:
            fast, slow = _both(client, "/api/v1/tickets", headers=served.auth(who))
            assert fast.status_code == 401
            _same(fast, slow)
            _same(*_both(client, f"/api/v1/tickets/{served.ticket_id}",
                         headers=served.auth(who)))
        alice = served.auth("alice")
        cases: list[tuple[str, dict[str, str | int] | None, int]] = [
            ("/api/v1/tickets/999999", None, 404),
            ("/api/v1/tickets", {"after": "junk"}, 422),
            ("/api/v1/tickets", {"view": "team", "view_arg": "nope"}, 422),
            ("/api/v1/tickets", {"view": "team"}, 422),
        ]
        for path, params, status in cases:
            fast, slow = _both(client, path, params, headers=alice)
            assert fast.status_code == status, (path, params, fast.text)
            _same(fast, slow)


def test_anything_unusual_goes_to_fastapi() -> None:
    assert queue_args(b"") == {}
    assert queue_args(b"view=team&view_arg=billing&sort=age&limit=7&after=") == {
        "view": View.TEAM, "view_arg": "billing", "sort": Sort.AGE, "limit": 7, "after": ""}
    for query in [b"status=open", b"text=x", b"limit=0", b"limit=501", b"limit=+5",
                  b"limit=%C2%B2", b"view=nope", b"sort=", b"view=all_open&view=my_open",
                  b"after=%FF", b"x=1"]:
        assert queue_args(query) is None, query
    assert ticket_id_of("/api/v1/tickets/42") == 42
    for path in ["/api/v1/tickets/count", "/api/v1/tickets/", "/api/v1/tickets/-1",
                 f"/api/v1/tickets/{2**63}", "/api/v1/tickets/4%32"]:
        assert ticket_id_of(path) is None, path
