"""Routes: session, presence, the queue and saved views."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from agent_tui.domain.enums import Channel, Priority, Sort, Status, View
from agent_tui.domain.views import (
    AgentView,
    Page,
    Presence,
    SavedView,
    TeamView,
    TicketFilters,
    TicketRow,
)
from agent_tui.server.auth import Caller, caller
from agent_tui.server.bodies import Count, PresenceBody, SaveViewBody, StatusBody
from agent_tui.server.wire import lean_read, send, send_as, send_dict
from agent_tui.services import wire_reads

router = APIRouter(prefix="/api/v1")
Who = Annotated[Caller, Depends(caller)]


async def filters_from(
    status: Annotated[list[Status], Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    channel: Annotated[list[Channel], Query()] = [],  # noqa: B006
    team: str | None = None,
    assignee: str | None = None,
    tag: str | None = None,
    customer_id: int | None = None,
    text: str | None = None,
) -> TicketFilters | None:
    """The queue filters as query parameters (repeat a key for several values).

    ``async`` although it awaits nothing: FastAPI runs a plain ``def``
    dependency in its thread pool, one more thread hop per queue request.
    """
    filters = TicketFilters(status=status, priority=priority, channel=channel, team=team,
                            assignee=assignee, tag=tag, customer_id=customer_id, text=text)
    return None if filters == TicketFilters() else filters


Filters = Annotated[TicketFilters | None, Depends(filters_from)]


# -- session ---------------------------------------------------------------
@router.get("/me", response_model=AgentView, tags=["session"])
async def whoami(who: Who) -> Response:
    return send(await who.backend.whoami())


@router.put("/me/status", response_model=AgentView, tags=["session"])
async def set_status(body: StatusBody, who: Who) -> Response:
    return send(await who.backend.set_status(body.status))


@router.put("/presence", status_code=204, tags=["session"])
async def set_presence(body: PresenceBody, who: Who) -> Response:
    await who.backend.set_presence(body.ticket_id, body.state)
    return Response(status_code=204)


@router.get("/presence", response_model=list[Presence], tags=["session"])
async def presence(who: Who, ticket_id: Annotated[list[int], Query(max_length=500)] = []  # noqa: B006
                   ) -> Response:
    return send_as(await who.backend.presence(ticket_id), list[Presence])


@router.get("/agents", response_model=list[AgentView], tags=["session"])
async def list_agents(who: Who) -> Response:
    return send_as(await who.backend.list_agents(), list[AgentView])


@router.get("/teams", response_model=list[TeamView], tags=["session"])
async def list_teams(who: Who) -> Response:
    return send_as(await who.backend.list_teams(), list[TeamView])


# -- queue -----------------------------------------------------------------
@router.get("/tickets", response_model=Page[TicketRow], tags=["queue"])
async def list_tickets(request: Request, who: Who, filters: Filters, view: View = View.ALL_OPEN,
                       view_arg: str | None = None, sort: Sort = Sort.PRIORITY,
                       after: str | None = None, before: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Response:
    # The lean read path (services.wire_reads): the same Page as
    # backend.list_tickets, built as a dict without the read models.
    actor = who.backend.actor
    page = await lean_read(who.backend.store, lambda conn: wire_reads.queue_page(
        conn, actor, view, view_arg=view_arg, filters=filters, sort=sort, after=after,
        before=before, limit=limit), request.app.state.turns)
    return send_dict(page)


@router.get("/tickets/count", response_model=Count, tags=["queue"])
async def count(who: Who, filters: Filters, view: View = View.ALL_OPEN,
                view_arg: str | None = None) -> Response:
    return send(Count(count=await who.backend.count(view, view_arg=view_arg, filters=filters)))


@router.get("/views", response_model=list[SavedView], tags=["queue"])
async def list_views(who: Who) -> Response:
    return send_as(await who.backend.list_views(), list[SavedView])


@router.put("/views/{name}", response_model=SavedView, tags=["queue"])
async def save_view(name: str, body: SaveViewBody, who: Who) -> Response:
    return send(await who.backend.save_view(name, body.view, view_arg=body.view_arg,
                                            filters=body.filters, sort=body.sort))


@router.delete("/views/{name}", status_code=204, tags=["queue"])
async def delete_view(name: str, who: Who) -> Response:
    await who.backend.delete_view(name)
    return Response(status_code=204)
