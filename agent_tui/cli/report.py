"""CLI for the closed loop and metrics: ``report``, ``rating add``, ``close-solved``.

``report`` prints the KPI snapshot (definitions: ``agent_tui.services.metrics``)
as Rich tables for people, ``--json`` (the whole ``MetricsSnapshot``) or
``--csv`` (one row per slice: the overall figures, then one per group).
Before reading it builds the facts of tickets that bulk paths (demo,
import) wrote, so the first report after a big load takes a while.
"""

from __future__ import annotations

import csv
import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from agent_tui.cli.common import (
    CONTEXT,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    err_console,
    fail,
    handle_errors,
    print_table,
    store_for,
)
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import utcnow
from agent_tui.domain.views_metrics import GroupBy, Kpis, MetricsSnapshot, parse_window
from agent_tui.services import autoclose, metrics, metrics_facts, surveys
from agent_tui.store import Store

rating_app = typer.Typer(name="rating", help="Customer ratings (CSAT 1-5, NPS 0-10).",
                         context_settings=CONTEXT, no_args_is_help=True)


def say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86_400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86_400}d {s % 86_400 // 3600:02d}h"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


#: (header, value for people, value for CSV) per KPI column.
COLUMNS: list[tuple[str, Any, Any]] = [
    ("created", lambda k: k.created, lambda k: k.created),
    ("solved", lambda k: k.solved, lambda k: k.solved),
    ("FRT median", lambda k: _duration(k.first_response.median_s),
     lambda k: k.first_response.median_s),
    ("FRT p90", lambda k: _duration(k.first_response.p90_s), lambda k: k.first_response.p90_s),
    ("next resp", lambda k: _duration(k.next_response.mean_s), lambda k: k.next_response.mean_s),
    ("resolution median", lambda k: _duration(k.resolution.median_s),
     lambda k: k.resolution.median_s),
    ("resolution p90", lambda k: _duration(k.resolution.p90_s), lambda k: k.resolution.p90_s),
    ("AHT", lambda k: _duration(k.handle_time_mean_s), lambda k: k.handle_time_mean_s),
    ("FCR", lambda k: _pct(k.fcr), lambda k: k.fcr),
    ("resolution rate", lambda k: _pct(k.resolution_rate), lambda k: k.resolution_rate),
    ("reopened", lambda k: k.reopened, lambda k: k.reopened),
    ("CSAT", lambda k: _pct(k.csat), lambda k: k.csat),
    ("ratings", lambda k: k.csat_responses, lambda k: k.csat_responses),
    ("NPS", lambda k: "-" if k.nps is None else f"{k.nps:+.0f}", lambda k: k.nps),
    ("self-service", lambda k: _pct(k.self_service_rate), lambda k: k.self_service_rate),
    ("human intervention", lambda k: _pct(k.human_intervention_rate),
     lambda k: k.human_intervention_rate),
    ("SLA compliance", lambda k: _pct(k.sla_compliance), lambda k: k.sla_compliance),
    ("SLA breaches", lambda k: k.sla_breaches, lambda k: k.sla_breaches),
]
CSV_NAMES = ["created", "solved", "first_response_median_s", "first_response_p90_s",
             "next_response_mean_s", "resolution_median_s", "resolution_p90_s",
             "handle_time_mean_s", "fcr", "resolution_rate", "reopened", "csat",
             "csat_responses", "nps", "self_service_rate", "human_intervention_rate",
             "sla_compliance", "sla_breaches"]


def _slices(snap: MetricsSnapshot) -> list[tuple[str, Kpis]]:
    return [("overall", snap.overall), *((g.key, g.kpis) for g in snap.groups)]


def write_csv(snap: MetricsSnapshot) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["window_start", "window_end", "group_by", "key", *CSV_NAMES])
    for key, kpis in _slices(snap):
        out.writerow([snap.window_start.isoformat(), snap.window_end.isoformat(),
                      snap.group_by.value if snap.group_by else "", key,
                      *("" if (v := col[2](kpis)) is None else v for col in COLUMNS)])


def show(snap: MetricsSnapshot) -> None:
    """The snapshot for people: KPIs as rows, slices as columns; then the backlog."""
    start, end = snap.window_start, snap.window_end
    title = (f"KPIs {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
             + (f" by {snap.group_by.value}" if snap.group_by else ""))
    slices = _slices(snap)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("KPI", no_wrap=True)
    for key, _ in slices:
        table.add_column(Text(key), justify="right", no_wrap=True, overflow="ellipsis")
    for name, fmt, _ in COLUMNS:
        table.add_row(Text(name), *(Text(str(fmt(kpis))) for _, kpis in slices))
    console.print(table)
    b = snap.backlog
    rows = [["total", b.total], ["past due", b.past_due]]
    for label, counts in (("status", b.by_status), ("priority", b.by_priority),
                          ("channel", b.by_channel), ("team", b.by_team)):
        rows += [[f"{label}: {k}", v] for k, v in counts.items()]
    print_table("Backlog now (unsolved tickets)", ["slice", "tickets"], rows)


