"""Routes: workspace actions — macros, escalate, merge, link and unlink."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from agent_tui.domain.errors import Invalid
from agent_tui.domain.views import TicketDetail
from agent_tui.domain.views_actions import MacroResult, MacroView
from agent_tui.domain.views_links import LinkKind
from agent_tui.server.auth import Caller, caller
from agent_tui.server.wire import send, send_as

router = APIRouter(prefix="/api/v1")
Who = Annotated[Caller, Depends(caller)]


class MacroBody(BaseModel):
    expected_version: int


class EscalateBody(BaseModel):
    reason: str
    team: str | None = None
    expected_version: int


class MergeBody(BaseModel):
    into_id: int
    expected_version: int
    other_customer: bool = False


class LinkBody(BaseModel):
    kind: str = LinkKind.RELATED.value  # any spelling LinkKind.parse accepts


@router.get("/macros", response_model=list[MacroView], tags=["actions"])
async def list_macros(who: Who) -> Response:
    return send_as(await who.backend.list_macros(), list[MacroView])


@router.post("/tickets/{ticket_id}/macros/{macro_id}", response_model=MacroResult,
             tags=["actions"])
async def apply_macro(ticket_id: int, macro_id: int, body: MacroBody, who: Who) -> Response:
    return send(await who.backend.apply_macro(ticket_id, macro_id,
                                              expected_version=body.expected_version))


@router.post("/tickets/{ticket_id}/escalate", response_model=TicketDetail, tags=["actions"])
async def escalate(ticket_id: int, body: EscalateBody, who: Who) -> Response:
    return send(await who.backend.escalate(ticket_id, body.reason, team=body.team,
                                           expected_version=body.expected_version))


@router.post("/tickets/{ticket_id}/merge", response_model=TicketDetail, tags=["actions"])
async def merge(ticket_id: int, body: MergeBody, who: Who) -> Response:
    return send(await who.backend.merge(ticket_id, body.into_id,
                                        expected_version=body.expected_version,
                                        other_customer=body.other_customer))


@router.put("/tickets/{ticket_id}/links/{other_id}", response_model=TicketDetail,
            tags=["actions"])
async def link(ticket_id: int, other_id: int, body: LinkBody, who: Who) -> Response:
    try:
        kind = LinkKind.parse(body.kind)
    except ValueError as exc:
        raise Invalid("kind", str(exc)) from None
    return send(await who.backend.link(ticket_id, other_id, kind))


@router.delete("/tickets/{ticket_id}/links/{other_id}", response_model=TicketDetail,
               tags=["actions"])
async def unlink(ticket_id: int, other_id: int, who: Who) -> Response:
    return send(await who.backend.unlink(ticket_id, other_id))
