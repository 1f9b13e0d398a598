"""The vocabulary of the product: channels, statuses, priorities, roles."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    SOCIAL = "social"


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Unsolved: still somebody's work (new, open, pending, on hold)."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


class Priority(IntEnum):
    """Stored as an integer so that the queue can sort on an index."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | Priority) -> Priority:
        """Accept ``"high"``, ``"HIGH"``, ``3`` or a ``Priority``."""
        if isinstance(value, Priority):
            return value
        if isinstance(value, int):
            return cls(value)
        text = value.strip().lower()
        if text.isdigit():
            return cls(int(text))
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown priority {value!r} (low, normal, high, urgent)") from None


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"agent": 1, "supervisor": 2, "admin": 3}[self.value]


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class AuthorKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Source(StrEnum):
    """Where a mutation came from; recorded on every event."""

    TUI = "tui"
    CLI = "cli"
    API = "api"
    BOT = "bot"
    SYSTEM = "system"


class View(StrEnum):
    """The built-in queue views."""

    MY_OPEN = "my_open"
    UNASSIGNED = "unassigned"
    ALL_OPEN = "all_open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    TEAM = "team"
    CHANNEL = "channel"


class Sort(StrEnum):
    """Queue orderings; each one is backed by an index."""

    PRIORITY = "priority"  # most urgent first, oldest first within a priority
    AGE = "age"  # oldest first
    UPDATED = "updated"  # most recently updated first


class PresenceState(StrEnum):
    VIEWING = "viewing"
    COMPOSING = "composing"
