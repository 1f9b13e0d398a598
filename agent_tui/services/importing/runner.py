"""Two streaming passes over the file: validate everything, then write.

Tickets (the kind imported by the hundred thousand) take a shortcut when
it is a real import: ONE pass validates and writes in the write
transaction (matching 100k rows twice cost ~0.4 s). At the first bad row (without ``skip_bad``) it
rolls back and the two passes below run instead, so a refused file is
reported exactly as before, every bad line of it. Other kinds always take
the two passes. For a big file on a machine with a core to spare, that
pass reads, validates and prepares the rows in a forked child while this
process writes (see :class:`_TicketBatches` and :mod:`.worker`).

Pass 1 reads the file inside a read transaction, validates every row and
matches it against the store in batches, counting what would be created
or updated; nothing is written. If any row is bad and ``skip_bad`` is off,
the import stops there. Pass 2 matches again and writes in batches inside
ONE write transaction, with every row's event, and ends with an
``import.completed`` event: either the whole file is imported or none of
it is. Pass 2 reuses pass 1's validated records when the file is small
enough to keep them (see :class:`_Kept`), else it reads the file again.
"""

from __future__ import annotations

import gc
import mmap
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Role
from agent_tui.domain.errors import Invalid
from agent_tui.services.importing import fields as f
from agent_tui.services.importing import worker
from agent_tui.services.importing.batch import KindWriter
from agent_tui.services.importing.columns import COLUMNS
from agent_tui.services.importing.customers import CustomerWriter
from agent_tui.services.importing.facts import NewTicketFacts
from agent_tui.services.importing.orders_kb import ArticleWriter, OrderWriter
from agent_tui.services.importing.records import (
    Lookups,
    Record,
    RowError,
    TicketRecord,
    validate,
)
from agent_tui.services.importing.source import (
    ColumnMap,
    Reader,
    file_changed,
    file_encoding,
    format_for,
)
from agent_tui.services.importing.ticket_rows import TicketFastPath
from agent_tui.services.importing.tickets import TicketWriter, prepare
from agent_tui.services.importing.writes import IndexRebuild, lock_event_log, stamper
from agent_tui.services.perms import require
from agent_tui.store import Store
from agent_tui.store.events import Actor, append_event

BATCH_SIZE = 1000
#: From this many new tickets on (and at least as many as the store holds),
#: the write pass rebuilds the ticket indexes instead of maintaining them;
#: see :class:`~agent_tui.services.importing.writes.IndexRebuild`.
REBUILD_INDEXES_AT = 20_000
#: Files up to this size are validated once: pass 2 reuses pass 1's records
#: (which take about 3-4 times the file's size in memory).
KEEP_VALIDATED_BYTES = 64 * 1024 * 1024
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


Result = Record | list[RowError]
#: One result per row of a batch, and how many bytes of the file were read after it.
Batch = tuple[list[Result], int]


def _validated(reader: Reader, kind: str, lookups: Lookups, size: int) -> Iterator[Batch]:
    """Every row of ``reader`` validated, a batch at a time, with the bytes read so far."""
    fast = TicketFastPath(lookups) if kind == "tickets" else None
    results: list[Result] = []
    for raw in reader.rows():
        result = fast(raw) if fast is not None else None
        results.append(result if result is not None else validate(kind, raw, lookups))
        if len(results) >= size:
            yield results, reader.bytes_read
            results = []
    if results:
        yield results, reader.bytes_read


class _Kept:
    """Pass 1's validated batches, kept for pass 2 when the file is small enough.

    Validation depends only on the file and the store's teams and agents, so
    pass 2 reuses it when the file is unchanged (checked by fingerprint) and
    the lookups are equal; matching against the store is always redone.
    """

    def __init__(self, source: Iterator[Batch], keep: bool) -> None:
        self.source = source
        self.batches: list[Batch] | None = [] if keep else None

    def __iter__(self) -> Iterator[Batch]:
        for batch in self.source:
            if self.batches is not None:
                self.batches.append(batch)
            yield batch


