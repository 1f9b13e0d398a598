"""Demo tickets with their threads, tags, ratings and history events.

Each ticket is a short story told in steps (customer opener, bot answer,
agent replies, follow-ups, internal notes, status changes), then replayed
to produce the rows: every agent-side step is a change that bumps
``version`` and appends one event, exactly as the ticket service would, so
``version`` equals the ticket's number of events. Customer and bot messages
are not agent changes and add no event (there is no inbound service yet).

This module is the hot loop of ``agent-tui demo --tickets 1000000``: it
avoids per-row JSON encoding, datetime objects and regexes (templates and
names were made safe once in :mod:`.content`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from agent_tui.domain.rules import normalise_tags
from agent_tui.domain.sla_state import flags_24x7
from agent_tui.services.demo.content import Content, Topic
from agent_tui.services.demo.customers import Brief, brief, day_text, money, order_before
from agent_tui.services.demo.plan import (
    DAY_US,
    HOUR_US,
    MINUTE_US,
    TICKET_BATCH,
    AgentInfo,
    DemoPlan,
    batch_rng,
)
from agent_tui.store.bulk import Batch

SECOND_US = 1_000_000
UNSOLVED = ("open", "pending", "on_hold")
CHANNELS = ("email", "chat", "phone", "web", "app", "social")
CHANNEL_WEIGHTS = {"en": (34, 20, 16, 12, 10, 8), "zh": (14, 24, 14, 8, 24, 16)}
LIVE = frozenset({"chat", "phone", "app"})  # answered in minutes, not hours
NETWORKS = {"en": ("twitter", "instagram", "facebook"), "zh": ("weibo", "wechat", "douyin")}
IVR_EN = {"billing": "2 Billing", "logistics": "3 Orders and delivery",
          "accounts": "4 Account and sign-in", "tech": "1 Technical support", "sales": "5 Sales"}
IVR_ZH = {"billing": "2 账单与退款", "logistics": "3 订单物流", "accounts": "4 账户安全",
          "tech": "1 技术支持", "sales": "5 售前咨询"}
DETAIL = {"email": "support@aurora-home.example", "web": "contact form", "chat": "website chat"}
RATING_COMMENTS = {
    "en": {1: ("Took far too long and I had to repeat myself.", "Still not fixed."),
           3: ("Got there in the end.", "OK, but slow."),
           5: ("Quick and friendly, thank you!", "Sorted in one reply, great service.",
               "Really helpful, explained everything.")},
    "zh": {1: ("处理太慢了，问题还没解决。", "来回问了好几次，体验很差。"),
           3: ("最后解决了，就是有点慢。", "还行吧。"),
           5: ("客服很耐心，问题解决了，谢谢！", "回复很快，一次就搞定了。", "非常专业，点赞。")},
}
AUTO_CLOSE_US = 4 * DAY_US
PRIO_LABEL = {1: "low", 2: "normal", 3: "high", 4: "urgent"}


@dataclass(frozen=True)
class _TopicInfo:
    topic: Topic
    prio_cum: tuple[int, ...]
    team_id: int
    ivr: str
    category_json: str
    order_product: bool  # the texts talk about the product of the customer's order
    tags: dict[bool, tuple[str, str]]  # vip? -> (space-separated tags, JSON of them)


def _json(value: str) -> str:
    """A JSON string literal (the C encoder; json.dumps costs more than the rest of a row)."""
    return encode_basestring(value)


def _one(values: tuple[str, ...], rnd: Callable[[], float]) -> str:
    return values[int(rnd() * len(values))]


#: Share of old tickets still unsolved whatever their age: a thin long tail, so
#: the top of a priority-sorted queue is this week's work, not a 2-month-old
#: backlog (0.02 left ~20k ancient open tickets in a 1M store).
STALE_FLOOR = 0.003


def _solve_decay(target: float, peak: float = 0.9, floor: float = STALE_FLOOR) -> float:
    """λ such that the unsolved share peak·e^(−r/λ) + floor averages ``target`` over r∈[0,1]."""
    want = max(1e-4, target - floor)
    lo, hi = 1e-4, 50.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if peak * mid * (1 - math.exp(-1 / mid)) < want:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class TicketGenerator:
    """Makes ticket batches for one plan; build once per process, call per batch."""

    def __init__(self, plan: DemoPlan, content: Content) -> None:
        self.plan = plan
        self.content = content
        self.decay = _solve_decay(plan.unsolved_share)
        self.topics = {loc: [self._topic_info(t) for t in content.topics_for(loc)]
                       for loc in ("en", "zh")}
        self.channel_cum = {loc: tuple(accumulate(w)) for loc, w in CHANNEL_WEIGHTS.items()}
        self.candidates: dict[tuple[str, str], tuple[tuple[AgentInfo, ...], tuple[float, ...]]]
        self.candidates = {}
        for team in plan.team_ids:
            for loc in ("en", "zh"):
                pool = [a for a in plan.agents if team in a.teams and a.weight > 0]
                speakers = [a for a in pool if loc in a.languages] or pool
                self.candidates[team, loc] = (tuple(speakers),
                                              tuple(accumulate(a.weight for a in speakers)))
        self._briefs: dict[int, Brief] = {}

    def _topic_info(self, topic: Topic) -> _TopicInfo:
        # The second menu level: the topic's first specific skill, else its category.
        options = sorted({s for t in self.content.topics if t.team == topic.team
                          for s in (*t.skills, t.category) if s != topic.team})
        sub = next((s for s in (*topic.skills, topic.category) if s != topic.team), None)
        if topic.locale == "zh":
            ivr = f"IVR: 9 中文服务 > {IVR_ZH.get(topic.team, '0 其他')}"
        else:
            ivr = f"IVR: {IVR_EN.get(topic.team, '0 Other')}"
            if sub is not None:
                ivr += f" > {options.index(sub) + 1} {sub.replace('-', ' ').title()}"
        tags = {}
        for vip in (False, True):
            names = normalise_tags([*topic.skills, topic.category, *(["vip"] if vip else [])])
            text = " ".join(names)
            tags[vip] = (text, _json(text))
        return _TopicInfo(topic=topic, prio_cum=tuple(accumulate(topic.priority_weights)),
                          team_id=self.plan.team_ids[topic.team], ivr=ivr,
                          category_json=_json(topic.category), tags=tags,
                          order_product=any("{product}" in text for text in (
                              *topic.subjects, *topic.openers, *topic.agent_replies)))

    # ------------------------------------------------------------------ batch
    def _brief(self, index: int) -> Brief:
        found = self._briefs.get(index)
        if found is None:
            if len(self._briefs) > 400_000:
                self._briefs.clear()  # bound the cache on huge builds
            found = self._briefs[index] = brief(self.plan, self.content, index)
        return found

    def batch(self, number: int) -> Batch:
        """Tickets ``number·TICKET_BATCH …`` with local ids 0…; deterministic per number.

        ``ticket_tag`` rows are left to the loader, which derives them from
        the tickets' ``tags`` column, so the two always agree.
        """
        plan, content = self.plan, self.content
        rnd = batch_rng(plan.seed, "tickets", number).random
        out = Batch()
        tickets, ratings = out.table("ticket"), out.table("rating")
        add_ticket, add_msg, add_event = tickets.append, out.table("message").append, \
            out.table("event").append
        start = number * TICKET_BATCH
        n_total, n_cust, now = plan.tickets, plan.customers, plan.now_us
        created_at, customer_id, decay = plan.created_at, plan.customer_id, self.decay
        topics_by_loc, channel_cum, candidates = self.topics, self.channel_cum, self.candidates
        sla_by_prio, sla_vip = plan.sla, plan.sla_vip
        exp = math.exp
        history = plan.full_history
        for g in range(start, min(n_total, start + TICKET_BATCH)):
            local = g - start
            frac = (g + rnd()) / n_total
            created = created_at(frac)
            ci = int(n_cust * rnd() ** 1.6)  # skewed: loyal customers write more often
            cust = self._brief(ci)
            loc = cust.locale
            topics = topics_by_loc[loc]
            info = topics[int(rnd() * len(topics))]
            topic = info.topic
            prio = min(4, 1 + bisect_right(info.prio_cum, rnd() * info.prio_cum[-1]))
            vip = cust.tier == "vip"
            if vip and prio < 3 and rnd() < 0.5:
                prio += 1
            cum = channel_cum[loc]
            channel = CHANNELS[bisect_right(cum, rnd() * cum[-1])]
            if channel == "phone":
                detail: str | None = info.ivr
            elif channel == "social":
                detail = NETWORKS[loc][int(rnd() * 3)]
            elif channel == "app":
                detail = "iOS app" if rnd() < 0.55 else "Android app"
            else:
                detail = DETAIL.get(channel)

            # What happened: unsolved (more likely the newer it is) or solved; and by whom.
            state = "solved"
            if rnd() < 0.9 * exp((frac - 1.0) / decay) + STALE_FLOOR:
                age = now - created
                if (age < DAY_US and rnd() < 0.5) or (age < 3 * DAY_US and rnd() < 0.12):
                    state = "new"
                else:
                    roll = rnd()
                    state = "open" if roll < 0.4 else "pending" if roll < 0.75 else "on_hold"
            agents, agent_cum = candidates[topic.team, loc]
            agent = agents[bisect_right(agent_cum, rnd() * agent_cum[-1])]

            # Placeholders: the customer's most recent order before the ticket.
            o = order_before(plan, content, cust, created)
            product = topic.product or o.product
            fill = {"name": cust.greeting_name, "order": o.number, "product": product,
                    "amount": money(o.amount_cents, o.currency), "agent": agent.first_name,
                    "date": day_text(min(o.created_us, created - DAY_US), loc)}
            subjects = topic.subjects
            subject = subjects[int(rnd() * len(subjects))].format_map(fill)
            # services.sla_book: the tier policy is more specific than a priority one
            sla = sla_vip if vip else sla_by_prio[prio]
            fr_target = sla.first_response_min * MINUTE_US
            steps = self._story(topic, state, channel, fr_target, fill, rnd)

            # Squeeze the story into the time between creation and now.
            total = 0
            for step in steps:
                total += step[0]
            room = now - created - SECOND_US
            squeeze = room / total if total > room > 0 else 1.0

            cust_id = customer_id(ci)
            product_column = topic.product or (o.product if info.order_product else None)
            add_event((created, "ticket.created", "ticket", local,
                       f'{{"after": {{"assignee": null, "category": {info.category_json}, '
                       f'"channel": "{channel}", "customer_id": {cust_id}, '
                       f'"priority": "{PRIO_LABEL[prio]}", "product": '
                       f'{_json(product_column) if product_column else "null"}, '
                       f'"status": "new", "subject": {_json(subject)}, '
                       f'"tags": {info.tags[vip][1]}, "team": "{topic.team}", "version": 1}}}}'))
            t = created
            version, status, assignee = 1, "new", None
            first_response = solved = closed = None
            for gap, op, text in steps:
                t += int(gap * squeeze)
                if op == "C":
                    add_msg((local, "customer", None, cust_id, True, text, channel, t))
                elif op == "B":
                    add_msg((local, "bot", None, None, True, text, channel, t))
                elif op == "A":
                    version += 1
                    assignee = agent.login
                    if history:
                        add_event((t, "ticket.assigned", "ticket", local,
                                   f'{{"after": {{"assignee": "{assignee}", '
                                   f'"version": {version}}}, "before": {{"assignee": null, '
                                   f'"version": {version - 1}}}, "reason": "routing"}}'))
                elif op == "S":
                    version += 1
                    if history:
                        add_event((t, "ticket.updated", "ticket", local,
                                   f'{{"after": {{"status": "{text}", "version": {version}}}, '
                                   f'"before": {{"status": "{status}", '
                                   f'"version": {version - 1}}}}}'))
                    status = text
                    if text == "solved":
                        solved = t
                else:  # "R" public reply or "N" internal note, by the assignee
                    version += 1
                    public = op == "R"
                    add_msg((local, "agent", agent.id, None, public, text, channel, t))
                    before = after = ""
                    if public and first_response is None:
                        first_response = t
                        if assignee is None:
                            assignee = agent.login
                            before, after = '"assignee": null, ', f'"assignee": "{assignee}", '
                        if status == "new":
                            status = "open"
                            before += '"status": "new", '
                            after += '"status": "open", '
                    if history:
                        add_event((t, "ticket.replied" if public else "ticket.noted", "ticket",
                                   local, f'{{"after": {{{after}"version": {version}}}, '
                                   f'"before": {{{before}"version": {version - 1}}}, '
                                   f'"public": {"true" if public else "false"}}}'))
            updated = t
            if solved is not None and solved + AUTO_CLOSE_US < now:
                closed = solved + AUTO_CLOSE_US + int(rnd() * 2 * HOUR_US)
                if closed < now:
                    version += 1
                    if history:
                        add_event((closed, "ticket.updated", "ticket", local,
                                   f'{{"after": {{"status": "closed", "version": {version}}}, '
                                   f'"before": {{"status": "solved", '
                                   f'"version": {version - 1}}}}}'))
                    status, updated = "closed", closed
                else:
                    closed = None
            is_open = status not in ("solved", "closed")
            nr_min = sla.next_response_min
            clocks = flags_24x7(
                created=created, first_response=first_response,
                ended=None if is_open else (solved or closed or updated), last_activity=updated,
                paused=status in ("pending", "on_hold"), now=now, first_target=fr_target,
                next_target=nr_min * MINUTE_US if nr_min else None,
                resolution_target=sla.resolution_min * MINUTE_US)
            res_due = clocks.resolution_due
            add_ticket((local, channel, subject, status, prio, topic.category, product_column,
                        detail, info.tags[vip][0], None, cust_id,
                        agent.id if assignee else None, info.team_id, is_open, version, created,
                        updated, first_response, solved, closed, clocks.sla_due,
                        clocks.first_response_due, res_due, clocks.next_response_due,
                        clocks.at_risk, clocks.breached, clocks.check_at))
            if solved is not None and rnd() < 0.35:
                rated = solved + int((1 + rnd() * 47) * HOUR_US)
                if rated < now:
                    self._rating(ratings, out.rows["event"], local, cust_id, loc, rated,
                                 solved - created, res_due - created, rnd)
        return out

    @staticmethod
    def _story(topic: Topic, state: str, channel: str, fr_target: int, fill: dict[str, str],
               rnd: Callable[[], float]) -> list[tuple[int, str, str]]:
        """The ticket's steps as (gap before it in µs, op, text or new status).

        Ops: C customer message, B bot answer, A routed to the agent, R public
        agent reply, N internal note, S status change.
        """
        steps = [(0, "C", _one(topic.openers, rnd).format_map(fill))]
        if channel in ("chat", "app"):
            steps.append((int((5 + rnd() * 20) * SECOND_US), "B", _one(topic.bot_replies, rnd)))
        if state == "new":
            if rnd() < 0.4:
                steps.append((int((20 + rnd() * 300) * SECOND_US), "A", ""))
            return steps
        live = channel in LIVE
        replies = topic.agent_replies
        steps.append((int(fr_target * (0.08 if live else 1.0) * (0.05 + rnd() * 1.1)), "R",
                      _one(replies, rnd).format_map(fill)))
        rounds = 0 if rnd() < 0.45 else 1 if rnd() < 0.64 else 2
        if state == "open" and rounds == 0 and rnd() < 0.6:
            rounds = 1
        for r in range(rounds):
            gap = (2 + rnd() * 10) * MINUTE_US if live else (0.3 + rnd() * 30) * HOUR_US
            steps.append((int(gap), "C", _one(topic.followups, rnd).format_map(fill)))
            if state == "open" and r == rounds - 1:
                break  # the customer wrote last: it is our turn
            gap = (1 + rnd() * 8) * MINUTE_US if live else (0.1 + rnd() * 6) * HOUR_US
            steps.append((int(gap), "R", _one(replies, rnd).format_map(fill)))
        if state == "on_hold" or rnd() < 0.3:
            steps.append((int((1 + rnd() * 30) * MINUTE_US), "N",
                          _one(topic.notes, rnd).format_map(fill)))
        if state != "open":
            steps.append((SECOND_US, "S", state))
        return steps

    @staticmethod
    def _rating(ratings: list[tuple[Any, ...]], events: list[tuple[Any, ...]], local: int,
                cust_id: int, loc: str, at: int, took: int, allowed: int,
                rnd: Callable[[], float]) -> None:
        slow = took > allowed
        roll = rnd()
        csat = (5 if roll < 0.55 else 4 if roll < 0.8 else 3 if roll < 0.9 else 2 if roll < 0.96
                else 1)
        if slow and csat > 2 and rnd() < 0.5:
            csat -= 2
        nps = max(0, min(10, csat * 2 + int(rnd() * 3) - 1))
        comment = None
        if rnd() < 0.45:
            bucket = RATING_COMMENTS[loc][1 if csat <= 2 else 3 if csat == 3 else 5]
            comment = bucket[int(rnd() * len(bucket))]
        rid = len(ratings)
        ratings.append((rid, local, cust_id, csat, nps, comment, at))
        events.append((at, "rating.created", "rating", rid,
                       f'{{"after": {{"csat": {csat}, "nps": {nps}}}}}'))

