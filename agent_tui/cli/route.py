"""CLI for routing: ``route explain``, the rule map, settings and ``route next``."""

from __future__ import annotations

from typing import Annotated

import typer

from agent_tui.cli.common import (
    CONTEXT,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    handle_errors,
    print_table,
    store_for,
)
from agent_tui.domain.enums import Source
from agent_tui.services import agents, routing
from agent_tui.services.next_ticket import next_ticket

route_app = typer.Typer(name="route", help="Routing: who gets which ticket, and why.",
                        context_settings=CONTEXT, no_args_is_help=True)
rule_app = typer.Typer(name="rule", help="The rule map: category, product, channel or keyword "
                       "-> needed skill and/or team.", context_settings=CONTEXT,
                       no_args_is_help=True)
skills_app = typer.Typer(name="skills", help="Shortcut: which skill a category needs.",
                         context_settings=CONTEXT, no_args_is_help=True)

SkillOpt = Annotated[str | None, typer.Option("--skill", help="The skill the ticket needs.")]
TeamOpt = Annotated[str | None, typer.Option("--team", help="The team for tickets without one.")]


def say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@route_app.command("explain")
@handle_errors
def explain(
    ticket: Annotated[int, typer.Argument(help="Ticket id (1234 or #1234 without the #).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each candidate agent for TICKET: eligible or why not, load, rank, and who would get it."""
    with store_for(db) as store, store.read() as s:
        view = routing.explain(s, cli_actor(), ticket)
    if as_json:
        emit_json(view)
        return
    say(f"#{view.ticket_id}  team {view.team or '-'}  skills {','.join(view.skills) or '-'}  "
        f"language {view.language}{'  VIP' if view.vip else ''}")
    print_table("candidates", ["rank", "login", "status", "load", "eligible", "why not"],
                [[c.rank or "", c.login, c.status.value, f"{c.load}/{c.capacity}",
                  "yes" if c.eligible else "no", c.why_not or ""] for c in view.candidates])
    say(f"would go to: {view.winner or 'nobody'} — {view.reason}")


@route_app.command("next")
@handle_errors
def next_cmd(
    login: Annotated[str, typer.Option("--as", help="The agent asking for work.")],
    take: Annotated[bool, typer.Option("--take", help="Assign it to that agent.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The most urgent ticket an agent may take now, and why (``next_ticket``)."""
    with store_for(db) as store:
        def run(s):  # type: ignore[no-untyped-def]
            actor = agents.actor_for(s, login.strip().lower(), Source.CLI)
            return next_ticket(s, actor, take=take)
        found = store.run_write(run) if take else None
        if not take:
            with store.read() as s:
                found = run(s)
    if as_json:
        emit_json(found)
        return
    if found is None:
        say("nothing to take")
        return
    t = found.ticket
    say(f"#{t.id} {t.subject} [{t.priority.label}] — {found.reason}"
        f"{' (taken)' if found.taken else ''}")


@rule_app.command("set")
@handle_errors
def rule_set(
    field: Annotated[str, typer.Argument(help="category, product, channel or keyword.")],
    value: Annotated[str, typer.Argument(help="The value to match (a keyword matches words).")],
    skill: SkillOpt = None,
    team: TeamOpt = None,
    db: DbOption = None,
) -> None:
    """Map FIELD VALUE to a needed skill and/or a team."""
    with store_for(db) as store:
        store.run_write(lambda s: routing.set_rule(s, cli_actor(), field, value, skill=skill,
                                                   team=team))
    say(f"rule {field} {value.lower()} -> skill {skill or '-'}, team {team or '-'}")


@rule_app.command("remove")
@handle_errors
def rule_remove(field: Annotated[str, typer.Argument()], value: Annotated[str, typer.Argument()],
                db: DbOption = None) -> None:
    """Remove the rule for FIELD VALUE."""
    with store_for(db) as store:
        store.run_write(lambda s: routing.remove_rule(s, cli_actor(), field, value))
    say(f"removed rule {field} {value}")


@rule_app.command("list")
@handle_errors
def rule_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every routing rule."""
    with store_for(db) as store, store.read() as s:
        rows = [{"field": r.field, "value": r.value, "skill": r.skill, "team": team}
                for r, team in routing.list_rules(s)]
    if as_json:
        emit_json(rows)
        return
    print_table("routing rules", ["field", "value", "skill", "team"],
                [[r["field"], r["value"], r["skill"], r["team"]] for r in rows])


@skills_app.command("set")
@handle_errors
def skills_set(category: Annotated[str, typer.Argument()], skill: Annotated[str, typer.Argument()],
               team: TeamOpt = None, db: DbOption = None) -> None:
    """Tickets of CATEGORY need SKILL (same as ``route rule set category CATEGORY --skill``)."""
    with store_for(db) as store:
        store.run_write(lambda s: routing.set_rule(s, cli_actor(), "category", category,
                                                   skill=skill, team=team))
    say(f"category {category.lower()} needs skill {skill.lower()}")


@route_app.command("config")
@handle_errors
def config(
    key: Annotated[str | None, typer.Argument(help="A setting; omit to list them all.")] = None,
    value: Annotated[str | None, typer.Argument(help="New value; omit to show.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show or set routing and bot settings (bot.threshold, vip_tiers, senior_skill...)."""
    with store_for(db) as store:
        if key is not None and value is not None:
            conf = store.run_write(lambda s: routing.set_setting(s, cli_actor(), key, value))
        else:
            with store.read() as s:
                conf = routing.settings(s)
                if key is not None:
                    conf = {key: routing.setting(s, key)}
    if as_json:
        emit_json(conf)
        return
    print_table("routing settings", ["key", "value"], [[k, v] for k, v in conf.items()])


def register(app: typer.Typer) -> None:
    """Add the ``route`` command group to ``app``."""
    route_app.add_typer(rule_app)
    route_app.add_typer(skills_app)
    app.add_typer(route_app)
