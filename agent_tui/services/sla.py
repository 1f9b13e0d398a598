"""SLA engine: keep every ticket's due times and flags current, sweep, escalate.

* :func:`recompute` runs on every ticket change (``services.lifecycle``
  step 3) and from the sweep: it advances the ticket's clocks
  (``domain.sla_state``) to ``now``, applies what just happened (a public
  agent reply stops first response and restarts next response; pending and
  on hold pause; solved stops; a reopen restarts resolution), and writes
  the due columns, ``sla_at_risk``, ``sla_breached`` (sticky: the ticket
  breached at some point) and ``sla_check_at`` (when to look next).
* :func:`sweep` finds, through the partial index on ``sla_check_at``, the
  open tickets whose at-risk or breach moment has come although nothing
  changed, and recomputes them. Each ticket is claimed by locking its row
  and re-checking ``sla_check_at``; a breach is recorded on its clock in the
  same transaction, so two sweepers never escalate the same breach twice.

Events: ``sla.at_risk`` when a ticket becomes at risk, ``sla.breached``
per clock breach, then one event per escalation action
(``services.sla_escalate``). Flag changes do not bump ``version``: a
background flip must not make an agent's open edit conflict; escalations
that change priority or assignee do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from agent_tui.domain.enums import AuthorKind, Status
from agent_tui.domain.sla_clock import ZERO
from agent_tui.domain.sla_state import (
    CLOCKS,
    FIRST,
    NEXT,
    RESOLUTION,
    Clock,
    Reading,
    State,
    bootstrap,
    bootstrap_due,
    read,
)
from agent_tui.domain.tables import Customer, SLAPolicy, Ticket, TicketSla, utcnow
from agent_tui.services import event_rows  # noqa: F401 (its hooks give ticket events their row)
from agent_tui.services.sla_book import Book, load_book

__all__ = ["Book", "Outcome", "SweepReport", "load_book", "recompute", "sweep"]
from agent_tui.services.sla_escalate import escalate
from agent_tui.store.events import Actor, append_event

if TYPE_CHECKING:  # lifecycle imports this module to call recompute
    from agent_tui.services.lifecycle import TicketChange

PAUSED = frozenset({Status.PENDING, Status.ON_HOLD})
US = timedelta(microseconds=1)
_PREFIX = {FIRST: "fr", NEXT: "nr", RESOLUTION: "res"}


@dataclass
class Outcome:
    """What one recompute did, for the sweep's report."""

    ticket_id: int
    became_at_risk: bool = False
    breaches: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def _us(value: timedelta | None) -> int | None:
    return None if value is None else value // US


