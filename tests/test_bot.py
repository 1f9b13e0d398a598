"""The bot: answer from the KB above the threshold, confirm → solved, otherwise hand off."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from agent_tui.domain.confirmation import is_confirmation
from agent_tui.domain.enums import AuthorKind, Status
from agent_tui.domain.tables import Event, Message, Ticket
from agent_tui.domain.views_knowledge import ArticleCreate
from agent_tui.domain.views_routing import InboundResult
from agent_tui.services import inbound, knowledge_articles, routing
from tests.conftest import ADMIN, World

PARCEL = ArticleCreate(
    title="Where is my parcel? Tracking your delivery",
    body="Open Account > Orders > Track parcel to see where your parcel is. Parcels arrive "
         "within 3 business days.",
    tags=["shipping", "tracking"])
RESET = ArticleCreate(title="Reset your password", body="Use Forgot password on the sign-in "
                      "page; the link is valid for one hour.", tags=["account", "password"])
PARCEL_ZH = ArticleCreate(title="如何查询物流信息", tags=["物流"], locale="zh",
                          body="在 账户 > 订单 > 查询物流 中查看包裹位置。")


@pytest.fixture
def kb(world: World) -> World:
    with world.store.write() as s:
        for art in (PARCEL, RESET, PARCEL_ZH):
            knowledge_articles.add_article(s, ADMIN, art)
        routing.set_setting(s, ADMIN, "bot.threshold", "0.3")
        routing.set_rule(s, ADMIN, "channel", "chat", skill=None, team="logistics")
        routing.set_rule(s, ADMIN, "channel", "app", skill=None, team="tech")
    return world


def _chat(world: World, sender: str, body: str, channel: str = "chat") -> InboundResult:
    with world.store.write() as s:
        return inbound.receive(s, ADMIN, channel, address=sender, body=body)


def _thread(world: World, ticket_id: int) -> list[tuple[str, bool, str]]:
    with world.store.read() as s:
        return [(str(m.author_kind), m.public, m.body) for m in s.exec(
            select(Message).where(Message.ticket_id == ticket_id).order_by(col(Message.id)))]


def _kinds(world: World, ticket_id: int) -> list[str]:
    with world.store.read() as s:
        return list(s.exec(select(Event.kind).where(Event.entity == "ticket",
                                                    Event.entity_id == ticket_id)
                           .order_by(col(Event.seq))))


def test_confident_answer_then_confirmation_solves_it(kb: World) -> None:
    r = _chat(kb, "@ann", "Where is my parcel? I want to track my delivery")
    assert (r.bot, r.status, r.assignee) == ("answered", Status.PENDING, None)
    assert _kinds(kb, r.ticket_id) == ["ticket.created", "bot.answered"]
    thread = _thread(kb, r.ticket_id)
    assert thread[1][0] == AuthorKind.BOT.value and thread[1][1] is True
    assert "Track parcel" in thread[1][2]
    with kb.store.read() as s:
        diff = json.loads(s.exec(select(Event.diff).where(Event.kind == "bot.answered")).one())
    assert diff["threshold"] == 0.3 and diff["confidence"] >= 0.3 and diff["article_id"]

    done = _chat(kb, "@ann", "yes, thanks!")
    assert (done.ticket_id, done.bot, done.status) == (r.ticket_id, "resolved", Status.SOLVED)
    # One bot event; the closed loop may add its survey request after it.
    assert done.events[0] == "bot.resolved" and done.events.count("bot.resolved") == 1
    assert not {"ticket.customer_message", "bot.handoff", "ticket.routed"} & set(done.events)
    with kb.store.read() as s:
        t = s.get(Ticket, r.ticket_id)
        assert t is not None and t.assignee_id is None and t.solved_at is not None


def test_chinese_confirmation(kb: World) -> None:
    r = _chat(kb, "@li", "怎么查询物流信息？", channel="app")
    assert r.bot == "answered"
    assert "查询物流" in _thread(kb, r.ticket_id)[1][2]
    assert _chat(kb, "@li", "谢谢，解决了", channel="app").bot == "resolved"


def test_no_confirmation_hands_off_with_one_note_and_routes(kb: World) -> None:
    r = _chat(kb, "@bo", "Where is my parcel? tracking shows nothing")
    assert r.bot == "answered"
    nope = _chat(kb, "@bo", "No, that didn't help, the tracking page is empty")
    assert (nope.ticket_id, nope.bot, nope.status) == (r.ticket_id, "handoff", Status.OPEN)
    assert nope.events[:2] == ["ticket.customer_message", "bot.handoff"]
    assert nope.events.count("bot.handoff") == 1
    assert nope.events[2] in {"ticket.routed", "ticket.queued"}
    notes = [m for m in _thread(kb, r.ticket_id) if not m[1]]
    assert len(notes) == 1 and notes[0][0] == AuthorKind.BOT.value
    assert "Transcript:" in notes[0][2] and "tracking page is empty" in notes[0][2]


def test_low_confidence_hands_off_at_once_with_intent_and_articles(kb: World) -> None:
    with kb.store.write() as s:
        routing.set_setting(s, ADMIN, "bot.threshold", "1")
    r = _chat(kb, "@cy", "my parcel is late and the password reset mail too", channel="app")
    assert r.bot == "handoff" and r.status is Status.NEW
    # app → tech (rule); sam and bob are online there.
    assert r.assignee in {"sam", "bob"}
    assert _kinds(kb, r.ticket_id) == ["ticket.created", "bot.handoff", "ticket.routed"]
    note = next(m for m in _thread(kb, r.ticket_id) if not m[1])[2]
    assert "Intent guess:" in note and "Suggested articles:" in note and "KB-" in note
    with kb.store.read() as s:
        diff = json.loads(s.exec(select(Event.diff).where(Event.kind == "bot.handoff")).one())
    assert diff["articles"] and diff["intent"] and "below threshold" in diff["reason"]


def test_no_match_hands_off_and_email_never_sees_the_bot(kb: World) -> None:
    r = _chat(kb, "@dee", "zzqx flurb")
    assert r.bot == "handoff"
    with kb.store.read() as s:
        diff = json.loads(s.exec(select(Event.diff).where(Event.kind == "bot.handoff")).one())
    assert diff["reason"] == "no article matched" and diff["articles"] == []
    with kb.store.write() as s:
        mail = inbound.receive(s, ADMIN, "email", address="e@example.com",
                               body="Where is my parcel?", team="logistics")
    assert mail.bot is None and "bot.answered" not in mail.events


def test_a_reopen_after_a_bot_solve_goes_to_a_person(kb: World) -> None:
    r = _chat(kb, "@fi", "Where is my parcel? track delivery")
    _chat(kb, "@fi", "solved")
    again = _chat(kb, "@fi", "It happened again")
    assert (again.ticket_id, again.action, again.status) == (r.ticket_id, "reopened", Status.OPEN)
    assert again.events[0] == "ticket.reopened" and again.events[-1] in {"ticket.routed",
                                                                         "ticket.queued"}


@pytest.mark.parametrize("text", [
    "yes", "Yes, thanks!", "thank you so much", "solved", "that fixed it", "works now, cheers",
    "no problem, it's sorted", "谢谢", "谢谢，解决了", "好了", "可以了，没问题", "已解决"])
def test_confirmations(text: str) -> None:
    assert is_confirmation(text)


@pytest.mark.parametrize("text", [
    "no", "not solved", "that didn't help", "still broken", "thanks but it still fails",
    "I want to talk to a human", "没解决", "还是不行", "不行", "谢谢，但是没用", "",
    "yes I read it but my parcel is a different order and nothing in the article applies to "
    "me at all"])
def test_not_confirmations(text: str) -> None:
    assert not is_confirmation(text)
