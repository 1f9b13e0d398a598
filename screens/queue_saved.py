"""Views an agent saves: the current view, sort and filter under a name, to come back to.

``:save NAME`` keeps what the queue shows now (saving a name again replaces
it), ``:view NAME`` shows a saved view when NAME is not a built-in one,
``:views`` lists them and ``:unsave NAME`` forgets one; the palette offers
each saved view. They live in the backend, per agent, so they follow the
agent to any terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.app import SystemCommand
from textual.message import Message

from agent_tui.backend import SavedView, View
from screens.base import Session
from screens.filter_syntax import describe_filter
from screens.queue_loading import CHANNELS, QueueLoading, QueueQuery


class QueueSaved(QueueLoading):
    """The saved-view side of the queue screen."""

    class SavedLoaded(Message):
        """The agent's saved views, fresh from the backend; ``done`` says what just happened."""

        def __init__(self, views: list[SavedView], done: str = "") -> None:
            super().__init__()
            self.views = views
            self.done = done

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.saved: list[SavedView] = []

    def find_saved(self, name: str) -> SavedView | None:
        wanted = name.strip().lower()
        return next((v for v in self.saved if v.name.lower() == wanted), None)

    # -- workers -----------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="saved-views")
    async def load_saved(self, done: str = "") -> None:
        """Fetch the saved views (on mount, and after each change)."""
        self.post_message(self.SavedLoaded(await self.backend.list_views(), done))

    @work(exclusive=False, exit_on_error=False, group="saved-views-write")
    async def _save(self, name: str, query: QueueQuery) -> None:
        await self.backend.save_view(name, query.view, view_arg=query.view_arg,
                                     filters=query.filters, sort=query.sort)
        self.load_saved(done=f"Saved view “{name}”: :view {name} shows it again")

    @work(exclusive=False, exit_on_error=False, group="saved-views-write")
    async def _unsave(self, name: str) -> None:
        await self.backend.delete_view(name)
        self.load_saved(done=f"Forgot the saved view “{name}”")

    def on_queue_saved_saved_loaded(self, message: QueueSaved.SavedLoaded) -> None:
        self.saved = sorted(message.views, key=lambda v: v.name.lower())
        if message.done:
            self.notify(message.done, markup=False)

    # -- verbs -------------------------------------------------------------
    def save_current(self, name: str) -> str | None:
        """``:save NAME``: keep the current view, sort and filter under ``name``."""
        name = name.strip()
        if not name:
            return "give the view a name, e.g. :save vip-chats"
        self._save(name, self.query_state)
        return None

    def unsave(self, name: str) -> str | None:
        saved = self.find_saved(name)
        if saved is None:
            return self._unknown(name)
        self._unsave(saved.name)
        return None

    def show_saved(self, name: str) -> str | None:
        """Show the saved view ``name``; what went wrong, if anything."""
        saved = self.find_saved(name)
        if saved is None:
            return self._unknown(name)
        if saved.view is View.TEAM:
            names = [t.name for t in self.session.teams]
            if saved.view_arg not in names:
                return f"the saved view {saved.name!r} is for team {saved.view_arg!r}, " \
                       "which no longer exists"
            self._team_index = names.index(saved.view_arg)
        if saved.view is View.CHANNEL:
            values = [c.value for c in CHANNELS]
            if saved.view_arg in values:
                self._channel_index = values.index(saved.view_arg)
        text = describe_filter(saved.filters) or None
        self._set_query(QueueQuery(view=saved.view, view_arg=saved.view_arg, sort=saved.sort,
                                   text=text))
        self.notify(f"Saved view “{saved.name}”", markup=False)
        return None

    def list_saved(self) -> str | None:
        if not self.saved:
            return "no saved views yet: :save NAME keeps the current one"
        self.notify("\n".join(f"{v.name}: {self._describe_saved(v)}" for v in self.saved),
                    title="Saved views (:view NAME)", markup=False, timeout=10)
        return None

    def _unknown(self, name: str) -> str:
        known = ", ".join(v.name for v in self.saved) or "none yet"
        return f"no saved view {name!r}; saved: {known}"

    @staticmethod
    def _describe_saved(v: SavedView) -> str:
        parts = [v.view.value.replace("_", " ") + (f" {v.view_arg}" if v.view_arg else ""),
                 f"by {v.sort.value}"]
        if (described := describe_filter(v.filters)):
            parts.append(described)
        return " · ".join(parts)

    def saved_palette(self) -> Iterable[SystemCommand]:
        for v in self.saved:
            yield SystemCommand(f"queue: saved view {v.name}", self._describe_saved(v),
                                lambda name=v.name: self.show_saved(name))

    def _set_query(self, query: QueueQuery) -> None:
        raise NotImplementedError