def _pass(session: Session, batches: Iterable[Batch], writer: KindWriter, *,
          report: ImportReport, phase: str, bytes_total: int,
          progress: Progress | None, stop_on_error: bool,
          after_batch: Callable[[int], None] | None = None) -> None:
    """Match (and, if the writer writes, write) every validated row of ``batches``.

    ``after_batch(bytes_read)`` runs after each batch is written.
    """
    report.rows = 0
    for results, bytes_read in batches:
        good: list[Any] = []
        bad: list[RowError] = []
        for result in results:
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
        report.rows += len(results)
        if stop_on_error and bad:
            raise _Refused
        if after_batch is not None:
            after_batch(bytes_read)
        if progress is not None:
            progress(phase, report.rows, bytes_read, bytes_total)
    writer.finish(session)


def _reported(batches: Iterable[Batch], progress: Progress | None,
              bytes_total: int) -> Iterator[Batch]:
    """``batches``, reporting each as validated when it arrives."""
    rows = 0
    for batch in batches:
        rows += len(batch[0])
        if progress is not None:
            progress("validating", rows, batch[1], bytes_total)
        yield batch


def _rebuild_pays(session: Session, creating: int, *, already: int = 0) -> bool:
    """Whether rebuilding the ticket indexes beats maintaining them (SQLite only).

    A rebuild sorts every ticket, old and new; maintenance pays per new
    ticket. Measured on 100k tickets into an empty store: 10 s of inserts
    become 1 s plus a 3 s rebuild. Into a big store the rebuild would cost
    more than it saves, hence "at least as many new tickets as stored ones".
    ``already``: how many of the new tickets are stored already (by this
    import, before it decided).
    """
    if creating < REBUILD_INDEXES_AT or session.get_bind().dialect.name != "sqlite":
        return False
    stored = session.execute(sa.text("SELECT max(id) FROM ticket")).scalar_one_or_none() or 0
    return creating >= int(stored) - already


def import_file(store: Store, actor: Actor, *, kind: str, path: Path, fmt: str | None = None,
                maps: Sequence[str] = (), dry_run: bool = False, skip_bad: bool = False,
                batch_size: int = BATCH_SIZE, progress: Progress | None = None,
                encoding: str | None = None, date_order: str | None = None) -> ImportReport:
    """Import ``path`` as ``kind`` rows; see :mod:`agent_tui.services.importing`.

    ``encoding`` names the file's codec when it is not UTF-8; ``date_order``
    (``"dmy"`` or ``"mdy"``) says how to read all-numeric dates such as
    03/04/2023, which are refused without it.

    Raises ``Invalid`` for a file that cannot be read at all (no such column,
    broken CSV quoting, not UTF-8, an unknown encoding or date order); bad rows
    are reported in the result.
    """
    require(actor, Role.ADMIN, "importing data")
    if kind not in COLUMNS:
        raise Invalid("kind", f"unknown kind {kind!r}: use {', '.join(COLUMNS)}")
    if date_order is not None and date_order not in f.DATE_ORDERS:
        raise Invalid("date_order", f"unknown date order {date_order!r}: use dmy or mdy")
    with _no_cycle_collection(), f.numeric_dates(date_order), file_encoding(encoding):
        return _import(store, actor, kind=kind, path=path, fmt=fmt, maps=maps, dry_run=dry_run,
                       skip_bad=skip_bad, batch_size=batch_size, progress=progress)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector for the import, then restore it.

    An import allocates millions of short-lived, acyclic objects (rows,
    records, tuples) while it keeps pass 1's records alive; the collector's
    full passes over those found nothing and cost ~15% of a 100k-row import.
    Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _warnings(reader: Reader, cmap: ColumnMap, kind: str, path: Path) -> list[str]:
    """Columns nobody asked for and --map rules that matched nothing."""
    return [
        f"column {name!r} is not a {kind} column and was ignored (rename it with "
        f"--map \"{name}=COLUMN\" or silence this with --map \"{name}=\")"
        for name in reader.unknown] + [f"--map {rule!r} matched no column of {path.name}"
                                       for rule in cmap.unused()]


