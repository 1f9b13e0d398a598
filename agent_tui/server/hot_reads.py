"""A pure-ASGI front for the two hottest reads: the plain queue page and the
ticket detail, answered without FastAPI's routing and parameter machinery.

Under 300 connections FastAPI's route matching, dependency solving and query
validation cost about a fifth of a queue request's CPU. This middleware takes
only requests whose parameters are plainly valid — ``GET /api/v1/tickets``
with nothing but ``view``, ``sort``, ``limit``, ``after``, ``before``,
``view_arg`` (each at most once, known values), and ``GET
/api/v1/tickets/{id}`` with a decimal id that fits the store — and answers
them with the same code the routes use: ``auth.authorize`` (token, rate
limit, permission matrix), ``services.wire_reads`` and the app's error
mapping. Everything else, filters and invalid values included, goes on to
FastAPI, whose routes stay the documented ones in the OpenAPI spec.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from agent_tui.domain.enums import Sort, View
from agent_tui.server.auth import authorize
from agent_tui.server.wire import lean_read
from agent_tui.services import wire_reads

QUEUE_PATH = "/api/v1/tickets"
DETAIL_PREFIX = "/api/v1/tickets/"
DETAIL_ROUTE = "/api/v1/tickets/{ticket_id}"

_VIEWS = {v.value: v for v in View}
_SORTS = {s.value: s for s in Sort}
_TEXT_KEYS = frozenset({"after", "before", "view_arg"})
_MAX_ID = 2**63 - 1  # larger ids are FastAPI's (the app answers them with 422)


def queue_args(query_string: bytes) -> dict[str, Any] | None:
    """The queue page's arguments, or None when FastAPI should parse the query."""
    args: dict[str, Any] = {}
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True,
                          encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None
    for key, value in pairs:
        if key in args:
            return None
        if key == "view":
            if value not in _VIEWS:
                return None
            args["view"] = _VIEWS[value]
        elif key == "sort":
            if value not in _SORTS:
                return None
            args["sort"] = _SORTS[value]
        elif key == "limit":
            if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 500:
                return None
            args["limit"] = int(value)
        elif key in _TEXT_KEYS:
            args[key] = value
        else:  # filters and anything unknown: FastAPI's parsing and errors
            return None
    return args


def ticket_id_of(path: str) -> int | None:
    tail = path[len(DETAIL_PREFIX):]
    if not (tail.isascii() and tail.isdigit()) or int(tail) > _MAX_ID:
        return None
    return int(tail)


class HotReads:
    """ASGI middleware: the lean queue page and ticket detail; the rest to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path == QUEUE_PATH:
                args = queue_args(scope["query_string"])
                if args is not None:
                    await self._answer(scope, receive, send, QUEUE_PATH, args, None)
                    return
            elif path.startswith(DETAIL_PREFIX):
                ticket_id = ticket_id_of(path)
                if ticket_id is not None:
                    await self._answer(scope, receive, send, DETAIL_ROUTE, None, ticket_id)
                    return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, route: str,
                      args: dict[str, Any] | None, ticket_id: int | None) -> None:
        app = scope["app"]
        header = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        try:
            who = await authorize(app.state.auth, "GET", route, header)
            turns = app.state.turns
            actor = who.backend.actor
            if args is not None:
                view = args.pop("view", View.ALL_OPEN)
                value = await lean_read(who.backend.store, lambda conn: wire_reads.queue_page(
                    conn, actor, view, **args), turns)
            else:
                assert ticket_id is not None
                value = await lean_read(who.backend.store, lambda conn: wire_reads.ticket_detail(
                    conn, actor, ticket_id), turns)
        except Exception as exc:
            # The app's own exception handlers, so every error is the routes' error.
            for cls in type(exc).__mro__:
                handler = app.exception_handlers.get(cls)
                if handler is not None:
                    response = await handler(Request(scope, receive), exc)
                    await response(scope, receive, send)
                    return
            raise
        body = wire_reads.dumps(value)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode()),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
