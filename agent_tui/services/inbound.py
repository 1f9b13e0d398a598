"""Inbound channels: a customer's message arrives on email, chat, phone, web, app or social.

``receive`` is what ``agent-tui inbound`` calls and what the server will
expose as ``POST /api/v1/inbound/{channel}``:

1. **Identity resolution** — the address is classified (an e-mail, a phone
   number, else a handle on that channel), normalised, and looked up among
   every customer's identities; a stranger becomes a new customer.
2. **Threading** — the customer's latest ticket on the same channel: open →
   the message continues it; solved → it is reopened (``ticket.reopened``,
   then routed again); closed → a follow-up ticket is opened, linked in its
   ``ticket.created`` event. E-mail threads only when the subject matches
   (``Re:`` stripped) or names the ticket (``[#123]``).
3. **The bot** for its channels (``services.bot``), else **routing**.

Everything the customer wrote passes ``safe_text`` / ``safe_line`` here.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.confirmation import is_confirmation
from agent_tui.domain.enums import AuthorKind, Channel, Priority, Role, Source, Status
from agent_tui.domain.errors import Invalid
from agent_tui.domain.html_text import plain_body
from agent_tui.domain.safe_text import safe_line, safe_optional, safe_text
from agent_tui.domain.tables import (
    Agent,
    Customer,
    Event,
    Identity,
    Message,
    Team,
    Ticket,
    utcnow,
)
from agent_tui.domain.views_routing import InboundResult
from agent_tui.services import bot, routing
from agent_tui.services.agents import get_team
from agent_tui.services.customers import normalise_email, normalise_phone
from agent_tui.services.lifecycle import TicketChange, ticket_changed
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event, last_seq

MAX_BODY = 100_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{5,}$")
_REF = re.compile(r"\[#(\d+)\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|回复|转发)\s*[:：]\s*)+", re.IGNORECASE)


def identity_of(channel: Channel, address: str) -> tuple[Channel, str]:
    """The identity an address names: (kind, normalised address).

    An e-mail or phone number is the same person whatever channel it came
    by (a web form with an e-mail, an app that sends a phone number);
    anything else is a handle on the channel itself, compared case-blind
    for social handles and as given for app and chat ids.
    """
    address = safe_line(address).strip()
    if not address:
        raise Invalid("from", "give the sender's address")
    if _EMAIL.match(address):
        return Channel.EMAIL, normalise_email(address)
    if _PHONE.match(address) and sum(c.isdigit() for c in address) >= 5:
        return Channel.PHONE, normalise_phone(address)
    if channel in (Channel.EMAIL, Channel.PHONE):
        wanted = "an e-mail address" if channel is Channel.EMAIL else "a phone number"
        raise Invalid("from", f"not {wanted}: {address!r}")
    if channel is Channel.SOCIAL:
        return channel, address.lower()
    return channel, address[:320]


def resolve_customer(session: Session, actor: Actor, channel: Channel, address: str,
                     name: str | None) -> tuple[Customer, bool]:
    """Find the customer by any of their addresses, or create one."""
    kind, norm = identity_of(channel, address)
    if session.get_bind().dialect.name == "postgresql":
        # Two messages from one new address at once must make one customer.
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:a))"),
                        {"a": f"{kind}:{norm}"})
    found = session.exec(select(Customer)
                         .join(Identity, col(Identity.customer_id) == col(Customer.id))
                         .where(Identity.channel == kind.value, Identity.address == norm)).first()
    if found is None and kind is Channel.EMAIL:
        found = session.exec(select(Customer).where(Customer.email == norm)).first()
        if found is not None and found.id is not None:
            session.add(Identity(customer_id=found.id, channel=kind, address=norm))
    if found is None and kind is Channel.PHONE:
        found = session.exec(select(Customer).where(Customer.phone == norm)).first()
        if found is not None and found.id is not None:
            session.add(Identity(customer_id=found.id, channel=kind, address=norm))
    if found is not None:
        return found, False
    display = safe_line(name).strip() if name and name.strip() else norm.split("@")[0]
    cust = Customer(name=display[:200] or "customer",
                    email=norm if kind is Channel.EMAIL else None,
                    phone=norm if kind is Channel.PHONE else None)
    session.add(cust)
    session.flush()
    assert cust.id is not None
    session.add(Identity(customer_id=cust.id, channel=kind, address=norm))
    append_event(session, actor, kind="customer.created", entity="customer", entity_id=cust.id,
                 after={"name": cust.name, "identity": f"{kind.value}:{norm}"})
    return cust, True


def _bare(subject: str) -> str:
    return _REPLY_PREFIX.sub("", _REF.sub("", subject)).strip().lower()


def _thread(session: Session, customer_id: int, channel: Channel,
            subject: str | None) -> Ticket | None:
    """The ticket this message belongs to, if any (see the module docs)."""
    if subject and (ref := _REF.search(subject)):
        named = session.get(Ticket, int(ref.group(1)))
        if named is not None and named.customer_id == customer_id:
            return named
    latest = session.exec(select(Ticket).where(Ticket.customer_id == customer_id,
                                               Ticket.channel == channel.value)
                          .order_by(col(Ticket.id).desc()).limit(1).with_for_update()).first()
    if latest is None:
        return None
    if channel is Channel.EMAIL and subject and _bare(subject) != _bare(latest.subject):
        return None  # a new e-mail conversation, not a reply
    return latest


def _state(session: Session, ticket: Ticket) -> dict[str, object]:
    team = session.get(Team, ticket.team_id) if ticket.team_id else None
    agent = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    return {"subject": ticket.subject, "status": ticket.status,
            "priority": Priority(ticket.priority).label, "category": ticket.category,
            "product": ticket.product, "tags": ticket.tags, "team": team.name if team else None,
            "assignee": agent.login if agent else None, "version": ticket.version}


def _open_ticket(session: Session, actor: Actor, customer: Customer, channel: Channel, *,
                 subject: str, body: str, team: str | None, category: str | None,
                 product: str | None, follow_up_of: Ticket | None) -> Ticket:
    assert customer.id is not None
    placement = routing.place(session, category=category, product=product,
                              channel=channel.value, text=f"{subject}\n{body}")
    team_id = get_team(session, team).id if team else None
    if team_id is None and follow_up_of is not None:
        team_id = follow_up_of.team_id
    if team_id is None:
        team_id = placement.team_id
    if team_id is None and (default := routing.setting(session, "default_team")):
        team_id = get_team(session, default).id
    now = utcnow()
    ticket = Ticket(channel=channel, subject=subject[:500], status=Status.NEW,
                    priority=int(follow_up_of.priority) if follow_up_of else int(Priority.NORMAL),
                    category=category or (follow_up_of.category if follow_up_of else None),
                    product=product or (follow_up_of.product if follow_up_of else None),
                    customer_id=customer.id, team_id=team_id, is_open=True, version=1,
                    created_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    session.add(Message(ticket_id=ticket.id, author_kind=AuthorKind.CUSTOMER,
                        author_customer_id=customer.id, public=True, body=body, channel=channel,
                        created_at=now))
    after = {**_state(session, ticket), "channel": channel.value, "customer_id": customer.id}
    if follow_up_of is not None:
        after["follow_up_of"] = follow_up_of.id
    append_event(session, actor, kind="ticket.created", entity="ticket", entity_id=ticket.id,
                 after=after)
    ticket_changed(session, actor, ticket,
                   TicketChange("created", None, Status.NEW, AuthorKind.CUSTOMER, True))
    return ticket


def _append(session: Session, actor: Actor, ticket: Ticket, body: str) -> str:
    """The customer's message on an existing ticket: continue, or reopen if solved."""
    assert ticket.id is not None
    old = Status(ticket.status)
    msg = Message(ticket_id=ticket.id, author_kind=AuthorKind.CUSTOMER,
                  author_customer_id=ticket.customer_id, public=True, body=body,
                  channel=Channel(ticket.channel), created_at=utcnow())
    session.add(msg)
    before = _state(session, ticket)
    # The customer answered: a ticket waiting on them (or solved) is someone's work again.
    if old in (Status.PENDING, Status.SOLVED):
        ticket.status = Status.OPEN
        ticket.is_open = True
        ticket.solved_at = None
    ticket.version += 1
    ticket.updated_at = utcnow()
    session.add(ticket)
    session.flush()
    kind = "ticket.reopened" if old is Status.SOLVED else "ticket.customer_message"
    after = _state(session, ticket)
    keys = [k for k in after if after[k] != before[k]]
    append_event(session, actor, kind=kind, entity="ticket", entity_id=ticket.id,
                 before={k: before[k] for k in keys}, after={k: after[k] for k in keys},
                 extra={"message_id": msg.id, "by": "customer"})
    ticket_changed(session, actor, ticket, TicketChange(
        "customer_message", old, Status(ticket.status), AuthorKind.CUSTOMER, True))
    return "reopened" if old is Status.SOLVED else "continued"


