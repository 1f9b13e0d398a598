"""Fixtures for the server tests: a seeded SQLite store served by a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from agent_tui.domain.tables import ApiToken, utcnow
from agent_tui.domain.views import TicketCreate
from agent_tui.domain.views_knowledge import ArticleCreate
from agent_tui.services import knowledge_articles, tickets, tokens
from agent_tui.store import Store
from tests.conftest import migrated, seed_world
from tests.server.serving import ADMIN, ThreadServer, make_tokens


@dataclass
class Served:
    """A server over a seeded store, with tokens of every kind."""

    store: Store
    server: ThreadServer
    token: dict[str, str] = field(default_factory=dict)  # ada/sam/alice/bob, expired, revoked
    ticket_id: int = 0
    customer_id: int = 0
    article_id: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def auth(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token[who]}"} if who in self.token else {}


def seed_served(store: Store) -> Served:
    world = seed_world(store)
    secrets = make_tokens(store, world.logins)
    with store.write() as s:
        detail = tickets.create(s, ADMIN, TicketCreate(
            subject="Refund for order 1001", body="Please refund me", team="billing",
            customer_email="cleo@example.com", customer_name="Cleo Customer"))
        article = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title="How refunds work", body="Refunds take five days.", tags=["refund"]))
        expired, expired_secret = tokens.create_token(s, ADMIN, "alice", name="old",
                                                      expires_in=timedelta(hours=1))
        s.execute(sa.update(ApiToken).where(ApiToken.id == expired.id)  # type: ignore[arg-type]
                  .values(expires_at=utcnow() - timedelta(minutes=1)))
        revoked, revoked_secret = tokens.create_token(s, ADMIN, "sam", name="gone")
        tokens.revoke_token(s, ADMIN, revoked.id)
    secrets.update(expired=expired_secret, revoked=revoked_secret, bogus="atui_00000000_nope")
    return Served(store=store, server=ThreadServer(store.url), token=secrets,
                  ticket_id=detail.id, customer_id=detail.customer_id, article_id=article.id)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per test module over a fresh SQLite store (cheap to share)."""
    path = tmp_path_factory.mktemp("served") / "store.db"
    store = migrated(f"sqlite:///{path}")
    state = seed_served(store)
    state.server.start()
    try:
        yield state
    finally:
        state.server.stop()
        store.dispose()
