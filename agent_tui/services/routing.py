"""Routing: give new and reopened tickets to the right online agent.

The decision itself is pure (``agent_tui.domain.routing``); this module
loads its facts with indexed queries, locks what must not change under it,
writes the assignment and its one event, and keeps the round-robin rotation.

What is routed automatically: tickets a customer brings in through a channel
(``services.inbound``; the bot routes on hand-off) and tickets a customer
reopens. A ticket filed or reopened by a person stays where they put it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import AgentStatus, Role, Source, Status
from agent_tui.domain.errors import NotFound
from agent_tui.domain.routing import (
    Candidate,
    Decision,
    Needs,
    decide,
    detect_language,
    judge,
    order_key,
    split_csv,
)
from agent_tui.domain.safe_text import safe_line
from agent_tui.domain.tables import (
    Agent,
    RoutingAgentState,
    Team,
    Ticket,
    utcnow,
)
from agent_tui.domain.views_routing import RouteCandidate, RouteExplanation
from agent_tui.services import event_rows  # noqa: F401 (its hooks give ticket events their row)
from agent_tui.services.perms import require
from agent_tui.services.routing_config import (  # re-exported: one module to call
    DEFAULTS,
    RULE_FIELDS,
    list_rules,
    remove_rule,
    set_rule,
    set_setting,
    setting,
    settings,
)
from agent_tui.store.events import Actor, append_event

__all__ = [
    "DEFAULTS", "RULE_FIELDS", "channel_actor", "explain", "is_channel_actor", "list_rules",
    "load_rules", "needs_of", "place", "plan", "react", "remove_rule", "route", "set_rule",
    "set_setting", "setting", "settings",
]

if TYPE_CHECKING:  # lifecycle calls react(); importing it at run time would be a cycle
    from agent_tui.services.lifecycle import TicketChange

#: The login written on routing's events: an assignment nobody typed.
ROUTING_ACTOR = Actor.system(Source.SYSTEM, login="routing")
#: Logins of the actors that carry customer messages in (``services.inbound``).
CHANNEL_ACTOR_PREFIX = "inbound:"

def channel_actor(channel: str, source: Source) -> Actor:
    """The actor for a message arriving on ``channel`` (a system actor, not a person)."""
    return Actor.system(source, login=f"{CHANNEL_ACTOR_PREFIX}{channel}")


def is_channel_actor(actor: Actor) -> bool:
    return actor.agent_id is None and actor.login.startswith(CHANNEL_ACTOR_PREFIX)


# -- what a ticket needs --------------------------------------------------

@dataclass(frozen=True, slots=True)
class Placement:
    """The skills a ticket's text and fields ask for, and the team rules give it."""

    skills: frozenset[str]
    team_id: int | None


def load_rules(session: Session) -> list[Any]:
    """Every rule as a Core row, not an ORM object: this runs in every routing decision."""
    return list(session.connection().execute(
        sa.text("SELECT field, value, skill, team_id FROM routing_rule ORDER BY id")).all())


def place(session: Session, *, category: str | None, product: str | None, channel: str,
          text: str, rules: list[Any] | None = None) -> Placement:
    """Apply the rule map: category > product > keyword > channel; the first match wins.

    Keywords are tried in the order of the customer's text, so the first
    thing the customer names places the ticket.

    Keyword rules match whole words of the subject and the customer's text
    (case-insensitive); CJK keywords match as substrings, having no spaces.
    """
    rules = load_rules(session) if rules is None else rules
    if not rules:
        return Placement(frozenset(), None)
    lowered = text.lower()
    words = set(lowered.replace(",", " ").replace(".", " ").replace("?", " ").split())
    matched: list[Any] = []
    for field_name, wanted in (("category", category), ("product", product)):
        if wanted:
            matched += [r for r in rules if r.field == field_name and r.value == wanted.lower()]
    keywords = [r for r in rules if r.field == "keyword" and (
        r.value in words or (not r.value.isascii() and r.value in lowered))]
    matched += sorted(keywords, key=lambda r: lowered.find(r.value))
    matched += [r for r in rules if r.field == "channel" and r.value == channel]
    # The most specific matching rule decides: a refund question that also says
    # "order" needs the refunds skill, not refunds + orders + payments at once.
    team_id = next((r.team_id for r in matched if r.team_id), None)
    skill = next((r.skill for r in matched if r.skill and r.team_id in (None, team_id)), None)
    return Placement(frozenset({skill}) if skill else frozenset(), team_id)


_CUSTOMER = """
SELECT c.tier, c.language,
       (SELECT m.body FROM message m WHERE m.ticket_id = :ticket AND m.author_kind = 'customer'
        ORDER BY m.id DESC LIMIT 1) AS body
FROM customer c WHERE c.id = :customer
"""


