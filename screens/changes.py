"""Say in words what changed on a ticket between two versions an agent saw."""

from __future__ import annotations

from agent_tui.backend import AuthorKind, MessageView, Priority, TicketDetail


def _label(value: object) -> str:
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, Priority):
        return value.label
    return str(getattr(value, "value", value)).replace("_", " ")


def _kind(message: MessageView) -> str:
    if not message.public:
        return "note"
    return "customer message" if message.author_kind is AuthorKind.CUSTOMER else "reply"


def describe_changes(old: TicketDetail, new: TicketDetail) -> list[str]:
    """Short phrases ("priority normal → low", "1 new reply by Sam") for a banner.

    Everything here is shown as plain ``Text``; names and subjects may be
    customer-written but have passed ``safe_text`` at the backend.
    """
    phrases: list[str] = []
    for field in ("status", "priority", "assignee", "team", "subject", "tags"):
        before, after = getattr(old, field, None), getattr(new, field, None)
        if before != after:
            phrases.append(f"{field} {_label(before)} → {_label(after)}")
    seen = {m.id for m in old.messages}
    by_kind: dict[str, list[MessageView]] = {}
    for m in new.messages:
        if m.id not in seen:
            by_kind.setdefault(_kind(m), []).append(m)
    for kind, added in by_kind.items():
        authors = list(dict.fromkeys(m.author_name for m in added))
        plural = "s" if len(added) > 1 else ""
        phrases.append(f"{len(added)} new {kind}{plural} by {', '.join(authors)}")
    return phrases