def _one_pass(store: Store, actor: Actor, *, path: Path, fmt: str, maps: Sequence[str],
              skip_bad: bool, batch_size: int, progress: Progress | None,
              started: float) -> ImportReport | None:
    """Validate and write tickets in one pass; None when a bad row rolled it all back.

    Without pass 1 nobody knows beforehand how many tickets the file
    creates, so whether rebuilding the indexes pays is decided after the
    first batch, from its share of the file (see :func:`_rebuild_pays`).
    """
    cmap = ColumnMap.parse(maps, COLUMNS["tickets"])
    report = ImportReport(kind="tickets", file=path.name, format=fmt, dry_run=False,
                          skip_bad=skip_bad)
    try:
        with store.write() as session, Reader(path, fmt, cmap) as reader:
            lock_event_log(session)
            lookups = Lookups.load(session)
            writer = TicketWriter(writing=True, actor=actor, lookups=lookups)
            writer.facts = NewTicketFacts(session)
            indexes = IndexRebuild()
            decided = False
            created = 0

            def after_batch(bytes_read: int) -> None:
                nonlocal decided, created
                if not decided:  # the first batch decides
                    decided = True
                    expected = writer.created * reader.bytes_total // max(bytes_read, 1)
                    if _rebuild_pays(session, max(expected, writer.created),
                                     already=writer.created):
                        indexes.drop(session)
                source.creating(writer.created > created)
                created = writer.created

            with _TicketBatches(reader, path, fmt, cmap, lookups, batch_size,
                                stamper(session)) as source:
                _pass(session, _reported(source, progress, reader.bytes_total), writer,
                      report=report, phase="importing", bytes_total=reader.bytes_total,
                      progress=progress, stop_on_error=not skip_bad,
                      after_batch=after_batch)
            indexes.rebuild(session)
            report.warnings = _warnings(reader, cmap, "tickets", path)
            _completed(session, actor, report, writer, fmt)
    except _Refused:
        return None
    return _committed(store, report, progress, started)


class _TicketBatches:
    """The validated batches of a ticket file, from a forked reader when it is big.

    The child (see :mod:`~agent_tui.services.importing.worker`) reads and
    validates the file with the lookups of this transaction and prepares
    the rows of every ticket that has a ``created_at`` (without one it
    takes the time it is written at, which only the writer knows), as long
    as the last batch written created tickets: a re-import creates none,
    and preparing would only fill the pipe. What reading found out about
    the columns comes back after the last batch. Use as a context manager.
    """

    def __init__(self, reader: Reader, path: Path, fmt: str, cmap: ColumnMap,
                 lookups: Lookups, batch_size: int, stamp: Callable[[Any], Any]) -> None:
        self.reader, self.cmap = reader, cmap
        self.forked: worker.Forked[Batch] | None = None
        if (reader.bytes_total < worker.FORK_AT_BYTES or not worker.can_fork()
                or not worker.spare_core()):
            self.batches: Iterable[Batch] = _validated(reader, "tickets", lookups, batch_size)
            return
        # One byte both processes see: 1 while batches create tickets.
        self._creating = mmap.mmap(-1, 1)
        self._creating[0] = 1
        found: list[tuple[dict[str, None], set[str]]] = []

        def produce() -> Iterator[Batch]:
            with Reader(path, fmt, cmap) as own:
                for results, bytes_read in _validated(own, "tickets", lookups, batch_size):
                    if self._creating[0]:
                        for result in results:
                            if isinstance(result, TicketRecord) and result.created_at:
                                result.prepared = prepare(result, result.created_at, stamp,
                                                          lookups)
                    yield results, bytes_read
                found.append((own.unknown, cmap.used))

        self.forked = self.batches = worker.Forked(produce, lambda: found[0])

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.batches)

    def creating(self, yes: bool) -> None:
        """Whether the batch just written created tickets (the child prepares while it does)."""
        if self.forked is not None:
            self._creating[0] = 1 if yes else 0

    def __enter__(self) -> _TicketBatches:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.forked is None:
            return
        self.forked.close()
        self._creating.close()
        if self.forked.extra is not None:
            unknown, used = self.forked.extra
            self.reader.unknown.update(unknown)
            self.cmap.used.update(used)


