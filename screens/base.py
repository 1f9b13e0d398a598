"""What every screen shares: the session it works in and one way to report errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from textual.app import SystemCommand
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from agent_tui.backend import AgentView, Backend, BackendError, EventView, TeamView
from screens.command_line import Command
from widgets.composer import Draft


@dataclass(frozen=True)
class Session:
    """Who is signed in, against which backend. Handed to every screen."""

    backend: Backend
    me: AgentView
    location: str  # where the backend points, safe to show (no password)
    teams: list[TeamView] = field(default_factory=list)
    #: Unsent replies and notes by ticket id: leaving a ticket never loses one.
    drafts: dict[int, Draft] = field(default_factory=dict)


def describe_error(error: BaseException | None) -> str:
    """One line naming the real cause: the contract's message, else type and text."""
    if error is None:
        return "unknown error"
    if isinstance(error, BackendError):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class TicketsChanged(Message):
    """Tickets changed in the store (by anyone); sent to every screen by the live feed."""

    def __init__(self, events: list[EventView]) -> None:
        super().__init__()
        self.events = events

    @property
    def ticket_ids(self) -> set[int]:
        """The tickets these events touched."""
        return {e.entity_id for e in self.events if e.entity_id is not None}


class BackendScreen(Screen[None]):
    """A screen that talks to the backend through workers.

    Workers that fail end in ``WorkerState.ERROR`` (they are started with
    ``exit_on_error=False``); this handler turns any such failure into a
    notification with its real cause. Subclasses may react further with
    :meth:`worker_failed`.
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    @property
    def backend(self) -> Backend:
        return self.session.backend

    def commands(self) -> dict[str, Command]:
        """This screen's verbs for the ``:`` command line."""
        return {}

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Commands this screen adds to the command palette ("area: verb")."""
        return ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            if not self.worker_failed(event.worker, error):
                self.show_error(error)

    def worker_failed(self, worker: Worker[object], error: BaseException | None) -> bool:
        """Hook for a screen to handle a failure itself; return True if it did."""
        return False

    def show_error(self, error: BaseException | None) -> None:
        """Show a failure as an error notification (plain text, never markup)."""
        self.notify(describe_error(error), title="Error", severity="error", markup=False,
                    timeout=8)
