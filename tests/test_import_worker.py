"""A big ticket import reads and validates in a forked child: the results do not change.

``worker.FORK_AT_BYTES`` is lowered so that small files take the forked
path; each test compares it with the same file imported in one process
(or checks the same promises the in-process tests check): the stored
rows and events, line numbers of bad rows, all or nothing, ``skip_bad``,
unreadable files, warnings about columns, and the child being reaped.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agent_tui.domain.errors import Invalid
from agent_tui.services.importing import ImportReport, import_file, tickets, worker
from agent_tui.store import Store
from tests.conftest import ADMIN, migrated, new_pg_database, seed_world

HEADER = ("external_id,subject,body,status,priority,channel,customer_email,customer_phone,"
          "customer_name,team,assignee,tags,created_at,category,Satisfaction")
# What differs between two runs of the same import: the times it was written at.
TIMES = {"at", "updated_at"}
NOT_2024 = 1_735_689_600  # 2025-01-01 in epoch seconds


def ticket_file(path: Path, n: int, *, bad: dict[int, str] | None = None) -> Path:
    """``n`` rows: shared customers and phones, every vocabulary, a few without created_at."""
    lines = [HEADER]
    for i in range(n):
        created = "" if i % 11 == 3 else f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}T0{i % 10}:15:00Z"
        phone = f"+1 555 {i % 13:04d}" if i % 3 == 0 else ""
        email = "" if i % 17 == 5 else f"c{i % 29}@example.org"
        if not email and not phone:
            phone = f"+44 20 {i:05d}"
        lines.append(",".join((
            f"W-{i}", f"Subject {i} \u00e9\u9001", f'"Body {i}\nsecond line, with a comma"',
            ("new", "open", "pending", "on_hold", "solved", "closed", "")[i % 7],
            ("low", "normal", "high", "urgent", "")[i % 5],
            ("email", "chat", "phone", "web", "")[i % 5], email, phone, f"Name {i % 29}",
            ("billing", "tech", "logistics", "")[i % 4], ("ada", "sam", "alice", "bob", "")[i % 5],
            f'"refund,{("vip", "bug", "api")[i % 3]}"' if i % 2 else "", created,
            ("billing", "technical", "")[i % 3], "5")))
    for index, text in (bad or {}).items():
        lines[index] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def new_store(tmp_path: Path, name: str) -> Store:
    return seed_world(migrated(f"sqlite:///{tmp_path / name}")).store


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two empty stores with the same teams and agents, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / name}" for name in ("alone.db", "forked.db")]
    else:
        server = request.getfixturevalue("pg_server")
        urls = [new_pg_database(server), new_pg_database(server)]
    stores = [seed_world(migrated(url)).store for url in urls]
    yield stores[0], stores[1]
    for store in stores:
        store.dispose()


def contents(store: Store) -> dict[str, list[Any]]:
    """Every table an import writes, without the times it was written at.

    A row without ``created_at`` takes the import's time (as does every
    customer it creates): any time not of the file's year reads "now".
    """
    out: dict[str, list[Any]] = {}
    with store.read() as s:
        for table, order in (("ticket", "id"), ("message", "id"), ("ticket_tag", "ticket_id, tag"),
                             ("customer", "id"), ("identity", "id"), ("event", "seq"),
                             ("ticket_fact", "ticket_id"), ("metric_day", "day, channel, team_id, "
                                                                          "agent_id"),
                             ("metric_backlog", "status, priority, channel, team_id")):
            result = s.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order}"))
            names = list(result.keys())
            rows = []
            for raw in result:
                row = {k: v for k, v in zip(names, raw, strict=True) if k not in TIMES}
                if "created_at" in row and not str(row["created_at"]).startswith("2024-"):
                    row["created_at"] = "now"
                if table == "ticket_fact" and row["created_s"] >= NOT_2024:
                    row["created_s"] = "now"
                if table == "event" and row["kind"] == "ticket.imported":
                    if isinstance(row["diff"], str):
                        row["diff"] = json.loads(row["diff"])
                    after = row["diff"]["after"]
                    if not after["created_at"].startswith("2024-"):
                        after["created_at"] = "now"
                rows.append(row)
            out[table] = rows
    return out


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every file big enough to fork for; the pids of the children forked."""
    monkeypatch.setattr(worker, "FORK_AT_BYTES", 0)
    monkeypatch.setattr(worker, "spare_core", lambda: True)  # tests run beside each other
    pids: list[int] = []
    real_init = worker.Forked.__init__

    def init(self: worker.Forked[Any], *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        pids.append(self.pid)

    monkeypatch.setattr(worker.Forked, "__init__", init)
    return pids


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_forked_import_stores_what_an_import_in_one_process_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_stores: tuple[Store, Store]
) -> None:
    path = ticket_file(tmp_path / "t.csv", 300)
    alone, forked = two_stores
    one = import_file(alone, ADMIN, kind="tickets", path=path, batch_size=40)

    monkeypatch.setattr(worker, "FORK_AT_BYTES", 0)
    monkeypatch.setattr(worker, "spare_core", lambda: True)
    prepared_here: list[str] = []
    real_prepare = tickets.prepare

    def prepare(r: Any, *args: Any) -> Any:
        prepared_here.append(r.external_id)
        return real_prepare(r, *args)

    monkeypatch.setattr(tickets, "prepare", prepare)
    two = import_file(forked, ADMIN, kind="tickets", path=path, batch_size=40)

    assert one.committed and two.committed and one.created == two.created == 300
    assert one.to_dict() | {"seconds": 0, "rows_per_second": 0} == two.to_dict() | {
        "seconds": 0, "rows_per_second": 0}
    assert one.warnings and "Satisfaction" in one.warnings[0]  # reported from the child too
    assert contents(alone) == contents(forked)
    # The child prepared every created ticket but those without created_at
    # (they take the time they are written at, which only the writer knows).
    assert prepared_here == [f"W-{i}" for i in range(300) if i % 11 == 3]

    again = import_file(forked, ADMIN, kind="tickets", path=path, batch_size=40)
    assert again.committed and again.unchanged == 300 and again.created == 0