def needs_of(session: Session, ticket: Ticket, conf: dict[str, str] | None = None) -> Needs:
    """Skills (rule map), language (the customer's latest message) and VIP (tier)."""
    conf = conf or settings(session)
    assert ticket.id is not None
    row = session.connection().execute(sa.text(_CUSTOMER), {
        "ticket": ticket.id, "customer": ticket.customer_id}).first()
    text = f"{ticket.subject}\n{(row.body if row else None) or ''}"
    placement = place(session, category=ticket.category, product=ticket.product,
                      channel=str(ticket.channel), text=text)
    fallback = row.language if row and row.language else conf["default_language"]
    vip = row is not None and (row.tier or "").lower() in split_csv(conf["vip_tiers"])
    return Needs(team_id=ticket.team_id, skills=placement.skills,
                 language=detect_language(text, fallback=fallback), vip=vip,
                 senior_skill=conf["senior_skill"].lower())


# -- candidates -----------------------------------------------------------

def open_loads(session: Session, caps: dict[int, int]) -> dict[int, int]:
    """Active tickets (new or open) assigned to each agent, counted up to capacity + 1.

    Pending and on-hold tickets wait on someone else, so they do not take a
    slot of an agent's capacity (as in the helpdesks teams come from). Each
    count is a bounded range read of the partial ``ix_q_asg_*`` index
    (assignee, open only), so the cost is agents × capacity whatever the
    store holds; anything past capacity only needs to show "at capacity".
    """
    if not caps:
        return {}
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # One statement with the same text every time, so PostgreSQL's plan
        # is reused; a UNION of inlined terms is planned afresh per call.
        rows = conn.execute(sa.text(_PG_LOADS), {"ids": list(caps), "caps": list(caps.values())})
        return {int(a): int(n) for a, n in rows}
    loads: dict[int, int] = {}
    for sql in load_statements(caps, conn.dialect.name):
        loads.update({int(a): int(n) for a, n in conn.execute(sql)})
    return loads


_PG_LOADS = """
SELECT a.id, l.n
FROM unnest(CAST(:ids AS integer[]), CAST(:caps AS integer[])) AS a(id, cap)
CROSS JOIN LATERAL (
    SELECT count(*) AS n FROM (
        SELECT 1 FROM ticket t WHERE t.assignee_id = a.id AND t.is_open
          AND t.status IN ('new', 'open') LIMIT a.cap + 1
    ) AS bounded
) AS l
"""


def load_statements(caps: dict[int, int], dialect: str) -> list[sa.TextClause]:
    """The SQL of :func:`open_loads`: one UNION ALL term per agent, 200 agents a statement.

    Plain SQL text with the ids and limits inlined (they are integers from our
    own rows): building the same thing as a SQLAlchemy expression cost 70 % of
    a routing decision in Python alone.
    """
    is_open = "is_open = 1" if dialect == "sqlite" else "is_open"
    terms = [f"SELECT {int(a)} AS agent_id, count(*) AS n FROM (SELECT 1 FROM ticket "
             f"WHERE assignee_id = {int(a)} AND {is_open} AND status IN ('new', 'open') "
             f"LIMIT {max(int(c), 0) + 1}) AS t{i}"
             for i, (a, c) in enumerate(caps.items())]
    # SQLite caps compound SELECTs at 500 terms.
    return [sa.text(" UNION ALL ".join(terms[i:i + 200])) for i in range(0, len(terms), 200)]


_MEMBERS = """
SELECT a.id, a.login, a.name, a.status, a.active, a.capacity, a.skills, a.languages,
       r.last_routed_seq
FROM agent a JOIN agentteam m ON m.agent_id = a.id
LEFT JOIN routing_agent_state r ON r.agent_id = a.id
WHERE m.team_id = :team AND a.active = :yes
ORDER BY a.id
"""
_LOCK = """
SELECT a.id FROM agent a JOIN agentteam m ON m.agent_id = a.id
WHERE m.team_id = :team AND a.active AND a.status = 'online'
ORDER BY a.id FOR UPDATE OF a
"""


def candidates(session: Session, team_id: int | None, *, lock: bool,
               all_loads: bool = False) -> list[tuple[str, Candidate]]:
    """The team's active agents (name, facts) with their load and place in the rotation.

    With ``lock`` the online agents' rows are locked (``FOR UPDATE`` on
    PostgreSQL, in id order so two routers never deadlock) before their load
    is counted, so two tickets routed at once cannot both see the last free
    slot. SQLite writers are already serialised by ``BEGIN IMMEDIATE``.
    Loads are counted for online agents only unless ``all_loads`` (explain):
    nobody else can be given a ticket anyway.
    """
    if team_id is None:
        return []
    if lock and session.get_bind().dialect.name == "postgresql":
        session.connection().execute(sa.text(_LOCK), {"team": team_id})
    # Core on the session's connection: the ORM execute path costs ~0.5 ms a call.
    members = session.connection().execute(sa.text(_MEMBERS),
                                           {"team": team_id, "yes": True}).all()
    online = AgentStatus.ONLINE.value
    loads = open_loads(session, {int(m.id): int(m.capacity) for m in members
                                 if all_loads or m.status == online})
    return [(m.name, Candidate(
        agent_id=int(m.id), login=m.login, status=AgentStatus(m.status), active=bool(m.active),
        capacity=int(m.capacity), load=loads.get(int(m.id), 0), skills=split_csv(m.skills),
        languages=split_csv(m.languages),
        last_routed_seq=int(m.last_routed_seq) if m.last_routed_seq is not None else None))
        for m in members]


