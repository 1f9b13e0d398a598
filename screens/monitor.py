"""The supervisor's live queue monitor: backlog, SLA clocks, forecast, agents, KPIs.

Live loop: one timer, re-armed only after each cycle ends. A cycle asks the
backend for the last event seq (a primary-key max); only when it moved (or
the window changed, or ``STALE_AFTER`` passed: clocks move without events)
does it fetch a full ``monitor_snapshot`` and render it. So a change by any
process is on screen within ``TICK`` + one refresh, refreshes never pile
up, and an idle monitor costs one tiny query per tick. Nothing is fetched
or rendered while the screen is hidden (a ticket on top), behind a modal,
or paused with ``space``; it catches up when shown or resumed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from agent_tui.backend import (
    AgentStatus,
    AssignResult,
    BackendError,
    MonitorSnapshot,
    Priority,
    Role,
    SlaTicket,
    TicketUpdate,
)
from screens.base import Session, describe_error
from screens.choose import ChoiceScreen
from screens.ticket_open import OpensTickets
from widgets.key_bar import KeyBar
from widgets.monitor_panels import BacklogPanel, ForecastPanel, KpiPanel
from widgets.monitor_tables import AgentTable, SlaTable
from widgets.status_bar import StatusBar

TICK = 0.5  # seconds between looks at the event log
STALE_AFTER = 15.0  # full refresh at least this often: SLA clocks move with time
ERROR_BACKOFF = 3.0
COUNTDOWN_EVERY = 5.0  # seconds between countdown repaints (they show whole minutes)
WINDOWS = ("7d", "30d", "1d", "24h")
UNASSIGN = "-"

LIVE = Binding.Group("Live")
ACT = Binding.Group("Act")


class MonitorScreen(OpensTickets):
    """Backlog, SLA clocks with countdowns, breach forecast, agent board and KPIs, live."""

    CSS_PATH = "monitor.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause", id="monitor.pause", group=LIVE),
        Binding("r", "refresh", "Refresh", id="monitor.refresh", group=LIVE),
        Binding("w", "cycle_window", "Window", id="monitor.window", group=LIVE),
        Binding("j", "cursor_down", "Down", id="monitor.cursor_down", group=LIVE, show=False),
        Binding("k", "cursor_up", "Up", id="monitor.cursor_up", group=LIVE, show=False),
        Binding("x", "toggle_select", "Select", id="monitor.select", group=ACT),
        Binding("a", "reassign_agent", "To agent", id="monitor.assign", group=ACT),
        Binding("T", "reassign_team", "To team", id="monitor.team", group=ACT),
        Binding("p", "set_priority", "Priority", id="monitor.priority", group=ACT),
        Binding("enter", "open_ticket", "Open", id="monitor.open", group=ACT),
        Binding("escape", "back", "Unselect / back", id="monitor.back", group=ACT),
    ]

    #: Actions a wall display (``--read-only``) does not offer.
    ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"toggle_select", "reassign_agent", "reassign_team", "set_priority", "open_ticket"})

    class Loaded(Message):
        """A snapshot arrived."""

        def __init__(self, snapshot: MonitorSnapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

    class ActionDone(Message):
        """A bulk action finished: what happened to each ticket, in one line."""

        def __init__(self, verb: str, results: list[AssignResult]) -> None:
            super().__init__()
            self.verb = verb
            self.results = results

    def __init__(self, session: Session, *, read_only: bool = False,
                 can_leave: bool = False) -> None:
        super().__init__(session)
        self.read_only = read_only
        self.can_leave = can_leave  # opened over the queue: escape goes back to it
        self.paused = False
        self.window = WINDOWS[0]
        self.snapshot: MonitorSnapshot | None = None
        self.refreshes = 0  # snapshots rendered (tests and the benchmark read it)
        self._seen_seq: int | None = None
        self._fetched_at = 0.0
        self._force = True
        self._shown = True  # not under another screen
        self._timer: Timer | None = None
        self._worker: Worker[None] | None = None
        self._countdown_at = 0.0
        self._unrendered = False

    # -- layout ----------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="monitor-top"):
            with Vertical(id="monitor-left"):
                yield BacklogPanel(id="backlog")
                yield ForecastPanel("", id="forecast")
            yield KpiPanel(id="kpis")
        with Horizontal(id="monitor-bottom"):
            yield SlaTable(id="sla")
            yield AgentTable(id="agents")
        me = self.session.me
        yield StatusBar(login=me.login, role=me.role.value, location=self.session.location,
                        view=self._describe())
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#backlog").border_title = "Backlog"
        self.query_one("#forecast").border_title = "SLA and forecast"
        self.query_one("#kpis").border_title = "KPIs"
        self.query_one("#sla").border_title = "SLA clocks: at risk, then breached"
        self.query_one("#agents").border_title = "Agents"
        self.query_one(SlaTable).focus()
        self._arm(0)

    @property
    def sla(self) -> SlaTable:
        return self.query_one(SlaTable)

    # -- the live loop ---------------------------------------------------
    def _arm(self, delay: float) -> None:
        """Start the one timer, unless it runs, a cycle is in flight or we must not fetch."""
        busy = self._worker is not None and self._worker.is_running
        if self._timer is not None or busy or self.paused or not self._shown:
            return
        # Textual timers divide by their delay: "now" is the shortest delay that works.
        self._timer = self.set_timer(max(delay, 0.01), self._cycle, name="monitor-cycle")

    def _cycle(self) -> None:
        self._timer = None
        if self.paused or not self._shown or not self.is_attached:
            return
        stale = time.monotonic() - self._fetched_at >= STALE_AFTER
        self._worker = self._fetch(self.window, self._seen_seq, self._force or stale)
        self._force = False

    @work(exclusive=True, exit_on_error=False, group="monitor")
    async def _fetch(self, window: str, seen: int | None, force: bool) -> None:
        if not force and seen is not None and await self.backend.last_seq() == seen:
            return
        self.post_message(self.Loaded(await self.backend.monitor_snapshot(window)))

    @on(Worker.StateChanged)
    def _cycle_ended(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        self._worker = None
        if event.state is WorkerState.ERROR:
            self._force = True
            self._arm(ERROR_BACKOFF)
            return
        now = time.monotonic()
        if self.snapshot is not None and now - self._countdown_at >= COUNTDOWN_EVERY:
            self._countdown_at = now
            self.sla.tick(self._now())
        self._arm(TICK)

    def on_monitor_screen_loaded(self, message: MonitorScreen.Loaded) -> None:
        snap = message.snapshot
        self.snapshot = snap
        self._seen_seq = snap.last_seq
        self._fetched_at = time.monotonic()
        if snap.window != self.window:
            self._force = True  # the window changed while this was in flight
        if self._shown:
            self._render_snapshot(snap)
        else:
            self._unrendered = True  # finished after a screen was pushed: render on resume

    def _render_snapshot(self, snap: MonitorSnapshot) -> None:
        self.refreshes += 1
        self._countdown_at = time.monotonic()
        self.query_one(BacklogPanel).show(snap)
        self.query_one(ForecastPanel).show(snap)
        self.query_one(KpiPanel).show(snap)
        self.sla.show([*snap.at_risk, *snap.breached], snap.at)
        self.query_one(AgentTable).show(snap.agents)
        self._render_bar()

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def worker_failed(self, worker: Worker[object], error: BaseException | None) -> bool:
        if worker.group != "monitor":
            return False
        # One notice per outage, not one per retry.
        if self.query_one(StatusBar).view.startswith("not updating"):
            return True
        self.query_one(StatusBar).view = f"not updating: {describe_error(error)}"
        return False

    def on_screen_suspend(self) -> None:
        self._shown = False

    def on_screen_resume(self) -> None:
        self._shown = True
        if self._unrendered and self.snapshot is not None:
            self._unrendered = False
            self._render_snapshot(self.snapshot)
        self._arm(0)

    # -- live actions ----------------------------------------------------
    def action_toggle_pause(self) -> None:
        """Stop or restart following changes (the figures stay as they are)."""
        self.paused = not self.paused
        if self.paused and self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._render_bar()
        if not self.paused:
            self._force = True
            self._arm(0)

    def action_refresh(self) -> None:
        """Fetch every figure again now."""
        self._force = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._arm(0)

    def action_cycle_window(self) -> None:
        """KPIs over 7 days → 30 days → today → 24 hours."""
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self._render_bar()
        self.action_refresh()

    def action_cursor_down(self) -> None:
        table = self.focused
        if isinstance(table, DataTable):
            table.action_cursor_down()

    def action_cursor_up(self) -> None:
        table = self.focused
        if isinstance(table, DataTable):
            table.action_cursor_up()

    # -- ticket actions --------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in self.ACTIONS:
            return False
        if action == "back":
            return bool(self.can_leave or (self.is_mounted and self.sla.selected))
        return True

    def targets(self) -> list[SlaTicket]:
        """The selected tickets in table order, else the one under the cursor."""
        table = self.sla
        if table.selected:
            return [t for t in table.tickets.values() if t.id in table.selected]
        current = table.cursor_ticket
        return [current] if current is not None else []

    def action_toggle_select(self) -> None:
        """Mark or unmark the ticket under the cursor for a bulk action."""
        if self.sla.toggle() is not None:
            self.sla.action_cursor_down()
        self._render_bar()

    def action_back(self) -> None:
        """Unmark every ticket; with none marked, go back to the queue."""
        if not self.sla.selected:
            if self.can_leave:
                self.dismiss()
            return
        self.sla.selected.clear()
        self.sla.mark()
        self._render_bar()

    def _picked(self) -> list[SlaTicket] | None:
        chosen = self.targets()
        if not chosen:
            self.notify("No ticket here: move to one in the SLA list.", severity="warning",
                        markup=False)
            return None
        return chosen

    def action_reassign_agent(self) -> None:
        """Give the selected tickets (or the one under the cursor) to an agent."""
        chosen = self._picked()
        if chosen is None or self.snapshot is None:
            return
        board = [a for a in self.snapshot.agents if a.status is not AgentStatus.OFFLINE] + [
            a for a in self.snapshot.agents if a.status is AgentStatus.OFFLINE]
        choices = [(a.login, f"{a.login} — {a.status.value}, load {a.load}/{a.capacity}")
                   for a in board]
        choices.append((UNASSIGN, "nobody (unassign)"))

        def picked(login: str | None) -> None:
            if login is not None:
                self._assign(chosen, None if login == UNASSIGN else login, None,
                             f"to {login if login != UNASSIGN else 'nobody'}")

        self.app.push_screen(ChoiceScreen(f"Reassign {len(chosen)} ticket(s) to", choices),
                             picked)

    def action_reassign_team(self) -> None:
        """Move the selected tickets to a team's queue (unassigned)."""
        chosen = self._picked()
        if chosen is None:
            return
        teams = [(t.name, t.name) for t in self.session.teams]
        if not teams:
            self.notify("There are no teams yet.", severity="warning", markup=False)
            return

        def picked(team: str | None) -> None:
            if team is not None:
                self._assign(chosen, None, team, f"to team {team}")

        self.app.push_screen(ChoiceScreen(f"Move {len(chosen)} ticket(s) to team", teams),
                             picked)

    def action_set_priority(self) -> None:
        """Change the priority of the selected tickets."""
        chosen = self._picked()
        if chosen is None:
            return
        current = chosen[0].priority.label if len(chosen) == 1 else None
        choices = [(p.label, p.label) for p in reversed(Priority)]

        def picked(label: str | None) -> None:
            if label is not None:
                self._prioritise(chosen, Priority.parse(label))

        self.app.push_screen(ChoiceScreen(f"Priority of {len(chosen)} ticket(s)", choices,
                                          current=current), picked)

    @work(exit_on_error=False, group="monitor-action")
    async def _assign(self, chosen: list[SlaTicket], assignee: str | None, team: str | None,
                      verb: str) -> None:
        results = await self.backend.assign_many(
            [t.id for t in chosen], assignee, team=team,
            expected_versions={t.id: t.version for t in chosen})
        self.post_message(self.ActionDone(verb, results))

    @work(exit_on_error=False, group="monitor-action")
    async def _prioritise(self, chosen: list[SlaTicket], priority: Priority) -> None:
        results: list[AssignResult] = []
        for t in chosen:
            try:
                done = await self.backend.update_ticket(
                    t.id, TicketUpdate(priority=priority), expected_version=t.version)
            except BackendError as exc:
                results.append(AssignResult(ticket_id=t.id, ok=False, error=str(exc)))
            else:
                results.append(AssignResult(ticket_id=t.id, ok=True, version=done.version))
        self.post_message(self.ActionDone(f"to {priority.label}", results))

    def on_monitor_screen_action_done(self, message: MonitorScreen.ActionDone) -> None:
        ok = [r for r in message.results if r.ok]
        failed = [r for r in message.results if not r.ok]
        self.sla.selected -= {r.ticket_id for r in ok}
        line = f"{len(ok)} ticket(s) moved {message.verb}."
        if failed:
            line += " Not changed: " + "; ".join(f"#{r.ticket_id}: {r.error}" for r in failed)
        self.notify(line, title="Monitor", severity="warning" if failed else "information",
                    markup=False, timeout=10 if failed else 5)
        self.action_refresh()

    def action_open_ticket(self) -> None:
        """Open the ticket under the cursor in the workspace."""
        ticket = self.sla.cursor_ticket
        if ticket is not None:
            self.open_workspace(ticket.id)

    @on(DataTable.RowSelected, "#sla")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if not self.read_only:
            self.action_open_ticket()

    # -- display ---------------------------------------------------------
    def _describe(self) -> str:
        parts = ["Monitor", f"KPIs {self.window}"]
        if self.paused:
            parts.append("PAUSED (space resumes)")
        if self.read_only:
            parts.append("read-only")
        if self.is_mounted and self.sla.selected:
            parts.append(f"{len(self.sla.selected)} selected")
        if self.snapshot is not None:
            parts.append(f"as of {self.snapshot.at:%H:%M:%S} UTC")
            if self.snapshot.facts_pending:
                parts.append(f"{self.snapshot.facts_pending:,} tickets' facts pending")
        return " · ".join(parts)

    def _render_bar(self) -> None:
        if self.is_mounted:
            self.query_one(StatusBar).view = self._describe()
            self.refresh_bindings()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("monitor: pause or resume", "Stop or restart live updates",
                            self.action_toggle_pause)
        yield SystemCommand("monitor: refresh", "Fetch every figure again",
                            self.action_refresh)
        yield SystemCommand("monitor: cycle KPI window", "7d, 30d, today, 24h",
                            self.action_cycle_window)
        if not self.read_only:
            yield SystemCommand("monitor: reassign to agent", "Selected tickets to an agent",
                                self.action_reassign_agent)
            yield SystemCommand("monitor: move to team", "Selected tickets to a team",
                                self.action_reassign_team)
            yield SystemCommand("monitor: priority", "Change the selected tickets' priority",
                                self.action_set_priority)


def refused(role: Role) -> str | None:
    """Why ``role`` may not open the monitor, or None."""
    if role.rank < Role.SUPERVISOR.rank:
        return f"the queue monitor is for supervisors and admins; you are {role.value}"
    return None

