"""The composer on the ticket screen: replies, notes, and drafts that survive conflicts."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from textual.pilot import Pilot

from agent_tui.app import AgentApp
from agent_tui.backend import Priority, TicketUpdate
from agent_tui.domain.tables import Message
from agent_tui.local import LocalBackend
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from tests.ui.conftest import SIZE, Shop, queue_ready, table, wait_for, wait_for_text
from widgets.composer import Composer

#: What an agent might really type: indentation, blank lines, CJK, emoji, trailing spaces.
TRICKY_DRAFT = "Hi Chris,\n\n  I checked:\n\t- 订单 #4411 ✔\n\t- refund 🎉  \n\nBest,\nAlice  "


def messages_in_store(shop: Shop, ticket_id: int) -> list[Message]:
    with shop.store.read() as session:
        found = list(session.exec(select(Message).where(Message.ticket_id == ticket_id)
                                  .order_by(Message.id)))  # type: ignore[arg-type]
        for message in found:
            session.expunge(message)  # plain values, readable after the session ends
        return found


async def open_first_ticket(pilot: Pilot[Any], app: AgentApp) -> TicketScreen:
    await queue_ready(pilot, app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                   and app.screen.ticket is not None, what="the ticket")
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    return screen


async def test_r_writes_and_sends_a_public_reply(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        composer = screen.query_one(Composer)
        assert not composer.is_open
        await pilot.press("r")
        assert composer.is_open and composer.area.has_focus
        await pilot.press(*"Refund sent", "enter", *"Thanks: Alice")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(messages_in_store(shop, screen.ticket_id)) == 2,
                       what="the reply in the store")
        reply = messages_in_store(shop, screen.ticket_id)[-1]
        assert reply.body == "Refund sent\nThanks: Alice" and reply.public
        await wait_for(pilot, lambda: not composer.is_open, what="the composer to close")
        await wait_for_text(pilot, app, "Refund sent", "Reply sent on")
        assert composer.draft.text == ""


async def test_n_adds_an_internal_note_and_ctrl_t_switches_mode(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        await pilot.press("n")
        composer = screen.query_one(Composer)
        assert composer.draft.mode == "note" and composer.has_class("-note")
        await wait_for_text(pilot, app, "Internal note — only agents see this")
        await pilot.press("ctrl+t")
        assert composer.draft.mode == "reply"
        await pilot.press("ctrl+t", *"VIP, call back")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(messages_in_store(shop, screen.ticket_id)) == 2,
                       what="the note in the store")
        note = messages_in_store(shop, screen.ticket_id)[-1]
        assert note.body == "VIP, call back" and not note.public
        await wait_for_text(pilot, app, "INTERNAL NOTE", "VIP, call back")


async def test_a_stale_send_is_refused_shown_and_keeps_the_draft_byte_for_byte(
        shop: Shop) -> None:
    app = shop.app()
    other = LocalBackend(shop.handle(), "sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        assert screen.ticket is not None
        seen, was = screen.ticket.version, screen.ticket.priority.label
        await pilot.press("r")
        composer = screen.query_one(Composer)
        composer.area.insert(TRICKY_DRAFT)
        await pilot.press("end", "x")  # and a key typed as usual
        typed = TRICKY_DRAFT + "x"
        assert composer.area.text == typed
        # Sam changes the ticket and answers the customer while Alice writes.
        await other.update_ticket(screen.ticket_id, TicketUpdate(priority=Priority.LOW),
                                  expected_version=seen)
        await other.reply(screen.ticket_id, "Sam here, refund is on its way.")
        await pilot.press("ctrl+s")
        text = await wait_for_text(pilot, app, "Not sent", "changed", "Sam here, refund")
        assert f"priority {was} → low" in " ".join(text.split())
        assert "1 new reply by Sam Supervisor" in " ".join(text.split())
        # Nothing of Alice's went out; her draft is exactly what she typed.
        bodies = [m.body for m in messages_in_store(shop, screen.ticket_id)]
        assert typed not in bodies and len(bodies) == 2
        assert composer.is_open and composer.area.text == typed
        assert composer.draft.text == typed
        # Having seen the change, the same key sends it, unchanged.
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(messages_in_store(shop, screen.ticket_id)) == 3,
                       what="the reply after the conflict")
        assert messages_in_store(shop, screen.ticket_id)[-1].body == typed.strip("\n")
    await other.close()


async def test_escape_hides_the_composer_and_the_draft_comes_back(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        ticket_id = screen.ticket_id
        await pilot.press("r", *"Half a thought")
        await pilot.press("escape")
        composer = screen.query_one(Composer)
        assert not composer.is_open and app.screen is screen
        await pilot.press("escape")  # now back to the queue
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        assert table(app).selected_id == ticket_id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the ticket again")
        again = app.screen.query_one(Composer)
        assert again.is_open and again.area.text == "Half a thought"
        assert len(messages_in_store(shop, ticket_id)) == 1  # nothing was sent
