"""Bearer-token authentication, the permission matrix, the rate limit, and the
per-agent LocalBackend each request runs on.

A token lookup is one indexed query (~0.8 ms of CPU here with its thread
hop and session); its result is kept for ``AUTH_CACHE_SECONDS`` so a burst
of requests costs one lookup. A revoked token, or a disabled or changed
agent, is dropped from the cache as soon as this process's event hub reads
the event (``token.revoked``, ``agent.updated``, ``agent.disabled``), before
it streams it: within one poll of the log (0.1 s), on every worker, at no
cost per request. An expired token stops working within the cache time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from agent_tui.domain.enums import Source
from agent_tui.domain.errors import BackendError, Forbidden
from agent_tui.domain.tables import utcnow
from agent_tui.domain.views import EventView
from agent_tui.local import LocalBackend
from agent_tui.server.limits import RateLimiter
from agent_tui.server.permissions import rule_for
from agent_tui.services import tokens
from agent_tui.store import Store
from agent_tui.store.events import Actor

AUTH_CACHE_SECONDS = 2.0
#: Events after which the cached owners of a token or an agent are looked up again.
_AGENT_CHANGES = frozenset({"agent.updated", "agent.disabled"})


class Unauthorized(BackendError):
    """No token, or one that is unknown, revoked or expired (401)."""

    status_code = 401


class RateLimited(BackendError):
    """Too many requests on one token (429); ``retry_after`` in seconds."""

    status_code = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    """The authenticated agent of one request and the backend that acts as them."""

    actor: Actor
    backend: LocalBackend
    token_id: int | None


@dataclass
class Authenticator:
    store: Store
    limiter: RateLimiter
    _cache: dict[str, tuple[float, tokens.TokenOwner]] = field(default_factory=dict)
    _backends: dict[tuple[str, str], LocalBackend] = field(default_factory=dict)
    _touched: dict[int, datetime] = field(default_factory=dict)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _inflight: dict[str, asyncio.Future[tokens.TokenOwner]] = field(default_factory=dict)
    #: Bumped by every invalidation: a lookup that overlapped one is not cached,
    #: since it may have read the token just before it was revoked.
    _generation: int = 0

    def forget(self, events: list[EventView]) -> None:
        """Drop cached owners that ``events`` revoke or change (an EventHub listener)."""
        tokens_gone: set[int] = set()
        agents_changed: set[int] = set()
        for ev in events:
            if ev.entity_id is None:
                continue
            if ev.kind == "token.revoked":
                tokens_gone.add(ev.entity_id)
            elif ev.kind in _AGENT_CHANGES:
                agents_changed.add(ev.entity_id)
        if not tokens_gone and not agents_changed:
            return
        self._generation += 1
        self._inflight.clear()  # a request from now on must not join an older lookup
        stale = [secret for secret, (_, found) in self._cache.items()
                 if found.token_id in tokens_gone or found.actor.agent_id in agents_changed]
        for secret in stale:
            del self._cache[secret]

    async def owner(self, secret: str) -> tokens.TokenOwner:
        now = time.monotonic()
        cached = self._cache.get(secret)
        if cached is not None and cached[0] > now:
            return cached[1]
        # One lookup per token at a time: when a busy token's entry expires, the
        # hundreds of requests in flight on it share one query instead of each
        # sending their own (measured: 15% of the server's CPU under 300
        # connections). forget() drops these too, so a request that arrives
        # after a revocation starts a fresh lookup.
        lookup = self._inflight.get(secret)
        if lookup is None:
            lookup = asyncio.ensure_future(self._look_up(secret, now))
            self._inflight[secret] = lookup
            lookup.add_done_callback(lambda done: self._settled(secret, done))
        return await asyncio.shield(lookup)

    def _settled(self, secret: str, lookup: asyncio.Future[tokens.TokenOwner]) -> None:
        if self._inflight.get(secret) is lookup:
            del self._inflight[secret]
        if not lookup.cancelled():
            lookup.exception()  # retrieved: every waiter may have gone away

    async def _look_up(self, secret: str, now: float) -> tokens.TokenOwner:
        generation = self._generation

        def look_up() -> tokens.TokenOwner:
            with self.store.read() as session:
                return tokens.authenticate(session, secret)

        try:
            found = await asyncio.to_thread(look_up)
        except Forbidden as exc:
            self._cache.pop(secret, None)
            raise Unauthorized(str(exc)) from None
        if len(self._cache) > 10_000:
            self._cache.clear()
        if generation == self._generation:
            until = now + AUTH_CACHE_SECONDS
            if found.expires_at is not None:  # an expiring token is refused the moment it expires
                until = min(until, now + (found.expires_at - utcnow()).total_seconds())
            self._cache[secret] = (until, found)
        self._touch(found)
        return found

    def _touch(self, owner: tokens.TokenOwner) -> None:
        """Write ``last_used_at`` at most once a minute per token, off the request path."""
        now = utcnow()
        last = self._touched.get(owner.token_id) or owner.last_used_at
        if last is not None and now - last < tokens.LAST_USED_EVERY:
            return
        self._touched[owner.token_id] = now

        def write() -> None:
            self.store.run_write(lambda s: tokens.touch(s, owner.token_id, now=now))

        task = asyncio.get_running_loop().create_task(asyncio.to_thread(write))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def backend_for(self, actor: Actor) -> LocalBackend:
        key = (actor.login, actor.role.value)
        backend = self._backends.get(key)
        if backend is None:
            backend = await asyncio.to_thread(
                LocalBackend, self.store, actor.login, source=Source.API,
                sla_sweep_interval=None)
            self._backends[key] = backend
        return backend

    async def close(self) -> None:
        for backend in self._backends.values():
            await backend.close()
        self._backends.clear()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


def bearer_value(header: str) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, if it is one."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def bearer(request: Request) -> str | None:
    return bearer_value(request.headers.get("authorization", ""))


async def authorize(auth: Authenticator, method: str, path: str, header: str) -> Caller:
    """Authenticate, rate-limit and check the matrix for ``method path`` (the route's
    path template) with the request's Authorization header value ``header``."""
    rule = rule_for(method, path)
    if rule is None:  # a route missing from the matrix is refused, never open
        raise Forbidden(f"{method} {path} is not in the permission matrix")
    secret = bearer_value(header)
    if secret is None:
        raise Unauthorized("this route needs an API token: Authorization: Bearer TOKEN")
    owner = await auth.owner(secret)
    wait = auth.limiter.allow(owner.token_id)
    if wait > 0:
        raise RateLimited(f"too many requests on token {owner.token_id}; retry in "
                          f"{wait:.2f} s", wait)
    actor = owner.actor
    if rule.role is not None and actor.role.rank < rule.role.rank:
        raise Forbidden(f"{method} {rule.path} needs the {rule.role.value} role; "
                        f"{actor.login} is {actor.role.value}")
    return Caller(actor=actor, backend=await auth.backend_for(actor), token_id=owner.token_id)


async def caller(request: Request) -> Caller:
    """FastAPI dependency: authenticate, rate-limit and check the matrix."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    return await authorize(request.app.state.auth, request.method, path,
                           request.headers.get("authorization", ""))
