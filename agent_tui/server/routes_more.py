"""Routes: knowledge, routing, SLA, metrics, the monitor, events and channels."""

from __future__ import annotations

import asyncio
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from agent_tui import __version__
from agent_tui.domain.views import EventView
from agent_tui.domain.views_knowledge import ArticleView, FeedbackKind, Suggestion
from agent_tui.domain.views_metrics import GroupBy, MetricsSnapshot
from agent_tui.domain.views_monitor import MonitorSnapshot
from agent_tui.domain.views_routing import InboundResult, NextTicket, RouteExplanation
from agent_tui.domain.views_sla import SlaClock, SlaPolicyView
from agent_tui.server.auth import Caller, RateLimited, caller
from agent_tui.server.bodies import Count, FeedbackBody, Health, InboundBody, Seq
from agent_tui.server.hub import EventHub
from agent_tui.server.limits import StreamCap
from agent_tui.server.wire import send, send_as
from agent_tui.services import inbound
from agent_tui.services.perms import sees_personal_data
from agent_tui.store.events import last_seq

router = APIRouter(prefix="/api/v1")
Who = Annotated[Caller, Depends(caller)]


# -- knowledge -------------------------------------------------------------
@router.get("/tickets/{ticket_id}/suggestions", response_model=list[Suggestion],
            tags=["knowledge"])
async def suggest(ticket_id: int, who: Who, k: Annotated[int, Query(ge=1, le=50)] = 5
                  ) -> Response:
    return send_as(await who.backend.suggest(ticket_id, k=k), list[Suggestion])


@router.get("/kb/search", response_model=list[Suggestion], tags=["knowledge"])
async def search_kb(who: Who, q: str = "", k: Annotated[int, Query(ge=1, le=50)] = 10
                    ) -> Response:
    return send_as(await who.backend.search_kb(q, k=k), list[Suggestion])


@router.get("/kb/articles/{article_id}", response_model=ArticleView, tags=["knowledge"])
async def get_article(article_id: int, who: Who) -> Response:
    return send(await who.backend.get_article(article_id))


@router.post("/kb/articles/{article_id}/feedback", response_model=Count, tags=["knowledge"])
async def article_feedback(article_id: int, body: FeedbackBody, who: Who) -> Response:
    # Unknown kinds go to the service as they came, so the 422 reads as it does locally.
    kind = cast(FeedbackKind, body.kind)
    value = await who.backend.article_feedback(article_id, kind, ticket_id=body.ticket_id)
    return send(Count(count=value))


# -- routing ---------------------------------------------------------------
@router.get("/next-ticket", response_model=NextTicket | None, tags=["routing"])
async def next_ticket(who: Who) -> Response:
    return send(await who.backend.next_ticket())


@router.post("/next-ticket", response_model=NextTicket | None, tags=["routing"])
async def take_next_ticket(who: Who) -> Response:
    return send(await who.backend.next_ticket(take=True))


@router.get("/tickets/{ticket_id}/route", response_model=RouteExplanation, tags=["routing"])
async def route_explain(ticket_id: int, who: Who) -> Response:
    return send(await who.backend.route_explain(ticket_id))


# -- sla -------------------------------------------------------------------
@router.get("/tickets/{ticket_id}/sla", response_model=list[SlaClock], tags=["sla"])
async def sla_clocks(ticket_id: int, who: Who) -> Response:
    return send_as(await who.backend.sla_clocks(ticket_id), list[SlaClock])


@router.get("/sla/policies", response_model=list[SlaPolicyView], tags=["sla"])
async def list_sla_policies(who: Who) -> Response:
    return send_as(await who.backend.list_sla_policies(), list[SlaPolicyView])


# -- metrics and monitor ---------------------------------------------------
@router.get("/metrics", response_model=MetricsSnapshot, tags=["metrics"])
async def metrics_snapshot(who: Who, window: str = "7d", group_by: GroupBy | None = None
                           ) -> Response:
    return send(await who.backend.metrics_snapshot(window, group_by))


@router.get("/monitor", response_model=MonitorSnapshot, tags=["monitor"])
async def monitor_snapshot(who: Who, window: str = "7d") -> Response:
    return send(await who.backend.monitor_snapshot(window))


# -- events ----------------------------------------------------------------
@router.get("/events/last", response_model=Seq, tags=["events"])
async def last_event(who: Who) -> Response:
    return send(Seq(seq=await who.backend.last_seq()))


class _EventStream(StreamingResponse):
    """An SSE response that gives its slot back however the stream ends."""

    def __init__(self, body: object, cap: StreamCap, login: str) -> None:
        super().__init__(body, media_type="text/event-stream",  # type: ignore[arg-type]
                         headers={"cache-control": "no-store", "x-accel-buffering": "no"})
        self._cap, self._login = cap, login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._cap.release(self._login)


@router.get("/events", tags=["events"],
            responses={200: {"description": "Server-Sent Events: `id: seq`, `data:` one "
                             "EventView as JSON", "content": {"text/event-stream": {
                                 "schema": EventView.model_json_schema()}}}})
async def subscribe(request: Request, who: Who,
                    after: Annotated[int | None, Query(ge=0)] = None,
                    last_event_id: Annotated[str | None, Header()] = None) -> Response:
    """Every event after ``after`` (or the Last-Event-ID header, which wins), then live."""
    start = after
    if last_event_id is not None and last_event_id.strip().isdigit():
        start = int(last_event_id.strip())
    if start is None:
        start = await who.backend.last_seq()
    cap: StreamCap = request.app.state.stream_cap
    if not cap.acquire(who.actor.login):
        raise RateLimited(f"{who.actor.login} already has {cap.per_user} open event streams; "
                          "close one first", 5.0)
    hub: EventHub = request.app.state.hub
    # Agents get the frames with personal data masked, as every other response (§9).
    masked = not sees_personal_data(who.actor)
    # Its role is the one it connects with: a revoked token or a changed agent ends it.
    owner = (who.token_id, who.actor.agent_id)
    return _EventStream(hub.stream(start, masked=masked, owner=owner), cap, who.actor.login)


# -- channels --------------------------------------------------------------
@router.post("/inbound/{channel}", response_model=InboundResult, tags=["channels"])
async def receive_inbound(channel: str, body: InboundBody, who: Who) -> Response:
    store = who.backend.store

    def run() -> InboundResult:
        return store.run_write(lambda s: inbound.receive(
            s, who.actor, channel, address=body.address, body=body.body, name=body.name,
            subject=body.subject, team=body.team, category=body.category,
            product=body.product))

    return send(await asyncio.to_thread(run))


# -- health ----------------------------------------------------------------
@router.get("/health", response_model=Health, tags=["health"])
async def health(request: Request) -> Response:
    """Open to anyone: the version, and whether the database answers."""
    store = request.app.state.store
    hub: EventHub = request.app.state.hub

    def probe() -> int:
        with store.read() as session:
            return last_seq(session)

    try:
        seq: int | None = await asyncio.wait_for(asyncio.to_thread(probe), 5.0)
        state, database = "ok", "reachable"
    except Exception as exc:
        seq, state, database = None, "degraded", f"unreachable: {type(exc).__name__}"
    body = Health(status=state, version=__version__, database=database, dialect=store.dialect,
                  events_seq=seq, subscribers=hub.subscribers)
    response = send(body)
    if seq is None:
        response.status_code = 503
    return response
