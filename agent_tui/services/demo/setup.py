"""The demo company's fixed set-up: teams, agents, hours, SLA, macros, knowledge, orgs.

One batch, written before any customer or ticket, each row with its
``*.created`` event. The people are Aurora's support floor: an admin, two
supervisors and thirteen agents across five teams, some of them Chinese
speakers for the zh queue.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from agent_tui.domain.enums import Priority
from agent_tui.domain.rules import normalise_tags
from agent_tui.services.demo.content import Content
from agent_tui.services.demo.plan import DAY_US, HOUR_US, AgentInfo, SlaTarget
from agent_tui.store.bulk import Batch, BatchResult
from agent_tui.store.events import dump_diff

COMPANY_DOMAIN = "aurora-home.example"
DEFAULT_LOGIN = "maya"

TEAM_DESCRIPTIONS = {
    "billing": "Payments, refunds, invoices and Aurora Plus subscriptions",
    "logistics": "Orders, deliveries, returns and replacements",
    "accounts": "Sign-in, security, privacy and account changes",
    "tech": "Cameras, doorbells, hub, thermostat and the Aurora app",
    "sales": "Product questions, discounts and business orders",
}


#: Who SLA escalation hands a team's breached tickets to ("reassign to the team lead").
TEAM_LEADS = {"billing": "raj", "sales": "raj", "tech": "wang.wei", "logistics": "wang.wei",
              "accounts": "olivia"}


@dataclass(frozen=True)
class AgentSeed:
    login: str
    name: str
    first_name: str
    role: str
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    status: str
    capacity: int
    weight: float


def _a(login: str, name: str, role: str, teams: str, skills: str, langs: str, status: str,
       capacity: int, weight: float, first: str | None = None) -> AgentSeed:
    return AgentSeed(login, name, first or name.split()[0], role, tuple(teams.split()),
                     tuple(skills.split()), tuple(langs.split()), status, capacity, weight)


AGENTS: tuple[AgentSeed, ...] = (
    _a("olivia", "Olivia Bennett", "admin", "accounts", "accounts security privacy escalations",
       "en", "online", 5, 0.0),
    _a("raj", "Raj Patel", "supervisor", "billing sales",
       "billing refunds payments escalations b2b", "en", "online", 8, 0.25),
    _a("wang.wei", "王伟", "supervisor", "tech logistics accounts",
       "tech escalations security logistics", "zh en", "online", 8, 0.25, first="王伟"),
    _a("maya", "Maya Thompson", "agent", "billing accounts",
       "billing refunds payments invoices subscriptions accounts security", "en", "online",
       14, 1.6),
    _a("liam", "Liam O'Connor", "agent", "billing", "billing payments subscriptions invoices",
       "en", "away", 12, 1.0),
    _a("zhang.min", "张敏", "agent", "billing sales", "billing refunds payments sales",
       "zh en", "online", 12, 1.0, first="张敏"),
    _a("chloe", "Chloe Martin", "agent", "logistics", "logistics tracking returns orders",
       "en fr", "offline", 12, 1.0),
    _a("li.na", "李娜", "agent", "logistics", "logistics tracking returns orders", "zh",
       "online", 12, 1.0, first="李娜"),
    _a("ethan", "Ethan Clarke", "agent", "accounts", "accounts security privacy", "en",
       "online", 12, 1.0),
    _a("zhao.li", "赵丽", "agent", "accounts", "accounts security privacy", "zh", "away", 10,
       1.0, first="赵丽"),
    _a("tom", "Tom Walker", "agent", "tech", "tech cameras doorbells wifi firmware battery",
       "en", "online", 12, 1.0),
    _a("priya", "Priya Sharma", "agent", "tech", "tech app hub zigbee thermostat warranty",
       "en hi", "online", 12, 1.0),
    _a("chen.jie", "陈杰", "agent", "tech", "tech cameras doorbells wifi firmware", "zh",
       "online", 12, 1.0, first="陈杰"),
    _a("zhou.tao", "周涛", "agent", "tech", "tech app hub thermostat warranty", "zh en",
       "offline", 10, 0.8, first="周涛"),
    _a("sofia", "Sofia Rossi", "agent", "sales", "sales product b2b billing", "en it",
       "online", 12, 1.0),
    _a("liu.yang", "刘洋", "agent", "sales", "sales product b2b", "zh en", "away", 10, 1.0,
       first="刘洋"),
)

#: The demo company's routing map: what a customer writes → the team (and skill) for it.
DEMO_ROUTING: tuple[tuple[str, str, str | None], ...] = (
    ("refund", "billing", "refunds"), ("charged", "billing", "payments"),
    ("invoice", "billing", "invoices"), ("subscription", "billing", "subscriptions"),
    ("payment", "billing", "payments"), ("退款", "billing", "refunds"),
    ("扣费", "billing", "payments"), ("发票", "billing", "invoices"),
    ("delivery", "logistics", None), ("parcel", "logistics", None),
    ("tracking", "logistics", "tracking"), ("return", "logistics", "returns"),
    ("order", "logistics", "orders"), ("快递", "logistics", None), ("物流", "logistics", None),
    ("退货", "logistics", "returns"), ("订单", "logistics", "orders"),
    ("password", "accounts", None), ("login", "accounts", None), ("account", "accounts", None),
    ("密码", "accounts", None), ("登录", "accounts", None), ("账号", "accounts", None),
    ("camera", "tech", "cameras"), ("doorbell", "tech", "doorbells"), ("app", "tech", "app"),
    ("wifi", "tech", "wifi"), ("thermostat", "tech", "thermostat"), ("摄像头", "tech", "cameras"),
    ("闪退", "tech", "app"), ("配网", "tech", "wifi"),
    ("discount", "sales", None), ("price", "sales", None), ("business", "sales", "b2b"),
)
#: Where inbound tickets no rule places go, and the agent the demo store opens as.
DEMO_TRIAGE_TEAM = "accounts"

# name, priority, tier, category, first response, next response, resolution (minutes)
SLA_POLICIES: tuple[tuple[str, int | None, str | None, str | None, int, int, int], ...] = (
    ("Low priority", int(Priority.LOW), None, None, 480, 1440, 4320),
    ("Normal priority", int(Priority.NORMAL), None, None, 240, 480, 1440),
    ("High priority", int(Priority.HIGH), None, None, 60, 240, 480),
    ("Urgent priority", int(Priority.URGENT), None, None, 30, 60, 240),
    ("VIP customers", None, "vip", None, 30, 60, 480),
    ("Basic issue: solved within 1 h", None, None, "basic", 15, 30, 60),
    ("Complex issue: answered within 4 h", None, None, "complex", 240, 480, 2880),
    ("Major incident: urgent, emergency plan", int(Priority.URGENT), None, "major", 15, 30, 240),
)

# name, action, policy (index into SLA_POLICIES or None = any), clock (None = any)
ESCALATION_RULES: tuple[tuple[str, str, int | None, str | None], ...] = (
    ("Late first answers go up a priority", "raise_priority", None, "first_response"),
    ("Breaches are reported to the supervisor", "notify_supervisor", None, None),
    ("Major incidents go to the team lead", "reassign_lead", 7, None),
)

HOURS = (
    ("Support hours (UK)", "Europe/London", ("08:00", "18:00"),
     (("01-01", "New Year's Day"), ("12-25", "Christmas Day"), ("12-26", "Boxing Day"))),
    ("Support hours (China)", "Asia/Shanghai", ("09:00", "21:00"),
     (("01-01", "元旦"), ("05-01", "劳动节"), ("10-01", "国庆节"), ("10-02", "国庆节"),
      ("10-03", "国庆节"))),
)

MACROS = (
    ("Refund approved", "en", {"status": "solved", "tags": ["refund"]},
     "Hi {customer.first_name},\n\nGood news: your refund has been approved and is on its "
     "way back to the original payment method. Card refunds take 5–10 business days to "
     "appear.\n\nBest regards,\n"
     "{agent.name}, Aurora Support"),
    ("Ask for the order number", "en", {"status": "pending"},
     "Hi {customer.first_name},\n\nThanks for getting in touch. Could you send me your order "
     "number (it starts with AU- and is in your confirmation e-mail)? Then I can look into "
     "this straight away."),
    ("Delivery delay apology", "en", {"tags": ["delivery-delay"]},
     "Hi {customer.first_name},\n\nI'm sorry your parcel is late. I've asked the courier for "
     "an update and will get back to you within one business day (ticket #{ticket.id})."),
    ("Password reset steps", "en", {"status": "solved"},
     "Hi,\n\nTo reset your password, open the Aurora app, tap Sign in > Forgot password and "
     "follow the link we e-mail you. The link is valid for 30 minutes."),
    ("Major incident: emergency plan", "en",
     {"priority": "urgent", "team": "tech", "tags": ["major-incident"]},
     "Emergency plan: 1) acknowledge the customer within 15 minutes; 2) page the on-call "
     "engineer and the tech supervisor; 3) post updates every 30 minutes until resolved; "
     "4) write the incident summary within one business day."),
    ("退款已处理", "zh", {"status": "solved", "tags": ["refund"]},
     "{customer.name}您好，您的退款已审核通过，将原路退回。支付宝、微信 1–3 个工作日到账，"
     "银行卡 3–7 个工作日。"),
    ("请提供订单号", "zh", {"status": "pending"},
     "{customer.name}您好，感谢您的联系。麻烦提供一下订单号"
     "（以 AU- 开头，在下单确认短信或邮件里），我马上帮您查询。客服 {agent.name}"),
    ("物流延误致歉", "zh", {"tags": ["delivery-delay"]},
     "{customer.name}您好，非常抱歉包裹延误了。已经帮您催促快递公司，"
     "一个工作日内给您回复最新进度。"),
    ("重置密码步骤", "zh", {"status": "solved"},
     "您好，打开 Aurora App，点击「登录 > 忘记密码」，按短信或邮件里的链接重置即可，"
     "链接 30 分钟内有效。"),
)


@dataclass(frozen=True)
class SetupInfo:
    """What the rest of the build needs from the set-up, with real ids."""

    team_ids: dict[str, int]
    agents: tuple[AgentInfo, ...]
    sla: dict[int, SlaTarget]
    sla_vip: SlaTarget
    organizations: dict[str, tuple[tuple[int, str, str | None], ...]]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class _Clock:
    """Set-up happened long before the tickets, one item after another."""

    def __init__(self, start_us: int) -> None:
        self.t = start_us

    def tick(self, step_us: int = HOUR_US) -> int:
        self.t += step_us
        return self.t


def setup_batch(content: Content, *, seed: int, now_us: int) -> Batch:
    """Every set-up row and its event, with batch-local ids."""
    rng = random.Random(f"{seed}:setup")
    batch = Batch()
    events = batch.table("event")
    clock = _Clock(now_us - 1000 * DAY_US)

    def event(kind: str, entity: str, local: int | None, after: dict[str, Any]) -> None:
        events.append((clock.t, kind, entity, local, dump_diff({"after": after})))

    team_index = {}
    agent_index = {a.login: i for i, a in enumerate(AGENTS)}
    for i, (name, description) in enumerate(TEAM_DESCRIPTIONS.items()):
        team_index[name] = i
        lead = TEAM_LEADS[name]
        batch.table("team").append((i, name, description, agent_index[lead], clock.tick()))
        event("team.created", "team", i, {"name": name, "description": description,
                                          "lead": lead})
    for i, a in enumerate(AGENTS):
        skills, langs = ",".join(sorted(a.skills)), ",".join(sorted(a.languages))
        batch.table("agent").append((i, a.login, a.name, f"{a.login}@{COMPANY_DOMAIN}", a.role,
                                     a.status, a.capacity, skills, langs, True,
                                     clock.tick(DAY_US)))
        for team in a.teams:
            batch.table("agentteam").append((i, team_index[team]))
        event("agent.created", "agent", i, {
            "login": a.login, "name": a.name, "role": a.role, "teams": sorted(a.teams),
            "skills": skills, "languages": langs, "capacity": a.capacity})
    year = datetime.fromtimestamp(now_us // 1_000_000, UTC).year
    for i, (name, tz, (opens, closes), holidays) in enumerate(HOURS):
        schedule = {d: [opens, closes] for d in ("mon", "tue", "wed", "thu", "fri")}
        batch.table("business_hours").append((i, name, tz, json.dumps(schedule)))
        clock.tick()
        event("business_hours.created", "business_hours", i,
              {"name": name, "timezone": tz, "schedule": schedule})
        for y in (year - 1, year, year + 1):
            for month_day, label in holidays:
                day = date.fromisoformat(f"{y}-{month_day}")
                batch.table("holiday").append((i, day.isoformat(), label))
    # The demo's policies run 24x7 so that the generator can fill a million
    # tickets' clocks exactly with integer maths (sla_state.flags_24x7).
    for i, (name, prio, tier, category, first, nxt, resolution) in enumerate(SLA_POLICIES):
        batch.table("sla_policy").append((i, name, prio, tier, category, first, nxt, resolution,
                                          None, True))
        clock.tick()
        event("sla_policy.created", "sla_policy", i, {
            "name": name, "priority": Priority(prio).label if prio else None, "tier": tier,
            "category": category, "first_response_minutes": first,
            "next_response_minutes": nxt, "resolution_minutes": resolution})
    for i, (name, action, policy, clock_name) in enumerate(ESCALATION_RULES):
        batch.table("sla_escalation_rule").append((i, name, policy, None, clock_name, action,
                                                   True, clock.tick()))
        event("sla_rule.created", "sla_escalation_rule", i, {
            "name": name, "action": action, "clock": clock_name,
            "policy": SLA_POLICIES[policy][0] if policy is not None else None})
    # Routing: keyword rules in English and Chinese, a triage team, the default agent.
    for i, (keyword, team, skill) in enumerate(DEMO_ROUTING):
        batch.table("routing_rule").append((i, "keyword", keyword, skill, team_index[team]))
        clock.tick()
        event("routing.rule_set", "routing_rule", i, {
            "field": "keyword", "value": keyword, "skill": skill, "team": team})
    batch.table("routing_setting").append(("default_team", DEMO_TRIAGE_TEAM))
    event("routing.setting_changed", "routing_setting", None,
          {"key": "default_team", "value": DEMO_TRIAGE_TEAM})
    batch.table("store_setting").append(("default_login", DEFAULT_LOGIN, clock.tick()))
    event("store.default_login_set", "store_setting", None,
          {"default_login": DEFAULT_LOGIN})
    for i, (name, locale, actions, body) in enumerate(MACROS):
        batch.table("macro").append((i, name, body, json.dumps(actions, ensure_ascii=False),
                                     locale, True))
        clock.tick()
        event("macro.created", "macro", i, {"name": name, "locale": locale, "actions": actions})
    for i, art in enumerate(content.articles):
        at = clock.tick(4 * HOUR_US)
        used = rng.randint(0, 400)
        batch.table("knowledge_article").append((
            i, art.title, art.body, " ".join(normalise_tags(art.tags)), art.locale, "published",
            art.external_id, 1, used, rng.randint(0, used), at, at))
        event("article.created", "knowledge_article", i,
              {"title": art.title, "external_id": art.external_id, "locale": art.locale})
    for i, company in enumerate(content.names.companies):
        domain = None if _is_cjk(company) else f"{_slug(company)}.example"
        batch.table("organization").append((i, company, domain, clock.tick(DAY_US)))
        event("organization.created", "organization", i, {"name": company, "domain": domain})
    return batch


def setup_info(content: Content, result: BatchResult) -> SetupInfo:
    """Resolve the set-up's local ids to the real ones the loader assigned."""
    team_ids = {name: result.id_of("team", i) for i, name in enumerate(TEAM_DESCRIPTIONS)}
    agents = tuple(
        AgentInfo(id=result.id_of("agent", i), login=a.login, first_name=a.first_name,
                  role=a.role, teams=a.teams, languages=a.languages, weight=a.weight)
        for i, a in enumerate(AGENTS))
    by_prio = {p: SlaTarget(first, res, nxt)
               for _n, p, tier, cat, first, nxt, res in SLA_POLICIES
               if p is not None and tier is None and cat is None}
    vip = next(SlaTarget(first, res, nxt) for _n, _p, tier, _c, first, nxt, res in SLA_POLICIES
               if tier == "vip")
    orgs: dict[str, list[tuple[int, str, str | None]]] = {"en": [], "zh": []}
    for i, company in enumerate(content.names.companies):
        domain = None if _is_cjk(company) else f"{_slug(company)}.example"
        orgs["zh" if _is_cjk(company) else "en"].append(
            (result.id_of("organization", i), company, domain))
    return SetupInfo(team_ids=team_ids, agents=agents, sla=by_prio, sla_vip=vip,
                     organizations={k: tuple(v) for k, v in orgs.items()})
