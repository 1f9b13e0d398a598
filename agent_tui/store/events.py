"""Appending to and reading the event log (ARCHITECTURE §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Role, Source
from agent_tui.domain.tables import AuditGuard, Event, utcnow

# Serialises event appends on PostgreSQL so that seq order is commit order:
# a subscriber that has seen seq N never later finds a smaller one appear.
_PG_EVENT_LOCK = 0x4147_5455


@dataclass(frozen=True)
class Actor:
    """Who is doing something: written on every event, checked by services."""

    login: str
    role: Role
    source: Source = Source.TUI
    agent_id: int | None = None

    @classmethod
    def system(cls, source: Source = Source.SYSTEM, login: str = "system") -> Actor:
        return cls(login=login, role=Role.ADMIN, source=source, agent_id=None)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dump_diff(diff: dict[str, Any]) -> str:
    return json.dumps(diff, default=_json_default, ensure_ascii=False, sort_keys=True)


def append_event(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Event:
    """Add one event in the caller's transaction and return it (with its seq)."""
    diff: dict[str, Any] = {}
    if before:
        diff["before"] = before
    if after:
        diff["after"] = after
    if extra:
        diff.update(extra)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_EVENT_LOCK})
    row = Event(
        at=utcnow(),
        actor=actor.login,
        role=actor.role.value,
        source=actor.source.value,
        kind=kind,
        entity=entity,
        entity_id=entity_id,
        diff=dump_diff(diff),
    )
    session.add(row)
    session.flush()
    return row


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the keys whose value differs: the before/after of an event."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def events_after(session: Session, after_seq: int, limit: int = 500) -> list[Event]:
    stmt = select(Event).where(col(Event.seq) > after_seq).order_by(col(Event.seq)).limit(limit)
    return list(session.exec(stmt))


def last_seq(session: Session) -> int:
    value = session.exec(select(sa.func.max(Event.seq))).one()
    return int(value or 0)


def last_actor(session: Session, entity: str, entity_id: int) -> str | None:
    stmt = (
        select(Event.actor)
        .where(Event.entity == entity, Event.entity_id == entity_id)
        .order_by(col(Event.seq).desc())
        .limit(1)
    )
    return session.exec(stmt).first()


@contextmanager
def audit_unlocked(session: Session) -> Iterator[None]:
    """Allow UPDATE/DELETE on the event log inside this transaction only.

    Used by the retention purge and by personal-data erasure, each of which
    records its own event. The guard row is reset before the block ends, and
    a rollback resets it anyway.
    """
    session.execute(sa.update(AuditGuard).where(col(AuditGuard.id) == 1).values(unlocked=1))
    try:
        yield
    finally:
        session.execute(sa.update(AuditGuard).where(col(AuditGuard.id) == 1).values(unlocked=0))
