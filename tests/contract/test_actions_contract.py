"""Workspace actions over the Backend protocol: macros, escalate, merge, link (issue 4)."""

from __future__ import annotations

import pytest

from agent_tui.backend import (
    AuthorKind,
    Backend,
    Conflict,
    Forbidden,
    Invalid,
    LinkKind,
    NotFound,
    Priority,
    Status,
    TicketCreate,
)
from tests.conftest import ADMIN, World
from tests.contract.conftest import BackendFor

HOSTILE_NAME = "Eve \x1b]52;c;aGk=\x07[bold]Mal[/]\u202eory"


def _ticket(subject: str = "Refund for order A-1001", **kw: object) -> TicketCreate:
    data: dict[str, object] = {
        "subject": subject,
        "body": "I was charged twice for order A-1001, please refund one.",
        "customer_email": "jane.doe@example.com",
        "customer_name": "Jane Doe",
        "team": "billing",
    }
    data.update(kw)
    return TicketCreate(**data)  # type: ignore[arg-type]


@pytest.fixture
def macros(world: World) -> dict[str, int]:
    """Macros are kept by supervisors (CLI); the contract lists and applies them."""
    from agent_tui.domain.views_actions import MacroActions
    from agent_tui.services import macros as macro_svc

    with world.store.write() as s:
        refund = macro_svc.add_macro(
            s, ADMIN, name="Refund issued",
            body="Hi {customer.first_name},\n\nYour refund for #{ticket.id} is on its way.\n"
                 "{agent.name}",
            actions=MacroActions(status=Status.PENDING, add_tags=["refund"],
                                 remove_tags=["vip"], priority=Priority.HIGH))
        plain = macro_svc.add_macro(s, ADMIN, name="已退款", locale="zh",
                                    body="您好 {customer.name}，已退款。")
        gone = macro_svc.add_macro(s, ADMIN, name="Old one", body="Outdated text")
        macro_svc.edit_macro(s, ADMIN, gone.id, active=False)
    return {"refund": refund.id, "plain": plain.id, "gone": gone.id}


def _actions(backend: Backend) -> Backend:
    """Both backends implement the actions: a missing one fails, it is never skipped."""
    assert hasattr(backend, "apply_macro"), f"{type(backend).__name__} lacks the actions"
    return backend


async def test_list_macros_hides_disabled(backend_for: BackendFor,
                                          macros: dict[str, int]) -> None:
    alice = _actions(backend_for("alice"))
    listed = await alice.list_macros()
    assert [m.name for m in listed] == ["Refund issued", "已退款"]
    refund = listed[0]
    assert refund.actions.status is Status.PENDING and refund.actions.add_tags == ["refund"]


async def test_apply_macro_renders_and_changes_in_one_event(
        backend_for: BackendFor, macros: dict[str, int]) -> None:
    alice = _actions(backend_for("alice"))
    t = await alice.create_ticket(_ticket(tags=["vip"]))
    seq = await alice.last_seq()
    result = await alice.apply_macro(t.id, macros["refund"], expected_version=t.version)
    assert result.body == (f"Hi Jane,\n\nYour refund for #{t.id} is on its way.\nAlice Agent")
    after = result.ticket
    assert after.status is Status.PENDING and after.priority is Priority.HIGH
    assert after.tags == ["refund"] and after.version == t.version + 1
    # the body is for the composer: nothing was sent
    assert [m.author_kind for m in after.messages] == [AuthorKind.CUSTOMER]
    events = []
    async for ev in alice.subscribe(seq):
        events.append(ev)
        if ev.kind == "macro.applied":
            break
    applied = [e for e in events if e.kind == "macro.applied"]
    assert len(applied) == 1 and applied[0].entity_id == t.id
    assert applied[0].diff["after"]["status"] == "pending"
    assert not [e for e in events if e.kind == "ticket.updated"]


async def test_apply_macro_refusals(backend_for: BackendFor, macros: dict[str, int]) -> None:
    alice = _actions(backend_for("alice"))
    t = await alice.create_ticket(_ticket())
    with pytest.raises(Conflict):
        await alice.apply_macro(t.id, macros["refund"], expected_version=t.version + 5)
    with pytest.raises(Invalid):
        await alice.apply_macro(t.id, macros["gone"], expected_version=t.version)
    with pytest.raises(NotFound):
        await alice.apply_macro(t.id, 9999, expected_version=t.version)
    unchanged = await alice.get_ticket(t.id)
    assert unchanged.version == t.version and unchanged.status is Status.NEW


