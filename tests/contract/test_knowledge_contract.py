"""The knowledge part of the Backend contract, through the protocol only."""

from __future__ import annotations

import asyncio

import pytest

from agent_tui.backend import (
    ArticleView,
    FeedbackKind,
    Invalid,
    NotFound,
    Suggestion,
    TicketCreate,
)
from tests.conftest import ADMIN, World
from tests.contract.conftest import BackendFor


@pytest.fixture
def articles(world: World) -> dict[str, int]:
    """Articles are added by an admin (CLI or import); the contract only reads them."""
    from agent_tui.domain.views_knowledge import ArticleCreate
    from agent_tui.services import knowledge_articles

    specs = [("Refund policy", "Refunds reach your card within 5 days.", ["refund"], "en"),
             ("Reset your password", "Use Forgot password on the sign-in screen.", [], "en"),
             ("如何申请退款", "在订单详情页点击申请退款。", ["退款"], "zh")]
    ids = {}
    with world.store.write() as s:
        for title, body, tags, locale in specs:
            ids[title] = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
                title=title, body=body, tags=tags, locale=locale)).id
    return ids


async def test_search_kb_finds_english_and_chinese(backend_for: BackendFor,
                                                   articles: dict[str, int]) -> None:
    alice = backend_for("alice")
    hits = await alice.search_kb("i forgot my pasword", k=3)
    assert hits and isinstance(hits[0], Suggestion)
    assert hits[0].article_id == articles["Reset your password"]
    assert 0.0 <= hits[0].confidence <= 1.0
    zh = await alice.search_kb("退款", k=3)
    assert zh[0].article_id == articles["如何申请退款"]
    assert await alice.search_kb("the and of", k=3) == []


async def test_suggest_for_a_ticket(backend_for: BackendFor, articles: dict[str, int]) -> None:
    alice = backend_for("alice")
    ticket = await alice.create_ticket(TicketCreate(
        subject="我想退款", body="订单 A-1001 想申请退款", customer_email="li@example.com",
        team="billing"))
    hits = await alice.suggest(ticket.id, k=2)
    assert hits[0].article_id == articles["如何申请退款"]
    with pytest.raises(NotFound):
        await alice.suggest(999_999)


async def test_get_article_and_feedback(backend_for: BackendFor,
                                        articles: dict[str, int]) -> None:
    bob = backend_for("bob")
    aid = articles["Refund policy"]
    view = await bob.get_article(aid)
    assert isinstance(view, ArticleView) and "5 days" in view.body
    ticket = await bob.create_ticket(TicketCreate(
        subject="Refund please", body="Where is my refund?", customer_email="x@example.com"))
    after = await bob.last_seq()
    assert await bob.article_feedback(aid, FeedbackKind.USED, ticket_id=ticket.id) == 1
    assert await bob.article_feedback(aid, FeedbackKind.HELPFUL) == 1
    seen: list[str] = []

    async def collect() -> None:
        async for ev in bob.subscribe(after):
            seen.append(ev.kind)
            if len(seen) == 2:
                return

    await asyncio.wait_for(collect(), timeout=10)
    assert seen == ["kb.used", "kb.helpful"]
    view = await bob.get_article(aid)
    assert (view.used_count, view.helpful_count) == (1, 1)
    with pytest.raises(NotFound):
        await bob.get_article(999_999)
    with pytest.raises(Invalid):
        await bob.article_feedback(aid, "loved")  # type: ignore[arg-type]
