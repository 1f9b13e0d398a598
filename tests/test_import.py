"""``agent-tui import``: validation with line numbers, all-or-nothing, --skip-bad,
--dry-run, idempotence, updates in place, --map for foreign exports, the
other kinds, and hostile text. On SQLite and PostgreSQL (``world``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from agent_tui.cli import app
from agent_tui.domain.enums import Priority, Status
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import Ticket
from agent_tui.services.importing import import_file
from agent_tui.store import Store
from tests.conftest import ADMIN, World

DATA = Path(__file__).parent / "data"
TABLES = ("ticket", "customer", "identity", "message", "ticket_tag", "organization",
          "customer_order", "knowledge_article", "event")

FRESHDESK_MAPS = [
    "Ticket ID=external_id", "Ticket Subject=subject", "Description=body",
    "Source=channel", "Requester Email=customer_email", "Requester Name=customer_name",
    "Group=team", "Agent=assignee", "Created time=created_at",
    "status:Resolved=solved", "status:Waiting on Customer=pending",
    "priority:Medium=normal", "channel:Portal=web", "channel:Twitter=social",
    "team:Technical Support=tech",
]


def counts(store: Store) -> dict[str, int]:
    with store.read() as s:
        return {t: int(s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in TABLES}


def rows(store: Store, sql: str, **params: Any) -> list[Any]:
    with store.read() as s:
        return list(s.execute(sa.text(sql), params).all())


def events(store: Store, kind: str) -> list[dict[str, Any]]:
    return [json.loads(d) for (d,) in rows(store, "SELECT diff FROM event WHERE kind = :k "
                                                  "ORDER BY seq", k=kind)]


def cli(store: Store, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--db", store.url])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# -- all or nothing -----------------------------------------------------------


def test_bad_row_rolls_back_everything_and_names_its_line(world: World) -> None:
    store = world.store
    before = counts(store)
    result = cli(store, "import", "tickets", str(DATA / "tickets_bad_multiline.csv"))
    assert result.exit_code == 1
    # T-1's body spans lines 2-4, so T-3 (the bad priority) starts on line 6.
    assert "line 6: priority: unknown value 'Critical'" in result.stderr
    assert "nothing was imported" in result.stderr
    assert "--skip-bad" in result.stderr
    assert counts(store) == before


def test_bad_row_found_by_the_service_is_reported_with_every_line(world: World,
                                                                 tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "\n".join([
        "external_id,subject,body,customer_email,created_at,team,assignee",
        "A-1,Fine,ok,a@example.com,2024-01-01,,",
        "A-2,Bad mail,ok,not-an-address,2024-01-01,,",
        'A-3,"Two',
        'lines",ok,b@example.com,last tuesday,,',
        "A-4,,ok,c@example.com,,nosuchteam,nobody",
        ",No id,ok,d@example.com,,,",
        "A-1,Again,ok,a@example.com,,,",
    ]) + "\n")
    before = counts(world.store)
    report = import_file(world.store, ADMIN, kind="tickets", path=path)
    assert not report.ok and not report.committed
    got = {(e.line, e.column) for e in report.errors}
    assert got == {(3, "customer_email"), (4, "created_at"), (6, "subject"), (6, "team"),
                   (6, "assignee"), (7, "external_id"), (8, "external_id")}
    messages = {str(e) for e in report.errors}
    assert "line 4: created_at: not a date: 'last tuesday' (write it as ISO 8601, e.g. " \
           "2024-03-01T09:15:00Z)" in messages
    assert any(m.startswith("line 7: external_id: required: tickets are matched by "
                            "external_id") for m in messages)
    assert "line 8: external_id: 'A-1' is also on line 2; each row must be a different " \
           "ticket" in messages
    assert report.skipped == 5
    assert counts(world.store) == before


def test_skip_bad_keeps_the_good_rows_and_reports_the_bad_line(world: World) -> None:
    store = world.store
    result = cli(store, "import", "tickets", str(DATA / "tickets_bad_multiline.csv"),
                 "--skip-bad")
    assert result.exit_code == 0, result.output
    assert "line 6: priority: unknown value 'Critical'" in result.stderr
    assert "3 created" in result.stdout and "1 skipped as bad" in result.stdout
    assert sorted(r[0] for r in rows(store, "SELECT external_id FROM ticket")) == [
        "T-1", "T-2", "T-4"]
    body = rows(store, "SELECT m.body FROM message m JOIN ticket t ON t.id = m.ticket_id "
                       "WHERE t.external_id = 'T-1'")[0][0]
    assert body == 'It started smoking.\nThen it beeped twice,\n"then" it stopped.'
    (summary,) = events(store, "import.completed")
    assert summary["skipped"] == 1 and summary["created"] == 3
    assert summary["file"] == "tickets_bad_multiline.csv" and summary["kind"] == "tickets"


def test_dry_run_writes_nothing_not_even_events(world: World) -> None:
    store = world.store
    before = counts(store)
    result = cli(store, "import", "tickets", str(DATA / "tickets.csv"), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["committed"] is False
    assert report["created"] == 4 and report["customers_created"] == 3
    assert counts(store) == before
    # A dry run over bad rows says so and fails like the real import would.
    result = cli(store, "import", "tickets", str(DATA / "tickets_bad_multiline.csv"),
                 "--dry-run")
    assert result.exit_code == 1
    assert "line 6: priority" in result.stderr and "Dry run, nothing written" in result.stdout
    assert counts(store) == before


# -- what gets written ----------------------------------------------------------


def test_import_writes_tickets_customers_messages_tags_and_events(world: World) -> None:
    store = world.store
    result = cli(store, "import", "tickets", str(DATA / "tickets.csv"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["created"], report["updated"], report["customers_created"]) == (4, 0, 3)
    assert report["rows_per_second"] > 0
    got = {r.external_id: r for r in rows(store, """
        SELECT t.external_id, t.subject, t.status, t.priority, t.channel, t.is_open, t.tags,
               t.category, t.product, t.created_at, t.updated_at, c.name, c.email, c.phone,
               tm.name AS team, a.login AS assignee
        FROM ticket t JOIN customer c ON c.id = t.customer_id
        LEFT JOIN team tm ON tm.id = t.team_id LEFT JOIN agent a ON a.id = t.assignee_id""")}
    t1, t3, t4 = got["T-1"], got["T-3"], got["T-4"]
    assert (t1.status, t1.priority, t1.channel, t1.team, t1.assignee) == (
        "open", int(Priority.HIGH), "email", "tech", "bob")
    assert (t1.tags, t1.category, t1.product) == ("hardware smoke", "hardware", "LaserJet 5")
    assert (t3.status, bool(t3.is_open), t3.priority) == ("solved", False, int(Priority.URGENT))
    assert (t3.email, t3.phone, t3.name) == (None, "+15550109999", "Dan Dunn")
    assert t4.channel == "app" and t4.status == Status.PENDING.value
    assert t4.email == "ann@example.com" and got["T-1"].email == "ann@example.com"
    with store.read() as s:
        stamps = s.execute(sa.select(Ticket.created_at, Ticket.updated_at)  # type: ignore[call-overload]
                           .where(Ticket.external_id == "T-4")).one()
    assert set(stamps) == {datetime(2024, 3, 4, 6, 0, tzinfo=UTC)}  # +02:00 kept as UTC
    assert sorted(r[0] for r in rows(store, "SELECT tag FROM ticket_tag")) == [
        "hardware", "refund", "smoke"]
    assert len(rows(store, "SELECT id FROM identity WHERE channel = 'phone'")) == 1
    imported = events(store, "ticket.imported")
    assert sorted(e["after"]["external_id"] for e in imported) == ["T-1", "T-2", "T-3", "T-4"]
    assert len(events(store, "customer.created")) == 3
    sources = {r[0] for r in rows(store, "SELECT source FROM event WHERE kind LIKE '%.imported' "
                                         "OR kind = 'import.completed'")}
    assert sources == {"cli"}


def test_importing_the_same_file_twice_does_not_duplicate(world: World) -> None:
    store = world.store
    path = str(DATA / "tickets.csv")
    assert cli(store, "import", "tickets", path).exit_code == 0
    after_first = counts(store)
    result = cli(store, "import", "tickets", path, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 4)
    assert "customers_created" not in report
    second = counts(store)
    assert second["event"] == after_first["event"] + 1  # only import.completed
    assert {k: v for k, v in second.items() if k != "event"} == {
        k: v for k, v in after_first.items() if k != "event"}


def test_a_changed_row_updates_in_place_with_an_updated_event(world: World,
                                                             tmp_path: Path) -> None:
    store = world.store
    original = (DATA / "tickets.csv").read_text(encoding="utf-8")
    assert cli(store, "import", "tickets", str(DATA / "tickets.csv")).exit_code == 0
    (tid, version), = rows(store, "SELECT id, version FROM ticket WHERE external_id = 'T-2'")
    changed = original.replace(
        "T-2,Refund please,\"Please refund order 1001, thanks.\",new,normal,web,cat@example.com,"
        "Cat Cole,,billing,,refund,",
        "T-2,Refund please (again),\"Please refund order 1001, thanks.\",solved,high,web,"
        "cat@example.com,Cat Cole,,tech,alice,\"refund, angry\",")
    assert changed != original
    path = write(tmp_path, "tickets.csv", changed)
    result = cli(store, "import", "tickets", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 3)
    (row,) = rows(store, "SELECT id, version, subject, status, is_open, priority, tags "
                         "FROM ticket WHERE external_id = 'T-2'")
    assert row.id == tid and row.version == version + 1
    assert (row.subject, row.status, bool(row.is_open), row.priority, row.tags) == (
        "Refund please (again)", "solved", False, int(Priority.HIGH), "angry refund")
    assert sorted(r[0] for r in rows(store, "SELECT tag FROM ticket_tag WHERE ticket_id = :t",
                                     t=tid)) == ["angry", "refund"]
    (update,) = events(store, "ticket.updated")
    assert update["before"] == {"subject": "Refund please", "status": "new",
                                "priority": "normal", "tags": "refund", "team": "billing",
                                "assignee": None, "version": version}
    assert update["after"] == {"subject": "Refund please (again)", "status": "solved",
                               "priority": "high", "tags": "angry refund", "team": "tech",
                               "assignee": "alice", "version": version + 1}
    assert update["external_id"] == "T-2"


def test_map_renames_columns_and_maps_values_of_a_foreign_export(world: World) -> None:
    store = world.store
    args = ["import", "tickets", str(DATA / "tickets_freshdesk.csv")]
    renames = ["import", "tickets", str(DATA / "tickets_freshdesk.csv")]
    for rule in FRESHDESK_MAPS:
        args += ["--map", rule]
        if ":" not in rule:
            renames += ["--map", rule]
    # Without the value maps, a foreign value is a bad row that says how to map it;
    # the words every help desk uses (Resolved, Waiting on Customer, Portal,
    # Twitter) are understood as they are.
    bare = cli(store, *renames)
    assert bare.exit_code == 1
    assert "line 4: priority: unknown value 'Medium'" in bare.stderr
    assert '--map "priority:Medium=VALUE"' in bare.stderr
    assert "Resolved" not in bare.stderr and "Portal" not in bare.stderr
    result = cli(store, *args)
    assert result.exit_code == 0, result.output
    assert "warning: column 'Satisfaction' is not a tickets column" in result.stderr
    assert "warning: --map" not in result.stderr
    got = {r.external_id: r for r in rows(store, """
        SELECT t.external_id, t.status, t.priority, t.channel, tm.name AS team,
               a.login AS assignee, t.tags, c.email
        FROM ticket t JOIN customer c ON c.id = t.customer_id
        LEFT JOIN team tm ON tm.id = t.team_id LEFT JOIN agent a ON a.id = t.assignee_id""")}
    assert set(got) == {"FD-1001", "FD-1002", "FD-1003", "FD-1004", "FD-1005"}
    assert [(got[k].status, got[k].priority, got[k].channel) for k in sorted(got)] == [
        ("open", 3, "email"), ("pending", 2, "web"), ("solved", 1, "phone"),
        ("closed", 4, "social"), ("pending", 1, "chat")]
    assert got["FD-1001"].team == "billing" and got["FD-1001"].assignee == "alice"
    assert got["FD-1002"].team == "tech" and got["FD-1002"].assignee == "bob"
    assert got["FD-1001"].tags == "billing double-charge"
    assert rows(store, "SELECT count(*) FROM customer WHERE email = 'erin@example.com'")[0][0] == 1


def test_tickets_from_jsonl_report_json_and_field_errors_by_line(world: World) -> None:
    report = import_file(world.store, ADMIN, kind="tickets", path=DATA / "tickets.jsonl",
                         skip_bad=True)
    assert report.committed and report.created == 2 and report.skipped == 2
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "-"), (3, "customer_email"), (3, "created_at")]
    assert report.errors[0].message.startswith("not valid JSON")
    (j1,) = rows(world.store, "SELECT priority, channel, tags FROM ticket "
                              "WHERE external_id = 'J-1'")
    assert tuple(j1) == (3, "chat", "late order")
    (j4,) = rows(world.store, "SELECT c.phone FROM ticket t JOIN customer c "
                              "ON c.id = t.customer_id WHERE t.external_id = 'J-4'")
    assert j4[0] == "+15550107777"


def test_a_file_without_a_required_column_is_refused_with_a_hint(world: World,
                                                                tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "Ticket ID,subject,body,customer_email\nX,a,b,c@d.ef\n")
    with pytest.raises(Invalid, match=r"no column 'external_id'.*--map \"COLUMN=external_id\""):
        import_file(world.store, ADMIN, kind="tickets", path=path)
    result = cli(world.store, "import", "tickets", str(path))
    assert result.exit_code == 1 and "error: file: line 1: no column 'external_id'" in \
        result.stderr
    bad_map = cli(world.store, "import", "tickets", str(path), "--map", "Ticket ID=ticket_no")
    assert bad_map.exit_code == 1 and "tickets have no column 'ticket_no'" in bad_map.stderr
    quoted = write(tmp_path, "q.csv", 'external_id,subject,body,customer_email\n'
                                      'X,"open quote,b,c@d.ef\n')
    with pytest.raises(Invalid, match="line 2"):
        import_file(world.store, ADMIN, kind="tickets", path=quoted)


def test_a_shared_phone_finds_the_customer_created_for_it_as_row_by_row(
        world: World, tmp_path: Path) -> None:
    """``find_or_create`` row by row: a row with an unknown e-mail and a phone that an
    earlier row's new customer has is that customer. The dry run and the import agree,
    in the same batch and across batches (it used to differ: 31,628 against 31,620)."""
    from agent_tui.services import customers

    lines = ["external_id,subject,body,customer_email,customer_phone"]
    plan = [("a", "+15550001"), ("b", "+15550001"), ("c", ""), ("d", "+15550002"),
            ("", "+15550002"), ("e", "+15550001"), ("f", "+15550003"), ("a", "+15550009"),
            ("g", "+15550003"), ("", "+15550004"), ("h", "+15550004")]
    for i, (who, phone) in enumerate(plan):
        email = f"{who}@example.com" if who else ""
        lines.append(f"P-{i},Subject {i},Body {i},{email},{phone}")
    path = write(tmp_path, "phones.csv", "\n".join(lines) + "\n")
    # What one find_or_create per row gives, in a throwaway transaction.
    expected: list[int] = []
    with world.store.write() as s:
        for who, phone in plan:
            cust, _created = customers.find_or_create(
                s, ADMIN, email=f"{who}@example.com" if who else None, phone=phone or None)
            assert cust.id is not None
            expected.append(cust.id)
        s.rollback()
    distinct = len(set(expected))
    for batch_size in (3, 1000):  # across batches, then all in one
        dry = import_file(world.store, ADMIN, kind="tickets", path=path, dry_run=True,
                          batch_size=batch_size)
        assert dry.also == {"customers_created": distinct}, batch_size
    before = counts(world.store)
    report = import_file(world.store, ADMIN, kind="tickets", path=path, batch_size=3)
    assert report.committed and report.also == {"customers_created": distinct} == {
        "customers_created": 5}
    assert counts(world.store)["customer"] - before["customer"] == distinct
    owners = [r[0] for r in rows(world.store, "SELECT customer_id FROM ticket WHERE "
                                              "external_id LIKE 'P-%' ORDER BY id")]
    first = {cid: i for i, cid in reversed(list(enumerate(expected)))}
    assert [first[c] for c in expected] == [owners.index(o) for o in owners]


# -- other kinds ------------------------------------------------------------------


def test_customers_orders_and_kb_import_idempotently(world: World) -> None:
    store = world.store
    r1 = import_file(store, ADMIN, kind="customers", path=DATA / "customers.csv")
    assert (r1.created, r1.also) == (3, {"organizations_created": 1})
    custs = {r.external_id: r for r in rows(store, """
        SELECT c.external_id, c.name, c.email, c.phone, c.tier, c.language, o.name AS org
        FROM customer c LEFT JOIN organization o ON o.id = c.organization_id""")}
    assert tuple(custs["C-1"])[1:] == ("Ann Archer", "ann@example.com", "+442079460958",
                                       "gold", "en", "Acme Ltd")
    assert custs["C-2"].email == "ben@example.com" and custs["C-2"].language == "pt-br"
    assert custs["C-3"].tier == "vip" and custs["C-3"].name == "Chen Wei 陈伟"

    r2 = import_file(store, ADMIN, kind="orders", path=DATA / "orders.csv")
    assert (r2.created, r2.also) == (3, {"customers_created": 1})
    orders = {r.external_id: r for r in rows(store, """
        SELECT o.external_id, o.amount_cents, o.currency, o.items, o.status, c.external_id AS c
        FROM customer_order o JOIN customer c ON c.id = o.customer_id""")}
    assert (orders["O-1"].amount_cents, orders["O-1"].currency, orders["O-1"].c) == (
        123450, "EUR", "C-1")
    assert json.loads(orders["O-1"].items) == ["Kettle", "Toaster"]
    assert json.loads(orders["O-2"].items) == ["Mug"] and orders["O-2"].amount_cents == 1999
    assert orders["O-3"].c is None  # a customer created from the order's e-mail

    r3 = import_file(store, ADMIN, kind="kb", path=DATA / "kb.jsonl")
    assert r3.created == 3
    kb = {r.external_id: r for r in rows(store, "SELECT external_id, title, tags, locale, "
                                                "status, body FROM knowledge_article")}
    assert (kb["KB-1"].tags, kb["KB-1"].locale) == ("account password", "en")
    assert kb["KB-1"].body == "Go to Settings → Security.\nPress Reset."
    assert (kb["KB-2"].title, kb["KB-2"].tags, kb["KB-2"].status) == (
        "退款政策", "billing refund", "published")
    assert kb["KB-3"].status == "draft"
    assert len(events(store, "customer.imported")) == 3
    assert len(events(store, "order.imported")) == 3
    assert len(events(store, "kb.imported")) == 3

    before = counts(store)
    for kind, name in (("customers", "customers.csv"), ("orders", "orders.csv"),
                       ("kb", "kb.jsonl")):
        again = import_file(store, ADMIN, kind=kind, path=DATA / name)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3), kind
    assert counts(store)["customer"] == before["customer"]
    assert counts(store)["event"] == before["event"] + 3


def test_kb_update_bumps_the_version(world: World, tmp_path: Path) -> None:
    store = world.store
    import_file(store, ADMIN, kind="kb", path=DATA / "kb.jsonl")
    path = write(tmp_path, "kb.csv", "external_id,title,body,status\n"
                                     "KB-3,Draft article,Finished now,published\n")
    report = import_file(store, ADMIN, kind="kb", path=path)
    assert (report.created, report.updated) == (0, 1)
    (row,) = rows(store, "SELECT version, status, body FROM knowledge_article "
                         "WHERE external_id = 'KB-3'")
    assert tuple(row) == (2, "published", "Finished now")
    (update,) = events(store, "kb.updated")
    assert update["before"]["status"] == "draft" and update["after"]["version"] == 2


def test_customer_rows_adopt_customers_that_tickets_created(world: World,
                                                          tmp_path: Path) -> None:
    store = world.store
    import_file(store, ADMIN, kind="tickets", path=DATA / "tickets.csv")
    (ann_id,) = rows(store, "SELECT id FROM customer WHERE email = 'ann@example.com'")[0]
    report = import_file(store, ADMIN, kind="customers", path=DATA / "customers.csv")
    assert (report.created, report.updated) == (2, 1)
    (ann,) = rows(store, "SELECT id, external_id, tier FROM customer "
                         "WHERE email = 'ann@example.com'")
    assert tuple(ann) == (ann_id, "C-1", "gold")
    # An address that already belongs to another customer is a bad row.
    clash = write(tmp_path, "c.csv", "external_id,name,email\nC-9,Impostor,ann@example.com\n")
    bad = import_file(store, ADMIN, kind="customers", path=clash)
    assert [str(e) for e in bad.errors] == [
        f"line 2: email: ann@example.com belongs to customer #{ann_id} (external_id 'C-1')"]


def test_amounts_dates_and_vocabularies_are_checked(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "o.csv", "\n".join([
        "external_id,customer_email,number,amount,currency,created_at",
        "O-1,a@example.com,1,12.345,USD,2024-01-01",
        "O-2,a@example.com,2,twelve,USD,2024-01-01",
        "O-3,a@example.com,3,12,dollars,2024-13-01",
        "O-4,a@example.com,4,-0.50,usd,2024-01-01T10:00:00",
    ]) + "\n")
    report = import_file(world.store, ADMIN, kind="orders", path=path, dry_run=True)
    assert [str(e) for e in report.errors] == [
        "line 2: amount: more than 2 decimal places: '12.345'",
        "line 3: amount: not an amount: 'twelve' (e.g. 1234.50)",
        "line 4: currency: not a 3-letter currency code: 'DOLLARS' (e.g. USD, EUR)",
        "line 4: created_at: not a date: '2024-13-01' (write it as ISO 8601, e.g. "
        "2024-03-01T09:15:00Z)",
    ]
    assert report.created == 1
    tiers = write(tmp_path, "c.csv", "email,tier\nx@example.com,Platinum\n")
    report = import_file(world.store, ADMIN, kind="customers", path=tiers, dry_run=True)
    assert str(report.errors[0]) == ("line 2: tier: unknown value 'Platinum' (use standard, "
                                     "gold, vip, or map it: --map \"tier:Platinum=VALUE\")")


# -- hostile text -------------------------------------------------------------------


def test_hostile_text_in_a_csv_is_stored_cleaned(world: World, tmp_path: Path) -> None:
    store = world.store
    esc, osc52, bidi = "\x1b[31m", "\x1b]52;c;SGVsbG8=\x07", "\u202e"
    path = write(tmp_path, "evil.csv",
                 f"external_id,subject,body,customer_email,customer_name,tags,Note{osc52}\n"
                 f'E-1,"[/] {esc}Red{esc} [bold]x{bidi}yz","Hi{osc52} there\r\n'
                 f'[link=https://evil]click[/link]\x00\x7f",'
                 f'evil@example.com,"Eve{esc}\tEvil{bidi}",[/],x\n')
    report = import_file(store, ADMIN, kind="tickets", path=path)
    assert report.committed, [str(e) for e in report.errors]
    assert report.warnings[0].startswith("column 'Note]52;c;SGVsbG8=' is not a tickets column")
    (row,) = rows(store, "SELECT t.subject, m.body, c.name, t.tags FROM ticket t "
                         "JOIN message m ON m.ticket_id = t.id "
                         "JOIN customer c ON c.id = t.customer_id")
    subject, body, name, tags = row
    assert subject == "[/] [31mRed[31m [bold]xyz"
    assert body == "Hi]52;c;SGVsbG8= there\n[link=https://evil]click[/link]"
    assert name == "Eve[31m Evil"
    assert tags == ""  # "[/]" is no tag
    for text in (subject, body, name):
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
        assert "\r" not in text and "\x00" not in text


def test_a_long_list_of_bad_rows_is_capped_with_a_count(world: World, tmp_path: Path) -> None:
    lines = ["external_id,subject,body,customer_email,priority"]
    lines += [f"X-{i},Subject,Body,x{i}@example.com,Critical" for i in range(60)]
    lines += ["X-60,Subject,Body,ok@example.com,low"]
    path = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    result = cli(world.store, "import", "tickets", str(path))
    assert result.exit_code == 1
    listed = [ln for ln in result.stderr.splitlines() if ln.startswith("line ")]
    assert len(listed) == 50 and listed[0].startswith("line 2: priority:")
    assert "... and 10 more problems not listed" in result.stderr
    assert "60 bad rows in many.csv; nothing was imported" in result.stderr
    assert "import the other 1 row." in result.stderr
    assert counts(world.store)["ticket"] == 0


def test_progress_bar_runs_through_both_passes(world: World, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from io import StringIO

    from rich.console import Console

    from agent_tui.cli import io as cli_io

    screen = StringIO()
    monkeypatch.setattr(cli_io, "err_console", Console(file=screen, force_terminal=True,
                                                       width=100))
    result = cli(world.store, "import", "tickets", str(DATA / "tickets.csv"))
    assert result.exit_code == 0, result.output
    assert "validating" in screen.getvalue() and "importing" in screen.getvalue()
    assert "Imported tickets from tickets.csv: 4 created" in result.stdout


def test_unreadable_files_and_unused_maps_are_reported(world: World, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"external_id,subject,body,customer_email\nX,Caf\xe9,b,a@b.cd\n")
    with pytest.raises(Invalid, match=r"not UTF-8 text.*save the file as UTF-8"):
        import_file(world.store, ADMIN, kind="tickets", path=latin1)
    empty = write(tmp_path, "empty.csv", "")
    with pytest.raises(Invalid, match="the file is empty"):
        import_file(world.store, ADMIN, kind="tickets", path=empty)
    with pytest.raises(Invalid, match=r"cannot tell the format of data\.xlsx"):
        import_file(world.store, ADMIN, kind="tickets", path=write(tmp_path, "data.xlsx", "x"))
    crlf = write(tmp_path, "crlf.csv", "\ufeffexternal_id,Subject,BODY,customer_email\r\n"
                                       "X,Hi,\"two\r\nlines\",a@example.com\r\n"
                                       "Y,Hi,body,bad-address\r\n")
    report = import_file(world.store, ADMIN, kind="tickets", path=crlf, dry_run=True,
                         maps=["Tciket Subject=subject"])
    assert [str(e) for e in report.errors] == [
        "line 4: customer_email: not an e-mail address: 'bad-address'"]
    assert report.warnings == [
        "--map 'Tciket Subject=subject' matched no column of crlf.csv"]


def test_a_conflict_that_appears_between_the_passes_rolls_everything_back(
        world: World) -> None:
    from agent_tui.domain.enums import Channel
    from agent_tui.domain.tables import Customer, Identity

    store = world.store
    sneaked = False

    def meanwhile(phase: str, rows_done: int, done: int, total: int) -> None:
        # Someone else saves a customer with C-2's address after validation passed.
        nonlocal sneaked
        if phase == "validating" and not sneaked:
            sneaked = True
            with store.write() as s:
                other = Customer(name="Other", email="ben@example.com", external_id="CRM-7")
                s.add(other)
                s.flush()
                assert other.id is not None
                s.add(Identity(customer_id=other.id, channel=Channel.EMAIL,
                               address="ben@example.com"))

    before = counts(store)
    report = import_file(store, ADMIN, kind="customers", path=DATA / "customers.csv",
                         progress=meanwhile)
    assert sneaked and not report.ok and not report.committed
    assert [str(e) for e in report.errors] == [
        "line 3: email: ben@example.com belongs to customer #1 (external_id 'CRM-7')"]
    after = counts(store)
    assert after["customer"] == before["customer"] + 1  # only the one saved meanwhile
    assert after["event"] == before["event"] and after["organization"] == 0


# -- the fast paths agree with the full ones -------------------------------------


def _raw_rows(path: Path, maps: tuple[str, ...] = ()) -> list[Any]:
    from agent_tui.services.importing.columns import COLUMNS
    from agent_tui.services.importing.source import ColumnMap, Reader, format_for

    cmap = ColumnMap.parse(maps, COLUMNS["tickets"])
    with Reader(path, format_for(path, None), cmap) as reader:
        return list(reader.rows())


def test_the_fast_ticket_validator_builds_what_the_full_one_builds(world: World,
                                                                   tmp_path: Path) -> None:
    from agent_tui.services.importing.records import Lookups, validate
    from agent_tui.services.importing.ticket_rows import TicketFastPath

    nbsp, esc, bidi = "\u00a0", "\x1b[1m", "\u202e"
    tricky = write(tmp_path, "tricky.csv", "\n".join([
        "external_id,subject,body,status,priority,channel,customer_email,customer_name,"
        "customer_phone,team,assignee,tags,created_at,category,product",
        f"K-1,Plain,Body,OPEN,3,E-Mail,A@Example.COM,Ann,,TECH,Bob Agent,\"b, a  a\","
        f"2024-03-01T09:15:00+02:00,  cat ,{nbsp}",
        f"K-2,{nbsp}Spaced{nbsp},\"two\r\nlines\",on hold,Urgent,chat,,  ,+44 (20) 7946-0958,"
        f" ,  ,,2024-03-01,\x01,prod",
        f"K-3,\x01,body,,,,b@example.com,{esc}Eve{bidi}\tE,,,,  ,,,",
        "K-4,Sub,   ,new,low,web,c@example.com,,,,,,,,",
        "K-5,Sub,body,new,Critical,web,c@example.com,,,,,,,,",
        "K-6,Sub,body,new,low,web,,,,,,,,,",
        "K-7,Sub,body,new,low,web,d@example.com,,,nosuchteam,,,,,",
        "K-8,Sub,body,new,low,web,d@example.com,,12,,,,soon,,",
        f"{'x' * 201},Sub,body,,,,d@example.com,,,,,,,,",
        "K-10,Sub,\n,,,,d@example.com,,,,,,,,",
        "K-11,Sub,body,,,,d@example.com,,,,,,,,,extra",
        "K-12,Sub,body,,,,e@example.com,,,billing,sam,SOLO,2024-01-01 10:00,,",
    ]) + "\n")
    files = [(DATA / "tickets.csv", ()), (DATA / "tickets.jsonl", ()),
             (DATA / "tickets_bad_multiline.csv", ()),
             (DATA / "tickets_freshdesk.csv", tuple(FRESHDESK_MAPS)), (tricky, ())]
    with world.store.read() as session:
        lookups = Lookups.load(session)
    fast = TicketFastPath(lookups)
    taken = 0
    for path, maps in files:
        for raw in _raw_rows(path, maps):
            full = validate("tickets", raw, lookups)
            quick = fast(raw)
            if quick is not None:
                taken += 1
                assert quick == full, (path.name, raw.line)
            # Twice: the memos must not change the answer.
            assert fast(raw) == quick
    clean = len(_raw_rows(DATA / "tickets.csv"))
    assert taken >= clean + 3  # the clean rows do take the fast path


def test_the_unchanged_check_agrees_with_the_full_comparison(world: World,
                                                            tmp_path: Path) -> None:
    from dataclasses import replace

    from agent_tui.services.importing.batch import match_existing
    from agent_tui.services.importing.records import Lookups, TicketRecord, validate
    from agent_tui.services.importing.tickets import _COLUMNS, TicketWriter
    from agent_tui.store.events import changes

    store = world.store
    assert import_file(store, ADMIN, kind="tickets", path=DATA / "tickets.csv").committed
    with store.read() as session:
        lookups = Lookups.load(session)
        records = [r for r in (validate("tickets", raw, lookups)
                               for raw in _raw_rows(DATA / "tickets.csv"))
                   if isinstance(r, TicketRecord)]
        writer = TicketWriter(writing=False, actor=ADMIN, lookups=lookups)
        existing = match_existing(session, Ticket.__table__, records,  # type: ignore[attr-defined]
                                  _COLUMNS)
        first = writer._first_messages(session, [row.id for row in existing.values()])
        customers = writer.customers.resolve(session, [r.customer for r in records])
        team = lookups.teams["billing"]
        variants: list[tuple[TicketRecord, int | None]] = []
        for r in records:
            cid = customers[r.customer.key]
            variants += [(r, cid), (r, (cid or 0) + 1), (r, None)]
            changed: list[dict[str, Any]] = [
                {"subject": r.subject + "!"}, {"body": r.body + "!"},
                {"status": Status.CLOSED}, {"status": None}, {"priority": 1},
                {"priority": None}, {"channel": None}, {"created_at": None},
                {"created_at": datetime(2020, 1, 1, tzinfo=UTC)}, {"tags": ["x"]},
                {"tags": []}, {"category": None}, {"product": "P"}, {"team_id": team},
                {"team_id": None}, {"assignee_id": None},
                {"given": frozenset({"external_id", "subject", "body"})}]
            variants += [(replace(r, **change), cid) for change in changed]
        assert len(variants) > 60
        for r, cid in variants:
            row = existing[r.external_id]
            body = first.get(row.id, (None, ""))[1]
            old = writer._state(row, body)
            expected = not changes(old, writer._merge(old, r, cid))[1]
            assert writer._unchanged(row, body, r, cid) == expected, (r, cid)


# -- big imports rebuild the ticket indexes in their own transaction ------------------


def _indexes(store: Store) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in rows(store, "SELECT name, sql FROM sqlite_master "
                                              "WHERE type = 'index' AND sql IS NOT NULL")}


def test_a_failed_big_import_keeps_every_index(sqlite_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_tui.services.importing import runner, writes
    from tests.conftest import migrated, seed_world

    store = seed_world(migrated(sqlite_url)).store
    monkeypatch.setattr(runner, "REBUILD_INDEXES_AT", 10)  # what 20k rows would trigger
    lines = ["external_id,subject,body,customer_email,priority,created_at"]
    lines += [f"B-{i},Subject {i},Body {i},c{i % 7}@example.com,high,2024-0{1 + i % 9}-01"
              for i in range(60)]
    path = write(tmp_path, "big.csv", "\n".join(lines) + "\n")
    indexes, before = _indexes(store), counts(store)
    dropped: list[int] = []
    real_drop = writes.IndexRebuild.drop

    def drop(self: writes.IndexRebuild, session: Any) -> None:
        real_drop(self, session)
        dropped.append(len(self.dropped))

    monkeypatch.setattr(writes.IndexRebuild, "drop", drop)

    def interrupt(phase: str, rows_done: int, done: int, total: int) -> None:
        if phase == "importing" and rows_done >= 20:
            raise KeyboardInterrupt  # Ctrl+C halfway through the write pass

    with pytest.raises(KeyboardInterrupt):
        import_file(store, ADMIN, kind="tickets", path=path, batch_size=10,
                    progress=interrupt)
    import gc

    assert gc.isenabled()  # the import paused the cycle collector and gave it back
    assert dropped and dropped[0] >= 20  # the queue indexes were really dropped...
    assert _indexes(store) == indexes  # ...and the rollback brought them all back
    assert counts(store) == before
    with store.read() as s:
        assert s.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"

    report = import_file(store, ADMIN, kind="tickets", path=path, batch_size=10)
    assert report.committed and report.created == 60 and len(dropped) == 2
    assert _indexes(store) == indexes  # rebuilt from their stored DDL
    with store.read() as s:
        assert s.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        # The partial queue index answers like the table does.
        via_index = s.execute(sa.text(
            "SELECT count(*) FROM ticket INDEXED BY ix_q_open_prio WHERE is_open = 1")).scalar()
        assert via_index == 60
        assert s.execute(sa.text("PRAGMA cache_size")).scalar_one() == -65536
    store.dispose()


def test_a_big_import_into_a_bigger_store_keeps_its_indexes(sqlite_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from agent_tui.services.importing import runner, writes
    from tests.conftest import migrated, seed_world

    store = seed_world(migrated(sqlite_url)).store
    monkeypatch.setattr(runner, "REBUILD_INDEXES_AT", 10)
    calls: list[str] = []
    monkeypatch.setattr(writes.IndexRebuild, "drop",
                        lambda self, session: calls.append("drop"))
    first = ["external_id,subject,body,customer_email"] + [
        f"A-{i},S,B,a@example.com" for i in range(30)]
    assert import_file(store, ADMIN, kind="tickets",
                       path=write(tmp_path, "a.csv", "\n".join(first) + "\n")).committed
    assert calls == ["drop"]  # 30 new into an empty store: rebuilding pays
    second = ["external_id,subject,body,customer_email"] + [
        f"B-{i},S,B,a@example.com" for i in range(20)]
    assert import_file(store, ADMIN, kind="tickets",
                       path=write(tmp_path, "b.csv", "\n".join(second) + "\n")).committed
    assert calls == ["drop"]  # 20 new into 30: maintaining them is cheaper
    store.dispose()
