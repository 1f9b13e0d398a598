"""TicketTable repaints when what is on screen changes, and only then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from agent_tui.domain.enums import Channel, Priority, Status
from agent_tui.domain.views import TicketRow
from widgets.ticket_table import TicketTable

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def row(i: int, subject: str | None = None) -> TicketRow:
    return TicketRow(id=i, channel=Channel.EMAIL, subject=subject or f"Order {i} late",
                     status=Status.OPEN, priority=Priority.NORMAL, customer_id=i,
                     customer_name=f"Customer {i}", created_at=NOW - timedelta(hours=i),
                     updated_at=NOW - timedelta(minutes=i), version=1)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TicketTable(margin=5)


async def test_rows_added_off_screen_do_not_repaint_but_a_visible_change_does() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(TicketTable)
        table.show_rows([row(i) for i in range(1, 41)], now=NOW)
        await pilot.pause()
        repaints: list[object] = []
        real = table.refresh

        def counting(*args: object, **kwargs: object) -> object:
            repaints.append(args)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        table.refresh = counting  # type: ignore[method-assign]
        held = [row(i) for i in range(1, 41)]  # equal rows, new objects: the same screen
        table.show_rows(held + [row(i) for i in range(41, 81)], now=NOW)  # a page below
        assert repaints == []
        assert table.row_count == 80 and table.selected_id == 1
        table.show_rows([row(i) for i in range(0, 81)], now=NOW)  # a row above the screen
        assert repaints == [()], "a row above shifts the stripes by one line"
        assert table.selected_id == 1
        repaints.clear()
        changed = [row(i) for i in range(0, 81)]
        changed[3] = row(3, "Refund please")  # a row on screen changed
        table.show_rows(changed, now=NOW)
        assert repaints == [()]
        await pilot.pause()
        assert any("Refund please" in strip.text for strip in
                   (table.render_line(y) for y in range(table.size.height)))
