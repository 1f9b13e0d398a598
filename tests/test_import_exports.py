"""Files as other tools export them: their dates parsed exactly or refused with the line
named, and CSV written with semicolons, tabs or bars instead of commas."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from agent_tui.cli import app
from agent_tui.services.importing import import_file
from agent_tui.services.importing.fields import FieldError, numeric_dates, timestamp
from agent_tui.services.importing.source import delimiter_of
from tests.conftest import ADMIN, World


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024-03-01T09:15:00Z", datetime(2024, 3, 1, 9, 15, tzinfo=UTC)),
    ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
    ("Tue Oct 31 22:10:47 +0000 2017", datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
    ("Thu, 05 Jan 2023 14:22:11 GMT", datetime(2023, 1, 5, 14, 22, 11, tzinfo=UTC)),
    ("2023-01-05 14:22:11 +0800", datetime(2023, 1, 5, 6, 22, 11, tzinfo=UTC)),
    ("Jan 5, 2023 2:22 PM", datetime(2023, 1, 5, 14, 22, tzinfo=UTC)),
    ("5 January 2023", datetime(2023, 1, 5, tzinfo=UTC)),
    ("2023/01/05 14:22", datetime(2023, 1, 5, 14, 22, tzinfo=UTC)),
    ("2023年1月5日 14:22", datetime(2023, 1, 5, 14, 22, tzinfo=UTC)),
    ("2023年12月25号", datetime(2023, 12, 25, tzinfo=UTC)),
])
def test_export_formats_parse_to_the_same_instant(raw: str, expected: datetime) -> None:
    assert timestamp(raw) == expected


@pytest.mark.parametrize(("raw", "why"), [
    ("03/04/2023", "ambiguous date"),  # 3 April or March 4: never guessed
    ("05.01.2023 10:00", "ambiguous date"),
    ("12", "not a whole date"),  # a parser would fill in this month and year
    ("Oct 2017", "not a whole date"),
    ("2023-01-05 14:22 PST", "unknown time zone"),
    ("2024-13-01", "not a date"),
    ("31/04/2023", "ambiguous date"),
    ("soon", "not a date"),
])
def test_dates_that_cannot_be_read_exactly_are_refused(raw: str, why: str) -> None:
    with pytest.raises(FieldError, match=why):
        timestamp(raw)


def test_a_twitter_style_export_imports_and_an_ambiguous_date_names_its_line(
        world: World, tmp_path: Path) -> None:
    path = tmp_path / "twcs.csv"
    path.write_text("\n".join([
        "external_id,subject,body,customer_email,created_at",
        "tw-1,Parcel late,Where is my parcel?,a@example.com,Tue Oct 31 22:10:47 +0000 2017",
        "tw-2,退款,什么时候退款？,b@example.com,2017年11月1日 08:00",
        "tw-3,Login,Can't log in,c@example.com,11/01/2017 09:00",
    ]) + "\n", encoding="utf-8")
    report = import_file(world.store, ADMIN, kind="tickets", path=path)
    assert [str(e) for e in report.errors] == [
        "line 4: created_at: ambiguous date '11/01/2017 09:00': day or month first? Say "
        "--date-order dmy or mdy, or write it as ISO 8601, e.g. 2024-03-01T09:15:00Z"]
    with world.store.read() as s:
        assert s.execute(sa.text("SELECT count(*) FROM ticket")).scalar_one() == 0
    report = import_file(world.store, ADMIN, kind="tickets", path=path, skip_bad=True)
    assert report.created == 2
    with world.store.read() as s:
        got = dict(s.execute(sa.text("SELECT external_id, created_at FROM ticket")).all())
    assert set(got) == {"tw-1", "tw-2"}
    assert str(got["tw-1"]).startswith("2017-10-31 22:10:47")
    assert str(got["tw-2"]).startswith("2017-11-01 08:00")


@pytest.mark.parametrize(("header", "delimiter"), [
    ("external_id,subject,body", ","),
    ('"Ticket ID";"Subject; short";"Body"', ";"),  # the quoted ';' is not counted
    ("external_id\tsubject\tbody\r\n", "\t"),
    ("external_id|subject|body", "|"),
    ('"Name; full",subject', ","),  # a comma outside quotes: comma-separated, as always
    ("subject", ","),
])
def test_the_delimiter_is_read_off_the_header(header: str, delimiter: str) -> None:
    assert delimiter_of(header) == delimiter


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_semicolon_or_tab_separated_export_imports_with_its_line_numbers(
        world: World, tmp_path: Path, sep: str) -> None:
    path = tmp_path / "export.csv"
    lines = [["external_id", "subject", "body", "customer_email", "priority"],
             ["x-1", "Refund, please", 'Two lines\n"quoted"', "a@example.com", "high"],
             ["x-2", "Broken", "It broke", "b@example.com", "whenever"]]
    text = "\r\n".join(sep.join(f'"{c}"' if "\n" in c else c for c in cells)
                        for cells in lines)
    path.write_text(text.replace('"Two lines\n"quoted""', '"Two lines\n""quoted"""') + "\r\n",
                    encoding="utf-8")
    report = import_file(world.store, ADMIN, kind="tickets", path=path, skip_bad=True)
    assert [str(e) for e in report.errors] == [
        "line 4: priority: unknown value 'whenever' (use low, normal, high, urgent, "
        "or map it: --map \"priority:whenever=VALUE\")"]
    assert report.created == 1
    with world.store.read() as s:
        subject, body = s.execute(sa.text(
            "SELECT t.subject, m.body FROM ticket t JOIN message m ON m.ticket_id = t.id "
            "WHERE t.external_id = 'x-1'")).one()
    assert subject == "Refund, please"
    assert body == 'Two lines\n"quoted"'


