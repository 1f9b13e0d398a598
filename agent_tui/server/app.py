"""The FastAPI app factory: the Backend contract as ``/api/v1`` over one store.

``create_app(store_url)`` is what ``agent-tui serve`` runs under uvicorn and
what the tests start on 127.0.0.1. Each request runs on the LocalBackend of
the agent its bearer token belongs to (source ``api``), so the services'
permission checks and event rows are the same as in the terminal app.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent_tui import __version__
from agent_tui.domain.errors import BackendError
from agent_tui.server import routes_actions, routes_more, routes_queue, routes_tickets
from agent_tui.server.auth import Authenticator, RateLimited, Unauthorized
from agent_tui.server.hot_reads import HotReads
from agent_tui.server.hub import EventHub
from agent_tui.server.limits import MAX_BODY, BodyLimit, RateLimiter, StreamCap
from agent_tui.server.turns import MAX_WAITING, PER_TURN, Busy, ReadTurns
from agent_tui.services.sla_sweeper import SlaSweeper
from agent_tui.store import open_store
from agent_tui.store.migrate import current_revision, head_revision

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerSettings:
    """Limits and timings of one server process."""

    body_limit: int = MAX_BODY
    rate: float = 50.0  # requests per second per token, sustained
    burst: int = 200
    sse_per_user: int = 4
    poll_interval: float = 0.1  # how often the event log is tailed for SSE
    sla_sweep_interval: float | None = 30.0
    keepalive: float = 15.0
    #: Hot SQLite reads run per event-loop turn under load, and the longest line
    #: of waiting ones before a read is refused with 503 (``server.turns``).
    reads_per_turn: int = PER_TURN
    max_waiting_reads: int = MAX_WAITING


class ErrorBody(BaseModel):
    """What every error response carries (``BackendError.to_dict``)."""

    error: str
    message: str
    field: str | None = None  # 422: the field at fault
    entity: str | None = None  # 404: what was not found ...
    key: str | None = None  # ... and its key
    current_version: int | None = None  # 409: the version the store has now ...
    changed_by: str | None = None  # ... and who saved it


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


#: The errors any route may answer with, in the OpenAPI spec of every route, so
#: a client (and schemathesis) knows each status and its body.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _documented("The body is not well-formed JSON"),
    401: _documented("No token, or a token that is unknown, expired or revoked"),
    403: _documented("The token's role may not do this"),
    404: _documented("The ticket, customer, article or view does not exist"),
    409: _documented("A stale write: current_version and changed_by say what won"),
    413: _documented("The request body is larger than the server accepts"),
    422: _documented("The request is not valid: field and message say why"),
    429: _documented("Too many requests, or SSE connections, for this token"),
    503: _documented("The store is not available, or the server is saturated "
                     "(Busy, with Retry-After)"),
}


class StoreNotReady(RuntimeError):
    """The database has no schema, or an older one: ``agent-tui init`` first."""


def _error(exc: BackendError) -> JSONResponse:
    headers = None
    if isinstance(exc, RateLimited | Busy):
        headers = {"retry-after": str(max(1, round(exc.retry_after)))}
    if isinstance(exc, Unauthorized):
        headers = {"www-authenticate": "Bearer"}
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


def _validation(exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or str((first.get("loc") or ("request",))[0])
    message = str(first.get("msg", "invalid"))
    return JSONResponse({"error": "Invalid", "message": f"{field}: {message}", "field": field},
                        status_code=422)


def create_app(store_url: str, settings: ServerSettings | None = None) -> FastAPI:
    """The API over the store at ``store_url`` (opened when the app starts)."""
    cfg = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(store_url)
        revision = current_revision(store)
        if revision != head_revision():
            store.dispose()
            raise StoreNotReady(f"the store has schema {revision}, this server needs "
                                f"{head_revision()}; run `agent-tui init --db URL`")
        hub = EventHub(store, poll_interval=cfg.poll_interval, keepalive=cfg.keepalive)
        await hub.start()
        sweeper = (SlaSweeper(store, cfg.sla_sweep_interval)
                   if cfg.sla_sweep_interval is not None else None)
        if sweeper is not None:
            sweeper.start()
        app.state.store = store
        app.state.hub = hub
        app.state.stream_cap = StreamCap(cfg.sse_per_user)
        app.state.turns = ReadTurns(cfg.reads_per_turn, cfg.max_waiting_reads)
        app.state.auth = Authenticator(store, RateLimiter(cfg.rate, cfg.burst))
        hub.listen(app.state.auth.forget)  # a revoked token is refused once the hub reads it
        try:
            yield
        finally:
            await hub.stop()
            if sweeper is not None:
                await sweeper.stop()
            await app.state.auth.close()
            store.dispose()

    app = FastAPI(title="Agent TUI API", version=__version__, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None,
                  description="The Backend contract of Agent TUI over HTTP. Authenticate "
                              "with `Authorization: Bearer TOKEN` (`agent-tui token create`).")
    app.state.settings = cfg
    for module in (routes_queue, routes_tickets, routes_actions, routes_more):
        app.include_router(module.router, responses=ERRORS)

    @app.exception_handler(BackendError)
    async def backend_error(_: Request, exc: BackendError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = "PayloadTooLarge" if exc.status_code == 413 else "HTTPError"
        return JSONResponse({"error": name, "message": str(exc.detail)},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(_: Request, exc: Exception) -> JSONResponse:
        # A number (or text) the store's columns cannot hold, e.g. an id past 2**63:
        # bad input, not a server failure.
        log.info("value out of range for the store: %s", exc)
        return JSONResponse({"error": "Invalid",
                             "message": "a value is out of the range the store holds"},
                            status_code=422)

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return JSONResponse({"error": "Unavailable",
                             "message": "the store is not available"}, status_code=503)

    app.add_middleware(BodyLimit, limit=cfg.body_limit)
    app.add_middleware(HotReads)  # the plain queue page and ticket detail, lean
    return app


#: Environment variables through which ``agent-tui serve`` hands its options to
#: each uvicorn worker process (``--workers N`` imports the app by name).
SERVE_ENV = {"db": "AGENT_TUI_SERVE_DB", "rate": "AGENT_TUI_SERVE_RATE",
             "burst": "AGENT_TUI_SERVE_BURST", "sse": "AGENT_TUI_SERVE_SSE_PER_USER"}


def app_from_env() -> FastAPI:
    """uvicorn factory (``agent_tui.server.app:app_from_env``) for ``agent-tui serve``."""
    import os

    env = os.environ
    settings = ServerSettings(rate=float(env.get(SERVE_ENV["rate"], ServerSettings.rate)),
                              burst=int(env.get(SERVE_ENV["burst"], ServerSettings.burst)),
                              sse_per_user=int(env.get(SERVE_ENV["sse"],
                                                       ServerSettings.sse_per_user)))
    return create_app(env[SERVE_ENV["db"]], settings)
