"""``agent-tui sla …``, ``hours …`` and ``team set --lead`` through CliRunner."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from agent_tui.cli import app
from agent_tui.cli.sla import parse_duration
from agent_tui.domain.tables import Team, Ticket, TicketSla
from agent_tui.domain.views import TicketCreate
from agent_tui.services import tickets
from agent_tui.store import open_store
from tests.conftest import ADMIN


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Result:
    res = run(*args)
    assert res.exit_code == 0, res.output
    return res


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


@pytest.fixture
def url(sqlite_url: str) -> str:
    ok("init", "--admin", "ada", "--db", sqlite_url)
    ok("team", "add", "billing", "--db", sqlite_url)
    return sqlite_url


def test_durations() -> None:
    assert [parse_duration(t, "x") for t in ("30m", "4h", "1h30m", "2d", "45")] == [
        30, 240, 90, 2880, 45]
    for bad in ("4 hours", "0m", "h", "1.5m"):
        with pytest.raises(Exception):  # noqa: B017 - typer.Exit via fail()
            parse_duration(bad, "--resolution")


def test_hours_and_policies_round_trip(url: str) -> None:
    hours = as_json("hours", "set", "Berlin office", "--tz", "Europe/Berlin",
                    "--mon", "09:00-12:00,13:00-17:00", "--tue", "09:00-17:00",
                    "--sat", "22:00-02:00", "--holiday", "2026-12-25", "--db", url)
    assert hours["days"] == {"mon": ["09:00-12:00", "13:00-17:00"], "tue": ["09:00-17:00"],
                             "sat": ["22:00-02:00"]}
    assert hours["holidays"] == ["2026-12-25"]
    listed = as_json("hours", "list", "--db", url)
    assert [h["name"] for h in listed] == ["Berlin office"]
    policy = as_json("sla", "set", "Complex issue", "--category", "complex",
                     "--first-response", "4h", "--next-response", "8h", "--resolution", "2d",
                     "--hours", "Berlin office", "--db", url)
    assert (policy["first_response_minutes"], policy["resolution_minutes"]) == (240, 2880)
    ok("sla", "set", "Urgent", "--priority", "urgent", "--first-response", "30m",
       "--resolution", "4h", "--db", url)
    rows = as_json("sla", "list", "--db", url)
    assert [(r["name"], r["category"], r["hours"]) for r in rows] == [
        ("Complex issue", "complex", "Berlin office"), ("Urgent", None, None)]
    assert "Urgent" in ok("sla", "list", "--db", url).stdout


def test_bad_input_is_one_line(url: str) -> None:
    for args, text in [
        (("hours", "set", "X", "--tz", "Mars/Olympus", "--mon", "09:00-17:00"), "Mars"),
        (("hours", "set", "X", "--tz", "UTC", "--mon", "9-5"), "HH:MM"),
        (("sla", "set", "X", "--first-response", "soon", "--resolution", "1h"), "duration"),
        (("sla", "set", "X", "--first-response", "1h", "--resolution", "1h",
          "--hours", "nope"), "nope"),
        (("sla", "rule", "set", "X", "--action", "panic"), "raise_priority"),
    ]:
        res = run(*args, "--db", url)
        assert res.exit_code != 0
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and text in lines[0], res.stderr


def test_rules_team_lead_sweep_and_recompute(url: str) -> None:
    ok("agent", "add", "lee", "--name", "Lee Lead", "--role", "supervisor", "--team", "billing",
       "--db", url)
    ok("team", "set", "billing", "--lead", "lee", "--db", url)
    ok("sla", "set", "Any", "--first-response", "1m", "--resolution", "1h", "--db", url)
    ok("sla", "rule", "set", "tell", "--action", "notify-supervisor", "--clock",
       "first_response", "--db", url)
    assert [r["action"] for r in as_json("sla", "rule", "list", "--db", url)] == [
        "notify_supervisor"]
    store = open_store(url)
    try:
        with store.write() as s:
            team = s.get(Team, 1)
            assert team is not None and team.lead_agent_id is not None
            t = tickets.create(s, ADMIN, TicketCreate(subject="Slow", body="b",
                                                      customer_email="x@example.com",
                                                      team="billing"))
        ok("sla", "recompute", "--db", url)
        with store.write() as s:  # back-date the clock: five minutes passed unswept
            sla_row = s.get(TicketSla, t.id)
            assert sla_row is not None and sla_row.segment_start is not None
            sla_row.segment_start -= timedelta(minutes=5)
            s.add(sla_row)
            s.execute(sa.update(Ticket).values(sla_check_at=sla_row.segment_start))
    finally:
        store.dispose()
    res = ok("sla", "sweep", "--db", url)
    assert f"#{t.id}: breached first response; notify supervisor" in res.stdout
    again = as_json("sla", "sweep", "--db", url)
    assert again["changed"] == []
    assert "at risk" in ok("sla", "risk", "75", "--db", url).stdout
    assert "Recomputed SLA clocks of 1" in ok("sla", "recompute", "--db", url).stdout
