"""The bottom bars: the screen's keys, and the status line, each one line cut with "…"."""

from __future__ import annotations

from rich.style import Style

from screens.ticket import TicketScreen
from tests.ui.conftest import SIZE, Shop, queue_ready, wait_for
from widgets.key_bar import KeyBar
from widgets.one_line import fit_line
from widgets.status_bar import StatusBar

from .test_workspace_reuse import open_row

BASE = Style(color="white", bgcolor="black")


def test_a_line_is_exactly_as_wide_as_the_bar() -> None:
    parts = ((" ", False, True), ("r", True, True), (" Reply  ", False, True),
             ("n", True, False), (" Note  ", False, False))
    wide = KeyBar._line(parts, 40, BASE)
    assert wide.cell_length == 40
    assert wide.text.startswith(" r Reply  n Note")
    style_of = {seg.text.strip(): seg.style for seg in wide if seg.text.strip()}
    assert style_of["r"] is not None and style_of["r"].bold
    assert not (style_of["Reply"] or BASE).dim
    dimmed = style_of["n Note"]  # a key that cannot be used now, and what it does
    assert dimmed is not None and dimmed.dim
    narrow = KeyBar._line(parts, 8, BASE)
    assert narrow.cell_length == 8 and narrow.text == " r Repl…"
    assert KeyBar._line(parts, 0, BASE).cell_length == 0


async def test_the_bar_follows_the_keys_the_screen_offers(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        queue = await queue_ready(pilot, app)
        bar = queue.query_one(KeyBar)
        assert "Views" in bar.render_line(0).text and "App" in bar.render_line(0).text
        workspace = await open_row(pilot, app, 0)
        bar = workspace.query_one(KeyBar)
        line = bar.render_line(0).text
        assert "Ticket" in line and "Customer" in line
        await pilot.press("r")  # the composer opens: its keys are offered instead
        await wait_for(pilot, lambda: bar.render_line(0).text != line, what="new keys")
        assert isinstance(app.screen, TicketScreen)
        assert bar.render_line(0).cell_length == SIZE[0]


def test_a_line_of_wide_characters_is_cut_to_the_cell() -> None:
    line = fit_line([("退款多久到账", BASE), (" ok", BASE)], 6, BASE)
    assert line.cell_length == 6 and line.text.endswith("…")
    assert fit_line([("ab", BASE)], 5, BASE).text == "ab   "


async def test_the_status_bar_says_who_where_and_what(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        queue = await queue_ready(pilot, app)
        bar = queue.query_one(StatusBar)
        await wait_for(pilot, lambda: "live" in bar.render_line(0).text, what="live")
        line = bar.render_line(0).text
        assert "alice" in line and bar.location[:20] in line
        assert bar.render_line(0).cell_length == bar.content_size.width
        workspace = await open_row(pilot, app, 0)
        shown = workspace.query_one(StatusBar).render_line(0).text
        assert f"ticket #{workspace.ticket_id}" in shown