def test_date_order_reads_numeric_dates_day_or_month_first() -> None:
    with numeric_dates("dmy"):
        assert timestamp("03/04/2023 10:00") == datetime(2023, 4, 3, 10, tzinfo=UTC)
        assert timestamp("31.12.2023") == datetime(2023, 12, 31, tzinfo=UTC)
        with pytest.raises(FieldError, match="not a date"):
            timestamp("12/31/2023")  # no 31st month
    with numeric_dates("mdy"):
        assert timestamp("03/04/2023 10:00") == datetime(2023, 3, 4, 10, tzinfo=UTC)
    with pytest.raises(FieldError, match="ambiguous"):
        timestamp("03/04/2023")  # the order held for one import only


def test_the_cli_takes_a_date_order_and_refuses_an_unknown_one(world: World,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "uk.csv"
    path.write_text("external_id,subject,body,customer_email,created_at\n"
                    "uk-1,Boiler,It is cold,a@example.com,03/04/2023 09:30\n", encoding="utf-8")
    runner = CliRunner()
    bad = runner.invoke(app, ["import", "tickets", str(path), "--date-order", "ydm",
                              "--db", world.store.url])
    assert bad.exit_code == 2 and "use dmy or mdy" in bad.stderr
    refused = runner.invoke(app, ["import", "tickets", str(path), "--db", world.store.url])
    assert refused.exit_code == 1 and "--date-order" in refused.stderr
    done = runner.invoke(app, ["import", "tickets", str(path), "--date-order", "dmy",
                               "--db", world.store.url])
    assert done.exit_code == 0, done.stderr
    with world.store.read() as s:
        created = s.execute(sa.text("SELECT created_at FROM ticket WHERE external_id = 'uk-1'"))
        assert str(created.scalar_one()).startswith("2023-04-03 09:30")


def test_the_date_order_holds_in_a_forked_reader(world: World, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_tui.services.importing import worker

    monkeypatch.setattr(worker, "FORK_AT_BYTES", 0)  # fork for any file
    monkeypatch.setattr(worker, "spare_core", lambda: True)
    forked: list[int] = []
    real_init = worker.Forked.__init__

    def init(self: worker.Forked[object], *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        forked.append(self.pid)

    monkeypatch.setattr(worker.Forked, "__init__", init)
    path = tmp_path / "uk.csv"
    path.write_text("external_id,subject,body,customer_email,created_at\n" + "".join(
        f"uk-{i},Boiler {i},Cold,c{i}@example.com,03/04/2023 09:{i % 60:02d}\n"
        for i in range(300)), encoding="utf-8")
    with numeric_dates("dmy"):
        report = import_file(world.store, ADMIN, kind="tickets", path=path, batch_size=50)
    assert forked and report.ok and report.created == 300
    with world.store.read() as s:
        days = {str(d)[:10] for (d,) in s.execute(sa.text("SELECT created_at FROM ticket"))}
    assert days == {"2023-04-03"}


def test_a_gb18030_export_imports_with_its_encoding_and_is_refused_without(
        world: World, tmp_path: Path) -> None:
    path = tmp_path / "zh.csv"
    path.write_bytes("external_id,subject,body,customer_email,customer_name\n"
                     "zh-1,退款问题,什么时候退款？,wang@example.com,王芳\n".encode("gb18030"))
    runner = CliRunner()
    plain = runner.invoke(app, ["import", "tickets", str(path), "--db", world.store.url])
    assert plain.exit_code == 1 and "not UTF-8" in plain.stderr and "--encoding" in plain.stderr
    unknown = runner.invoke(app, ["import", "tickets", str(path), "--encoding", "klingon",
                                  "--db", world.store.url])
    assert unknown.exit_code != 0 and "unknown text encoding 'klingon'" in unknown.stderr
    done = runner.invoke(app, ["import", "tickets", str(path), "--encoding", "gb18030",
                               "--db", world.store.url])
    assert done.exit_code == 0, done.stderr
    with world.store.read() as s:
        got = s.execute(sa.text("SELECT t.subject, c.name FROM ticket t JOIN customer c "
                                "ON c.id = t.customer_id WHERE t.external_id = 'zh-1'")).one()
    assert tuple(got) == ("退款问题", "王芳")


def test_excel_unicode_text_utf16_with_tabs_imports(world: World, tmp_path: Path) -> None:
    path = tmp_path / "excel.txt"
    path.write_bytes("external_id\tsubject\tbody\tcustomer_email\r\n"
                     "u-1\tCafé order\tWrong size, please swap\tzoe@example.com\r\n"
                     .encode("utf-16"))  # with its byte-order mark, as Excel writes it
    result = CliRunner().invoke(app, ["import", "tickets", str(path), "--format", "csv",
                                      "--encoding", "utf-16", "--db", world.store.url])
    assert result.exit_code == 0, result.stderr
    with world.store.read() as s:
        assert s.execute(sa.text("SELECT subject FROM ticket WHERE external_id = 'u-1'")
                         ).scalar_one() == "Café order"


def test_html_bodies_of_articles_and_tickets_are_stored_as_their_text(
        world: World, tmp_path: Path) -> None:
    kb = tmp_path / "articles.jsonl"
    kb.write_text(json.dumps({
        "external_id": "zd-1", "title": "Reset your password", "locale": "en",
        "body": "<p>Open <b>Settings</b> &gt; Security.</p><ul><li>Tap Reset</li></ul>"}) + "\n",
        encoding="utf-8")
    assert import_file(world.store, ADMIN, kind="kb", path=kb).ok
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("external_id,subject,body,customer_email\n"
                       'fd-1,Broken,"<div>It broke.<br>Twice &amp; again</div>",a@example.com\n'
                       "fd-2,Love it,I <3 it and 1 < 2,b@example.com\n", encoding="utf-8")
    assert import_file(world.store, ADMIN, kind="tickets", path=tickets).ok
    with world.store.read() as s:
        article = s.execute(sa.text("SELECT body FROM knowledge_article "
                                    "WHERE external_id = 'zd-1'")).scalar_one()
        bodies = dict(s.execute(sa.text(
            "SELECT t.external_id, m.body FROM ticket t JOIN message m ON m.ticket_id = t.id"
        )).all())
    assert article == "Open Settings > Security.\n\n- Tap Reset"
    assert bodies == {"fd-1": "It broke.\nTwice & again", "fd-2": "I <3 it and 1 < 2"}


def test_a_nested_json_export_maps_its_dotted_fields(world: World, tmp_path: Path) -> None:
    path = tmp_path / "zendesk.jsonl"
    path.write_text(json.dumps({
        "id": 101, "subject": "Late parcel", "description": "Where is it?",
        "status": "open", "priority": "high", "via": {"channel": "email", "source": {"rel": None}},
        "requester": {"name": "Ann Lee", "email": "ann@example.com", "locale": "en-GB"},
        "tags": ["vip", "parcel"], "created_at": "2023-01-05T10:00:00Z",
        "comments": [{"body": "Where is it?"}]}, ensure_ascii=False) + "\n", encoding="utf-8")
    maps = ["id=external_id", "description=body", "via.channel=channel",
            "requester.name=customer_name", "requester.email=customer_email"]
    report = import_file(world.store, ADMIN, kind="tickets", path=path, maps=maps)
    assert report.ok and report.created == 1, [str(e) for e in report.errors]
    assert any("requester.locale" in w for w in report.warnings)  # unmapped: said, not imported
    with world.store.read() as s:
        got = s.execute(sa.text(
            "SELECT t.channel, t.priority, c.name, c.email FROM ticket t "
            "JOIN customer c ON c.id = t.customer_id WHERE t.external_id = '101'")).one()
    assert tuple(got) == ("email", 3, "Ann Lee", "ann@example.com")
    # An object under a name that is a column is still an error, not silently flattened.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"external_id": "b-1", "subject": {"text": "Hi"}, "body": "x",
                               "customer_email": "b@example.com"}) + "\n", encoding="utf-8")
    report = import_file(world.store, ADMIN, kind="tickets", path=bad, dry_run=True)
    assert "line 1: subject: expected text, got a JSON object" in [str(e) for e in report.errors]