# -- routing --------------------------------------------------------------

def plan(session: Session, ticket: Ticket, *, lock: bool = True) -> tuple[Needs, Decision]:
    """The routing decision for ``ticket``, read-only (what the benchmark times)."""
    needs = needs_of(session, ticket)
    pool = candidates(session, ticket.team_id, lock=lock)
    return needs, decide([c for _, c in pool], needs)


def route(session: Session, ticket: Ticket, *, trigger: str) -> Decision:
    """Assign ``ticket`` to the best eligible agent, or leave it queued; one event.

    ``ticket.routed`` when an agent gets it (reason, trigger, candidates
    considered); ``ticket.queued`` when nobody can, with the reason. The
    caller holds the ticket row (locked or just created).
    """
    assert ticket.id is not None
    needs, decision = plan(session, ticket)
    before = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    extra = {"reason": decision.reason, "trigger": trigger, "language": needs.language,
             "skills": sorted(needs.skills), "vip": needs.vip,
             "eligible": sum(v.eligible for v in decision.verdicts)}
    winner = decision.winner
    new_id = winner.agent_id if winner is not None else None
    kind = "ticket.routed" if winner is not None else "ticket.queued"
    diff_before: dict[str, object] | None = None
    diff_after: dict[str, object] | None = None
    if new_id != ticket.assignee_id:
        # A change of hands is a ticket write: new version, so stale editors get a Conflict.
        ticket.assignee_id = new_id
        ticket.version += 1
        ticket.updated_at = utcnow()
        session.add(ticket)
        session.flush()
        diff_before = {"assignee": before.login if before else None,
                       "version": ticket.version - 1}
        diff_after = {"assignee": winner.login if winner else None, "version": ticket.version}
    else:
        extra["assignee"] = before.login if before else None
    event = append_event(session, ROUTING_ACTOR, kind=kind, entity="ticket", entity_id=ticket.id,
                         before=diff_before, after=diff_after, extra=extra)
    if winner is not None:
        state = session.get(RoutingAgentState, winner.agent_id) or RoutingAgentState(
            agent_id=winner.agent_id)
        state.last_routed_seq = event.seq
        state.routed_total += 1
        session.add(state)
        session.flush()
    return decision


def _keeps_assignee(session: Session, ticket: Ticket) -> bool:
    """On a reopen, the agent who had the ticket keeps it if they may still take it."""
    if ticket.assignee_id is None:
        return False
    needs = needs_of(session, ticket)
    for _name, cand in candidates(session, ticket.team_id, lock=True, all_loads=True):
        if cand.agent_id == ticket.assignee_id:
            # The reopened ticket is already counted in the load: judge without it.
            return judge(replace(cand, load=max(cand.load - 1, 0)), needs).eligible
    return False


def react(session: Session, actor: Actor, ticket: Ticket, change: TicketChange) -> None:
    """The lifecycle reaction (step 1): route what customers bring in.

    A new ticket from a channel is routed unless the bot answers that channel
    (the bot routes on hand-off); a ticket the customer reopens goes back to
    its agent if they can still take it, else it is routed again.
    """
    if not is_channel_actor(actor):
        return
    if change.kind == "created":
        if ticket.assignee_id is not None:
            return
        conf = settings(session)
        if conf["bot.enabled"] == "true" and str(ticket.channel) in split_csv(
                conf["bot.channels"]):
            return
        route(session, ticket, trigger="created")
    elif change.reopened and Status(ticket.status).is_open:
        if not _keeps_assignee(session, ticket):
            route(session, ticket, trigger="reopened")


def explain(session: Session, actor: Actor, ticket_id: int) -> RouteExplanation:
    """Every candidate for a ticket, eligible or why not, and who would get it."""
    require(actor, Role.SUPERVISOR, "route explain")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    needs = needs_of(session, ticket)
    pool = candidates(session, ticket.team_id, lock=False, all_loads=True)
    decision = decide([c for _, c in pool], needs)
    by_id = {c.agent_id: name for name, c in pool}
    ranked = sorted((v for v in decision.verdicts if v.eligible),
                    key=lambda v: order_key(v, needs.vip))
    rank = {v.candidate.agent_id: i + 1 for i, v in enumerate(ranked)}
    team = session.get(Team, ticket.team_id) if ticket.team_id else None
    return RouteExplanation(
        ticket_id=ticket_id, team=team.name if team else None, skills=sorted(needs.skills),
        language=needs.language, vip=needs.vip,
        winner=decision.winner.login if decision.winner else None, reason=decision.reason,
        candidates=[RouteCandidate(
            login=v.candidate.login, name=safe_line(by_id[v.candidate.agent_id]),
            status=v.candidate.status, load=v.candidate.load, capacity=v.candidate.capacity,
            eligible=v.eligible, why_not=v.why_not, senior=v.senior,
            rank=rank.get(v.candidate.agent_id)) for v in decision.verdicts])
