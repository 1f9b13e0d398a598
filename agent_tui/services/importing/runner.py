"""Two streaming passes over the file: validate everything, then write.

Pass 1 reads the file inside a read transaction, validates every row and
matches it against the store in batches, counting what would be created
or updated; nothing is written. If any row is bad and ``skip_bad`` is off,
the import stops there. Pass 2 reads the file again and writes it in
batches inside ONE write transaction, with every row's event, and ends with
an ``import.completed`` event: either the whole file is imported or none
of it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from agent_tui.domain.enums import Role
from agent_tui.domain.errors import Invalid
from agent_tui.services.importing.batch import KindWriter, lock_event_log
from agent_tui.services.importing.columns import COLUMNS
from agent_tui.services.importing.customers import CustomerWriter
from agent_tui.services.importing.orders_kb import ArticleWriter, OrderWriter
from agent_tui.services.importing.records import Lookups, RowError, validate
from agent_tui.services.importing.source import ColumnMap, RawRow, Reader, file_changed, format_for
from agent_tui.services.importing.tickets import TicketWriter
from agent_tui.services.perms import require
from agent_tui.store import Store
from agent_tui.store.events import Actor, append_event

BATCH_SIZE = 1000
#: How many bad rows a report lists; the rest are counted.
MAX_LISTED = 50

#: ``progress(phase, rows_done, bytes_done, bytes_total)``; phase is
#: ``"validating"`` or ``"importing"``.
Progress = Callable[[str, int, int, int], None]

WRITERS: dict[str, type[KindWriter]] = {
    "tickets": TicketWriter, "customers": CustomerWriter, "orders": OrderWriter,
    "kb": ArticleWriter,
}


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused file, would do)."""

    kind: str
    file: str
    format: str
    dry_run: bool
    skip_bad: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    also: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    committed: bool = False

    @property
    def ok(self) -> bool:
        """True unless bad rows stopped (or would stop) the import."""
        return self.errors_total == 0 or self.skip_bad

    @property
    def rows_per_second(self) -> float:
        return round(self.rows / self.seconds, 1) if self.seconds > 0 else 0.0

    def error(self, err: RowError) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(err)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "file": self.file, "format": self.format,
            "dry_run": self.dry_run, "skip_bad": self.skip_bad, "ok": self.ok,
            "committed": self.committed, "rows": self.rows, "created": self.created,
            "updated": self.updated, "unchanged": self.unchanged, "skipped": self.skipped,
            **self.also,
            "errors": [{"line": e.line, "column": e.column, "message": e.message}
                       for e in self.errors],
            "errors_total": self.errors_total, "warnings": self.warnings,
            "seconds": round(self.seconds, 3), "rows_per_second": self.rows_per_second,
        }


class _Refused(Exception):
    """Bad rows found while writing: roll the whole import back."""


def _batches(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _pass(session: Session, reader: Reader, writer: KindWriter, lookups: Lookups, *,
          kind: str, report: ImportReport, batch_size: int, phase: str,
          progress: Progress | None, stop_on_error: bool) -> None:
    """Validate (and, if the writer writes, write) every row of ``reader``."""
    report.rows = 0
    for batch in _batches(reader.rows(), batch_size):
        good: list[Any] = []
        bad: list[RowError] = []
        for raw in batch:
            result = validate(kind, raw, lookups)
            if isinstance(result, list):
                bad.extend(result)
                continue
            duplicate = writer.claim(result)
            if duplicate is not None:
                bad.append(duplicate)
            else:
                good.append(result)
        if not (stop_on_error and bad):
            bad.extend(writer.apply(session, good))
        for err in bad:
            report.error(err)
        report.skipped += len({e.line for e in bad})
        report.rows += len(batch)
        if stop_on_error and bad:
            raise _Refused
        if progress is not None:
            progress(phase, report.rows, reader.bytes_read, reader.bytes_total)
    writer.finish(session)


def import_file(store: Store, actor: Actor, *, kind: str, path: Path, fmt: str | None = None,
                maps: Sequence[str] = (), dry_run: bool = False, skip_bad: bool = False,
                batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> ImportReport:
    """Import ``path`` as ``kind`` rows; see :mod:`agent_tui.services.importing`.

    Raises ``Invalid`` for a file that cannot be read at all (no such column,
    broken CSV quoting, not UTF-8); bad rows are reported in the result.
    """
    require(actor, Role.ADMIN, "importing data")
    if kind not in COLUMNS:
        raise Invalid("kind", f"unknown kind {kind!r}: use {', '.join(COLUMNS)}")
    fmt = format_for(path, fmt)
    cmap = ColumnMap.parse(maps, COLUMNS[kind])
    report = ImportReport(kind=kind, file=path.name, format=fmt, dry_run=dry_run,
                          skip_bad=skip_bad)
    started = time.perf_counter()

    with store.read() as session, Reader(path, fmt, cmap) as reader:
        lookups = Lookups.load(session)
        checker = WRITERS[kind](writing=False, actor=actor, lookups=lookups)
        _pass(session, reader, checker, lookups, kind=kind, report=report,
              batch_size=batch_size, phase="validating", progress=progress, stop_on_error=False)
        fingerprint = reader.fingerprint
        report.warnings = [
            f"column {name!r} is not a {kind} column and was ignored (rename it with "
            f"--map \"{name}=COLUMN\" or silence this with --map \"{name}=\")"
            for name in reader.unknown]
        report.warnings += [f"--map {rule!r} matched no column of {path.name}"
                            for rule in cmap.unused()]
    report.created, report.updated, report.unchanged = (
        checker.created, checker.updated, checker.unchanged)
    report.also = checker.side_effects()
    if dry_run or not report.ok:
        report.seconds = time.perf_counter() - started
        return report
    if file_changed(path, fingerprint):
        raise Invalid("file", f"{path.name} changed while it was being imported; run again")

    checked = report
    report = ImportReport(kind=kind, file=path.name, format=fmt, dry_run=False,
                          skip_bad=skip_bad, warnings=checked.warnings)
    try:
        with store.write() as session, Reader(path, fmt, cmap) as reader:
            lock_event_log(session)
            lookups = Lookups.load(session)
            writer = WRITERS[kind](writing=True, actor=actor, lookups=lookups)
            _pass(session, reader, writer, lookups, kind=kind, report=report,
                  batch_size=batch_size, phase="importing", progress=progress,
                  stop_on_error=not skip_bad)
            report.created, report.updated, report.unchanged = (
                writer.created, writer.updated, writer.unchanged)
            report.also = writer.side_effects()
            append_event(session, actor, kind="import.completed", entity="import",
                         entity_id=None, extra={
                             "kind": kind, "file": path.name, "format": fmt,
                             "rows": report.rows, "created": report.created,
                             "updated": report.updated, "unchanged": report.unchanged,
                             "skipped": report.skipped, **report.also})
    except _Refused:
        # Something changed between the passes; nothing of this run was kept.
        report.created = report.updated = report.unchanged = 0
        report.also = {}
        report.seconds = time.perf_counter() - started
        return report
    report.committed = True
    report.seconds = time.perf_counter() - started
    return report
