"""Which SLA policy applies to a ticket, and in which business hours.

Policy choice — the most specific active policy wins. Every field a policy
sets (priority, customer tier, category) must match the ticket; among the
matches a category counts most, then a tier, then a priority (scores 4, 2,
1, added up), and on a tie the older policy (lower id) wins. So
"Major incident" (urgent + major) beats "Basic issue" (any + basic) for an
urgent major ticket, "VIP customers" beats "High priority" for a VIP, and
a ticket nothing matches has no SLA clocks.

A :class:`Book` is loaded once per recompute or per sweep batch: policies,
hours and holidays are small configuration tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from agent_tui.domain.sla_clock import Schedule
from agent_tui.domain.sla_state import DEFAULT_RISK_RATIO, Targets
from agent_tui.domain.tables import (
    BusinessHours,
    Holiday,
    SlaEscalationRule,
    SLAPolicy,
    SlaSetting,
)

#: The escalation actions a rule may name, in the order they run on a breach.
ACTIONS = ("raise_priority", "reassign_lead", "notify_supervisor")


def _norm(text: str | None) -> str | None:
    return text.strip().lower() if text and text.strip() else None


def schedule_of(hours: BusinessHours, holidays: list[date]) -> Schedule:
    return Schedule.from_stored(hours.timezone, hours.schedule, holidays)


@dataclass
class Book:
    policies: list[SLAPolicy]
    schedules: dict[int, Schedule]
    rules: list[SlaEscalationRule]
    risk_ratio: float = DEFAULT_RISK_RATIO
    _always: Schedule = field(default_factory=Schedule.always)

    def choose(self, priority: int, tier: str | None, category: str | None) -> SLAPolicy | None:
        tier, category = _norm(tier), _norm(category)
        best: tuple[int, int] | None = None
        chosen: SLAPolicy | None = None
        for p in self.policies:
            if p.priority is not None and p.priority != priority:
                continue
            if _norm(p.tier) is not None and _norm(p.tier) != tier:
                continue
            if _norm(p.category) is not None and _norm(p.category) != category:
                continue
            score = ((4 if p.category else 0) + (2 if p.tier else 0)
                     + (1 if p.priority is not None else 0))
            key = (score, -(p.id or 0))
            if best is None or key > best:
                best, chosen = key, p
        return chosen

    def schedule(self, policy: SLAPolicy | None) -> Schedule:
        if policy is None or policy.business_hours_id is None:
            return self._always
        return self.schedules.get(policy.business_hours_id, self._always)

    @staticmethod
    def targets(policy: SLAPolicy | None) -> Targets | None:
        if policy is None:
            return None
        return Targets.minutes(policy.first_response_minutes, policy.next_response_minutes,
                               policy.resolution_minutes)

    def actions_for(self, policy: SLAPolicy | None, priority: int, clock: str) -> list[str]:
        """The actions the active rules ask for on a breach of ``clock``, each once."""
        wanted = {r.action for r in self.rules if r.active
                  and (r.policy_id is None or (policy is not None and r.policy_id == policy.id))
                  and (r.priority is None or r.priority == priority)
                  and (r.clock is None or r.clock == clock)}
        return [a for a in ACTIONS if a in wanted]


def risk_ratio(session: Session) -> float:
    row = session.get(SlaSetting, 1)
    return (row.at_risk_percent if row else round(DEFAULT_RISK_RATIO * 100)) / 100


def load_book(session: Session) -> Book:
    policies = list(session.exec(select(SLAPolicy).where(SLAPolicy.active == True)  # noqa: E712
                                 .order_by(col(SLAPolicy.id))))
    days: dict[int, list[date]] = defaultdict(list)
    for h in session.exec(select(Holiday)):
        days[h.business_hours_id].append(h.day)
    schedules = {}
    for hours in session.exec(select(BusinessHours)):
        assert hours.id is not None
        schedules[hours.id] = schedule_of(hours, days[hours.id])
    rules = list(session.exec(select(SlaEscalationRule).order_by(col(SlaEscalationRule.id))))
    return Book(policies=policies, schedules=schedules, rules=rules,
                risk_ratio=risk_ratio(session))
