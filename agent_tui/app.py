"""The Textual app factory: picks the backend, then runs the workstation.

``launch`` opens a local store and signs in; ``AgentApp`` takes any
``Backend`` (local today, remote later) and never learns which one it got.
This module and ``screens``/``widgets`` are the only places Textual lives.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from agent_tui.backend import (
    AgentView,
    Backend,
    BackendError,
    EventView,
    TeamView,
    Unavailable,
)
from agent_tui.config import load_settings
from agent_tui.keymap import load_keymap
from screens.base import BackendScreen, Session, TicketsChanged, describe_error
from screens.command_line import Command, CommandLineScreen, run_line, split_line
from screens.heap import note_input
from screens.help import HelpScreen
from screens.monitor import MonitorScreen, refused
from screens.queue import QueueScreen

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_NO_STORE = 3
EXIT_UNAVAILABLE = 4

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
#: How long the live feed waits before trying again after losing the store.
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0)

APP = Binding.Group("App")


def display_location(url: str) -> str:
    """A store URL fit for the status bar: never shows a password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL (a remote backend's label): show as is
        return url


class AgentApp(App[None]):
    """The agent workstation: queue, ticket, help, over one ``Backend``."""

    TITLE = "Agent TUI"
    CSS_PATH = "app.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help", group=APP, key_display="?"),
        Binding("ctrl+p", "command_palette", "Commands", id="app.command_palette", group=APP,
                priority=True),
        Binding("ctrl+t", "toggle_theme", "Theme", id="app.toggle_theme", group=APP,
                show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", group=APP, priority=True),
        Binding("colon", "command_line", "Command", id="app.command_line", group=APP,
                key_display=":"),
        Binding("M", "monitor", "Monitor", id="app.monitor", group=APP, show=False),
    ]

    connection: reactive[str] = reactive("connecting")
    """State of the live feed: connecting, live, reconnecting or error."""

    class SignedIn(Message):
        """``whoami`` and the team list arrived: the session can start."""

        def __init__(self, me: AgentView, teams: list[TeamView]) -> None:
            super().__init__()
            self.me = me
            self.teams = teams

    class LiveEvents(Message):
        """Events read from the backend's feed."""

        def __init__(self, events: list[EventView]) -> None:
            super().__init__()
            self.events = events

    class LiveState(Message):
        """The live feed changed state (``live``, ``reconnecting``, ``error``)."""

        def __init__(self, state: str, detail: str = "") -> None:
            super().__init__()
            self.state = state
            self.detail = detail

    def __init__(self, backend: Backend, location: str, *, theme: str = DARK_THEME,
                 keymap: dict[str, str] | None = None,
                 keymap_problems: list[str] | None = None, start: str = "queue",
                 read_only: bool = False) -> None:
        super().__init__()
        self._start = start  # "queue", or "monitor" (agent-tui monitor)
        self._read_only = read_only
        self._user_keymap = dict(keymap or {})
        self._keymap_problems = list(keymap_problems or [])
        self.backend = backend
        self.location = location
        self.session: Session | None = None
        self._initial_theme = theme if theme in (DARK_THEME, LIGHT_THEME) else DARK_THEME

    def compose(self) -> ComposeResult:
        yield Static("Signing in…", id="splash")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            note_input()  # the garbage collector's full passes wait for a pause in these
        await super().on_event(event)

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        """The screens seen through the top one's transparent background, bottom first.

        Textual's own list always holds the screen under the top one, opaque
        or not: so the queue under an open ticket counted as shown, and each
        of its updates (its cursor losing focus, a live row) repainted the
        whole workspace in front of it, ~2–4 ms at a time while a ticket
        opened. Under an opaque screen nothing shows; it is drawn again, whole,
        when it is back on top (``ScreenResume``).
        """
        stack = self._screen_stack
        seen: list[Screen[Any]] = []
        if not stack or stack[-1].styles.background.a == 1:
            return seen
        for screen in reversed(stack[:-1]):
            seen.append(screen)
            if screen.styles.background.a == 1:
                break
        return seen[::-1]

    def on_mount(self) -> None:
        self.theme = self._initial_theme
        if self._user_keymap:
            self.set_keymap(self._user_keymap)
        for problem in self._keymap_problems:
            self.notify(problem, title="Keymap", severity="warning", markup=False, timeout=10)
        self._sign_in()

    # -- session ---------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="sign-in")
    async def _sign_in(self) -> None:
        me = await self.backend.whoami()
        teams = await self.backend.list_teams()
        self.post_message(self.SignedIn(me, teams))

    def on_agent_app_signed_in(self, message: AgentApp.SignedIn) -> None:
        self.session = Session(backend=self.backend, me=message.me, location=self.location,
                               teams=message.teams)
        reason = refused(message.me.role) if self._start == "monitor" else None
        if self._start == "monitor" and reason is None:
            self.push_screen(MonitorScreen(self.session, read_only=self._read_only))
        else:
            self.push_screen(QueueScreen(self.session))
            if reason:
                self.notify(reason, title="Monitor", severity="error", markup=False, timeout=10)
        self._follow()

    # -- live feed -------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="live")
    async def _follow(self) -> None:
        """Tail the event log for as long as the app runs; resume after a drop."""
        seq: int | None = None  # the last event seen; None until the feed first starts
        failures = 0
        while True:
            try:
                # Also the health check after a drop: "live" only once the store answers.
                latest = await self.backend.last_seq()
                seq = latest if seq is None else seq
                self.post_message(self.LiveState("live"))
                async for event in self.backend.subscribe(seq):
                    seq = event.seq
                    failures = 0
                    if event.entity == "ticket":
                        self.post_message(self.LiveEvents([event]))
            except Unavailable as exc:
                # Resume from the last event seen, so nothing is missed.
                self.post_message(self.LiveState("reconnecting", str(exc)))
                await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
                failures += 1

    def on_agent_app_live_events(self, message: AgentApp.LiveEvents) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, BackendScreen):
                screen.post_message(TicketsChanged(message.events))

    def on_agent_app_live_state(self, message: AgentApp.LiveState) -> None:
        if message.state == "reconnecting" and self.connection != "reconnecting":
            self.notify(f"Lost the live feed: {message.detail}. Reconnecting…",
                        severity="warning", markup=False)
        self.connection = message.state

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        cause = describe_error(event.worker.error)
        if event.worker.group == "sign-in":
            # Text, not a str: an error message may hold "[...]" that is not markup.
            self.query_one("#splash", Static).update(Text(f"Could not sign in: {cause}"))
            self.connection = "error"
        elif event.worker.group == "live":
            self.connection = "error"
            cause = f"The live feed stopped: {cause}"
        self.notify(cause, title="Error", severity="error", markup=False, timeout=10)

    # -- app actions -----------------------------------------------------
    def action_toggle_theme(self) -> None:
        """Switch between the dark and the light theme."""
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME

    def action_monitor(self) -> None:
        """Open the live queue monitor (supervisors and admins)."""
        if self.session is None:
            return
        reason = refused(self.session.me.role)
        if reason:
            self.notify(reason, title="Monitor", severity="warning", markup=False)
        elif any(isinstance(s, MonitorScreen) for s in self.screen_stack):
            self.notify("The monitor is already open: escape goes back to it.", markup=False)
        else:
            self.push_screen(MonitorScreen(self.session, read_only=self._read_only,
                                           can_leave=True))

    def action_command_line(self) -> None:
        """Type a command (``:status pending``, ``:view unassigned``)."""
        screen = self.screen
        if not isinstance(screen, BackendScreen):
            return
        verbs = {**self._app_commands(), **screen.commands()}

        def ran(line: str | None) -> None:
            if line:
                error = run_line(line, verbs)
                if error:
                    self.notify(error, title=f":{split_line(line)[0] if split_line(line) else ''}",
                                severity="warning", markup=False, timeout=8)

        self.push_screen(CommandLineScreen(verbs), ran)

    def _app_commands(self) -> dict[str, Command]:
        def theme(args: list[str]) -> str | None:
            self.action_toggle_theme()
            return None

        def quit_(args: list[str]) -> str | None:
            self.exit()
            return None

        def help_(args: list[str]) -> str | None:
            self.action_help()
            return None

        def monitor(args: list[str]) -> str | None:
            self.action_monitor()
            return None

        return {"theme": Command(theme, "theme", "dark ↔ light"),
                "monitor": Command(monitor, "monitor", "the live queue monitor (supervisors)"),
                "quit": Command(quit_, "quit", "leave the app"),
                "help": Command(help_, "help", "the keys of this screen")}

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        if isinstance(self.screen, HelpScreen):
            return
        title = f"Keys: {type(self.screen).__name__.removesuffix('Screen').lower() or 'app'}"
        self.push_screen(HelpScreen(title, self.screen.active_bindings.values()))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Palette commands, named "area: verb"; the screen adds its own."""
        if isinstance(screen, BackendScreen):
            yield from screen.palette_commands()
        yield SystemCommand("app: help", "Show the keys of this screen", self.action_help)
        if self.session is not None and refused(self.session.me.role) is None:
            yield SystemCommand("app: queue monitor", "Backlog, SLA, agents and KPIs, live",
                                self.action_monitor)
        yield SystemCommand("app: toggle theme", "Switch between dark and light",
                            self.action_toggle_theme)
        yield SystemCommand("app: choose theme", "Pick any installed theme",
                            self.action_change_theme)
        yield SystemCommand("app: quit", "Leave Agent TUI", self.action_quit)

    async def on_unmount(self) -> None:
        await self.backend.close()


def binding_ids() -> set[str]:
    """Every binding id of the app's screens and widgets (what a keymap may name)."""
    from screens.choose import ChoiceScreen, TextScreen
    from screens.command_line import CommandLineScreen
    from screens.customer import CustomerScreen
    from screens.macro_picker import MacroPicker
    from screens.reveal import RevealScreen
    from screens.ticket import TicketScreen
    from widgets.composer import Composer
    from widgets.suggestions import SuggestionPanel
    from widgets.ticket_table import TicketTable

    owners: list[type[Any]] = [AgentApp, QueueScreen, MonitorScreen, TicketScreen, CustomerScreen,
                               RevealScreen, ChoiceScreen, TextScreen, CommandLineScreen,
                               Composer, SuggestionPanel, TicketTable, HelpScreen,
                               MacroPicker, MonitorScreen]
    return {b.id for owner in owners for b in owner.BINDINGS
            if isinstance(b, Binding) and b.id}


