"""Files as other tools export them: their dates parsed exactly or refused with the line
named, and CSV written with semicolons, tabs or bars instead of commas."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from agent_tui.services.importing import import_file
from agent_tui.services.importing.fields import FieldError, timestamp
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
        "line 4: created_at: ambiguous date '11/01/2017 09:00': day or month first? write it "
        "as ISO 8601, e.g. 2024-03-01T09:15:00Z"]
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
