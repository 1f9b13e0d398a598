"""CLI commands ``import`` and ``export``: move data in and out of the store.

Thin wrappers over :mod:`agent_tui.services.importing` and
:mod:`agent_tui.services.exporting`; a Rich progress bar on a terminal,
``--json`` for scripts, exit code 1 when bad rows stop an import.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from agent_tui.cli.common import (
    EXIT_ERROR,
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
from agent_tui.services import exporting, importing
from agent_tui.services.importing.fields import DATE_ORDERS

_IMPORT_HELP = f"""Import KIND rows (customers, tickets, orders, kb) from a CSV or JSONL FILE.

\b
Columns (* = required):
{importing.describe_columns()}

Rows are matched by external_id, so importing a file twice changes nothing
the second time; changed rows are updated in place. Any bad row and nothing
is written (exit code 1), unless --skip-bad. Every bad row is listed as
"line N: column: message" with the line of the file.

\b
Foreign exports: rename columns and translate values with --map, e.g.
  --map "Ticket Subject=subject" --map "Requester Email=customer_email"
  --map "status:Resolved=solved" --map "priority:Medium=normal"
In JSONL, a nested object's fields are columns with dotted names:
  --map "requester.email=customer_email" --map "via.channel=channel"

Files are UTF-8 unless --encoding says otherwise. CSV is separated by
commas, or by semicolons, tabs or bars (read off the header line).
Dates: ISO 8601, RFC 2822, "Jan 5, 2023 2:22 PM", "2023年1月5日 14:22",
"Tue Oct 31 22:10:47 +0000 2017"; a time without a zone is UTC.
03/04/2023 needs --date-order dmy or mdy (day or month first?).
"""

_EXPORT_HELP = """Export KIND rows (tickets, customers, orders, kb, events) as CSV or JSONL.

