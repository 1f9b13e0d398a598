"""Links between tickets: imported by ``views`` (``TicketDetail.links``), so no cycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from agent_tui.domain.enums import Status


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class LinkKind(StrEnum):
    """How two tickets relate. ``related`` reads the same from both sides."""

    RELATED = "related"
    DUPLICATE = "duplicate"  # this ticket duplicates the other one
    FOLLOW_UP = "follow_up"  # this ticket follows up on the other one

    @classmethod
    def parse(cls, value: str) -> LinkKind:
        """Accept ``follow-up``, ``FOLLOW_UP``, ``dup`` and the like."""
        text = value.strip().lower().replace("-", "_")
        aliases = {"dup": "duplicate", "followup": "follow_up", "follow": "follow_up",
                   "rel": "related"}
        try:
            return cls(aliases.get(text, text))
        except ValueError:
            raise ValueError(f"unknown link kind {value!r} "
                             f"({', '.join(k.value for k in cls)})") from None

    def phrase(self, *, outgoing: bool) -> str:
        """How the link reads on one side: ``duplicate of`` / ``duplicated by``."""
        if self is LinkKind.RELATED:
            return "related to"
        if self is LinkKind.DUPLICATE:
            return "duplicate of" if outgoing else "duplicated by"
        return "follow-up of" if outgoing else "followed up by"


class TicketLinkView(_Frozen):
    """Another ticket linked to this one, as seen from this one."""

    ticket_id: int  # the other ticket
    kind: LinkKind
    outgoing: bool = True  # this ticket is the link's subject ("duplicate of #other")
    subject: str = ""
    status: Status = Status.OPEN
    created_at: datetime
    created_by: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind.phrase(outgoing=self.outgoing)} #{self.ticket_id}"
