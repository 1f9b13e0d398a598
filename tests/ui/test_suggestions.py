"""Knowledge suggestions beside the thread: ranked on open, preview, insert, helpful, search."""

from __future__ import annotations

import sqlalchemy as sa

from agent_tui.domain.views_knowledge import ArticleCreate
from agent_tui.services.knowledge_articles import add_article
from screens.ticket import TicketScreen
from tests.conftest import ADMIN
from tests.ui.conftest import SIZE, Shop, queue_ready, wait_for, wait_for_text
from widgets.composer import Composer
from widgets.suggestions import SuggestionPanel

REFUND_BODY = "Refunds reach your card within 5 to 10 business days after approval."


def add_articles(shop: Shop) -> None:
    with shop.store.write() as session:
        add_article(session, ADMIN, ArticleCreate(
            title="When will I get my refund?", body=REFUND_BODY, tags=["refund", "billing"]))
        add_article(session, ADMIN, ArticleCreate(
            title="Fix the app crashing on login",
            body="Update the app, then clear its cache and sign in again.",
            tags=["app", "login"]))
        add_article(session, ADMIN, ArticleCreate(
            title="Change your delivery address",
            body="Open Orders, pick the order and choose Change address.", tags=["delivery"]))


def feedback(shop: Shop) -> list[str]:
    with shop.store.read() as session:
        return [r[0] for r in session.execute(sa.text(
            "SELECT kind FROM event WHERE kind IN ('kb.used', 'kb.helpful') ORDER BY seq"))]


async def open_refund_ticket(pilot, app, shop: Shop) -> TicketScreen:  # type: ignore[no-untyped-def]
    await queue_ready(pilot, app)
    await pilot.press("colon", *f"open {shop.ticket_ids[0]}", "enter")  # "Refund not received"
    await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                   and bool(app.screen.query_one(SuggestionPanel).suggestions),
                   what="the suggestions")
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    return screen


async def test_suggestions_rank_for_the_ticket_and_insert_into_the_reply(shop: Shop) -> None:
    add_articles(shop)
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_refund_ticket(pilot, app, shop)
        panel = screen.query_one(SuggestionPanel)
        assert panel.suggestions[0].title == "When will I get my refund?"
        await wait_for_text(pilot, app, "Knowledge for this ticket", "When will I get my refund?")
        await pilot.press("k")
        assert panel.options.has_focus
        await pilot.press("p")
        await wait_for_text(pilot, app, "within 5 to 10 business days")
        await pilot.press("i")
        composer = screen.query_one(Composer)
        await wait_for(pilot, lambda: REFUND_BODY in composer.area.text, what="the insert")
        assert composer.is_open and composer.draft.mode == "reply"
        await wait_for(pilot, lambda: feedback(shop) == ["kb.used"], what="the used event")
        await pilot.press("ctrl+s")
        await wait_for_text(pilot, app, "Reply sent on")


async def test_helpful_and_free_search(shop: Shop) -> None:
    add_articles(shop)
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_refund_ticket(pilot, app, shop)
        panel = screen.query_one(SuggestionPanel)
        await pilot.press("k", "h")
        await wait_for(pilot, lambda: feedback(shop) == ["kb.helpful"], what="helpful")
        await pilot.press("slash", *"change address", "enter")
        await wait_for(pilot, lambda: panel.query_text == "change address"
                       and panel.suggestions != []
                       and panel.suggestions[0].title == "Change your delivery address",
                       what="the search")
        await wait_for_text(pilot, app, "Knowledge for “change address”")
        await pilot.press("escape")  # back to the thread
        assert not panel.options.has_focus
