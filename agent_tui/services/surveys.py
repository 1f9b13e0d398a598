"""The closed loop: a solve asks for a rating; a rating attaches to its ticket.

Solving a ticket records one pending ``survey_request`` (event
``survey.requested``); solving it again after a reopen does not add a second
one while the first is unanswered. A rating may arrive any time after the
ticket was first solved — days later, after a reopen, after the ticket was
closed — and answers the pending request (event ``rating.created``; the
comment is customer text and goes through ``safe_text``, and stays out of
the event log, which holds only the scores). Agents may log a rating a
customer gave them on the phone, so recording needs only the agent role.
The latest rating of a ticket is the one its metrics count.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Role, Status
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.safe_text import safe_text
from agent_tui.domain.tables import LoopSetting, Rating, SurveyRequest, Ticket, utcnow
from agent_tui.domain.views import RatingView
from agent_tui.services import convert
from agent_tui.services.metrics_facts import WATERMARK, refresh_fact
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event

if TYPE_CHECKING:  # lifecycle imports this module
    from agent_tui.services.lifecycle import TicketChange

MAX_COMMENT = 5_000


def closed_loop(session: Session, actor: Actor, ticket: Ticket, change: TicketChange) -> None:
    """Step 2 of ``ticket_changed``: survey on a solve, then refresh the ticket's fact."""
    assert ticket.id is not None
    if change.new_status is Status.SOLVED and change.old_status is not Status.SOLVED:
        request_survey(session, actor, ticket)
    if change.kind == "created":
        _advance_watermark(session, ticket.id)
    refresh_fact(session, ticket.id)


def _advance_watermark(session: Session, ticket_id: int) -> None:
    """Keep the bulk-backfill watermark flush with tickets the services create."""
    row = session.get(LoopSetting, WATERMARK)
    current = int(row.value) if row is not None else 0
    if current != ticket_id - 1:
        return  # bulk-loaded tickets lie in between: the next backfill covers them
    if row is None:
        row = LoopSetting(key=WATERMARK, value=str(ticket_id))
    row.value, row.updated_at = str(ticket_id), utcnow()
    session.add(row)


def pending_request(session: Session, ticket_id: int) -> SurveyRequest | None:
    return session.exec(
        select(SurveyRequest).where(SurveyRequest.ticket_id == ticket_id,
                                    SurveyRequest.status == "pending")
        .order_by(col(SurveyRequest.id).desc()).limit(1)).first()


def request_survey(session: Session, actor: Actor, ticket: Ticket) -> SurveyRequest | None:
    """Ask the customer for a rating, unless a request is already waiting for one."""
    assert ticket.id is not None
    if pending_request(session, ticket.id) is not None:
        return None
    req = SurveyRequest(ticket_id=ticket.id, customer_id=ticket.customer_id, status="pending",
                        requested_at=utcnow())
    session.add(req)
    session.flush()
    append_event(session, actor, kind="survey.requested", entity="ticket", entity_id=ticket.id,
                 extra={"survey_request_id": req.id, "channel": str(ticket.channel)})
    return req


def _score(value: int | None, low: int, high: int, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(field, f"must be a whole number from {low} to {high}")
    return value


def record_rating(session: Session, actor: Actor, ticket_id: int, *, csat: int | None = None,
                  nps: int | None = None, comment: str | None = None,
                  at: datetime | None = None) -> RatingView:
    """Attach a customer's rating to a ticket that has been solved at least once."""
    require(actor, Role.AGENT, "recording a rating")
    csat = _score(csat, 1, 5, "csat")
    nps = _score(nps, 0, 10, "nps")
    if csat is None and nps is None:
        raise Invalid("rating", "give a CSAT score (1-5), an NPS score (0-10) or both")
    text = safe_text(comment).strip() if comment else ""
    if len(text) > MAX_COMMENT:
        raise Invalid("comment", f"longer than {MAX_COMMENT} characters")
    ticket = session.exec(select(Ticket).where(Ticket.id == ticket_id)).first()
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    req = pending_request(session, ticket_id)
    asked = req is not None or session.execute(
        sa.select(SurveyRequest.id).where(  # type: ignore[call-overload]
            SurveyRequest.ticket_id == ticket_id).limit(1)).first() is not None
    if ticket.solved_at is None and ticket.closed_at is None and not asked:
        raise Invalid("ticket", f"ticket {ticket_id} has never been solved; rate it after it is")
    now = at or utcnow()
    rating = Rating(ticket_id=ticket_id, customer_id=ticket.customer_id, csat=csat, nps=nps,
                    comment=text or None, created_at=now)
    session.add(rating)
    session.flush()
    if req is not None:
        req.status, req.answered_at, req.rating_id = "answered", now, rating.id
        session.add(req)
    append_event(session, actor, kind="rating.created", entity="rating", entity_id=rating.id,
                 after={"ticket_id": ticket_id, "csat": csat, "nps": nps,
                        "comment": bool(text)},
                 extra={"survey_request_id": req.id if req is not None else None})
    refresh_fact(session, ticket_id)
    return convert.rating_view(rating)
