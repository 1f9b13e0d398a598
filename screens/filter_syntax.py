"""The queue's filter line: free text plus ``key:value`` tokens.

``status:open,pending prio:high chan:chat team:billing tag:vip assignee:me
customer:42 refund`` — tokens narrow the view, everything else is free text
on the subject. Keys have short and long names; values are matched without
case; a value list is comma-separated. A token that does not parse is
reported and ignored (never silently turned into free text), so the agent
knows why a filter did not do what they meant. Quoted text (``"two
words"``) keeps its spaces. Pure code: the queue screen shows the errors.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from agent_tui.backend import Channel, Priority, Status, TicketFilters

KEYS: dict[str, str] = {
    "status": "status", "st": "status", "is": "status",
    "priority": "priority", "prio": "priority", "p": "priority",
    "channel": "channel", "chan": "channel", "via": "channel",
    "team": "team",
    "assignee": "assignee", "asg": "assignee", "to": "assignee",
    "tag": "tag", "tags": "tag",
    "customer": "customer", "cust": "customer",
}
STATUS_WORDS: dict[str, Status] = {
    **{s.value: s for s in Status},
    "on-hold": Status.ON_HOLD, "onhold": Status.ON_HOLD, "hold": Status.ON_HOLD,
}
PRIORITY_WORDS: dict[str, Priority] = {
    **{p.label: p for p in Priority}, **{str(int(p)): p for p in Priority},
    "med": Priority.NORMAL, "medium": Priority.NORMAL, "crit": Priority.URGENT,
    "critical": Priority.URGENT,
}
CHANNEL_WORDS: dict[str, Channel] = {
    **{c.value: c for c in Channel},
    "mail": Channel.EMAIL, "e-mail": Channel.EMAIL, "call": Channel.PHONE,
    "voice": Channel.PHONE, "form": Channel.WEB, "mobile": Channel.APP,
}


@dataclass
class ParsedFilter:
    """What the line asks for, and what in it could not be understood."""

    filters: TicketFilters | None
    errors: list[str] = field(default_factory=list)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: take the words as they are
        return text.split()


def _values(raw: str, words: dict[str, object], what: str,
            errors: list[str]) -> list[object]:
    out: list[object] = []
    for value in (v.strip().lower() for v in raw.split(",")):
        if not value:
            continue
        if value in words:
            if words[value] not in out:
                out.append(words[value])
        else:
            choices = ", ".join(sorted({str(getattr(w, "value", w)) for w in words.values()}))
            errors.append(f"unknown {what} {value!r} (one of {choices})")
    return out


def parse_filter(text: str) -> ParsedFilter:
    """Parse the filter line; an empty line is no filter at all."""
    errors: list[str] = []
    free: list[str] = []
    found: dict[str, object] = {}
    for word in _words(text.strip()):
        key, sep, value = word.partition(":")
        name = KEYS.get(key.lower()) if sep else None
        if name is None:
            free.append(word)
            continue
        if not value:
            errors.append(f"{key}: needs a value")
            continue
        if name == "status":
            found["status"] = _values(value, STATUS_WORDS, "status", errors)  # type: ignore[arg-type]
        elif name == "priority":
            found["priority"] = _values(value, PRIORITY_WORDS, "priority", errors)  # type: ignore[arg-type]
        elif name == "channel":
            found["channel"] = _values(value, CHANNEL_WORDS, "channel", errors)  # type: ignore[arg-type]
        elif name == "customer":
            number = value.lstrip("#")
            if number.isdigit():
                found["customer_id"] = int(number)
            else:
                errors.append(f"customer: takes a customer number, not {value!r}")
        elif name == "assignee":
            found["assignee"] = {"nobody": "none", "unassigned": "none"}.get(
                value.lower(), value.lower())
        else:
            found[name] = value.lower() if name == "tag" else value
    if free:
        found["text"] = " ".join(free)
    cleaned = {k: v for k, v in found.items() if v not in ([], None, "")}
    return ParsedFilter(TicketFilters(**cleaned) if cleaned else None, errors)  # type: ignore[arg-type]


def describe_filter(filters: TicketFilters | None) -> str:
    """The filter as the agent would type it back (for the view bar)."""
    if filters is None:
        return ""
    parts: list[str] = []
    if filters.status:
        parts.append("status:" + ",".join(s.value for s in filters.status))
    if filters.priority:
        parts.append("prio:" + ",".join(p.label for p in filters.priority))
    if filters.channel:
        parts.append("chan:" + ",".join(c.value for c in filters.channel))
    for name in ("team", "assignee", "tag"):
        value = getattr(filters, name)
        if value:
            parts.append(f"{name}:{value}")
    if filters.customer_id is not None:
        parts.append(f"customer:{filters.customer_id}")
    if filters.text:
        parts.append(f'"{filters.text}"' if " " in filters.text else filters.text)
    return " ".join(parts)
