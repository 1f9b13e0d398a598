"""Routing configuration: settings with coded defaults and the admin-set rule map.

Both are data, not code: ``agent-tui route config`` and ``agent-tui route
rule`` change them, and every change is an event.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Role
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.safe_text import safe_line
from agent_tui.domain.tables import RoutingRule, RoutingSetting, Team
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event

RULE_FIELDS = ("category", "product", "channel", "keyword")

#: Settings and their defaults (``agent-tui route config KEY VALUE`` changes them).
DEFAULTS: dict[str, str] = {
    "vip_tiers": "vip",  # customer tiers that go to senior agents first
    "senior_skill": "senior",  # the skill that makes an agent senior
    "default_team": "",  # team for inbound tickets no rule places
    "default_language": "en",  # language of Latin text when the customer has none
    "bot.enabled": "true",
    "bot.channels": "chat,app,web",  # channels the bot answers on
    "bot.threshold": "0.6",  # top suggestion confidence (0..1) the bot needs to answer
}


def setting(session: Session, key: str) -> str:
    if key not in DEFAULTS:
        raise Invalid("key", f"unknown setting {key!r}; one of {', '.join(DEFAULTS)}")
    row = session.get(RoutingSetting, key)
    return row.value if row is not None else DEFAULTS[key]


def settings(session: Session) -> dict[str, str]:
    stored = {str(k): str(v) for k, v in session.connection().execute(
        sa.text("SELECT key, value FROM routing_setting"))}
    return {k: stored.get(k, v) for k, v in DEFAULTS.items()}


def set_setting(session: Session, actor: Actor, key: str, value: str) -> dict[str, str]:
    require(actor, Role.ADMIN, "changing routing settings")
    before = setting(session, key)
    value = safe_line(value).strip()
    if key == "bot.threshold":
        try:
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError
        except ValueError:
            raise Invalid("value", "bot.threshold is a number from 0 to 1") from None
    if key == "default_team" and value and session.exec(
            select(Team).where(Team.name == value)).first() is None:
        raise NotFound("team", value)
    if key == "bot.enabled" and value.lower() not in {"true", "false"}:
        raise Invalid("value", "bot.enabled is true or false")
    row = session.get(RoutingSetting, key) or RoutingSetting(key=key, value=value)
    row.value = value
    session.add(row)
    append_event(session, actor, kind="routing.setting_changed", entity="routing_setting",
                 entity_id=None, before={key: before}, after={key: value})
    return settings(session)


def set_rule(session: Session, actor: Actor, field: str, value: str, *, skill: str | None,
             team: str | None) -> RoutingRule:
    """Map a category, product, channel or keyword to a needed skill and/or a team."""
    require(actor, Role.ADMIN, "changing routing rules")
    field = field.strip().lower()
    if field not in RULE_FIELDS:
        raise Invalid("field", f"one of {', '.join(RULE_FIELDS)}")
    value = safe_line(value).strip().lower()
    if not value:
        raise Invalid("value", "must not be empty")
    skill = safe_line(skill).strip().lower() or None if skill else None
    team_id = None
    if team:
        found = session.exec(select(Team).where(Team.name == team.strip())).first()
        if found is None:
            raise NotFound("team", team)
        team_id = found.id
    if skill is None and team_id is None:
        raise Invalid("skill", "give a skill, a team or both")
    rule = session.exec(select(RoutingRule).where(RoutingRule.field == field,
                                                  RoutingRule.value == value)).first()
    before = {"skill": rule.skill, "team_id": rule.team_id} if rule else None
    rule = rule or RoutingRule(field=field, value=value)
    rule.skill, rule.team_id = skill, team_id
    session.add(rule)
    session.flush()
    append_event(session, actor, kind="routing.rule_set", entity="routing_rule",
                 entity_id=rule.id, before=before,
                 after={"field": field, "value": value, "skill": skill, "team_id": team_id})
    return rule


def remove_rule(session: Session, actor: Actor, field: str, value: str) -> None:
    require(actor, Role.ADMIN, "changing routing rules")
    rule = session.exec(select(RoutingRule).where(
        RoutingRule.field == field.strip().lower(),
        RoutingRule.value == value.strip().lower())).first()
    if rule is None:
        raise NotFound("routing rule", f"{field} {value}")
    append_event(session, actor, kind="routing.rule_removed", entity="routing_rule",
                 entity_id=rule.id, before={"field": rule.field, "value": rule.value,
                                            "skill": rule.skill, "team_id": rule.team_id})
    session.delete(rule)


def list_rules(session: Session) -> list[tuple[RoutingRule, str | None]]:
    teams = {t.id: t.name for t in session.exec(select(Team))}
    rules = session.exec(select(RoutingRule).order_by(col(RoutingRule.field),
                                                      col(RoutingRule.value)))
    return [(r, teams.get(r.team_id) if r.team_id else None) for r in rules]
