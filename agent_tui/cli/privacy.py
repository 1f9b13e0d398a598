"""CLI commands for data-subject requests and retention:
``customer export``, ``customer erase`` and ``purge``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

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
    store_for,
)
from agent_tui.services import privacy
from agent_tui.services.customers import get_customer

customer_app = typer.Typer(name="customer", help="Customers: data-subject export and erasure.",
                           context_settings=CONTEXT, no_args_is_help=True)

CustomerId = Annotated[int, typer.Argument(help="The customer's id (#1234 → 1234).")]


def say(text: str) -> None:
    """One message for people, never markup, never wrapped mid-line."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def say_err(text: str) -> None:
    """A note on stderr, so stdout stays clean for data."""
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600: the file holds one person's personal data."""
    path = path.expanduser()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@customer_app.command("export")
@handle_errors
def customer_export(
    customer_id: CustomerId,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write to this file (mode 0600) instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """Everything held about one customer as one JSON document (a data-subject request)."""
    with store_for(db) as store, store.write() as s:
        doc = privacy.export_customer(s, cli_actor(), customer_id=customer_id,
                                      destination="file" if out else "stdout")
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        # Written before the commit: if the file cannot be written, no export is logged.
        if out is not None:
            _write_private(out, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    if out is not None:
        say_err(f"Exported customer #{customer_id}: {len(doc['tickets'])} tickets, "
                          f"{len(doc['events'])} events → {out}")


@customer_app.command("erase")
@handle_errors
def customer_erase(
    customer_id: CustomerId,
    reason: Annotated[str, typer.Option(
        "--reason", help="Why (e.g. the request's reference); kept in the audit log.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase one customer's personal data; tickets stay as anonymous statistics."""
    with store_for(db) as store:
        if not yes:
            if not sys.stdin.isatty():
                fail("erasure cannot be undone: pass --yes to confirm when input is not "
                     "a terminal", EXIT_USAGE)
            with store.read() as s:
                get_customer(s, customer_id)
            typer.confirm(f"Erase the personal data of customer #{customer_id}? "
                          "This cannot be undone", abort=True)
        result = store.run_write(lambda s: privacy.erase_customer(
            s, cli_actor(), customer_id=customer_id, reason=reason))
        scrubbed = privacy.scrub_after_erase(store)
    if as_json:
        emit_json(result)
        return
    say(
        f"Erased customer #{result.customer_id}: {result.tickets} tickets and "
        f"{result.messages} messages anonymised, {result.identities} identities deleted, "
        f"{result.orders} orders and {result.ratings} ratings cleaned, "
        f"{result.events_rewritten + result.events_swept} events redacted "
        f"(event #{result.event_seq})")
    if not scrubbed:
        say_err("note: other readers kept the WAL from being truncated; old pages "
                          "leave the disk at the next checkpoint")


def purge(
    events_older_than: Annotated[str, typer.Option(
        "--events-older-than", help="Delete events older than this: 180d, 12h, 4w, 30m.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; delete nothing.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Operation-log retention: delete old events and record the purge itself."""
    older_than = privacy.parse_duration(events_older_than)
    with store_for(db) as store:
        result = store.run_write(lambda s: privacy.purge_events(
            s, cli_actor(), older_than=older_than, dry_run=dry_run))
    if as_json:
        emit_json(result)
        return
    when = f"{result.cutoff:%Y-%m-%d %H:%M} UTC"
    if result.dry_run:
        say(f"Would delete {result.count} events from before {when}")
    else:
        say(f"Deleted {result.count} events from before {when} "
                      f"(event #{result.event_seq})")


def register(app: typer.Typer) -> None:
    """Add ``customer export|erase`` and ``purge`` to ``app``."""
    app.add_typer(customer_app)
    app.command("purge")(handle_errors(purge))
