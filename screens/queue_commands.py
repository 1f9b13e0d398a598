"""The queue's ``:`` verbs: view, sort, filter, open, refresh, and saved views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_tui.backend import Channel, Sort, View
from screens.command_line import Command

if TYPE_CHECKING:
    from screens.queue import QueueScreen

VIEW_WORDS: dict[str, View] = {
    "mine": View.MY_OPEN, "my": View.MY_OPEN, "my_open": View.MY_OPEN,
    "unassigned": View.UNASSIGNED, "open": View.ALL_OPEN, "all": View.ALL_OPEN,
    "all_open": View.ALL_OPEN, "pending": View.PENDING, "hold": View.ON_HOLD,
    "on_hold": View.ON_HOLD, "on-hold": View.ON_HOLD, "solved": View.SOLVED,
    "team": View.TEAM, "channel": View.CHANNEL,
}
SORT_WORDS: dict[str, Sort] = {
    "priority": Sort.PRIORITY, "prio": Sort.PRIORITY, "age": Sort.AGE, "oldest": Sort.AGE,
    "updated": Sort.UPDATED, "update": Sort.UPDATED, "recent": Sort.UPDATED,
}


def queue_commands(screen: QueueScreen) -> dict[str, Command]:
    """The verbs the queue screen understands."""

    def view(args: list[str]) -> str | None:
        if not args:
            return "say which view: " + ", ".join(sorted(VIEW_WORDS))
        chosen = VIEW_WORDS.get(args[0].lower())
        if chosen is None:
            if screen.find_saved(" ".join(args)) is not None:
                return screen.show_saved(" ".join(args))
            return (f"no view {args[0]!r}; one of {', '.join(sorted(VIEW_WORDS))}"
                    f" or a saved one ({', '.join(v.name for v in screen.saved) or 'none yet'})")
        if len(args) > 1 and chosen is View.TEAM:
            names = [t.name for t in screen.session.teams]
            if args[1] not in names:
                return f"no team {args[1]!r}; one of {', '.join(names) or 'none yet'}"
            screen._team_index = names.index(args[1])
        if len(args) > 1 and chosen is View.CHANNEL:
            values = [c.value for c in Channel]
            if args[1].lower() not in values:
                return f"no channel {args[1]!r}; one of {', '.join(values)}"
            screen._channel_index = values.index(args[1].lower())
        screen.action_show_view(chosen.value)
        return None

    def sort(args: list[str]) -> str | None:
        chosen = SORT_WORDS.get(args[0].lower()) if args else None
        if chosen is None:
            return "sort by priority, age or updated"
        screen.set_sort(chosen)
        return None

    def filter_(args: list[str]) -> str | None:
        return screen.apply_filter(" ".join(args))

    def open_(args: list[str]) -> str | None:
        number = args[0].lstrip("#") if args else ""
        if not number.isdigit():
            return "open a ticket by its number, e.g. :open 1234"
        screen.open_ticket(int(number))
        return None

    def refresh(args: list[str]) -> str | None:
        screen.action_refresh()
        return None

    return {
        "view": Command(view, "view NAME [TEAM|CHANNEL]", "switch the queue view"),
        "sort": Command(sort, "sort priority|age|updated", "order the queue"),
        "filter": Command(filter_, "filter TOKENS", "filter like / does (empty clears)"),
        "open": Command(open_, "open ID", "open a ticket by number"),
        "refresh": Command(refresh, "refresh", "fetch the page again"),
        "save": Command(lambda args: screen.save_current(" ".join(args)), "save NAME",
                        "save the current view, sort and filter as NAME"),
        "views": Command(lambda args: screen.list_saved(), "views", "list my saved views"),
        "unsave": Command(lambda args: screen.unsave(" ".join(args)), "unsave NAME",
                          "forget a saved view"),
    }
