"""CLI for the SLA engine: ``sla set|list|show|sweep|recompute|risk``, ``sla rule set|list``,
``hours set|list`` and ``team set NAME --lead LOGIN``.

Durations are business time: ``30m``, ``4h``, ``1h30m``, ``2d`` (a day is
24 business hours, not a working day) or plain minutes.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import typer

from agent_tui.cli import people
from agent_tui.cli.common import (
    CONTEXT,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    handle_errors,
    print_table,
    store_for,
)
from agent_tui.domain.enums import Priority
from agent_tui.domain.sla_clock import DAYS
from agent_tui.domain.tables import utcnow
from agent_tui.services import sla_admin
from agent_tui.services.sla_sweeper import run_recompute, run_sweep

sla_app = typer.Typer(name="sla", help="SLA policies, sweeps and escalation rules.",
                      context_settings=CONTEXT, no_args_is_help=True)
rule_app = typer.Typer(name="rule", help="Escalation rules: what a breach triggers.",
                       context_settings=CONTEXT, no_args_is_help=True)
hours_app = typer.Typer(name="hours", help="Business hours and holidays for SLA clocks.",
                        context_settings=CONTEXT, no_args_is_help=True)
sla_app.add_typer(rule_app)

_PART = re.compile(r"(\d+(?:\.\d+)?)([dhm])")


def parse_duration(text: str, option: str) -> int:
    """``"1h30m"`` -> 90 (minutes)."""
    raw = text.strip().lower().replace(" ", "")
    if raw.isdigit():
        minutes = float(raw)
    else:
        parts = _PART.findall(raw)
        if not parts or "".join(n + u for n, u in parts) != raw:
            fail(f"{option}: {text!r} is not a duration (use 30m, 4h, 1h30m, 2d)", EXIT_USAGE)
        minutes = sum(float(n) * {"d": 1440, "h": 60, "m": 1}[u] for n, u in parts)
    if minutes <= 0 or minutes != int(minutes):
        fail(f"{option}: {text!r} must be a whole, positive number of minutes", EXIT_USAGE)
    return int(minutes)


def show_duration(minutes: float | None) -> str:
    if minutes is None:
        return "-"
    m = int(minutes)
    hours, rest = divmod(m, 60)
    return (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")


def say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _priority(value: str | None) -> Priority | None:
    if value is None or value.strip().lower() in ("", "any"):
        return None
    try:
        return Priority.parse(value)
    except ValueError:
        fail(f"--priority: {value!r} is not one of low, normal, high, urgent", EXIT_USAGE)


@sla_app.command("set")
@handle_errors
def sla_set(
    name: Annotated[str, typer.Argument(help="Policy name, e.g. 'High priority'.")],
    first_response: Annotated[str, typer.Option("--first-response", help="e.g. 1h.")],
    resolution: Annotated[str, typer.Option("--resolution", help="e.g. 8h.")],
    next_response: Annotated[str | None, typer.Option("--next-response", help="e.g. 4h.")] = None,
    priority: Annotated[str | None, typer.Option(
        "--priority", help="low, normal, high or urgent; omit for any.")] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="Customer tier, e.g. vip.")] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help="Ticket category, e.g. basic, complex, major.")] = None,
    hours: Annotated[str | None, typer.Option(
        "--hours", help="Business hours name; omit for 24x7.")] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Keep it but do not apply it.")]
    = False,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create or replace an SLA policy. The most specific match wins: category, then
    tier, then priority; ties go to the older policy."""
    fr = parse_duration(first_response, "--first-response")
    res = parse_duration(resolution, "--resolution")
    nr = parse_duration(next_response, "--next-response") if next_response else None
    prio = _priority(priority)
    with store_for(db) as store:
        view = store.run_write(lambda s: sla_admin.set_policy(
            s, cli_actor(), name=name, priority=prio, tier=tier, category=category,
            first_response=fr, next_response=nr, resolution=res, hours=hours,
            active=not inactive))
    if json_out:
        emit_json(view)
        return
    say(f"SLA policy {view.name}: first response {show_duration(fr)}, next response "
        f"{show_duration(nr)}, resolution {show_duration(res)} ({view.hours or '24x7'})")


