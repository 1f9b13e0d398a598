"""Hostile customer text on every screen: no crash, no control codes out, the words visible.

About 200 strings — Rich markup, CSI, OSC 0/2/8/52 ended by BEL and by ST,
C1 bytes, bidi overrides, a 10k-character line, CJK and emoji — are written
straight into the store (as a legacy import or a compromised peer could),
into every customer-controlled field the screens show: customer name,
identities, subject, tags, message bodies, order numbers and items, rating
comments. Then the app visits the queue, each ticket with its 360 and
suggestions, the full customer screen, help and the command line. What the
terminal would get (Textual's own screen export) must hold no C0/C1
control, DEL or bidi override, and the markup must show as literal text.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from screens.customer import CustomerScreen
from screens.help import HelpScreen
from screens.ticket import TicketScreen
from tests.ui.conftest import SIZE, Shop, queue_ready, screen_text, wait_for, wait_for_text
from widgets.customer_panel import CustomerPanel

MARKUP = ["[/]", "[/INST]", "[@click=app.quit]x[/]", "[link=https://evil.example]c[/link]",
          "[bold red]boom", "[[/]]", "\\[x]", "[b]unclosed", "[reverse]r[/reverse]",
          "[on red]bg[/]"]
ESCAPES = ["\x1b[31mred\x1b[0m", "\x1b[2J\x1b[H", "\x1b]0;owned\x07", "\x1b]2;owned\x1b\\",
           "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "\x1b]52;c;SGVsbG8=\x07",
           "\x1b]52;c;SGVsbG8=\x1b\\", "\x9b31m", "\x9d0;t\x9c", "\x85\x90\x9f",
           "\u202eevil\u202c", "\u2066iso\u2069", "\x00\x08\x7f", "\x1bP1$r\x1b\\",
           "\x1b[6n", "\x1b[?1049h", "\r\x1b[K"]
OTHER = ["x" * 10_000, "订单没到 😀 👍🏽", "家族 👨‍👩‍👧 ✓", "tab\tand\r\nCRLF", "‮reversed"]
HOSTILE = [f"{m}{e}" for m, e in itertools.product(MARKUP, ESCAPES)] + OTHER  # 175
HOSTILE += [f"{e}{m}{e}" for m, e in zip(MARKUP * 3, ESCAPES, strict=False)]  # 17 more

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def poison(shop: Shop, tickets: int = 6) -> list[int]:
    """Write the hostile strings into every customer-controlled column, round robin."""
    now = datetime.now(UTC)
    pool = itertools.cycle(HOSTILE)
    ids: list[int] = []
    with shop.store.write() as s:
        conn = s.connection()
        for i in range(tickets):
            tid = shop.ticket_ids[i % len(shop.ticket_ids)] if i < len(shop.ticket_ids) else None
            if tid is None:
                break
            cid = conn.execute(sa.text("SELECT customer_id FROM ticket WHERE id = :t"),
                               {"t": tid}).scalar_one()
            conn.execute(sa.text("UPDATE customer SET name = :n WHERE id = :c"),
                         {"n": next(pool)[:200], "c": cid})
            conn.execute(sa.text("UPDATE ticket SET subject = :s, tags = :g WHERE id = :t"),
                         {"s": next(pool)[:500], "g": next(pool)[:200], "t": tid})
            for _ in range(len(HOSTILE) // tickets):
                conn.execute(sa.text(
                    "INSERT INTO message (ticket_id, author_kind, author_customer_id, public, "
                    "body, channel, created_at) VALUES (:t, 'customer', :c, :p, :b, 'email', "
                    ":at)"), {"t": tid, "c": cid, "p": True, "b": next(pool), "at": now})
            conn.execute(sa.text(
                "INSERT INTO identity (customer_id, channel, address, verified, created_at) "
                "VALUES (:c, 'social', :a, :v, :at)"),
                {"c": cid, "a": next(pool)[:300], "v": False, "at": now})
            conn.execute(sa.text(
                "INSERT INTO customer_order (customer_id, number, status, amount_cents, "
                "currency, items, created_at, updated_at) VALUES (:c, :n, :st, 100, 'EUR', "
                ":it, :at, :at)"),
                {"c": cid, "n": next(pool)[:60], "st": next(pool)[:30], "it": next(pool),
                 "at": now})
            conn.execute(sa.text(
                "INSERT INTO rating (ticket_id, customer_id, csat, comment, created_at) "
                "VALUES (:t, :c, 2, :m, :at)"), {"t": tid, "c": cid, "m": next(pool), "at": now})
            ids.append(tid)
    return ids


def assert_clean(app: object, where: str) -> None:
    svg = app.export_screenshot()  # type: ignore[attr-defined]
    # The SVG's own markup is ASCII with newlines; anything unsafe came from the data.
    bad = {hex(ord(c)) for c in UNSAFE.findall(svg) if c not in "\n\t"}
    assert not bad, f"{where}: control characters reached the screen: {sorted(bad)}"


async def test_hostile_text_everywhere_is_shown_inert(shop: Shop) -> None:
    ids = poison(shop)
    app = shop.app("sam")  # a supervisor sees unmasked identities: more text on screen
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("3")  # all open
        await pilot.pause(0.3)
        assert_clean(app, "queue")
        assert "[/INST]" in screen_text(app) or "[/]" in screen_text(app)
        for tid in ids:
            await pilot.press("colon", *f"open {tid}", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                           and app.screen.ticket is not None
                           and app.screen.query_one(CustomerPanel).data is not None,
                           what=f"ticket #{tid}")
            await pilot.pause(0.2)
            assert_clean(app, f"ticket #{tid}")
            await pilot.press("C")
            await wait_for(pilot, lambda: isinstance(app.screen, CustomerScreen)
                           and app.screen.data is not None, what="the customer screen")
            await pilot.pause(0.1)
            assert_clean(app, f"customer of #{tid}")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), what="back")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
            await pilot.press("escape")
            await pilot.press("escape")  # back to the queue
        # The literal markup of a subject is readable as typed.
        await pilot.press("colon", *f"open {ids[0]}", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the first ticket")
        subject = app.screen.ticket.subject  # type: ignore[attr-defined]
        visible = re.sub(UNSAFE, "", subject)[:30].strip()
        if visible:
            await wait_for_text(pilot, app, visible)
        assert app.is_running  # [@click=app.quit] did not quit anything


async def test_hostile_text_in_the_monitor_is_shown_inert(shop: Shop) -> None:
    """The monitor shows subjects in its SLA list and on the agent board."""
    from datetime import timedelta

    from screens.monitor import MonitorScreen

    ids = poison(shop)
    with shop.store.write() as s:
        for n, tid in enumerate(ids):  # half at risk, half breached; all on someone's desk
            s.connection().execute(sa.text(
                "UPDATE ticket SET sla_due_at = :due, sla_at_risk = :risk, assignee_id = "
                "(SELECT id FROM agent WHERE login = :who) WHERE id = :t"),
                {"due": (datetime.now(UTC) + timedelta(minutes=5 if n % 2 else -5))
                 .replace(tzinfo=None), "risk": n % 2, "who": ("alice", "bob")[n % 2], "t": tid})
    app = shop.app("sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen)
                       and app.screen.refreshes >= 1, what="the monitor")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, MonitorScreen) and screen.snapshot is not None
        assert {t.id for t in [*screen.snapshot.at_risk, *screen.snapshot.breached]} == set(ids)
        assert_clean(app, "monitor")
        assert app.is_running
