"""RemoteBackend: the Backend contract over the team server's REST API and SSE.

Reads (GET) are retried with backoff when the server or the network fails;
writes are sent again only when the request never left this machine (the
connection could not be opened), because a write that timed out may have
been applied. ``subscribe`` follows ``/api/v1/events`` and reconnects with
``Last-Event-ID`` after a drop, so no event is missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from agent_tui.backend import (
    AgentStatus,
    AgentView,
    ArticleView,
    AssignResult,
    Customer360,
    CustomerView,
    EventView,
    FeedbackKind,
    GroupBy,
    LinkKind,
    MacroResult,
    MacroView,
    MetricsSnapshot,
    MonitorSnapshot,
    NextTicket,
    Page,
    Presence,
    PresenceState,
    RatingView,
    RouteExplanation,
    SavedView,
    SlaClock,
    SlaPolicyView,
    Sort,
    Suggestion,
    TeamView,
    TicketCreate,
    TicketDetail,
    TicketFilters,
    TicketRow,
    TicketUpdate,
    Unavailable,
    View,
)
from backend_client.http import (
    READ_BACKOFF,
    RETRY_STATUS,
    STREAM_BACKOFF,
    error_from,
    events_of,
    never_sent,
    transport_error,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
API = "/api/v1"
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    if tp not in _ADAPTERS:
        _ADAPTERS[tp] = TypeAdapter(tp)
    return _ADAPTERS[tp]


def _filter_params(filters: TicketFilters | None) -> dict[str, Any]:
    if filters is None:
        return {}
    data = filters.model_dump(mode="json", exclude_defaults=True)
    return {k: v for k, v in data.items() if v not in (None, [])}


class RemoteBackend:
    """The Backend contract for the agent a bearer token belongs to."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.location = self.base_url
        self._client = httpx.AsyncClient(
            base_url=self.base_url, transport=transport,
            headers={"authorization": f"Bearer {token}", "accept": "application/json",
                     "user-agent": "agent-tui"},
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16))

    # -- plumbing --------------------------------------------------------
    async def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    json: Any = None) -> httpx.Response:
        idempotent = method == "GET"
        attempt = 0
        while True:
            try:
                response = await self._client.request(method, API + path, params=params,
                                                      json=json)
            except httpx.TransportError as exc:
                if attempt < len(READ_BACKOFF) and (idempotent or never_sent(exc)):
                    await asyncio.sleep(READ_BACKOFF[attempt])
                    attempt += 1
                    continue
                raise transport_error(exc, self.base_url) from exc
            if response.is_success:
                return response
            retry = response.status_code in RETRY_STATUS and (
                idempotent or response.status_code == 429)  # a 429 ran nothing
            if retry and attempt < len(READ_BACKOFF):
                wait = READ_BACKOFF[attempt]
                if response.status_code == 429:
                    wait = max(wait, min(float(response.headers.get("retry-after", 1)), 5.0))
                await asyncio.sleep(wait)
                attempt += 1
                continue
            raise error_from(response)

    async def _get(self, tp: type[M], path: str, **params: Any) -> M:
        response = await self._send("GET", path, params=_clean(params))
        return tp.model_validate_json(response.content)

    async def _get_as(self, tp: Any, path: str, **params: Any) -> Any:
        response = await self._send("GET", path, params=_clean(params))
        return _adapter(tp).validate_json(response.content)

    async def _write(self, tp: type[M], method: str, path: str, body: Any) -> M:
        response = await self._send(method, path, json=body)
        return tp.model_validate_json(response.content)

    # -- session ---------------------------------------------------------
    async def whoami(self) -> AgentView:
        return await self._get(AgentView, "/me")

    async def set_status(self, status: AgentStatus) -> AgentView:
        return await self._write(AgentView, "PUT", "/me/status", {"status": status.value})

    async def set_presence(self, ticket_id: int | None, state: PresenceState | None) -> None:
        await self._send("PUT", "/presence", json={
            "ticket_id": ticket_id, "state": state.value if state is not None else None})

    async def presence(self, ticket_ids: list[int]) -> list[Presence]:
        if not ticket_ids:
            return []
        result: list[Presence] = await self._get_as(list[Presence], "/presence",
                                                    ticket_id=list(ticket_ids))
        return result

    async def list_agents(self) -> list[AgentView]:
        result: list[AgentView] = await self._get_as(list[AgentView], "/agents")
        return result

    async def list_teams(self) -> list[TeamView]:
        result: list[TeamView] = await self._get_as(list[TeamView], "/teams")
        return result

    # -- queue -----------------------------------------------------------
    async def list_tickets(self, view: View, *, view_arg: str | None = None,
                           filters: TicketFilters | None = None, sort: Sort = Sort.PRIORITY,
                           after: str | None = None, before: str | None = None,
                           limit: int = 50) -> Page[TicketRow]:
        return await self._get(Page[TicketRow], "/tickets", view=view.value, view_arg=view_arg,
                               sort=sort.value, after=after, before=before, limit=limit,
                               **_filter_params(filters))

    async def count(self, view: View, *, view_arg: str | None = None,
                    filters: TicketFilters | None = None) -> int:
        response = await self._send("GET", "/tickets/count", params=_clean(
            {"view": view.value, "view_arg": view_arg, **_filter_params(filters)}))
        return int(response.json()["count"])

    async def save_view(self, name: str, view: View, *, view_arg: str | None = None,
                        filters: TicketFilters | None = None,
                        sort: Sort = Sort.PRIORITY) -> SavedView:
        body = {"view": view.value, "view_arg": view_arg, "sort": sort.value,
                "filters": filters.model_dump(mode="json") if filters is not None else None}
        return await self._write(SavedView, "PUT", f"/views/{_seg(name)}", body)

    async def list_views(self) -> list[SavedView]:
        result: list[SavedView] = await self._get_as(list[SavedView], "/views")
        return result

    async def delete_view(self, name: str) -> None:
        await self._send("DELETE", f"/views/{_seg(name)}")

    # -- tickets ---------------------------------------------------------
    async def get_ticket(self, ticket_id: int) -> TicketDetail:
        return await self._get(TicketDetail, f"/tickets/{int(ticket_id)}")

    async def create_ticket(self, data: TicketCreate) -> TicketDetail:
        return await self._write(TicketDetail, "POST", "/tickets", data.model_dump(mode="json"))

    async def reply(self, ticket_id: int, body: str, *,
                    expected_version: int | None = None) -> TicketDetail:
        return await self._write(TicketDetail, "POST", f"/tickets/{int(ticket_id)}/replies",
                                 {"body": body, "expected_version": expected_version})

    async def note(self, ticket_id: int, body: str, *,
                   expected_version: int | None = None) -> TicketDetail:
        return await self._write(TicketDetail, "POST", f"/tickets/{int(ticket_id)}/notes",
                                 {"body": body, "expected_version": expected_version})

    async def update_ticket(self, ticket_id: int, changes: TicketUpdate, *,
                            expected_version: int) -> TicketDetail:
        return await self._write(TicketDetail, "PATCH", f"/tickets/{int(ticket_id)}", {
            "changes": changes.model_dump(mode="json", exclude_unset=True),
            "expected_version": expected_version})

    async def assign(self, ticket_id: int, assignee: str | None, *, team: str | None = None,
                     expected_version: int | None = None) -> TicketDetail:
        return await self._write(TicketDetail, "POST", f"/tickets/{int(ticket_id)}/assign", {
            "assignee": assignee, "team": team, "expected_version": expected_version})

    # -- workspace actions: macros, escalate, merge, link ----------------
    async def list_macros(self) -> list[MacroView]:
        result: list[MacroView] = await self._get_as(list[MacroView], "/macros")
        return result

    async def apply_macro(self, ticket_id: int, macro_id: int, *,
                          expected_version: int) -> MacroResult:
        return await self._write(MacroResult, "POST",
                                 f"/tickets/{int(ticket_id)}/macros/{int(macro_id)}",
                                 {"expected_version": expected_version})

    async def escalate(self, ticket_id: int, reason: str, *, team: str | None = None,
                       expected_version: int) -> TicketDetail:
        return await self._write(TicketDetail, "POST", f"/tickets/{int(ticket_id)}/escalate",
                                 {"reason": reason, "team": team,
                                  "expected_version": expected_version})

    async def merge(self, source_id: int, into_id: int, *, expected_version: int,
                    other_customer: bool = False) -> TicketDetail:
        return await self._write(TicketDetail, "POST", f"/tickets/{int(source_id)}/merge",
                                 {"into_id": into_id, "expected_version": expected_version,
                                  "other_customer": other_customer})

    async def link(self, ticket_id: int, other_id: int,
                   kind: LinkKind = LinkKind.RELATED) -> TicketDetail:
        return await self._write(TicketDetail, "PUT",
                                 f"/tickets/{int(ticket_id)}/links/{int(other_id)}",
                                 {"kind": str(getattr(kind, "value", kind))})

    async def unlink(self, ticket_id: int, other_id: int) -> TicketDetail:
        response = await self._send("DELETE",
                                    f"/tickets/{int(ticket_id)}/links/{int(other_id)}")
        return TicketDetail.model_validate_json(response.content)

    # -- customers -------------------------------------------------------
    async def get_360(self, customer_id: int) -> Customer360:
        return await self._get(Customer360, f"/customers/{int(customer_id)}")

    async def reveal_customer(self, customer_id: int, reason: str) -> Customer360:
        return await self._write(Customer360, "POST", f"/customers/{int(customer_id)}/reveal",
                                 {"reason": reason})

    async def search_customers(self, query: str, *, limit: int = 20) -> list[CustomerView]:
        result: list[CustomerView] = await self._get_as(list[CustomerView], "/customers",
                                                        q=query, limit=limit)
        return result

    # -- knowledge -------------------------------------------------------
    async def suggest(self, ticket_id: int, *, k: int = 5) -> list[Suggestion]:
        result: list[Suggestion] = await self._get_as(
            list[Suggestion], f"/tickets/{int(ticket_id)}/suggestions", k=k)
        return result

    async def search_kb(self, query: str, *, k: int = 10) -> list[Suggestion]:
        result: list[Suggestion] = await self._get_as(list[Suggestion], "/kb/search",
                                                      q=query, k=k)
        return result

    async def get_article(self, article_id: int) -> ArticleView:
        return await self._get(ArticleView, f"/kb/articles/{int(article_id)}")

    async def article_feedback(self, article_id: int, kind: FeedbackKind, *,
                               ticket_id: int | None = None) -> int:
        response = await self._send("POST", f"/kb/articles/{int(article_id)}/feedback",
                                    json={"kind": str(getattr(kind, "value", kind)),
                                          "ticket_id": ticket_id})
        return int(response.json()["count"])

    # -- routing ---------------------------------------------------------
    async def next_ticket(self, *, take: bool = False) -> NextTicket | None:
        response = await self._send("POST" if take else "GET", "/next-ticket")
        result: NextTicket | None = _adapter(NextTicket | None).validate_json(response.content)
        return result

    async def route_explain(self, ticket_id: int) -> RouteExplanation:
        return await self._get(RouteExplanation, f"/tickets/{int(ticket_id)}/route")

    # -- sla -------------------------------------------------------------
    async def sla_clocks(self, ticket_id: int) -> list[SlaClock]:
        result: list[SlaClock] = await self._get_as(list[SlaClock],
                                                    f"/tickets/{int(ticket_id)}/sla")
        return result

    async def list_sla_policies(self) -> list[SlaPolicyView]:
        result: list[SlaPolicyView] = await self._get_as(list[SlaPolicyView], "/sla/policies")
        return result

    # -- metrics ---------------------------------------------------------
    async def metrics_snapshot(self, window: str = "7d",
                               group_by: GroupBy | None = None) -> MetricsSnapshot:
        return await self._get(MetricsSnapshot, "/metrics", window=window,
                               group_by=group_by.value if group_by is not None else None)

    async def record_rating(self, ticket_id: int, *, csat: int | None = None,
                            nps: int | None = None, comment: str | None = None) -> RatingView:
        return await self._write(RatingView, "POST", f"/tickets/{int(ticket_id)}/ratings",
                                 {"csat": csat, "nps": nps, "comment": comment})

    # -- monitor ---------------------------------------------------------
    async def monitor_snapshot(self, window: str = "7d") -> MonitorSnapshot:
        return await self._get(MonitorSnapshot, "/monitor", window=window)

    async def assign_many(self, ticket_ids: list[int], assignee: str | None, *,
                          team: str | None = None,
                          expected_versions: dict[int, int] | None = None
                          ) -> list[AssignResult]:
        response = await self._send("POST", "/tickets/assign", json={
            "ticket_ids": list(ticket_ids), "assignee": assignee, "team": team,
            "expected_versions": ({str(k): v for k, v in expected_versions.items()}
                                  if expected_versions is not None else None)})
        result: list[AssignResult] = _adapter(list[AssignResult]).validate_json(
            response.content)
        return result

    # -- events ----------------------------------------------------------
    async def last_seq(self) -> int:
        response = await self._send("GET", "/events/last")
        return int(response.json()["seq"])

    async def subscribe(self, after_seq: int) -> AsyncIterator[EventView]:
        """Every event after ``after_seq``, then live; reconnects with Last-Event-ID.

        Raises Unavailable once the server stays away through ``STREAM_BACKOFF``
        (the caller shows "reconnecting…" and subscribes again from its last seq).
        """
        cursor = after_seq
        failures = 0
        timeout = httpx.Timeout(10.0, read=60.0)  # the server sends a keepalive every 15 s
        while True:
            try:
                async with self._client.stream(
                        "GET", API + "/events", params={"after": cursor},
                        headers={"last-event-id": str(cursor), "accept": "text/event-stream"},
                        timeout=timeout) as response:
                    if response.status_code != 200:
                        await response.aread()
                        error = error_from(response)
                        if not isinstance(error, Unavailable):
                            raise error
                        raise httpx.RemoteProtocolError(str(error))
                    failures = 0
                    async for event in events_of(response.aiter_lines()):
                        cursor = event.seq
                        yield event
            except httpx.TransportError as exc:
                if failures >= len(STREAM_BACKOFF):
                    raise transport_error(exc, self.base_url) from exc
                await asyncio.sleep(STREAM_BACKOFF[failures])
                failures += 1
                continue
            # The server closed the stream (a restart): reconnect from the cursor.
            await asyncio.sleep(STREAM_BACKOFF[min(failures, len(STREAM_BACKOFF) - 1)])
            failures += 1

    async def close(self) -> None:
        await self._client.aclose()


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _seg(text: str) -> str:
    """One URL path segment, with '/', '?', '#' and friends escaped."""
    from urllib.parse import quote

    return quote(text, safe="")
