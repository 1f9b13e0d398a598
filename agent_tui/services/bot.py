"""The bot: answer chat, app and web messages from the knowledge base, or hand off.

- **Answer** (``bot.answered``): the top suggestion's confidence reaches the
  ``bot.threshold`` setting (default 0.6, see ``services.routing.DEFAULTS``):
  the bot replies publicly with the article and the ticket goes to
  ``pending``, waiting for the customer to say whether it helped.
- **Resolve** (``bot.resolved``): the customer's next message confirms
  (``domain.confirmation``): solved by the bot, a self-service solve.
- **Hand off** (``bot.handoff``): confidence too low, the customer did not
  confirm, or the knowledge base is unavailable: ONE internal note with the
  transcript, an intent guess and the suggested articles, then routing.

Each of the three is exactly one event; the bot's messages are part of it.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, select

from agent_tui.domain.enums import AuthorKind, Channel, Source, Status
from agent_tui.domain.routing import detect_language, split_csv
from agent_tui.domain.rules import check_transition
from agent_tui.domain.safe_text import safe_line, safe_text
from agent_tui.domain.tables import KnowledgeArticle, Message, Ticket, utcnow
from agent_tui.domain.views_knowledge import Suggestion
from agent_tui.services import routing
from agent_tui.services.lifecycle import TicketChange, ticket_changed
from agent_tui.store.events import Actor, append_event

BOT_ACTOR = Actor.system(Source.BOT, login="bot")
#: How much of an article the bot quotes; the rest is one question away.
ANSWER_CHARS = 1200
TRANSCRIPT_MESSAGES = 20


def handles(session: Session, ticket: Ticket) -> bool:
    """Whether the bot answers on this ticket's channel at all."""
    conf = routing.settings(session)
    return conf["bot.enabled"] == "true" and str(ticket.channel) in split_csv(conf["bot.channels"])


def awaiting_confirmation(session: Session, ticket: Ticket) -> bool:
    """Pending with the bot's answer as the latest public message."""
    if Status(ticket.status) is not Status.PENDING:
        return False
    last = session.exec(
        select(Message.author_kind).where(Message.ticket_id == ticket.id, Message.public == True)  # noqa: E712
        .order_by(col(Message.id).desc()).limit(1)).first()
    return last == AuthorKind.BOT.value


def _suggest(session: Session, text: str, language: str) -> list[Suggestion] | None:
    """Knowledge suggestions for the customer's text; None if the KB cannot answer."""
    try:
        from agent_tui.services import knowledge
    except ImportError:  # the knowledge part is optional at run time
        return None
    return knowledge.search(session, text, k=3, locale=language)


def _move(ticket: Ticket, new: Status) -> Status:
    old = Status(ticket.status)
    check_transition(old, new)
    ticket.status = new
    ticket.is_open = new.is_open
    now = utcnow()
    if new is Status.SOLVED:
        ticket.solved_at = now
    elif new.is_open:
        ticket.solved_at = None
    ticket.version += 1
    ticket.updated_at = now
    return old