def _td(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(microseconds=value)


def state_of(row: TicketSla) -> State:
    state = State(counter=timedelta(microseconds=row.counter_us), segment_start=row.segment_start)
    for name, p in _PREFIX.items():
        state.clocks[name] = Clock(start=_td(getattr(row, f"{p}_start_us")),
                                   stop=_td(getattr(row, f"{p}_stop_us")),
                                   breached=bool(getattr(row, f"{p}_breached")))
    return state


def _store(row: TicketSla, state: State, policy: SLAPolicy | None, now: datetime) -> None:
    row.counter_us = state.counter // US
    row.segment_start = state.segment_start
    row.policy_id = policy.id if policy else None
    row.updated_at = now
    for name, p in _PREFIX.items():
        clock = state.clocks[name]
        setattr(row, f"{p}_start_us", _us(clock.start))
        setattr(row, f"{p}_stop_us", _us(clock.stop))
        setattr(row, f"{p}_breached", clock.breached)


def _known_due(ticket: Ticket) -> dict[str, datetime | None]:
    return {FIRST: ticket.first_response_due_at, NEXT: ticket.next_response_due_at,
            RESOLUTION: ticket.resolution_due_at}


def is_active(ticket: Ticket) -> bool:
    """Clocks run while a ticket is open and not waiting (pending, on hold)."""
    return bool(ticket.is_open) and Status(ticket.status) not in PAUSED


def bootstrap_ticket(ticket: Ticket, book: Book, policy: SLAPolicy | None,
                     now: datetime) -> tuple[State, dict[str, datetime | None]]:
    """Clocks for a ticket without SLA state (demo, import), from its timestamps."""
    sched, targets = book.schedule(policy), book.targets(policy)
    ended = None if ticket.is_open else (ticket.solved_at or ticket.closed_at or ticket.updated_at)
    state = bootstrap(sched, created_at=ticket.created_at,
                      first_response_at=ticket.first_response_at, ended_at=ended,
                      last_activity=ticket.updated_at, paused=not is_active(ticket), now=now,
                      has_next=True)
    known = bootstrap_due(sched, ticket.created_at, state, targets) if targets else {}
    return state, known


def _apply(state: State, ticket: Ticket, change: TicketChange | None) -> None:
    counter = state.counter
    fr, nr, res = (state.clocks[c] for c in CLOCKS)
    if change is not None and change.kind == "replied" and change.public \
            and change.author is AuthorKind.AGENT:
        fr.halt(counter)
        nr.restart(counter)
    if change is not None and change.kind == "customer_message" \
            and ticket.first_response_at is not None and not nr.running:
        nr.restart(counter)
    # From the state, not only the change: an earlier reaction (the closed loop
    # reopening on a customer reply) may have reopened the ticket already.
    reopened = (change is not None and change.reopened) or (
        bool(ticket.is_open) and res.start is not None and res.stop is not None)
    if reopened:
        res.restart(counter)
        if ticket.first_response_at is None:
            fr.stop = None  # still unanswered: first response runs on where it stopped
        else:
            nr.restart(counter)
    if not ticket.is_open:
        for clock in state.clocks.values():
            clock.halt(counter)


def tier_of(session: Session, ticket: Ticket) -> str | None:
    customer = session.get(Customer, ticket.customer_id)
    return customer.tier if customer else None


def tiers_of(session: Session, tickets: list[Ticket]) -> dict[int | None, str | None]:
    """Customer tiers for a batch of tickets, in one query."""
    ids = {t.customer_id for t in tickets}
    if not ids:
        return {}
    tiers = dict(session.exec(select(Customer.id, Customer.tier)
                              .where(col(Customer.id).in_(ids))).all())
    return {t.id: tiers.get(t.customer_id) for t in tickets}


def _readings(session: Session, ticket: Ticket, book: Book, now: datetime, *,
              tier: str | None = None) -> tuple[SLAPolicy | None, State, list[Reading], bool]:
    """Current clocks of ``ticket`` without writing anything (for views)."""
    policy = book.choose(ticket.priority, tier if tier is not None else tier_of(session, ticket),
                         ticket.category)
    row = session.get(TicketSla, ticket.id)
    if row is None:
        state, known = bootstrap_ticket(ticket, book, policy, now)
    else:
        state, known = state_of(row), _known_due(ticket)
    targets = book.targets(policy)
    readings = read(state, targets, book.schedule(policy), now, risk_ratio=book.risk_ratio,
                    known_due=known) if targets else []
    return policy, state, readings, row is None


def recompute(session: Session, actor: Actor, ticket: Ticket, *, now: datetime | None = None,
              change: TicketChange | None = None, book: Book | None = None,
              tier: str | None = None, escalating: bool = True) -> Outcome:
    """Bring ``ticket``'s SLA state, due times and flags up to ``now``; escalate new breaches.

    The caller holds the ticket's row lock (ticket services, the sweep).
    ``escalating=False`` (``sla recompute`` after an import) records breaches
    without running the escalation rules on a backlog nobody was watching.
    """
    assert ticket.id is not None
    now = now or utcnow()
    book = book or load_book(session)
    policy = book.choose(ticket.priority, tier if tier is not None else tier_of(session, ticket),
                         ticket.category)
    sched, targets = book.schedule(policy), book.targets(policy)
    row = session.get(TicketSla, ticket.id)
    if row is None:
        state, known = bootstrap_ticket(ticket, book, policy, now)
        row = TicketSla(ticket_id=ticket.id)
        # Flags from a bulk load: a breach due before the check the loader scheduled
        # was seen by it; it is recorded below but not reported again.
        seen = (ticket.sla_check_at or now) if ticket.sla_breached else None
        if change is not None and change.kind != "created":
            _apply(state, ticket, change)
    else:
        seen = None
        state, known = state_of(row), _known_due(ticket)
        state.roll(sched, now, active=is_active(ticket))
        _apply(state, ticket, change)
    readings = read(state, targets, sched, now, risk_ratio=book.risk_ratio,
                    known_due=known) if targets else []
    out = Outcome(ticket_id=ticket.id)
    newly = [r for r in readings if r.breached and not state.clocks[r.clock].breached]
    for r in newly:
        state.clocks[r.clock].breached = True
    if seen is not None:
        newly = [r for r in newly if r.due_at is None or r.due_at >= seen]
    _store(row, state, policy, now)
    session.add(row)

    by_clock = {r.clock: r for r in readings}
    ticket.first_response_due_at = _due(by_clock.get(FIRST), ticket.first_response_due_at)
    ticket.next_response_due_at = _due(by_clock.get(NEXT), ticket.next_response_due_at)
    ticket.resolution_due_at = _due(by_clock.get(RESOLUTION), ticket.resolution_due_at)
    live = [r for r in readings if r.running and not r.paused]
    dues = [r.due_at for r in live if r.due_at is not None]
    ticket.sla_due_at = min(dues) if dues else None
    checks = [r.risk_at for r in live if r.risk_at is not None and not r.at_risk]
    checks += [r.due_at for r in live if r.due_at is not None and not r.breached]
    ticket.sla_check_at = min(checks) if checks else None
    at_risk = any(r.at_risk for r in readings)
    out.became_at_risk = at_risk and not ticket.sla_at_risk
    ticket.sla_at_risk = at_risk
    if newly:
        ticket.sla_breached = True
    session.add(ticket)

    if out.became_at_risk:
        append_event(session, actor, kind="sla.at_risk", entity="ticket", entity_id=ticket.id,
                     extra={"clocks": [_describe(r) for r in readings if r.at_risk],
                            "policy": policy.name if policy else None})
    for r in newly:
        out.breaches.append(r.clock)
        append_event(session, actor, kind="sla.breached", entity="ticket", entity_id=ticket.id,
                     extra={**_describe(r), "policy": policy.name if policy else None,
                            "late": not r.running})
        if r.running and escalating:  # a clock that stopped late is recorded only
            done = escalate(session, actor, ticket, policy=policy, clock=r.clock,
                            actions=book.actions_for(policy, ticket.priority, r.clock),
                            why={"due_at": r.due_at, "used_pct": round(r.used_pct, 1)})
            out.actions.extend(done)
            if "raise_priority" in done:
                ticket.sla_check_at = now  # a new priority may mean a new policy: look again
    return out


def _due(reading: Reading | None, stored: datetime | None) -> datetime | None:
    if reading is None:
        return stored
    return reading.due_at if reading.due_at is not None else stored


def _describe(r: Reading) -> dict[str, Any]:
    return {"clock": r.clock, "due_at": r.due_at, "target_minutes": r.target / timedelta(minutes=1),
            "used_minutes": round(max(r.used, ZERO) / timedelta(minutes=1), 1)}


@dataclass
class SweepReport:
    checked: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    more: bool = False


def sweep(session: Session, actor: Actor, *, now: datetime | None = None,
          limit: int = 500) -> SweepReport:
    """Recompute up to ``limit`` tickets whose check moment has come (one batch)."""
    now = now or utcnow()
    due_ids = list(session.exec(
        select(Ticket.id).where(col(Ticket.sla_check_at).is_not(None),
                                col(Ticket.sla_check_at) <= now)
        .order_by(col(Ticket.sla_check_at)).limit(limit + 1)))
    report = SweepReport(more=len(due_ids) > limit)
    if not due_ids:
        return report
    book = load_book(session)
    tiers = dict(session.exec(select(Ticket.id, Customer.tier)
                              .join(Customer, col(Customer.id) == col(Ticket.customer_id))
                              .where(col(Ticket.id).in_(due_ids[:limit]))).all())
    for ticket_id in due_ids[:limit]:
        # The claim: lock the row (skipping one another sweeper holds) and re-check
        # on the fresh row; a ticket someone else just swept has moved on.
        ticket = session.exec(
            select(Ticket).where(col(Ticket.id) == ticket_id, col(Ticket.sla_check_at) <= now)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)).first()
        if ticket is None:
            continue
        report.checked += 1
        outcome = recompute(session, actor, ticket, now=now, book=book,
                            tier=tiers.get(ticket_id))
        if outcome.became_at_risk or outcome.breaches or outcome.actions:
            report.outcomes.append(outcome)
    session.flush()
    return report
