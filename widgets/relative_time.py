"""Relative times for people: "in 2h 5m", "overdue 12m", "3d ago".

Pure functions (no Textual) so that every widget says times the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime


def _aware(when: datetime) -> datetime:
    # The store hands out aware UTC times; a naive one can only be UTC too.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def span(seconds: float) -> str:
    """A duration in its two largest units: ``45s``, ``12m``, ``2h 5m``, ``3d 4h``."""
    total = int(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def ago(when: datetime | None, now: datetime) -> str:
    """How long ago ``when`` was: ``just now``, ``12m ago``, ``3d 4h ago``."""
    if when is None:
        return ""
    seconds = (now - _aware(when)).total_seconds()
    if seconds < 60:
        return "just now"
    return f"{span(seconds)} ago"


def due(when: datetime | None, now: datetime) -> str:
    """An SLA clock: ``in 2h 5m`` before the deadline, ``overdue 12m`` after it."""
    if when is None:
        return ""
    seconds = (_aware(when) - now).total_seconds()
    if seconds < 0:
        return f"overdue {span(seconds)}"
    return f"in {span(seconds)}"


def is_overdue(when: datetime | None, now: datetime) -> bool:
    """True when an SLA deadline has passed."""
    return when is not None and _aware(when) < now


def clock(when: datetime, now: datetime) -> str:
    """A message time: ``14:05`` today, ``Mar 3 14:05`` this year, else the full date."""
    local = _aware(when).astimezone()
    today = now.astimezone()
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime("%b %d %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")
