"""Routes: tickets and customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from agent_tui.domain.views import (
    Customer360,
    CustomerView,
    RatingView,
    TicketCreate,
    TicketDetail,
)
from agent_tui.domain.views_monitor import AssignResult
from agent_tui.server.auth import Caller, caller
from agent_tui.server.bodies import (
    AssignBody,
    AssignManyBody,
    MessageBody,
    RatingBody,
    RevealBody,
    UpdateBody,
)
from agent_tui.server.wire import lean_read, send, send_as, send_dict
from agent_tui.services import wire_reads

router = APIRouter(prefix="/api/v1")
Who = Annotated[Caller, Depends(caller)]


# -- tickets ---------------------------------------------------------------
# Declared before /tickets/{ticket_id} so "assign" is not read as an id.
@router.post("/tickets/assign", response_model=list[AssignResult], tags=["monitor"])
async def assign_many(body: AssignManyBody, who: Who) -> Response:
    results = await who.backend.assign_many(body.ticket_ids, body.assignee, team=body.team,
                                            expected_versions=body.expected_versions)
    return send_as(results, list[AssignResult])


@router.post("/tickets", response_model=TicketDetail, status_code=201, tags=["tickets"])
async def create_ticket(body: TicketCreate, who: Who) -> Response:
    response = send(await who.backend.create_ticket(body))
    response.status_code = 201
    return response


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, tags=["tickets"])
async def get_ticket(request: Request, ticket_id: int, who: Who) -> Response:
    # The lean read path (services.wire_reads): backend.get_ticket's TicketDetail
    # as a dict.
    actor = who.backend.actor
    detail = await lean_read(who.backend.store,
                             lambda conn: wire_reads.ticket_detail(conn, actor, ticket_id),
                             request.app.state.turns)
    return send_dict(detail)


@router.patch("/tickets/{ticket_id}", response_model=TicketDetail, tags=["tickets"])
async def update_ticket(ticket_id: int, body: UpdateBody, who: Who) -> Response:
    return send(await who.backend.update_ticket(ticket_id, body.changes,
                                                expected_version=body.expected_version))


@router.post("/tickets/{ticket_id}/replies", response_model=TicketDetail, tags=["tickets"])
async def reply(ticket_id: int, body: MessageBody, who: Who) -> Response:
    return send(await who.backend.reply(ticket_id, body.body,
                                        expected_version=body.expected_version))


@router.post("/tickets/{ticket_id}/notes", response_model=TicketDetail, tags=["tickets"])
async def note(ticket_id: int, body: MessageBody, who: Who) -> Response:
    return send(await who.backend.note(ticket_id, body.body,
                                       expected_version=body.expected_version))


@router.post("/tickets/{ticket_id}/assign", response_model=TicketDetail, tags=["tickets"])
async def assign(ticket_id: int, body: AssignBody, who: Who) -> Response:
    return send(await who.backend.assign(ticket_id, body.assignee, team=body.team,
                                         expected_version=body.expected_version))


@router.post("/tickets/{ticket_id}/ratings", response_model=RatingView, tags=["tickets"])
async def record_rating(ticket_id: int, body: RatingBody, who: Who) -> Response:
    return send(await who.backend.record_rating(ticket_id, csat=body.csat, nps=body.nps,
                                                comment=body.comment))


# -- customers -------------------------------------------------------------
@router.get("/customers", response_model=list[CustomerView], tags=["customers"])
async def search_customers(who: Who, q: str = "",
                           limit: Annotated[int, Query(ge=1, le=200)] = 20) -> Response:
    return send_as(await who.backend.search_customers(q, limit=limit), list[CustomerView])


@router.get("/customers/{customer_id}", response_model=Customer360, tags=["customers"])
async def get_360(customer_id: int, who: Who) -> Response:
    return send(await who.backend.get_360(customer_id))


@router.post("/customers/{customer_id}/reveal", response_model=Customer360,
             tags=["customers"])
async def reveal_customer(customer_id: int, body: RevealBody, who: Who) -> Response:
    return send(await who.backend.reveal_customer(customer_id, body.reason))