def receive(session: Session, caller: Actor, channel: Channel | str, *, address: str,
            body: str, name: str | None = None, subject: str | None = None,
            team: str | None = None, category: str | None = None,
            product: str | None = None) -> InboundResult:
    """Take one inbound customer message; see the module docs for what it does."""
    require(caller, Role.ADMIN, "receiving inbound messages")
    try:
        channel = Channel(str(channel).strip().lower())
    except ValueError:
        raise Invalid("channel", f"one of {', '.join(c.value for c in Channel)}") from None
    text = safe_text(plain_body(body)).strip("\n")  # an e-mail's HTML part: its text
    if not text.strip():
        raise Invalid("body", "must not be empty")
    if len(text) > MAX_BODY:
        raise Invalid("body", f"longer than {MAX_BODY} characters")
    subj = safe_line(subject).strip() if subject else ""
    actor = routing.channel_actor(channel.value, caller.source if caller.source else Source.API)
    first_seq = last_seq(session)
    customer, created = resolve_customer(session, actor, channel, address, name)
    assert customer.id is not None
    ticket = _thread(session, customer.id, channel, subj or None)
    follow_up_of: int | None = None
    bot_did: str | None = None
    if ticket is not None and Status(ticket.status) is not Status.CLOSED:
        if bot.awaiting_confirmation(session, ticket):
            if is_confirmation(text):
                bot.resolve(session, actor, ticket, text)
                action, bot_did = "continued", "resolved"
            else:
                action = _append(session, actor, ticket, text)
                bot.handoff(session, ticket, [], why="the customer did not confirm the answer")
                bot_did = "handoff"
        else:
            action = _append(session, actor, ticket, text)
    else:
        prior = ticket
        follow_up_of = prior.id if prior is not None else None
        first_line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        ticket = _open_ticket(session, actor, customer, channel,
                              subject=subj or safe_line(first_line)[:80] or "(no subject)",
                              body=text, team=team, category=safe_optional(category),
                              product=safe_optional(product), follow_up_of=prior)
        action = "follow_up" if prior is not None else "created"
        if bot.handles(session, ticket) and ticket.assignee_id is None:
            bot_did = bot.attempt(session, ticket, text)
    session.flush()
    assignee = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    assert ticket.id is not None
    kinds = list(session.exec(
        select(Event.kind).where(col(Event.seq) > first_seq, sa.or_(
            sa.and_(col(Event.entity) == "ticket", col(Event.entity_id) == ticket.id),
            sa.and_(col(Event.entity) == "customer", col(Event.entity_id) == customer.id)))
        .order_by(col(Event.seq))))
    return InboundResult(ticket_id=ticket.id, customer_id=customer.id, customer_created=created,
                         action=action, status=Status(ticket.status), channel=channel,
                         assignee=assignee.login if assignee else None, bot=bot_did,
                         follow_up_of=follow_up_of, events=kinds)
