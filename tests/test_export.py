"""``agent-tui export``: streaming CSV/JSONL whose columns re-import cleanly.

Round trips on SQLite and PostgreSQL: an export re-imported into the same
store changes nothing, and into another store gives the same counts.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from agent_tui.cli import app
from agent_tui.domain.enums import Channel
from agent_tui.domain.views import TicketCreate
from agent_tui.services import exporting, tickets
from agent_tui.services.importing import import_file
from agent_tui.store import Store
from tests.conftest import ADMIN, World, migrated, new_pg_database, seed_world

DATA = Path(__file__).parent / "data"
ENTITY_TABLES = {"customers": "customer", "orders": "customer_order", "tickets": "ticket",
                 "kb": "knowledge_article"}
# Customers first so that orders and tickets find them by e-mail or phone.
ORDER = ("customers", "orders", "tickets", "kb")


def count(store: Store, table: str) -> int:
    with store.read() as s:
        return int(s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def cli(store: Store, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--db", store.url])


def populate(store: Store) -> int:
    """Imported rows of every kind, plus a ticket made in the app (no external id)."""
    for kind, name in (("tickets", "tickets.csv"), ("customers", "customers.csv"),
                       ("orders", "orders.csv"), ("kb", "kb.jsonl")):
        report = import_file(store, ADMIN, kind=kind, path=DATA / name)
        assert report.committed, [str(e) for e in report.errors]
    with store.write() as s:
        made = tickets.create(s, ADMIN, TicketCreate(
            subject='Quotes "and", commas', body='Line one, "quoted"\nline two\n\n[/] end',
            channel=Channel.CHAT, customer_email="zed@example.com", customer_name="Zed, Z.",
            tags=["app-made"], team="tech"))
        tickets.reply(s, ADMIN, made.id, "A reply that is not the first message.")
    return made.id


@pytest.fixture
def other_store(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    """A second, seeded store on the same kind of database."""
    if store_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'other.db'}"
    else:
        url = new_pg_database(request.getfixturevalue("pg_server"))
    store = migrated(url)
    seed_world(store)
    return store


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_reimport_into_the_same_store_changes_nothing(
        world: World, tmp_path: Path, fmt: str) -> None:
    store = world.store
    populate(store)
    for kind in ORDER:
        out = tmp_path / f"{kind}.{fmt}"
        result = cli(store, "export", kind, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert f"Exported {count(store, ENTITY_TABLES[kind])} {kind}" in result.stderr
        events_before = count(store, "event")
        report = import_file(store, ADMIN, kind=kind, path=out)
        assert report.committed, [str(e) for e in report.errors]
        assert report.warnings == []
        assert (report.created, report.updated) == (0, 0), kind
        assert report.unchanged == count(store, ENTITY_TABLES[kind])
        assert count(store, "event") == events_before + 1  # import.completed only


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_into_another_store_gives_equal_counts(world: World, other_store: Store,
                                                       tmp_path: Path, fmt: str) -> None:
    store = world.store
    made = populate(store)
    for kind in ORDER:
        out = tmp_path / f"{kind}.{fmt}"
        assert cli(store, "export", kind, "--out", str(out)).exit_code == 0
        report = import_file(other_store, ADMIN, kind=kind, path=out)
        assert report.committed, [str(e) for e in report.errors]
        table = ENTITY_TABLES[kind]
        assert count(other_store, table) == count(store, table), kind
    # The app-made ticket keeps a stable key in the other store ...
    with other_store.read() as s:
        subject, body, name = s.execute(sa.text(
            "SELECT t.subject, m.body, c.name FROM ticket t JOIN message m "
            "ON m.ticket_id = t.id JOIN customer c ON c.id = t.customer_id "
            "WHERE t.external_id = :e"), {"e": f"agent-tui:{made}"}).one()
    assert (subject, body, name) == ('Quotes "and", commas',
                                     'Line one, "quoted"\nline two\n\n[/] end', "Zed, Z.")
    # ... so that importing the same export there again changes nothing.
    for kind in ORDER:
        again = import_file(other_store, ADMIN, kind=kind, path=tmp_path / f"{kind}.{fmt}")
        assert (again.created, again.updated) == (0, 0), kind


def test_csv_export_quotes_newlines_commas_and_quotes(world: World) -> None:
    store = world.store
    made = populate(store)
    result = cli(store, "export", "tickets")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout, newline=""))
    assert tuple(reader.fieldnames or ()) == exporting.EXPORT_COLUMNS["tickets"]
    got = {row["external_id"]: row for row in reader}
    mine = got[f"agent-tui:{made}"]
    assert mine["body"] == 'Line one, "quoted"\nline two\n\n[/] end'  # the first message
    assert (mine["customer_name"], mine["team"], mine["tags"], mine["channel"]) == (
        "Zed, Z.", "tech", "app-made", "chat")
    assert got["T-3"]["customer_email"] == "" and got["T-3"]["customer_phone"] == "+15550109999"
    assert got["T-1"]["priority"] == "high" and got["T-1"]["assignee"] == "bob"
    assert got["T-1"]["created_at"] == "2024-03-01T09:15:00+00:00"
    assert [int(r["id"]) for r in got.values()] == sorted(int(r["id"]) for r in got.values())


def test_events_export_is_valid_jsonl(world: World, tmp_path: Path) -> None:
    store = world.store
    populate(store)
    total = count(store, "event")
    result = cli(store, "export", "events", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == total
    parsed = [json.loads(line) for line in lines]
    assert all(tuple(p) == exporting.EXPORT_COLUMNS["events"] for p in parsed)
    seqs = [p["seq"] for p in parsed]
    assert seqs == sorted(seqs) and len(set(seqs)) == total
    assert all(isinstance(p["diff"], dict) for p in parsed)
    imported = [p for p in parsed if p["kind"] == "ticket.imported"]
    assert {p["diff"]["after"]["external_id"] for p in imported} == {"T-1", "T-2", "T-3", "T-4"}
    assert "退款政策" in result.stdout  # ensure_ascii=False: text as written
    # The export itself is audited, after the rows it wrote.
    assert count(store, "event") == total + 1
    out = tmp_path / "events.csv"
    assert cli(store, "export", "events", "-o", str(out)).exit_code == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == total + 1 and rows[-1]["kind"] == "export.completed"
    assert json.loads(rows[-1]["diff"]) == {"format": "jsonl", "kind": "events",
                                            "rows": total, "target": "stdout"}


def test_export_streams_in_batches_in_id_order(world: World) -> None:
    store = world.store
    populate(store)
    with store.read() as s:
        pages = list(exporting.iter_batches(s, "tickets", batch_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    ids = [row["id"] for page in pages for row in page]
    assert ids == sorted(ids) and len(ids) == count(store, "ticket")


def test_export_refuses_unknown_kinds_and_formats(world: World, tmp_path: Path) -> None:
    bad_kind = cli(world.store, "export", "agents")
    assert bad_kind.exit_code == 2 and "unknown kind 'agents'" in bad_kind.stderr
    out = tmp_path / "out"
    out.mkdir()
    bad_format = cli(world.store, "export", "tickets", "--format", "xml",
                     "--out", str(out / "t.xml"))
    assert bad_format.exit_code == 1 and "unknown format 'xml'" in bad_format.stderr
    assert list(out.iterdir()) == []


def test_a_failed_export_leaves_no_file(world: World, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    populate(world.store)

    def broken(session: Any, batch_size: int) -> Any:
        yield [{c: "x" for c in exporting.EXPORT_COLUMNS["kb"]}]
        raise OSError("No space left on device")

    monkeypatch.setitem(exporting._SOURCES, "kb", broken)
    out = tmp_path / "out"
    out.mkdir()
    result = cli(world.store, "export", "kb", "--out", str(out / "kb.csv"))
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    assert list(out.iterdir()) == []