def _build_facts(store: Store, rebuild: bool) -> None:
    with store.read() as s:
        pending = metrics_facts.pending_facts(s)
    if not (pending or rebuild):
        return
    err_console.print(f"building metric facts for {'all' if rebuild else pending} tickets…",
                      markup=False, highlight=False)
    run = metrics_facts.rebuild_all if rebuild else metrics_facts.build_missing
    run(store.write)


def report(
    window: Annotated[str, typer.Option(
        "--window", help="7d, 2w (whole UTC days, today included) or 24h, 90m (exact).")] = "7d",
    by: Annotated[str | None, typer.Option(
        "--by", help="Split by channel, team, agent or day.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV: one row per slice.")] = False,
    rebuild: Annotated[bool, typer.Option(
        "--rebuild", help="Recompute every ticket's facts and the counters first.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """KPIs: response and resolution times, FCR, CSAT, NPS, self-service, SLA, backlog."""
    if as_json and as_csv:
        fail("--json and --csv: pick one", EXIT_USAGE)
    group = None
    if by is not None:
        try:
            group = GroupBy(by.strip().lower())
        except ValueError:
            fail(f"--by: {by!r} is not one of {', '.join(g.value for g in GroupBy)}", EXIT_USAGE)
    try:
        parse_window(window)
    except Invalid as exc:
        fail(f"--window: {exc.message}", EXIT_USAGE)
    with store_for(db) as store:
        _build_facts(store, rebuild)
        with store.read() as s:
            snap = metrics.snapshot(s, cli_actor(), window, group)
    if as_json:
        emit_json(snap)
    elif as_csv:
        write_csv(snap)
    else:
        show(snap)


@rating_app.command("add")
@handle_errors
def rating_add(
    ticket: Annotated[str, typer.Argument(help="Ticket number (#1234 or 1234).")],
    csat: Annotated[int | None, typer.Option("--csat", help="Satisfaction 1-5.")] = None,
    nps: Annotated[int | None, typer.Option("--nps", help="Would recommend 0-10.")] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="The customer's words.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attach a customer's rating to a solved (or once solved) ticket."""
    number = ticket.strip().lstrip("#")
    if not number.isdigit():
        fail(f"TICKET: {ticket!r} is not a ticket number", EXIT_USAGE)
    with store_for(db) as store:
        view = store.run_write(lambda s: surveys.record_rating(
            s, cli_actor(), int(number), csat=csat, nps=nps, comment=comment))
    if as_json:
        emit_json(view)
        return
    parts = [f"CSAT {view.csat}" if view.csat is not None else "",
             f"NPS {view.nps}" if view.nps is not None else ""]
    say(f"Rated ticket #{view.ticket_id}: {', '.join(p for p in parts if p)}")


def _days(text: str) -> int:
    try:
        span = parse_window(text, field="--after")
    except Invalid as exc:
        fail(f"--after: {exc.message}", EXIT_USAGE)
    if span % timedelta(days=1):
        fail("--after: give whole days, like 4d or 1w", EXIT_USAGE)
    return span.days


def close_solved(
    after: Annotated[str | None, typer.Option(
        "--after", help="Close tickets solved longer ago than this (4d, 1w); "
                        "default: the store's setting.")] = None,
    save: Annotated[bool, typer.Option(
        "--save", help="Store --after as the setting (and close).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count them.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close solved tickets after the configured number of days (default 4)."""
    if save and after is None:
        fail("--save needs --after", EXIT_USAGE)
    given = _days(after) if after is not None else None
    closed = 0
    with store_for(db) as store:
        if save and given is not None:
            store.run_write(lambda s: autoclose.set_after_days(s, cli_actor(), given))
        with store.read() as s:
            days = given if given is not None else autoclose.get_after_days(s)
            now = utcnow()
            due = autoclose.due_count(s, now, days)
        if not dry_run:
            while True:
                batch = store.run_write(lambda s: autoclose.close_solved(
                    s, now, days, actor=cli_actor()))
                closed += len(batch)
                if not batch:
                    break
    if as_json:
        emit_json({"after_days": days, "due": due, "closed": closed, "dry_run": dry_run,
                   "saved": save})
    elif dry_run:
        say(f"{due} solved tickets are older than {days} days")
    else:
        say(f"Closed {closed} tickets solved more than {days} days ago"
            + (f"; saved {days} days as the setting" if save else ""))


def register(app: typer.Typer) -> None:
    """Add ``report``, ``rating`` and ``close-solved`` to ``app``."""
    app.command("report")(handle_errors(report))
    app.command("close-solved")(handle_errors(close_solved))
    app.add_typer(rating_app)
