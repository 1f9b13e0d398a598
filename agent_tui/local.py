"""LocalBackend: the Backend contract over services and a store in this process.

Store calls are blocking (SQLite, psycopg); each runs in a worker thread so
the event loop — and the UI on it — never waits on the database.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

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
    Role,
    RouteExplanation,
    SavedView,
    SlaClock,
    SlaPolicyView,
    Sort,
    Source,
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
from agent_tui.domain.tables import Event
from agent_tui.services import (
    agents,
    customers,
    knowledge,
    knowledge_articles,
    knowledge_feedback,
    macros,
    metrics,
    metrics_facts,
    monitor,
    monitor_agents,
    sla_admin,
    surveys,
    ticket_actions,
    tickets,
)
from agent_tui.services import queue as queue_svc
from agent_tui.services import routing as routing_svc
from agent_tui.services.convert import event_view, masked_event
from agent_tui.services.next_ticket import next_ticket as next_ticket_svc
from agent_tui.services.perms import require, sees_personal_data
from agent_tui.services.sla_sweeper import SlaSweeper
from agent_tui.store import Store
from agent_tui.store.events import Actor, events_after, last_seq

T = TypeVar("T")

#: How often ``subscribe`` looks for new events; well inside the 1 s promise.
POLL_INTERVAL = 0.2
#: How often an open backend sweeps SLA clocks (``services.sla_sweeper``).
SLA_SWEEP_INTERVAL = 30.0


def _anything_after(session: Session, after_seq: int) -> bool:
    """Whether the log holds an event after ``after_seq``: one indexed probe.

    An idle poll is most polls. A Core probe costs ~80 µs, the ORM query and its
    conversion ~250 µs, and the cold caches of a thread that wakes five times a
    second multiply both by about five.
    """
    seq = Event.__table__.c.seq  # type: ignore[attr-defined]
    probe = sa.select(seq).where(seq > after_seq).limit(1)
    return session.connection().execute(probe).first() is not None


def _event_views(session: Session, *, after_seq: int, masked: bool) -> list[EventView]:
    views = [event_view(e) for e in events_after(session, after_seq)]
    return [masked_event(v) for v in views] if masked else views


class LocalBackend:
    """The Backend contract for one signed-in agent over a local store."""

    def __init__(self, store: Store, login: str, *, source: Source = Source.TUI,
                 poll_interval: float = POLL_INTERVAL,
                 sla_sweep_interval: float | None = SLA_SWEEP_INTERVAL) -> None:
        self.store = store
        self.location = store.url
        self.poll_interval = poll_interval
        # Time passes without changes: sweep SLA clocks while this backend is open.
        self._sweeper = (SlaSweeper(store, sla_sweep_interval)
                         if sla_sweep_interval is not None else None)
        with store.read() as session:
            self.actor: Actor = agents.actor_for(session, login, source)

    # -- plumbing --------------------------------------------------------
    async def _read(self, fn: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.store.read() as session:
                return fn(session)
        return await self._call(run)

    async def _write(self, fn: Callable[[Session], T]) -> T:
        return await self._call(lambda: self.store.run_write(fn))

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._sweeper is not None:
            self._sweeper.start()  # lazily: __init__ may run outside the event loop
        try:
            return await asyncio.to_thread(fn)
        except OperationalError as exc:
            raise Unavailable(f"the store is not available: {exc.orig or exc}") from exc

    # -- session ---------------------------------------------------------
    async def whoami(self) -> AgentView:
        login = self.actor.login
        return await self._read(lambda s: agents.view_agent(s, agents.get_agent(s, login)))

    async def set_status(self, status: AgentStatus) -> AgentView:
        return await self._write(lambda s: agents.set_agent(s, self.actor, self.actor.login,
                                                            status=status))

    async def set_presence(self, ticket_id: int | None, state: PresenceState | None) -> None:
        await self._write(lambda s: queue_svc.set_presence(s, self.actor, ticket_id, state))

    async def presence(self, ticket_ids: list[int]) -> list[Presence]:
        return await self._read(lambda s: queue_svc.presence(s, self.actor, list(ticket_ids)))

    async def list_agents(self) -> list[AgentView]:
        return await self._read(lambda s: agents.list_agents(s, include_disabled=False))

    async def list_teams(self) -> list[TeamView]:
        return await self._read(agents.list_teams)

    # -- queue -----------------------------------------------------------
    async def list_tickets(self, view: View, *, view_arg: str | None = None,
                           filters: TicketFilters | None = None, sort: Sort = Sort.PRIORITY,
                           after: str | None = None, before: str | None = None,
                           limit: int = 50) -> Page[TicketRow]:
        return await self._read(lambda s: queue_svc.list_tickets(
            s, self.actor, view, view_arg=view_arg, filters=filters, sort=sort, after=after,
            before=before, limit=limit))

    async def count(self, view: View, *, view_arg: str | None = None,
                    filters: TicketFilters | None = None) -> int:
        return await self._read(lambda s: queue_svc.count(s, self.actor, view, view_arg=view_arg,
                                                          filters=filters))

    async def save_view(self, name: str, view: View, *, view_arg: str | None = None,
                        filters: TicketFilters | None = None,
                        sort: Sort = Sort.PRIORITY) -> SavedView:
        return await self._write(lambda s: queue_svc.save_view(
            s, self.actor, name=name, view=view, view_arg=view_arg, filters=filters, sort=sort))

    async def list_views(self) -> list[SavedView]:
        return await self._read(lambda s: queue_svc.list_views(s, self.actor))

    async def delete_view(self, name: str) -> None:
        await self._write(lambda s: queue_svc.delete_view(s, self.actor, name))

    # -- tickets ---------------------------------------------------------
    async def get_ticket(self, ticket_id: int) -> TicketDetail:
        return await self._read(lambda s: tickets.detail(s, self.actor, ticket_id))

    async def create_ticket(self, data: TicketCreate) -> TicketDetail:
        return await self._write(lambda s: tickets.create(s, self.actor, data))

    async def reply(self, ticket_id: int, body: str, *,
                    expected_version: int | None = None) -> TicketDetail:
        return await self._write(lambda s: tickets.reply(
            s, self.actor, ticket_id, body, expected_version=expected_version))

    async def note(self, ticket_id: int, body: str, *,
                   expected_version: int | None = None) -> TicketDetail:
        return await self._write(lambda s: tickets.note(
            s, self.actor, ticket_id, body, expected_version=expected_version))

    async def update_ticket(self, ticket_id: int, changes: TicketUpdate, *,
                            expected_version: int) -> TicketDetail:
        return await self._write(lambda s: tickets.update(
            s, self.actor, ticket_id, changes, expected_version=expected_version))

    async def assign(self, ticket_id: int, assignee: str | None, *, team: str | None = None,
                     expected_version: int | None = None) -> TicketDetail:
        return await self._write(lambda s: tickets.assign(
            s, self.actor, ticket_id, assignee, team=team, expected_version=expected_version))

    # -- workspace actions: macros, escalate, merge, link ----------------
    async def list_macros(self) -> list[MacroView]:
        return await self._read(macros.list_macros)

    async def apply_macro(self, ticket_id: int, macro_id: int, *,
                          expected_version: int) -> MacroResult:
        return await self._write(lambda s: macros.apply_macro(
            s, self.actor, ticket_id, macro_id, expected_version=expected_version))

    async def escalate(self, ticket_id: int, reason: str, *, team: str | None = None,
                       expected_version: int) -> TicketDetail:
        return await self._write(lambda s: ticket_actions.escalate(
            s, self.actor, ticket_id, reason, team=team, expected_version=expected_version))

    async def merge(self, source_id: int, into_id: int, *, expected_version: int,
                    other_customer: bool = False) -> TicketDetail:
        return await self._write(lambda s: ticket_actions.merge(
            s, self.actor, source_id, into_id, expected_version=expected_version,
            other_customer=other_customer))

    async def link(self, ticket_id: int, other_id: int,
                   kind: LinkKind = LinkKind.RELATED) -> TicketDetail:
        return await self._write(lambda s: ticket_actions.link(
            s, self.actor, ticket_id, other_id, kind))

    async def unlink(self, ticket_id: int, other_id: int) -> TicketDetail:
        return await self._write(lambda s: ticket_actions.unlink(
            s, self.actor, ticket_id, other_id))

    # -- customers -------------------------------------------------------
    async def get_360(self, customer_id: int) -> Customer360:
        return await self._read(lambda s: customers.get_360(s, self.actor, customer_id))

    async def reveal_customer(self, customer_id: int, reason: str) -> Customer360:
        return await self._write(lambda s: customers.reveal(s, self.actor, customer_id, reason))

    async def search_customers(self, query: str, *, limit: int = 20) -> list[CustomerView]:
        return await self._read(lambda s: customers.search(s, self.actor, query, limit=limit))

    # -- knowledge -------------------------------------------------------
    async def suggest(self, ticket_id: int, *, k: int = 5) -> list[Suggestion]:
        return await self._read(lambda s: knowledge.suggest(s, self.actor, ticket_id, k=k))

    async def search_kb(self, query: str, *, k: int = 10) -> list[Suggestion]:
        return await self._read(lambda s: knowledge.search(s, query, k=k))

    async def get_article(self, article_id: int) -> ArticleView:
        return await self._read(lambda s: knowledge_articles.get_article(s, article_id))

    async def article_feedback(self, article_id: int, kind: FeedbackKind, *,
                               ticket_id: int | None = None) -> int:
        return await self._write(lambda s: knowledge_feedback.record_feedback(
            s, self.actor, article_id, kind, ticket_id=ticket_id))

    # -- routing ---------------------------------------------------------
    async def next_ticket(self, *, take: bool = False) -> NextTicket | None:
        if take:
            return await self._write(lambda s: next_ticket_svc(s, self.actor, take=True))
        return await self._read(lambda s: next_ticket_svc(s, self.actor))

    async def route_explain(self, ticket_id: int) -> RouteExplanation:
        return await self._read(lambda s: routing_svc.explain(s, self.actor, ticket_id))

    # -- sla -------------------------------------------------------------
    async def sla_clocks(self, ticket_id: int) -> list[SlaClock]:
        return await self._read(lambda s: sla_admin.clocks(s, ticket_id))

    async def list_sla_policies(self) -> list[SlaPolicyView]:
        return await self._read(sla_admin.list_policies)

    # -- metrics ---------------------------------------------------------
    async def metrics_snapshot(self, window: str = "7d",
                               group_by: GroupBy | None = None) -> MetricsSnapshot:
        """KPIs for supervisors; first builds the facts of bulk-loaded tickets, if any."""
        require(self.actor, Role.SUPERVISOR, "metrics")
        if await self._read(metrics_facts.pending_facts):
            await self._call(lambda: metrics_facts.build_missing(self.store.write))
        return await self._read(lambda s: metrics.snapshot(s, self.actor, window, group_by))

    async def record_rating(self, ticket_id: int, *, csat: int | None = None,
                            nps: int | None = None, comment: str | None = None) -> RatingView:
        return await self._write(lambda s: surveys.record_rating(
            s, self.actor, ticket_id, csat=csat, nps=nps, comment=comment))

    # -- monitor ---------------------------------------------------------
    async def monitor_snapshot(self, window: str = "7d") -> MonitorSnapshot:
        """The supervisor monitor's figures; first builds the facts of bulk-loaded tickets."""
        require(self.actor, Role.SUPERVISOR, "the queue monitor")
        if await self._read(metrics_facts.pending_facts):
            await self._call(lambda: metrics_facts.build_missing(self.store.write))
        return await self._read(lambda s: monitor.monitor_snapshot(s, self.actor, window=window))

    async def assign_many(self, ticket_ids: list[int], assignee: str | None, *,
                          team: str | None = None,
                          expected_versions: dict[int, int] | None = None
                          ) -> list[AssignResult]:
        return await self._write(lambda s: monitor_agents.assign_many(
            s, self.actor, list(ticket_ids), assignee, team=team,
            expected_versions=expected_versions))

    # -- events ----------------------------------------------------------
    async def last_seq(self) -> int:
        return await self._read(last_seq)

    async def subscribe(self, after_seq: int) -> AsyncIterator[EventView]:
        """Yield every event after ``after_seq``, then follow the log forever.

        Polls the log (an indexed range scan on the primary key), so it sees
        other processes' writes too, within ``poll_interval``.
        """
        cursor = after_seq
        masked = not sees_personal_data(self.actor)  # agents: personal data masked (§9)
        while True:
            if not await self._read(functools.partial(_anything_after, after_seq=cursor)):
                await asyncio.sleep(self.poll_interval)
                continue
            batch = await self._read(functools.partial(_event_views, after_seq=cursor,
                                                       masked=masked))
            for ev in batch:
                cursor = ev.seq
                yield ev
            if len(batch) < 500:
                await asyncio.sleep(self.poll_interval)

    async def close(self) -> None:
        """Stop the SLA sweep; the store itself belongs to whoever opened it."""
        if self._sweeper is not None:
            await self._sweeper.stop()