def in_process(monkeypatch: pytest.MonkeyPatch, call: Any) -> Any:
    """``call()`` with the reading in this process."""
    with monkeypatch.context() as m:
        m.setattr(worker, "FORK_AT_BYTES", 1 << 60)
        return call()


def test_bad_rows_found_by_the_child_are_reported_by_line_and_nothing_is_kept(
        tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    path = ticket_file(tmp_path / "t.csv", 120, bad={
        50: "W-49,Subject,Body,open,critical,email,x@example.org,,,,,,,,",
        91: "W-90,,Body,open,low,email,x@example.org,,,,,,,,",  # no subject
        100: "W-3,Again,Body,open,low,email,x@example.org,,,,,,,,",  # a duplicate
    })
    store = new_store(tmp_path, "s.db")
    before = contents(store)
    expected = in_process(monkeypatch, lambda: import_file(store, ADMIN, kind="tickets",
                                                           path=path, batch_size=25))
    assert not forks
    report = import_file(store, ADMIN, kind="tickets", path=path, batch_size=25)
    assert not report.committed and not report.ok
    assert [e.column for e in report.errors] == ["priority", "subject", "external_id"]
    assert report.errors == expected.errors and report.errors[0].line > 51  # two-line bodies
    assert report.created == expected.created == 117
    assert contents(store) == before
    kept = import_file(store, ADMIN, kind="tickets", path=path, batch_size=25, skip_bad=True)
    assert kept.committed and kept.created == 117 and kept.skipped == 3
    assert kept.errors == expected.errors
    assert forks and all(reaped(pid) for pid in forks)
    store.dispose()


def test_an_unreadable_file_raises_from_the_child_and_writes_nothing(
        tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    store = new_store(tmp_path, "s.db")
    before = contents(store)
    broken = ticket_file(tmp_path / "q.csv", 80, bad={60: 'W-59,"never closed,Body'})
    no_column = tmp_path / "c.csv"
    no_column.write_text("external_id,body,customer_email\nA,b,a@example.org\n",
                         encoding="utf-8")
    not_utf8 = tmp_path / "u.csv"
    not_utf8.write_bytes(ticket_file(tmp_path / "x.csv", 60).read_bytes() + b"W-99,\xff,b,\n")
    for path, what in ((broken, "expected after"), (no_column, "no column 'subject'"),
                       (not_utf8, "not UTF-8")):
        with pytest.raises(Invalid, match=what) as alone:
            in_process(monkeypatch, lambda p=path: import_file(store, ADMIN, kind="tickets",
                                                               path=p, batch_size=10))
        with pytest.raises(Invalid, match=what) as forked:
            import_file(store, ADMIN, kind="tickets", path=path, batch_size=10)
        assert (forked.value.field, forked.value.message) == (alone.value.field,
                                                              alone.value.message)
    assert contents(store) == before
    assert len(forks) == 3 and all(reaped(pid) for pid in forks)
    store.dispose()


def test_a_map_rule_matched_in_the_child_is_not_reported_unused(tmp_path: Path,
                                                               forks: list[int]) -> None:
    store = new_store(tmp_path, "s.db")
    path = ticket_file(tmp_path / "t.csv", 40)
    report: ImportReport = import_file(store, ADMIN, kind="tickets", path=path, maps=[
        "Satisfaction=", "Nothing Like This=subject"])
    assert report.committed and forks
    assert report.warnings == ["--map 'Nothing Like This=subject' matched no column of t.csv"]
    store.dispose()


def test_small_files_busy_machines_and_threaded_processes_read_in_process(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    started: list[object] = []
    monkeypatch.setattr(worker, "Forked", lambda *a, **k: started.append(a))
    store = new_store(tmp_path, "s.db")
    path = ticket_file(tmp_path / "t.csv", 50)
    assert path.stat().st_size < worker.FORK_AT_BYTES
    assert import_file(store, ADMIN, kind="tickets", path=path).committed
    monkeypatch.setattr(worker, "FORK_AT_BYTES", 0)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert not worker.spare_core()  # another process keeps a core of two busy
    assert import_file(store, ADMIN, kind="tickets", path=path).committed
    monkeypatch.setattr(os, "getloadavg", lambda: (0.6, 1.0, 1.0))
    assert worker.spare_core()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not worker.can_fork()  # a fork would copy only this thread
        report = import_file(store, ADMIN, kind="tickets", path=path)
    finally:
        stop.set()
        other.join()
    assert report.committed and report.unchanged == 50 and not started
    store.dispose()


def test_prepared_event_text_is_what_the_event_encoder_writes() -> None:
    """``prepare`` writes the ``ticket.imported`` JSON by hand; it must be ``encode_diff``'s."""
    from datetime import UTC, datetime, timedelta

    from agent_tui.domain.enums import Channel, Priority, Status
    from agent_tui.services.importing.records import CustomerRef, Lookups, TicketRecord
    from agent_tui.services.importing.writes import encode_diff, sqlite_stamp

    lookups = Lookups(teams={}, agents={}, team_names={1: 'Bill"ing\\'},
                      agent_logins={2: "ada", 3: "zoë\u2028"})
    texts = ["plain", 'quote " and \\ back', "tab\tnew\nline\x01", "送货 café 😀", "</script>",
             "\u202eevil", ""]
    checked = 0
    for i in range(120):
        text = texts[i % len(texts)]
        at = datetime(2024, 3, 1, 9, 15, tzinfo=UTC) + timedelta(seconds=7 * i, microseconds=i % 3)
        record = TicketRecord(
            line=i + 2, given=frozenset(), external_id=f"X-{text}-{i}", subject=text or "s",
            body="b", customer=CustomerRef(email="a@example.org"),
            status=(None, *Status)[i % 7], priority=(None, *map(int, Priority))[i % 5],
            channel=(None, *Channel)[i % 7], team_id=(None, 1)[i % 2],
            assignee_id=(None, 2, 3)[i % 3], tags=[t for t in ("vip", text) if t][: i % 3],
            category=(None, text)[i % 2], product=(text, None)[i % 2], created_at=at)
        ticket, _message, head, tail, _fact = tickets.prepare(record, at, sqlite_stamp, lookups)
        status = (record.status or Status.NEW).value
        for cid in (1, 4711, None):
            expected = encode_diff({"after": {
                "assignee": lookups.agent_logins.get(record.assignee_id or 0),
                "category": record.category, "channel": ticket[0],
                "created_at": at.isoformat(), "customer_id": cid,
                "external_id": record.external_id,
                "priority": Priority(ticket[3]).label, "product": record.product,
                "status": status, "subject": record.subject, "tags": " ".join(record.tags),
                "team": lookups.team_names.get(record.team_id or 0)}})
            assert f"{head}{'null' if cid is None else cid}{tail}" == expected
            checked += 1
    assert checked == 360


def test_the_child_reads_with_the_encoding_and_date_order_of_the_import(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    """``--encoding`` and ``--date-order`` are set for the import (context variables):
    the forked child reads the file as the writer would."""
    from agent_tui.services.importing.fields import numeric_dates
    from agent_tui.services.importing.source import file_encoding

    lines = ["external_id;subject;body;customer_email;created_at"] + [
        f"E-{i};Caf\u00e9 {i};Na\u00efve \u00fcber {i};c{i % 9}@example.org;"
        f"{1 + i % 28:02d}/{1 + i % 12:02d}/2024 10:{i % 60:02d}" for i in range(200)]
    path = tmp_path / "cp1252.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    alone, forked = new_store(tmp_path, "alone.db"), new_store(tmp_path, "forked.db")
    with file_encoding("cp1252"), numeric_dates("dmy"):
        one = in_process(monkeypatch, lambda: import_file(alone, ADMIN, kind="tickets",
                                                          path=path, batch_size=30))
        assert not forks
        two = import_file(forked, ADMIN, kind="tickets", path=path, batch_size=30)
    assert forks and one.committed and two.committed and one.created == two.created == 200
    assert contents(alone) == contents(forked)
    with forked.read() as s:
        subject, created = s.execute(sa.text(
            "SELECT subject, created_at FROM ticket WHERE external_id = 'E-13'")).one()
    assert subject == "Caf\u00e9 13" and str(created).startswith("2024-02-14")  # 14/02: dmy
    alone.dispose()
    forked.dispose()


def test_the_cli_with_its_progress_bar_still_forks(tmp_path: Path, forks: list[int],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich's auto-refresh thread would make the process multi-threaded, and a
    # process with threads reads in process (worker.can_fork).
    from io import StringIO

    from rich.console import Console
    from typer.testing import CliRunner

    from agent_tui.cli import app
    from agent_tui.cli import io as cli_io

    screen = StringIO()
    monkeypatch.setattr(cli_io, "err_console", Console(file=screen, force_terminal=True,
                                                       width=100))
    store = new_store(tmp_path, "cli.db")
    try:
        path = ticket_file(tmp_path / "t.csv", 200)
        result = CliRunner().invoke(app, ["import", "tickets", str(path), "--db", store.url])
        assert result.exit_code == 0, result.output
        assert "importing" in screen.getvalue()  # the bar was drawn
        assert len(forks) == 1 and reaped(forks[0])
    finally:
        store.dispose()