@pytest.mark.parametrize(("column", "raw", "value"), [
    ("status", "Resolved", "solved"), ("status", "Hold", "on_hold"),
    ("status", "Waiting on Customer", "pending"), ("channel", "Web Form", "web"),
    ("channel", "Twitter", "social"), ("channel", "E-mail", "email"),
    ("channel", "Voice", "phone"), ("channel", "Live chat", "chat"),
])
def test_words_every_help_desk_exports_are_understood(column: str, raw: str,
                                                      value: str) -> None:
    from agent_tui.domain.enums import Channel, Status
    from agent_tui.services.importing.fields import choice

    enum = Status if column == "status" else Channel
    assert choice(raw, enum, column).value == value  # type: ignore[type-var]
    with pytest.raises(FieldError, match="map it"):
        choice("WhatsApp", Channel, "channel")  # chat or social: each team says


def test_the_service_takes_the_encoding_and_date_order_itself(world: World,
                                                              tmp_path: Path) -> None:
    from agent_tui.domain.errors import Invalid

    path = tmp_path / "fr.csv"
    path.write_bytes("external_id;subject;body;customer_email;created_at\n"
                     "fr-1;Café froid;Très froid;f@example.com;03/04/2023 08:00\n"
                     .encode("cp1252"))
    with pytest.raises(Invalid, match="unknown date order"):
        import_file(world.store, ADMIN, kind="tickets", path=path, date_order="ymd")
    report = import_file(world.store, ADMIN, kind="tickets", path=path, encoding="cp1252",
                         date_order="dmy")
    assert report.ok and report.created == 1
    with world.store.read() as s:
        subject, created = s.execute(sa.text(
            "SELECT subject, created_at FROM ticket WHERE external_id = 'fr-1'")).one()
    assert subject == "Café froid" and str(created).startswith("2023-04-03 08:00")
