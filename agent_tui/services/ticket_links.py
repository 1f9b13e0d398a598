"""The read side of ticket links: what ``tickets.detail`` shows under ``links``.

Kept apart from ``services.ticket_actions`` (which writes links and needs
``services.tickets``) so that ``tickets.detail`` can import it without a cycle.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Status
from agent_tui.domain.safe_text import safe_line
from agent_tui.domain.tables import Ticket, TicketLink
from agent_tui.domain.views_links import LinkKind, TicketLinkView

#: More links than this on one ticket is a mistake; the header shows the newest ones.
MAX_LINKS = 50


def find_link(session: Session, a: int, b: int) -> TicketLink | None:
    """The link between tickets ``a`` and ``b``, made from either side."""
    return session.exec(select(TicketLink).where(sa.or_(
        sa.and_(col(TicketLink.ticket_id) == a, col(TicketLink.other_id) == b),
        sa.and_(col(TicketLink.ticket_id) == b, col(TicketLink.other_id) == a)))).first()


def links_for(session: Session, ticket_id: int) -> list[TicketLinkView]:
    """Every ticket linked to ``ticket_id``, newest link first."""
    rows = list(session.exec(
        select(TicketLink).where(sa.or_(col(TicketLink.ticket_id) == ticket_id,
                                        col(TicketLink.other_id) == ticket_id))
        .order_by(col(TicketLink.id).desc()).limit(MAX_LINKS)))
    if not rows:
        return []
    other_ids = {r.other_id if r.ticket_id == ticket_id else r.ticket_id for r in rows}
    others = {t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(other_ids)))}
    out: list[TicketLinkView] = []
    for r in rows:
        outgoing = r.ticket_id == ticket_id
        other_id = r.other_id if outgoing else r.ticket_id
        other = others.get(other_id)
        out.append(TicketLinkView(
            ticket_id=other_id, kind=LinkKind(r.kind), outgoing=outgoing,
            subject=safe_line(other.subject) if other else "",
            status=Status(other.status) if other else Status.CLOSED,
            created_at=r.created_at, created_by=r.created_by))
    return out