def launch(db_url: str, login: str | None, *, theme: str = DARK_THEME, start: str = "queue",
           read_only: bool = False) -> int:
    """Open the local store at ``db_url``, sign in as ``login``, run the app.

    ``login`` defaults to the store's default agent. Returns an exit code:
    0 after a normal quit, 3 if there is no (up to date) store, 4 if the
    database cannot be reached, 1 for any other refusal. Errors are one line
    on stderr.
    """
    # Imported here: only this factory knows that the backend is local.
    from agent_tui.local import LocalBackend
    from agent_tui.services.agents import default_login
    from agent_tui.store import APP_CACHE_MIB, open_store
    from agent_tui.store.migrate import current_revision, head_revision

    def fail(message: str, code: int) -> int:
        print(f"error: {message}", file=sys.stderr)
        return code

    try:
        parsed = make_url(db_url)
    except (ArgumentError, ValueError):
        return fail(f"not a store URL: {db_url!r}; use sqlite:///PATH or postgresql://…",
                    EXIT_ERROR)
    shown = display_location(db_url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        # Opening a missing SQLite file would create an empty one: refuse first.
        if path in ("", ":memory:") or not Path(path).expanduser().is_file():
            return fail(f"no Agent TUI store at {shown}; run `agent-tui init` first",
                        EXIT_NO_STORE)
    try:
        store = open_store(db_url, cache_mib=APP_CACHE_MIB)
    except ValueError as exc:
        return fail(str(exc), EXIT_ERROR)
    try:
        revision = current_revision(store)
        if revision is None:
            return fail(f"no Agent TUI store at {shown}; run `agent-tui init` first",
                        EXIT_NO_STORE)
        if revision != head_revision():
            return fail(f"the store at {shown} has schema {revision}, this version needs "
                        f"{head_revision()}; run `agent-tui init` to upgrade it", EXIT_NO_STORE)
        if login is None:
            with store.read() as session:
                login = default_login(session)
            if login is None:
                return fail(f"the store at {shown} has no active agent; add one with "
                            "`agent-tui agent add`", EXIT_ERROR)
        backend = LocalBackend(store, login.strip().lower())
        keymap = load_keymap(load_settings().keymap_file, binding_ids())
        app = AgentApp(backend, shown, theme=theme, keymap=keymap.keys,
                       keymap_problems=keymap.problems, start=start, read_only=read_only)
        app.run()
        return app.return_code or EXIT_OK
    except BackendError as exc:
        return fail(str(exc), EXIT_ERROR)
    except OperationalError as exc:
        return fail(f"cannot use the database at {shown}: {exc.orig or exc}", EXIT_UNAVAILABLE)
    finally:
        store.dispose()


def launch_remote(server: str, token: str, *, theme: str = DARK_THEME, start: str = "queue",
                  read_only: bool = False) -> int:
    """Run the same app on a RemoteBackend against the team server at ``server``.

    Checks the token first (one line and exit code 1 if refused, 4 if the
    server cannot be reached); after that a lost server shows "reconnecting…"
    in the status bar, and the feed resumes from the last event seen.
    """
    from backend_client import RemoteBackend

    async def check() -> None:
        probe = RemoteBackend(server, token)
        try:
            await probe.whoami()
        finally:
            await probe.close()

    try:
        asyncio.run(check())
    except Unavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except BackendError as exc:
        print(f"error: {server} refused the token: {exc}; run `agent-tui login {server}`",
              file=sys.stderr)
        return EXIT_ERROR
    keymap = load_keymap(load_settings().keymap_file, binding_ids())
    app = AgentApp(RemoteBackend(server, token), server.rstrip("/"), theme=theme,
                   keymap=keymap.keys, keymap_problems=keymap.problems, start=start,
                   read_only=read_only)
    app.run()
    return app.return_code or EXIT_OK
