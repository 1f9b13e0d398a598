"""The ticket screen's ``:`` verbs: the CLI's words for what the keys do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_tui.backend import Priority, Status, TicketUpdate
from screens.command_line import Command
from screens.filter_syntax import PRIORITY_WORDS, STATUS_WORDS

if TYPE_CHECKING:
    from screens.ticket import TicketScreen


def ticket_commands(screen: TicketScreen) -> dict[str, Command]:
    """The verbs the ticket screen understands."""

    def loaded() -> str | None:
        return None if screen.ticket is not None else "the ticket is still loading"

    def status(args: list[str]) -> str | None:
        chosen = STATUS_WORDS.get(args[0].lower()) if args else None
        if chosen is None:
            return "status one of " + ", ".join(s.value for s in Status)
        if (error := loaded()) or screen.ticket is None:
            return error
        screen._update(TicketUpdate(status=chosen), screen.ticket.version,
                       "#{ticket.id} is now " + chosen.value.replace("_", " "))
        return None

    def priority(args: list[str]) -> str | None:
        chosen = PRIORITY_WORDS.get(args[0].lower()) if args else None
        if chosen is None:
            return "priority one of " + ", ".join(p.label for p in Priority)
        if (error := loaded()) or screen.ticket is None:
            return error
        screen._update(TicketUpdate(priority=chosen), screen.ticket.version,
                       "#{ticket.id} priority " + chosen.label)
        return None

    def assign(args: list[str]) -> str | None:
        if not args:
            return "assign LOGIN, me or nobody"
        if (error := loaded()) or screen.ticket is None:
            return error
        who = args[0].lower()
        login = (screen.session.me.login if who == "me"
                 else None if who in ("nobody", "none", "-") else who)
        screen._assign(login, None, screen.ticket.version)
        return None

    def team(args: list[str]) -> str | None:
        if not args:
            return "team NAME (or none)"
        if (error := loaded()) or screen.ticket is None:
            return error
        name = "" if args[0].lower() in ("none", "-") else args[0]
        screen._assign(screen.ticket.assignee, name, screen.ticket.version)
        return None

    def tags(args: list[str]) -> str | None:
        if (error := loaded()) or screen.ticket is None:
            return error
        current = list(screen.ticket.tags)
        if args and all(a[:1] in "+-" and len(a) > 1 for a in args):
            for a in args:  # :tags +vip -billing edits; :tags a b replaces
                tag = a[1:].lower()
                if a[0] == "+" and tag not in current:
                    current.append(tag)
                elif a[0] == "-" and tag in current:
                    current.remove(tag)
        else:
            current = [a.lower() for a in " ".join(args).replace(",", " ").split()]
        screen._update(TicketUpdate(tags=current), screen.ticket.version,
                       "#{ticket.id} tags updated")
        return None

    def reply(args: list[str]) -> str | None:
        screen.action_compose("reply")
        return None

    def note(args: list[str]) -> str | None:
        screen.action_compose("note")
        return None

    def take(args: list[str]) -> str | None:
        screen.action_take()
        return None

    def customer(args: list[str]) -> str | None:
        screen.action_customer_screen()
        return None

    def back(args: list[str]) -> str | None:
        screen.action_back()
        return None

    def macro(args: list[str]) -> str | None:
        if not args:
            screen.action_macro()
            return None
        return screen.apply_macro_named(" ".join(args))

    def escalate(args: list[str]) -> str | None:
        if not args:
            return "escalate REASON (why it needs escalating)"
        if (error := loaded()) or screen.ticket is None:
            return error
        screen.escalate_now(" ".join(args))
        return None

    def merge(args: list[str]) -> str | None:
        if len(args) != 1:
            return "merge ID (the ticket that keeps the conversation)"
        if (error := loaded()) or screen.ticket is None:
            return error
        return screen.merge_into(args[0])

    def link(args: list[str]) -> str | None:
        if len(args) not in (1, 2):
            return "link ID [related|duplicate|follow_up]"
        return screen.link_to(args[0], args[1] if len(args) == 2 else "related")

    def unlink(args: list[str]) -> str | None:
        if len(args) != 1:
            return "unlink ID"
        return screen.unlink_from(args[0])

    return {
        "status": Command(status, "status STATUS", "set the status"),
        "priority": Command(priority, "priority PRIORITY", "set the priority"),
        "assign": Command(assign, "assign LOGIN|me|nobody", "give the ticket to someone"),
        "team": Command(team, "team NAME", "move it to a team"),
        "tags": Command(tags, "tags +ADD -DROP | TAG…", "edit or replace the tags"),
        "reply": Command(reply, "reply", "write a reply"),
        "note": Command(note, "note", "write an internal note"),
        "take": Command(take, "take", "assign it to me"),
        "customer": Command(customer, "customer", "the customer 360"),
        "back": Command(back, "back", "return to the queue"),
        "macro": Command(macro, "macro [NAME]", "insert a macro and apply its changes"),
        "escalate": Command(escalate, "escalate REASON", "one priority up, to the team lead"),
        "merge": Command(merge, "merge ID", "merge this ticket into another"),
        "link": Command(link, "link ID [KIND]", "link to another ticket"),
        "unlink": Command(unlink, "unlink ID", "remove a link"),
    }