def _answer_text(article: KnowledgeArticle, language: str) -> str:
    body = safe_text(article.body).strip()
    if len(body) > ANSWER_CHARS:
        cut = body.rfind("\n", 0, ANSWER_CHARS)
        body = body[: cut if cut > ANSWER_CHARS // 2 else ANSWER_CHARS].rstrip() + " …"
    title = safe_line(article.title)
    if language == "zh":
        return (f"您好！这篇文章也许能帮到您：《{title}》\n\n{body}\n\n"
                "问题解决了吗？如果解决了请回复“解决了”，否则请告诉我们更多情况，我们会请同事跟进。")
    return (f"Hi! This article may answer your question: {title}\n\n{body}\n\n"
            "Did this solve it? Reply \"yes\" if so; otherwise tell us more and a person "
            "will take over.")


def attempt(session: Session, ticket: Ticket, text: str) -> str:
    """Answer a customer's message from the KB, or hand off; returns what happened."""
    assert ticket.id is not None
    language = detect_language(text)
    suggestions = _suggest(session, f"{ticket.subject}\n{text}", language)
    threshold = float(routing.setting(session, "bot.threshold"))
    top = suggestions[0] if suggestions else None
    article = session.get(KnowledgeArticle, top.article_id) if top else None
    if top is None or article is None or top.confidence < threshold:
        if suggestions is None:
            why = "knowledge base unavailable"
        elif top is None:
            why = "no article matched"
        else:
            why = f"top confidence {top.confidence:.2f} below threshold {threshold:.2f}"
        handoff(session, ticket, suggestions or [], why=why)
        return "handoff"
    msg = Message(ticket_id=ticket.id, author_kind=AuthorKind.BOT, public=True,
                  body=_answer_text(article, language), channel=Channel(ticket.channel),
                  created_at=utcnow())
    session.add(msg)
    old = _move(ticket, Status.PENDING)
    session.add(ticket)
    session.flush()
    append_event(session, BOT_ACTOR, kind="bot.answered", entity="ticket", entity_id=ticket.id,
                 before={"status": old.value, "version": ticket.version - 1},
                 after={"status": ticket.status, "version": ticket.version},
                 extra={"article_id": article.id, "confidence": top.confidence,
                        "threshold": threshold, "message_id": msg.id})
    ticket_changed(session, BOT_ACTOR, ticket,
                   TicketChange("replied", old, Status(ticket.status), AuthorKind.BOT, True))
    return "answered"


def resolve(session: Session, actor: Actor, ticket: Ticket, body: str) -> None:
    """The customer confirmed the bot's answer: their message, then solved, one event."""
    assert ticket.id is not None
    msg = Message(ticket_id=ticket.id, author_kind=AuthorKind.CUSTOMER,
                  author_customer_id=ticket.customer_id, public=True, body=body,
                  channel=Channel(ticket.channel), created_at=utcnow())
    session.add(msg)
    old = _move(ticket, Status.SOLVED)
    session.add(ticket)
    session.flush()
    append_event(session, BOT_ACTOR, kind="bot.resolved", entity="ticket", entity_id=ticket.id,
                 before={"status": old.value, "version": ticket.version - 1},
                 after={"status": ticket.status, "version": ticket.version},
                 extra={"message_id": msg.id, "confirmed_by": actor.login})
    ticket_changed(session, actor, ticket, TicketChange(
        "customer_message", old, Status(ticket.status), AuthorKind.CUSTOMER, True))


def _intent(ticket: Ticket, suggestions: list[Suggestion]) -> str:
    """The most common tag of the suggested articles, else the ticket's category."""
    tags = Counter(t for s in suggestions for t in s.tags)
    if tags:
        return tags.most_common(1)[0][0]
    return safe_line(ticket.category) if ticket.category else "unknown"


def _note(session: Session, ticket: Ticket, suggestions: list[Suggestion], why: str) -> str:
    msgs = list(session.exec(select(Message).where(Message.ticket_id == ticket.id)
                             .order_by(col(Message.id).desc()).limit(TRANSCRIPT_MESSAGES)))
    msgs.reverse()
    lines = [f"Bot hand-off: {why}.", f"Intent guess: {_intent(ticket, suggestions)}", "",
             "Transcript:"]
    for m in msgs:
        who = {"customer": "Customer", "bot": "Bot", "agent": "Agent"}.get(str(m.author_kind),
                                                                          "System")
        if m.public:
            lines.append(f"  {who}: {safe_line(m.body)[:500]}")
    lines += ["", "Suggested articles:"]
    lines += [f"  KB-{s.article_id} {s.title} (confidence {s.confidence:.2f})"
              for s in suggestions] or ["  (none)"]
    return "\n".join(lines)


def handoff(session: Session, ticket: Ticket, suggestions: list[Suggestion], *, why: str) -> None:
    """ONE internal note for the person who takes over, then route the ticket."""
    assert ticket.id is not None
    note = Message(ticket_id=ticket.id, author_kind=AuthorKind.BOT, public=False,
                   body=_note(session, ticket, suggestions, why),
                   channel=Channel(ticket.channel), created_at=utcnow())
    session.add(note)
    old = Status(ticket.status)
    if old is Status.PENDING:
        _move(ticket, Status.OPEN)
    else:
        ticket.version += 1
        ticket.updated_at = utcnow()
    session.add(ticket)
    session.flush()
    append_event(session, BOT_ACTOR, kind="bot.handoff", entity="ticket", entity_id=ticket.id,
                 before={"status": old.value, "version": ticket.version - 1},
                 after={"status": ticket.status, "version": ticket.version},
                 extra={"reason": why, "intent": _intent(ticket, suggestions),
                        "message_id": note.id,
                        "articles": [s.article_id for s in suggestions]})
    ticket_changed(session, BOT_ACTOR, ticket,
                   TicketChange("noted", old, Status(ticket.status), AuthorKind.BOT, False))
    if ticket.assignee_id is None:
        routing.route(session, ticket, trigger="handoff")