async def test_macro_placeholders_are_safe_text(backend_for: BackendFor,
                                                macros: dict[str, int]) -> None:
    alice = _actions(backend_for("alice"))
    t = await alice.create_ticket(_ticket(customer_email="eve@example.com",
                                          customer_name=HOSTILE_NAME))
    result = await alice.apply_macro(t.id, macros["plain"], expected_version=t.version)
    assert "\x1b" not in result.body and "\x07" not in result.body
    assert "\u202e" not in result.body and result.body.startswith("您好 Eve")
    assert result.ticket.version == t.version  # no actions: nothing changed


async def test_escalate_raises_priority_hands_to_lead_and_notes(
        backend_for: BackendFor, world: World) -> None:
    from agent_tui.services import sla_admin

    with world.store.write() as s:
        sla_admin.set_team_lead(s, ADMIN, "tech", "bob")
    alice = _actions(backend_for("alice"))
    t = await alice.create_ticket(_ticket())
    with pytest.raises(Invalid):
        await alice.escalate(t.id, " ", expected_version=t.version)
    up = await alice.escalate(t.id, "Customer threatens chargeback", team="tech",
                              expected_version=t.version)
    assert up.priority is Priority.HIGH and up.team == "tech" and up.assignee == "bob"
    note = up.messages[-1]
    assert not note.public and "Customer threatens chargeback" in note.body
    with pytest.raises(Conflict):
        await alice.escalate(t.id, "again", expected_version=t.version)


async def test_merge_moves_thread_and_closes_source(backend_for: BackendFor) -> None:
    alice = _actions(backend_for("alice"))
    into = await alice.create_ticket(_ticket("Charged twice"))
    source = await alice.create_ticket(_ticket("Still charged twice", body="Any news?"))
    merged = await alice.merge(source.id, into.id, expected_version=source.version)
    assert merged.id == into.id
    bodies = [m.body for m in merged.messages if m.author_kind is AuthorKind.CUSTOMER]
    assert bodies == [into.messages[0].body, "Any news?"]  # time order
    assert any(m.author_kind is AuthorKind.SYSTEM and f"#{source.id}" in m.body
               for m in merged.messages)
    closed = await alice.get_ticket(source.id)
    assert closed.status is Status.CLOSED and closed.merged_into_id == into.id
    assert [m.author_kind for m in closed.messages] == [AuthorKind.SYSTEM]
    with pytest.raises(Invalid):
        await alice.merge(source.id, into.id, expected_version=closed.version)


async def test_merge_refuses_other_customer_unless_supervisor_says_so(
        backend_for: BackendFor) -> None:
    alice, sam = _actions(backend_for("alice")), _actions(backend_for("sam"))
    into = await alice.create_ticket(_ticket())
    other = await alice.create_ticket(_ticket(customer_email="zed@example.com",
                                              customer_name="Zed"))
    with pytest.raises(Invalid):
        await alice.merge(other.id, into.id, expected_version=other.version)
    with pytest.raises(Forbidden):
        await alice.merge(other.id, into.id, expected_version=other.version,
                          other_customer=True)
    with pytest.raises(Conflict):
        await sam.merge(other.id, into.id, expected_version=other.version - 1,
                        other_customer=True)
    done = await sam.merge(other.id, into.id, expected_version=other.version,
                           other_customer=True)
    kinds = [m.author_kind for m in done.messages]
    assert kinds == [AuthorKind.CUSTOMER, AuthorKind.CUSTOMER, AuthorKind.SYSTEM]


async def test_link_shows_on_both_sides_and_unlinks(backend_for: BackendFor) -> None:
    alice = _actions(backend_for("alice"))
    a = await alice.create_ticket(_ticket("First"))
    b = await alice.create_ticket(_ticket("Second"))
    linked = await alice.link(b.id, a.id, LinkKind.DUPLICATE)
    assert [(x.ticket_id, x.kind, x.outgoing) for x in linked.links] == [
        (a.id, LinkKind.DUPLICATE, True)]
    assert linked.links[0].label == f"duplicate of #{a.id}"
    assert linked.version == b.version  # a link changes no field
    other_side = await alice.get_ticket(a.id)
    assert other_side.links[0].label == f"duplicated by #{b.id}"
    assert other_side.links[0].subject == "Second"
    with pytest.raises(Invalid):
        await alice.link(a.id, b.id, LinkKind.RELATED)
    with pytest.raises(Invalid):
        await alice.link(a.id, a.id)
    with pytest.raises(NotFound):
        await alice.link(a.id, 999_999)
    unlinked = await alice.unlink(a.id, b.id)
    assert unlinked.links == []
    with pytest.raises(NotFound):
        await alice.unlink(a.id, b.id)