Streams in id order (events: seq) to --out FILE, or to stdout. The columns
are the import columns plus id, so an export re-imports cleanly; a row
without an external id is written as "agent-tui:<id>", which a re-import
matches back to the same row.
"""

FormatOpt = Annotated[str | None, typer.Option(
    "--format", help="csv or jsonl (default: from the file name).")]


def say(text: str, *, err: bool = False) -> None:
    """One message for people, never markup (file names and values are untrusted)."""
    (err_console if err else console).print(Text(text), highlight=False, soft_wrap=True)


def _kind(value: str, allowed: tuple[str, ...]) -> str:
    kind = value.strip().lower()
    if kind not in allowed:
        fail(f"unknown kind {value!r}: use {', '.join(allowed)}", EXIT_USAGE)
    return kind


@contextmanager
def _progress(enabled: bool) -> Iterator[importing.Progress | None]:
    """A Rich progress bar on stderr when a person is watching, else nothing."""
    if not enabled:
        yield None
        return
    # Drawn from the import's own calls, not by Rich's refresh thread: a big import
    # reads its file in a forked child, and a process only forks with one thread.
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TimeRemainingColumn(), console=err_console, transient=True,
                   auto_refresh=False)
    tasks: dict[str, TaskID] = {}
    drawn = [0.0]

    def update(phase: str, rows: int, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total or None)
        bar.update(tasks[phase], completed=done, description=f"{phase} {rows:,} rows")
        now = time.monotonic()
        if now - drawn[0] >= 0.1 or done >= total:  # ten frames a second at most
            drawn[0] = now
            bar.refresh()

    with bar:
        yield update


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _counts(report: importing.ImportReport) -> str:
    parts = [f"{report.created:,} created", f"{report.updated:,} updated",
             f"{report.unchanged:,} unchanged"]
    if report.skipped:
        parts.append(f"{report.skipped:,} skipped as bad")
    parts += [f"{n:,} {name.replace('_', ' ')}" for name, n in report.also.items()]
    return ", ".join(parts)


def _list_errors(report: importing.ImportReport) -> None:
    for err in report.errors:
        say(str(err), err=True)
    rest = report.errors_total - len(report.errors)
    if rest > 0:
        say(f"... and {_plural(rest, 'more problem')} not listed", err=True)


def _show(report: importing.ImportReport) -> None:
    for warning in report.warnings:
        say(f"warning: {warning}", err=True)
    _list_errors(report)
    pace = (f"{_plural(report.rows, 'row')} in {report.seconds:.1f} s, "
            f"{report.rows_per_second:,.0f} rows/s")
    if report.dry_run:
        verdict = "" if report.ok else "; the import would stop on the bad rows"
        say(f"Dry run, nothing written. {report.kind} from {report.file} would be: "
            f"{_counts(report)} ({pace}){verdict}.")
    elif report.committed:
        say(f"Imported {report.kind} from {report.file}: {_counts(report)} ({pace}).")


@handle_errors
def import_cmd(
    kind: Annotated[str, typer.Argument(help="customers, tickets, orders or kb.",
                                        metavar="KIND", show_default=False)],
    file: Annotated[Path, typer.Argument(help="The CSV or JSONL file.", exists=True,
                                         dir_okay=False, readable=True, metavar="FILE")],
    fmt: FormatOpt = None,
    maps: Annotated[list[str] | None, typer.Option(
        "--map", metavar="SRC=DEST|COL:VALUE=NEW",
        help="Rename a column (SRC=DEST; SRC= drops it) or replace a value of a column "
             "(COL:VALUE=NEW, case-insensitive). Repeat for several.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Validate and report what would change; write nothing.")] = False,
    skip_bad: Annotated[bool, typer.Option(
        "--skip-bad", help="Import the good rows and report the bad ones (exit code 0).")
    ] = False,
    date_order: Annotated[str | None, typer.Option(
        "--date-order", metavar="dmy|mdy",
        help="Read all-numeric dates (03/04/2023) day first (dmy) or month first (mdy); "
             "without it such dates are refused.")] = None,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", metavar="NAME",
        help="The file's text encoding if not UTF-8: gb18030 (Chinese Excel), cp1252, "
             "utf-16 (Excel's Unicode text)...")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    kind = _kind(kind, importing.IMPORT_KINDS)
    if date_order is not None and date_order.lower() not in DATE_ORDERS:
        fail(f"--date-order: unknown order {date_order!r}: use dmy or mdy", EXIT_USAGE)
    with store_for(db) as store, _progress(not as_json and err_console.is_terminal) as progress:
        report = importing.import_file(store, cli_actor(), kind=kind, path=file, fmt=fmt,
                                       maps=maps or (), dry_run=dry_run, skip_bad=skip_bad,
                                       progress=progress, encoding=encoding,
                                       date_order=date_order.lower() if date_order else None)
    if as_json:
        emit_json(report.to_dict())
        if not report.ok:
            raise typer.Exit(EXIT_ERROR)
        return
    _show(report)
    if not report.ok and not report.dry_run:
        good = report.rows - report.skipped
        fail(f"{_plural(report.skipped, 'bad row')} in {report.file}; nothing was imported. "
             f"Fix them, or add --skip-bad to import the other {_plural(good, 'row')}.")
    if not report.ok:
        raise typer.Exit(EXIT_ERROR)


@handle_errors
def export_cmd(
    kind: Annotated[str, typer.Argument(help="tickets, customers, orders, kb or events.",
                                        metavar="KIND", show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write to this file (default: stdout).", dir_okay=False)] = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    kind = _kind(kind, exporting.EXPORT_KINDS)
    fmt = exporting.format_for(out.name if out else None, fmt)
    with store_for(db) as store:
        if out is None:
            count = exporting.export(store, cli_actor(), kind=kind, out=sys.stdout, fmt=fmt)
            return
        # Write beside the target and rename: a failed export leaves no half file.
        partial = out.with_name(f".{out.name}.partial")
        try:
            with open(partial, "w", encoding="utf-8", newline="") as handle:
                count = exporting.export(store, cli_actor(), kind=kind, out=handle, fmt=fmt,
                                         target=str(out))
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    say(f"Exported {count:,} {kind} to {out} ({fmt}).", err=True)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``export`` to ``app``."""
    app.command("import", help=_IMPORT_HELP, no_args_is_help=True)(import_cmd)
    app.command("export", help=_EXPORT_HELP, no_args_is_help=True)(export_cmd)
