"""Read models of the workspace actions: macros, links and merges (issue 4).

A macro is a canned reply with placeholders plus a set of field changes;
applying one fills the placeholders for one ticket and makes the changes in
one step. Links tie two tickets together (``related``, ``duplicate``,
``follow_up``); a merge moves one ticket's conversation into another.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from agent_tui.domain.enums import Priority, Status
from agent_tui.domain.views import ReadModel, TicketDetail
from agent_tui.domain.views_links import LinkKind, TicketLinkView

__all__ = [
    "PLACEHOLDERS", "LinkKind", "MacroActions", "MacroResult", "MacroView", "TicketLinkView",
    "first_name", "render_placeholders", "unknown_placeholders",
]


class MacroActions(BaseModel):
    """The field changes a macro makes; ``None`` and empty lists change nothing."""

    model_config = ConfigDict(frozen=True)

    status: Status | None = None
    priority: Priority | None = None
    add_tags: list[str] = []
    remove_tags: list[str] = []
    team: str | None = None  # "" moves the ticket out of any team

    @property
    def empty(self) -> bool:
        return (self.status is None and self.priority is None and not self.add_tags
                and not self.remove_tags and self.team is None)

    def describe(self) -> list[str]:
        """What the macro does, one short phrase per change."""
        out: list[str] = []
        if self.status is not None:
            out.append(f"status {self.status.value.replace('_', ' ')}")
        if self.priority is not None:
            out.append(f"priority {self.priority.label}")
        out += [f"+{t}" for t in self.add_tags] + [f"-{t}" for t in self.remove_tags]
        if self.team is not None:
            out.append(f"team {self.team or 'none'}")
        return out


class MacroView(ReadModel):
    id: int
    name: str
    body: str
    locale: str = "en"
    actions: MacroActions = MacroActions()
    active: bool = True


class MacroResult(ReadModel):
    """A macro applied: the body for the composer and the ticket after its changes."""

    macro: MacroView
    body: str
    ticket: TicketDetail
    changed: list[str] = []  # the changes that did something, e.g. ["status pending"]


#: ``{customer.first_name}``, ``{agent.name}``, ``{ticket.id}``…
PLACEHOLDER = re.compile(r"\{(customer|agent|ticket)\.([a-z_]+)\}")
PLACEHOLDERS: frozenset[str] = frozenset({
    "customer.name", "customer.first_name", "agent.name", "agent.first_name",
    "ticket.id", "ticket.subject",
})


def unknown_placeholders(body: str) -> list[str]:
    """Placeholders in ``body`` that no ticket can fill (a typo, say)."""
    found = {f"{m.group(1)}.{m.group(2)}" for m in PLACEHOLDER.finditer(body)}
    return sorted(found - PLACEHOLDERS)


def first_name(name: str) -> str:
    """The given name to greet someone by; CJK names are used whole."""
    name = name.strip()
    if not name or any("\u3000" <= ch <= "\u9fff" for ch in name):
        return name
    return name.split()[0]


def render_placeholders(body: str, values: dict[str, str]) -> str:
    """Fill every known placeholder from ``values``; unknown ones stay as written."""
    return PLACEHOLDER.sub(lambda m: values.get(f"{m.group(1)}.{m.group(2)}", m.group(0)), body)