@sla_app.command("list")
@handle_errors
def sla_list(db: DbOption = None, json_out: JsonOption = False) -> None:
    """The SLA policies, in the order they were created."""
    with store_for(db) as store, store.read() as s:
        rows = sla_admin.list_policies(s)
    if json_out:
        emit_json(rows)
        return
    print_table("SLA policies", ["name", "priority", "tier", "category", "first", "next",
                                 "resolution", "hours", "active"],
                [[p.name, p.priority.label if p.priority else "any", p.tier or "any",
                  p.category or "any", show_duration(p.first_response_minutes),
                  show_duration(p.next_response_minutes), show_duration(p.resolution_minutes),
                  p.hours or "24x7", "yes" if p.active else "no"] for p in rows])


@sla_app.command("show")
@handle_errors
def sla_show(
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """A ticket's SLA clocks now: target, used, due, paused, at risk, breached."""
    with store_for(db) as store, store.read() as s:
        rows = sla_admin.clocks(s, ticket_id)
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say(f"#{ticket_id}: no SLA policy applies")
        return
    print_table(f"#{ticket_id} SLA clocks ({rows[0].policy})",
                ["clock", "target", "used", "due (UTC)", "state"],
                [[c.clock.replace("_", " "), show_duration(c.target_minutes),
                  f"{c.used_pct:.0f} %",
                  c.due_at.strftime("%Y-%m-%d %H:%M") if c.due_at else "-",
                  "breached" if c.breached else "at risk" if c.at_risk
                  else "paused" if c.paused else "running" if c.running else "stopped"]
                 for c in rows])


@sla_app.command("sweep")
@handle_errors
def sla_sweep(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Flag at-risk and breached tickets whose moment has come and escalate breaches.
    Safe to run from cron while the app runs: a breach escalates once."""
    with store_for(db) as store:
        result = run_sweep(store, cli_actor())
    if json_out:
        emit_json(result)
        return
    for c in result.changed:
        what = ([f"breached {', '.join(b.replace('_', ' ') for b in c.breached)}"]
                if c.breached else []) + (["at risk"] if c.at_risk else [])
        acted = f"; {', '.join(a.replace('_', ' ') for a in c.actions)}" if c.actions else ""
        say(f"#{c.ticket_id}: {'; '.join(what)}{acted}")
    say(f"Swept {result.checked} ticket(s); {len(result.changed)} changed.")


@sla_app.command("recompute")
@handle_errors
def sla_recompute(
    include_closed: Annotated[bool, typer.Option(
        "--all", help="Solved and closed tickets too (their breach flags).")] = False,
    db: DbOption = None,
) -> None:
    """Set due times and flags on every open ticket, e.g. after an import or a policy change."""
    with store_for(db) as store:
        n = run_recompute(store, cli_actor(), include_closed=include_closed, now=utcnow())
    say(f"Recomputed SLA clocks of {n} ticket(s).")


@sla_app.command("risk")
@handle_errors
def sla_risk(
    percent: Annotated[int, typer.Argument(help="Share of a target used at which a clock is "
                                                "at risk (default 80).")],
    db: DbOption = None,
) -> None:
    """Set the at-risk share for every policy."""
    with store_for(db) as store:
        value = store.run_write(lambda s: sla_admin.set_risk_percent(s, cli_actor(), percent))
    say(f"Clocks are at risk once {value} % of a target is used.")


@rule_app.command("set")
@handle_errors
def rule_set(
    name: Annotated[str, typer.Argument(help="Rule name.")],
    action: Annotated[str, typer.Option(
        "--action", help="raise_priority, reassign_lead or notify_supervisor.")],
    policy: Annotated[str | None, typer.Option("--policy", help="Only this policy.")] = None,
    priority: Annotated[str | None, typer.Option("--priority", help="Only this priority.")]
    = None,
    clock: Annotated[str | None, typer.Option(
        "--clock", help="first_response, next_response or resolution; omit for any.")] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Keep it but do not run it.")]
    = False,
    db: DbOption = None,
) -> None:
    """Create or replace an escalation rule."""
    prio = _priority(priority)
    with store_for(db) as store:
        view = store.run_write(lambda s: sla_admin.set_rule(
            s, cli_actor(), name=name, action=action.strip().lower().replace("-", "_"),
            policy=policy, priority=prio, clock=clock.replace("-", "_") if clock else None,
            active=not inactive))
    say(f"Rule {view.name}: on a {view.clock or 'any'} breach "
        f"({view.policy or 'any policy'}, {view.priority.label if view.priority else 'any'} "
        f"priority) -> {view.action}")


@rule_app.command("list")
@handle_errors
def rule_list(db: DbOption = None, json_out: JsonOption = False) -> None:
    """The escalation rules."""
    with store_for(db) as store, store.read() as s:
        rows = sla_admin.list_rules(s)
    if json_out:
        emit_json(rows)
        return
    print_table("Escalation rules", ["name", "action", "policy", "priority", "clock", "active"],
                [[r.name, r.action, r.policy or "any",
                  r.priority.label if r.priority else "any", r.clock or "any",
                  "yes" if r.active else "no"] for r in rows])


def _day_option(day: str) -> object:
    return typer.Option(f"--{day}", help=f"{day.title()} hours, e.g. 09:00-17:00 "
                        "(repeat or 09:00-12:00,13:00-17:00).")


@hours_app.command("set")
@handle_errors
def hours_set(
    name: Annotated[str, typer.Argument(help="Schedule name.")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Berlin.")],
    mon: Annotated[list[str] | None, _day_option("mon")] = None,
    tue: Annotated[list[str] | None, _day_option("tue")] = None,
    wed: Annotated[list[str] | None, _day_option("wed")] = None,
    thu: Annotated[list[str] | None, _day_option("thu")] = None,
    fri: Annotated[list[str] | None, _day_option("fri")] = None,
    sat: Annotated[list[str] | None, _day_option("sat")] = None,
    sun: Annotated[list[str] | None, _day_option("sun")] = None,
    holiday: Annotated[list[str] | None, typer.Option(
        "--holiday", help="A closed date, YYYY-MM-DD; repeat. Replaces the list.")] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create or replace business hours; a day not given is closed."""
    given = dict(zip(DAYS, (mon, tue, wed, thu, fri, sat, sun), strict=True))
    days = {d: [s.strip() for v in values for s in v.split(",") if s.strip()]
            for d, values in given.items() if values}
    try:
        holidays = [date.fromisoformat(h.strip()) for h in holiday] if holiday else None
    except ValueError as exc:
        fail(f"--holiday: {exc}", EXIT_USAGE)
    with store_for(db) as store:
        view = store.run_write(lambda s: sla_admin.set_hours(
            s, cli_actor(), name=name, timezone=tz, days=days, holidays=holidays))
    if json_out:
        emit_json(view)
        return
    spans = "; ".join(f"{d} {', '.join(v)}" for d, v in view.days.items())
    say(f"Business hours {view.name} ({view.timezone}): {spans}; "
        f"{len(view.holidays)} holiday(s)")


@hours_app.command("list")
@handle_errors
def hours_list(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Business hours and their holidays."""
    with store_for(db) as store, store.read() as s:
        rows = sla_admin.list_hours(s)
    if json_out:
        emit_json(rows)
        return
    print_table("Business hours", ["name", "time zone", "open", "holidays"],
                [[h.name, h.timezone, "; ".join(f"{d} {', '.join(v)}" for d, v in h.days.items()),
                  ", ".join(d.isoformat() for d in h.holidays) or "-"] for h in rows])


@handle_errors
def team_set(
    name: Annotated[str, typer.Argument(help="Team name.")],
    lead: Annotated[str | None, typer.Option(
        "--lead", help="Agent login SLA escalations reassign to; '' clears it.")] = None,
    db: DbOption = None,
) -> None:
    """Change a team: its lead."""
    if lead is None:
        fail("nothing to change: give --lead LOGIN", EXIT_USAGE)
    with store_for(db) as store:
        login = store.run_write(lambda s: sla_admin.set_team_lead(s, cli_actor(), name, lead))
    say(f"Team {name}: lead {login or 'none'}")


def register(app: typer.Typer) -> None:
    app.add_typer(sla_app)
    app.add_typer(hours_app)
    people.team_app.command("set")(team_set)
