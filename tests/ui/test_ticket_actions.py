"""Macros, escalate, merge and link from the ticket workspace, keys only (issue 4)."""

from __future__ import annotations

from agent_tui.backend import Priority, Status, TicketUpdate
from agent_tui.domain.views_actions import MacroActions
from agent_tui.services import macros, sla_admin
from agent_tui.services import tickets as ticket_svc
from screens.choose import ChoiceScreen, TextScreen
from screens.macro_picker import MacroPicker
from screens.ticket import TicketScreen
from tests.conftest import ADMIN
from tests.ui.conftest import SIZE, Shop, stored, wait_for, wait_for_text
from widgets.composer import Composer

from .test_composer import messages_in_store, open_first_ticket

HOSTILE = "Chris \x1b]52;c;aGk=\x07[bold]X[/]"


def _macros(shop: Shop) -> None:
    with shop.store.write() as s:
        macros.add_macro(s, ADMIN, name="Need order number",
                         body="Hi {customer.first_name}, could you send your order number?",
                         actions=MacroActions(status=Status.PENDING, add_tags=["needs-info"]))
        macros.add_macro(s, ADMIN, name="已退款", locale="zh", body="您好，已退款。")


async def test_m_filters_inserts_at_cursor_and_applies(shop: Shop) -> None:
    _macros(shop)
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        tid = screen.ticket_id
        composer = screen.query_one(Composer)
        await pilot.press("r", *"Dear customer,")
        await pilot.press("escape")  # hidden, the draft stays
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MacroPicker), what="the picker")
        picker = app.screen
        assert isinstance(picker, MacroPicker)
        assert [m.name for m in picker.shown] == ["Need order number", "已退款"]
        await pilot.press(*"order")
        await wait_for(pilot, lambda: [m.name for m in picker.shown] == ["Need order number"],
                       what="the filter")
        await pilot.press("enter")
        await wait_for(pilot, lambda: stored(shop, tid).status == Status.PENDING,
                       what="the macro's status in the store")
        await wait_for(pilot, lambda: "order number" in composer.area.text, what="the body")
        assert composer.is_open
        assert composer.area.text == ("Dear customer,\n"
                                      "Hi Chris, could you send your order number?")
        assert stored(shop, tid).tags == "needs-info"
        assert len(messages_in_store(shop, tid)) == 1  # inserted, not sent
        await wait_for_text(pilot, app, "Macro “Need order number” inserted")


async def test_m_opens_a_reply_and_placeholders_are_inert(shop: Shop) -> None:
    _macros(shop)
    tid = shop.create("Lost parcel", customer=HOSTILE, email="evil@example.com")
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = await open_first_ticket(pilot, app)
        screen = TicketScreen(first.session, tid)
        await app.switch_screen(screen)
        await wait_for(pilot, lambda: screen.ticket is not None, what="the hostile ticket")
        composer = screen.query_one(Composer)
        assert not composer.is_open
        await pilot.press("colon", *"macro need order", "enter")
        await wait_for(pilot, lambda: "order number" in composer.area.text, what="the body")
        assert composer.is_open and composer.draft.mode == "reply"
        assert "\x1b" not in composer.area.text and "\x07" not in composer.area.text
        assert composer.area.text.startswith("Hi Chris")


async def test_e_escalates_with_a_reason(shop: Shop) -> None:
    with shop.store.write() as s:
        sla_admin.set_team_lead(s, ADMIN, "billing", "sam")
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        tid = screen.ticket_id
        before = stored(shop, tid)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the reason")
        await pilot.press(*"customer threatens chargeback", "enter")
        await wait_for(pilot, lambda: stored(shop, tid).version == before.version + 1,
                       what="the escalation in the store")
        after = stored(shop, tid)
        assert after.priority == min(before.priority + 1, int(Priority.URGENT))
        notes = [m for m in messages_in_store(shop, tid) if not m.public]
        assert "customer threatens chargeback" in notes[-1].body
        await wait_for_text(pilot, app, "escalated")


async def test_M_merges_after_confirming(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        source = screen.ticket_id
        into = next(t for t in shop.ticket_ids if t != source)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the #id")
        await pilot.press(*f"#{into}", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="confirm")
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: stored(shop, source).merged_into_id == into,
                       what="the merge in the store")
        assert stored(shop, source).status == Status.CLOSED
        await wait_for_text(pilot, app, f"merged into #{into}")


async def test_L_links_and_header_shows_it(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        other = next(t for t in shop.ticket_ids if t != screen.ticket_id)
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the #id")
        await pilot.press(*str(other), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the kind")
        await pilot.press("j", "enter")  # related is highlighted; duplicate is next
        await wait_for_text(pilot, app, f"duplicate of #{other}")
        assert screen.ticket is not None and screen.ticket.links[0].ticket_id == other


async def test_stale_macro_is_a_conflict_and_keeps_the_draft(shop: Shop) -> None:
    _macros(shop)
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        tid = screen.ticket_id
        composer = screen.query_one(Composer)
        await pilot.press("r", *"my words")
        with shop.store.write() as s:  # somebody else saves the ticket meanwhile
            ticket_svc.update(s, ADMIN, tid, TicketUpdate(priority=Priority.LOW),
                              expected_version=stored(shop, tid).version)
        await pilot.press("escape", "m")
        await wait_for(pilot, lambda: isinstance(app.screen, MacroPicker), what="the picker")
        await pilot.press(*"order", "enter")
        await wait_for_text(pilot, app, "Conflict", "nothing was saved")
        assert stored(shop, tid).status != Status.PENDING
        assert composer.draft.text == "my words"


async def test_colon_verbs_escalate_link_merge(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        tid = screen.ticket_id
        other = next(t for t in shop.ticket_ids if t != tid)
        version = stored(shop, tid).version
        await pilot.press("colon", *"escalate vip waiting too long", "enter")
        await wait_for(pilot, lambda: stored(shop, tid).version == version + 1,
                       what="the escalation")
        await pilot.press("colon", *f"link #{other} follow-up", "enter")
        await wait_for_text(pilot, app, f"follow-up of #{other}")
        await pilot.press("colon", *f"link {other} cousin", "enter")
        await wait_for_text(pilot, app, "unknown link kind 'cousin'")
        await pilot.press("colon", *"merge abc", "enter")
        await wait_for_text(pilot, app, "abc is not a ticket id")
        await pilot.press("colon", *f"unlink {other}", "enter")
        await wait_for(pilot, lambda: screen.ticket is not None and not screen.ticket.links,
                       what="the link gone")


async def test_header_shows_hostile_linked_subject_inert(shop: Shop) -> None:
    from agent_tui.backend import Source
    from agent_tui.services import agents, ticket_actions

    evil = shop.create("Refund [/] [bold]now[/] \x1b]52;c;aGk=\x07 done")
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        with shop.store.write() as s:
            alice = agents.actor_for(s, "alice", Source.TUI)
            ticket_actions.link(s, alice, screen.ticket_id, evil)
        await pilot.press("R")
        shown = await wait_for_text(pilot, app, f"related to #{evil}", "Refund [/] [bold]now[/]")
        assert "\x1b" not in shown and "\x07" not in shown
