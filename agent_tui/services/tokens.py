"""API tokens for team mode (ARCHITECTURE §9): created by an admin, stored hashed.

A token reads ``atui_<prefix>_<secret>``. Only its SHA-256 and the prefix
(shown to people, so a token can be recognised in ``token list``) are
stored; the whole token is returned once, by :func:`create_token`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Role, Source
from agent_tui.domain.errors import Forbidden, Invalid, NotFound
from agent_tui.domain.tables import Agent, ApiToken, utcnow
from agent_tui.services.agents import get_agent
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event

TOKEN_PREFIX = "atui_"
#: ``last_used_at`` is written at most this often per token: a read must not write.
LAST_USED_EVERY = timedelta(minutes=1)
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class TokenView(BaseModel):
    """A token as people see it: never the secret."""

    id: int
    login: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"


@dataclass(frozen=True)
class TokenOwner:
    """Who a presented token belongs to, as the server needs it per request."""

    token_id: int
    actor: Actor
    last_used_at: datetime | None
    expires_at: datetime | None = None  # a cache of this owner must not outlive it


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w`` → a timedelta; anything else is Invalid."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise Invalid("expires", f"{text!r} is not a duration like 30d, 12h, 90m or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _view(token: ApiToken, login: str) -> TokenView:
    assert token.id is not None
    return TokenView(id=token.id, login=login, name=token.name, prefix=token.prefix,
                     created_at=token.created_at, expires_at=token.expires_at,
                     revoked_at=token.revoked_at, last_used_at=token.last_used_at)


def create_token(session: Session, actor: Actor, login: str, *, name: str = "",
                 expires_in: timedelta | None = None) -> tuple[TokenView, str]:
    """Create a token for agent ``login``; returns it and its secret (shown once)."""
    require(actor, Role.ADMIN, "creating API tokens")
    agent = get_agent(session, login.strip().lower())
    if not agent.active:
        raise Invalid("login", f"{agent.login} is disabled")
    if len(name) > 100:
        raise Invalid("name", "longer than 100 characters")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    assert agent.id is not None
    row = ApiToken(agent_id=agent.id, name=name.strip(), prefix=prefix,
                   token_hash=hash_secret(secret),
                   expires_at=utcnow() + expires_in if expires_in else None)
    session.add(row)
    session.flush()
    append_event(session, actor, kind="token.created", entity="api_token", entity_id=row.id,
                 after={"login": agent.login, "name": row.name, "prefix": prefix,
                        "expires_at": row.expires_at})
    return _view(row, agent.login), secret


def list_tokens(session: Session, actor: Actor, *, login: str | None = None) -> list[TokenView]:
    require(actor, Role.ADMIN, "listing API tokens")
    stmt = select(ApiToken, Agent.login).join(Agent, col(Agent.id) == ApiToken.agent_id)
    if login:
        stmt = stmt.where(Agent.login == login.strip().lower())
    return [_view(t, who) for t, who in session.exec(stmt.order_by(col(ApiToken.id)))]


def revoke_token(session: Session, actor: Actor, token_id: int) -> TokenView:
    """Revoke a token; revoking twice keeps the first time."""
    require(actor, Role.ADMIN, "revoking API tokens")
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token", token_id)
    agent = session.get(Agent, token.agent_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        append_event(session, actor, kind="token.revoked", entity="api_token",
                     entity_id=token.id, after={"prefix": token.prefix})
    return _view(token, agent.login if agent else "?")


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> TokenOwner:
    """The owner of ``secret``; Forbidden when unknown, revoked, expired or disabled.

    One indexed lookup on the hash; the secret itself is never compared.
    """
    now = now or utcnow()
    if not secret.startswith(TOKEN_PREFIX):
        raise Forbidden("not an Agent TUI API token")
    row = session.exec(select(ApiToken, Agent)
                       .join(Agent, col(Agent.id) == ApiToken.agent_id)
                       .where(ApiToken.token_hash == hash_secret(secret))).first()
    if row is None:
        raise Forbidden("unknown API token")
    token, agent = row
    if token.revoked_at is not None:
        raise Forbidden(f"API token {token.prefix} was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Forbidden(f"API token {token.prefix} has expired")
    if not agent.active:
        raise Forbidden(f"agent {agent.login} is disabled")
    assert token.id is not None
    return TokenOwner(token_id=token.id, last_used_at=token.last_used_at,
                      expires_at=token.expires_at,
                      actor=Actor(login=agent.login, role=Role(agent.role), source=Source.API,
                                  agent_id=agent.id))


def touch(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    """Record a use of the token (the caller throttles to LAST_USED_EVERY)."""
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now or utcnow()
        session.add(token)