def _completed(session: Session, actor: Actor, report: ImportReport, writer: KindWriter,
               fmt: str) -> None:
    """The writer's counts into ``report``, and the ``import.completed`` event."""
    report.created, report.updated, report.unchanged = (
        writer.created, writer.updated, writer.unchanged)
    report.also = writer.side_effects()
    append_event(session, actor, kind="import.completed", entity="import",
                 entity_id=None, extra={
                     "kind": report.kind, "file": report.file, "format": fmt,
                     "rows": report.rows, "created": report.created,
                     "updated": report.updated, "unchanged": report.unchanged,
                     "skipped": report.skipped, **report.also})


def _committed(store: Store, report: ImportReport, progress: Progress | None,
               started: float) -> ImportReport:
    report.committed = True
    if report.kind == "tickets" and report.created:
        # The import built its new tickets' facts; this catches up on any
        # that lay above the watermark already (a no-op otherwise). Resumable
        # by its watermark, after the commit, so a failure loses no imported row.
        from agent_tui.services.metrics_facts import build_missing

        build_missing(store.write, progress=None if progress is None else (
            lambda done, total: progress("metrics", report.rows, done, total)))
    report.seconds = time.perf_counter() - started
    return report


def _import(store: Store, actor: Actor, *, kind: str, path: Path, fmt: str | None,
            maps: Sequence[str], dry_run: bool, skip_bad: bool, batch_size: int,
            progress: Progress | None) -> ImportReport:
    fmt = format_for(path, fmt)
    started = time.perf_counter()
    if kind == "tickets" and not dry_run:
        done = _one_pass(store, actor, path=path, fmt=fmt, maps=maps, skip_bad=skip_bad,
                         batch_size=batch_size, progress=progress, started=started)
        if done is not None:
            return done
        # A bad row: nothing was kept. The passes below report every bad line.
    cmap = ColumnMap.parse(maps, COLUMNS[kind])
    report = ImportReport(kind=kind, file=path.name, format=fmt, dry_run=dry_run,
                          skip_bad=skip_bad)

    with store.read() as session, Reader(path, fmt, cmap) as reader:
        lookups = Lookups.load(session)
        checker = WRITERS[kind](writing=False, actor=actor, lookups=lookups)
        kept = _Kept(_validated(reader, kind, lookups, batch_size),
                     keep=not dry_run and reader.bytes_total <= KEEP_VALIDATED_BYTES)
        _pass(session, kept, checker, report=report, phase="validating",
              bytes_total=reader.bytes_total, progress=progress, stop_on_error=False)
        fingerprint = reader.fingerprint
        report.warnings = _warnings(reader, cmap, kind, path)
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
            fresh = Lookups.load(session)
            writer = WRITERS[kind](writing=True, actor=actor, lookups=fresh)
            batches: Iterable[Batch] = (
                kept.batches if kept.batches is not None and fresh == lookups
                else _validated(reader, kind, fresh, batch_size))
            if isinstance(writer, TicketWriter):
                writer.facts = NewTicketFacts(session)
            indexes = IndexRebuild()
            if kind == "tickets" and _rebuild_pays(session, checked.created):
                indexes.drop(session)
            _pass(session, batches, writer, report=report, phase="importing",
                  bytes_total=reader.bytes_total, progress=progress,
                  stop_on_error=not skip_bad)
            indexes.rebuild(session)
            _completed(session, actor, report, writer, fmt)
    except _Refused:
        # Something changed between the passes; nothing of this run was kept.
        report.created = report.updated = report.unchanged = 0
        report.also = {}
        report.seconds = time.perf_counter() - started
        return report
    return _committed(store, report, progress, started)
