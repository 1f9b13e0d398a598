"""Agents on the same ticket see each other: viewing, and writing once a draft starts."""

from __future__ import annotations

from agent_tui.backend import PresenceState
from agent_tui.local import LocalBackend
from tests.ui.conftest import SIZE, Shop, wait_for_text

from .test_composer import open_first_ticket


async def test_the_header_shows_who_else_is_here_and_who_is_writing(shop: Shop) -> None:
    app = shop.app()
    sam = LocalBackend(shop.handle(), "sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        tid = screen.ticket_id
        # Alice's screen announced her as soon as it opened.
        seen: list[str] = []

        async def alice_seen_by_sam() -> bool:
            others = await sam.presence([tid])
            seen[:] = [f"{p.agent}:{p.state.value}" for p in others]
            return seen == ["alice:viewing"]

        for _ in range(100):
            if await alice_seen_by_sam():
                break
            await pilot.pause(0.05)
        assert seen == ["alice:viewing"]
        # Sam starts writing; Alice's next beat shows it.
        await sam.set_presence(tid, PresenceState.COMPOSING)
        screen._presence_tick()
        await wait_for_text(pilot, app, "also here", "sam writing")
        # Alice types: Sam sees her writing straight away, not at the next beat.
        await pilot.press("r", "H", "i")
        for _ in range(100):
            others = await sam.presence([tid])
            if [p.state for p in others] == [PresenceState.COMPOSING]:
                break
            await pilot.pause(0.05)
        assert [p.state for p in await sam.presence([tid])] == [PresenceState.COMPOSING]
        # Leaving the ticket takes Alice off it.
        await pilot.press("escape", "escape")
        for _ in range(100):
            if not await sam.presence([tid]):
                break
            await pilot.pause(0.05)
        assert await sam.presence([tid]) == []
    await sam.close()


async def test_the_queue_marks_tickets_others_have_open(shop: Shop) -> None:
    from tests.ui.conftest import queue_ready, table, wait_for

    sam = LocalBackend(shop.handle(), "sam")
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        target = shop.ticket_ids[2]
        await sam.set_presence(target, PresenceState.COMPOSING)
        screen._poll_presence()  # the 10 s poll, now
        await wait_for(pilot, lambda: [p.agent for p in table(app).presence_at(target)]
                       == ["sam"], what="sam on the row")
        await wait_for_text(pilot, app, "✎")
        await sam.set_presence(None, None)
        screen._poll_presence()
        await wait_for(pilot, lambda: table(app).presence_at(target) == [], what="gone")
    await sam.close()
