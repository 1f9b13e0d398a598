"""Customers, identities and the customer 360."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Channel, Role
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.safe_text import safe_line
from agent_tui.domain.tables import Customer, Identity, Order, Organization, Rating, utcnow
from agent_tui.domain.views import Customer360, CustomerView
from agent_tui.services import convert
from agent_tui.services.perms import require, sees_personal_data
from agent_tui.store import queue as q
from agent_tui.store.events import Actor, append_event

REPEAT_CONTACT_WINDOW = timedelta(days=7)
MAX_360_TICKETS = 200


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if "@" not in value or value.startswith("@") or value.endswith("@") or " " in value:
        raise Invalid("email", f"not an e-mail address: {value!r}")
    return value


def normalise_phone(value: str) -> str:
    """Keep a leading + and the digits; ``+44 (20) 7946-0958`` → ``+442079460958``."""
    value = value.strip()
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) < 5:
        raise Invalid("phone", f"not a phone number: {value!r}")
    return ("+" if value.startswith("+") else "") + digits


def get_customer(session: Session, customer_id: int) -> Customer:
    cust = session.get(Customer, customer_id)
    if cust is None:
        raise NotFound("customer", customer_id)
    return cust


def find_by_identity(session: Session, channel: Channel, address: str) -> Customer | None:
    stmt = (
        select(Customer)
        .join(Identity, col(Identity.customer_id) == col(Customer.id))
        .where(Identity.channel == channel.value, Identity.address == address)
    )
    return session.exec(stmt).first()


def add_identity(session: Session, customer_id: int, channel: Channel, address: str,
                 *, verified: bool = False) -> Identity | None:
    """Attach an identity unless that channel+address is already known."""
    exists = session.exec(select(Identity).where(
        Identity.channel == channel.value, Identity.address == address)).first()
    if exists is not None:
        return None
    ident = Identity(customer_id=customer_id, channel=channel, address=address, verified=verified)
    session.add(ident)
    return ident


def organization_id(session: Session, name: str | None) -> int | None:
    if not name or not name.strip():
        return None
    name = safe_line(name).strip()
    org = session.exec(select(Organization).where(Organization.name == name)).first()
    if org is None:
        org = Organization(name=name)
        session.add(org)
        session.flush()
    return org.id


def _lock_address(session: Session, address: str | None) -> None:
    """Serialise look-up-then-insert of one address on PostgreSQL.

    Two transactions creating tickets for the same new e-mail at once would
    both miss the look-up and one would fail on the identity's unique index.
    SQLite needs nothing: its writers already queue on BEGIN IMMEDIATE.
    """
    if address and session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:a))"), {"a": address})


def find_or_create(session: Session, actor: Actor, *, email: str | None, name: str | None = None,
                   phone: str | None = None) -> tuple[Customer, bool]:
    """Resolve a customer by e-mail (or phone); create one if nobody matches."""
    cust = None
    if email:
        email = normalise_email(email)
    if phone:
        phone = normalise_phone(phone)
    _lock_address(session, email or phone)
    if email:
        cust = find_by_identity(session, Channel.EMAIL, email)
        if cust is None:
            cust = session.exec(select(Customer).where(Customer.email == email)).first()
    if cust is None and phone:
        cust = find_by_identity(session, Channel.PHONE, phone)
    if cust is not None:
        return cust, False
    if not email and not phone:
        raise Invalid("customer", "give a customer id, an e-mail or a phone number")
    display = safe_line(name).strip() if name else (email or phone or "").split("@")[0]
    cust = Customer(name=display, email=email, phone=phone)
    session.add(cust)
    session.flush()
    assert cust.id is not None
    if email:
        add_identity(session, cust.id, Channel.EMAIL, email)
    if phone:
        add_identity(session, cust.id, Channel.PHONE, phone)
    append_event(session, actor, kind="customer.created", entity="customer", entity_id=cust.id,
                 after={"name": cust.name, "email": email, "phone": phone})
    return cust, True


def get_360(session: Session, actor: Actor, customer_id: int, *,
            reveal: bool = False) -> Customer360:
    """Everything about one customer; personal data masked unless the role may see it."""
    cust = get_customer(session, customer_id)
    masked = not (reveal or sees_personal_data(actor))
    org_name = None
    if cust.organization_id is not None:
        org = session.get(Organization, cust.organization_id)
        org_name = org.name if org else None
    identities = list(session.exec(
        select(Identity).where(Identity.customer_id == customer_id).order_by(col(Identity.id))))
    orders = list(session.exec(
        select(Order).where(Order.customer_id == customer_id)
        .order_by(col(Order.created_at).desc())))
    ratings = list(session.exec(
        select(Rating).where(Rating.customer_id == customer_id)
        .order_by(col(Rating.created_at).desc())))
    base = q._base([q.T.c.customer_id == customer_id])
    rows = session.execute(
        base.order_by(q.T.c.created_at.desc(), q.T.c.id.desc()).limit(MAX_360_TICKETS)).all()
    tickets = [convert.ticket_row(r) for r in rows]
    open_count = session.execute(
        sa.select(sa.func.count()).select_from(q.T)
        .where(q.T.c.customer_id == customer_id, q.T.c.is_open == sa.true())).scalar_one()
    currencies = {o.currency for o in orders}
    last_contact = tickets[0].created_at if tickets else None
    recent = [t for t in tickets if t.created_at >= utcnow() - REPEAT_CONTACT_WINDOW]
    csats = [r.csat for r in ratings if r.csat is not None]
    return Customer360(
        customer=convert.customer_view(cust, org_name, masked=masked),
        identities=[convert.identity_view(i, masked=masked) for i in identities],
        orders=[convert.order_view(o) for o in orders],
        tickets=tickets,
        ratings=[convert.rating_view(r) for r in ratings],
        lifetime_value_cents=sum(o.amount_cents for o in orders if o.status != "refunded"),
        currency=next(iter(currencies)) if len(currencies) == 1 else None,
        open_tickets=int(open_count),
        last_contact_at=last_contact,
        repeat_contact=len(recent) >= 2,
        average_csat=round(sum(csats) / len(csats), 2) if csats else None,
        masked=masked,
    )


def reveal(session: Session, actor: Actor, customer_id: int, reason: str) -> Customer360:
    """Unmasked 360 for an agent who gives a reason; the reveal is an event."""
    reason = reason.strip()
    if len(reason) < 3:
        raise Invalid("reason", "say why you need to see this customer's personal data")
    get_customer(session, customer_id)
    append_event(session, actor, kind="customer.revealed", entity="customer",
                 entity_id=customer_id, extra={"reason": safe_line(reason)})
    return get_360(session, actor, customer_id, reveal=True)


def search(session: Session, actor: Actor, query: str, *, limit: int = 20) -> list[CustomerView]:
    """Find customers by name, e-mail, phone or any identity address."""
    text = query.strip()
    if not text:
        return []
    masked = not sees_personal_data(actor)
    like = q.like_pattern(text)
    by_ident = select(Identity.customer_id).where(
        col(Identity.address).ilike(like, escape="\\"))
    stmt = (
        select(Customer)
        .where(sa.or_(col(Customer.name).ilike(like, escape="\\"),
                      col(Customer.email).ilike(like, escape="\\"),
                      col(Customer.id).in_(by_ident)))
        .where(col(Customer.erased_at).is_(None))
        .order_by(col(Customer.id))
        .limit(limit)
    )
    out = []
    for cust in session.exec(stmt):
        org = session.get(Organization, cust.organization_id) if cust.organization_id else None
        out.append(convert.customer_view(cust, org.name if org else None, masked=masked))
    return out


def require_admin(actor: Actor, what: str) -> None:
    require(actor, Role.ADMIN, what)
