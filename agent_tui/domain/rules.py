"""Pure ticket rules: the status machine and tag normalisation."""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent_tui.domain.enums import Status
from agent_tui.domain.errors import Invalid

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    # A solved ticket may be reopened or closed; a closed one is history.
    Status.SOLVED: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def check_transition(old: Status, new: Status) -> None:
    """Raise ``Invalid`` unless a ticket may move from ``old`` to ``new``."""
    if old == new:
        return
    if new not in _ALLOWED[old]:
        if old is Status.CLOSED:
            raise Invalid("status", "a closed ticket cannot change; open a follow-up instead")
        raise Invalid("status", f"cannot go from {old.value} to {new.value}")


_TAG = re.compile(r"[^\w:.+-]+", re.UNICODE)


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, no spaces, unique, sorted; empty tags dropped."""
    out = set()
    for tag in tags:
        cleaned = _TAG.sub("-", tag.strip().lower()).strip("-")[:100]
        if cleaned:
            out.add(cleaned)
    return sorted(out)
