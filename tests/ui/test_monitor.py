"""The supervisor monitor driven as a person would: Pilot over a real SQLite store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from textual.pilot import Pilot

from agent_tui.app import AgentApp
from agent_tui.domain.tables import Ticket, utcnow
from agent_tui.local import LocalBackend
from agent_tui.services import sla_admin, tickets
from screens.choose import ChoiceScreen
from screens.monitor import MonitorScreen
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from tests.conftest import ADMIN
from tests.ui.conftest import (
    SIZE,
    Shop,
    assignee_in_store,
    screen_text,
    stored,
    wait_for,
    wait_for_text,
)
from widgets.monitor_tables import AgentTable, SlaTable

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).parent / "snapshots" / "monitor_160x45.txt"


def monitor_app(shop: Shop, login: str = "sam", *, read_only: bool = False) -> AgentApp:
    """The app as ``agent-tui monitor`` opens it, on its own store handle.

    The store is shown as ``sqlite:///shop.db``: the real temporary path differs
    per run and per xdist worker, and a long one is cut short in the status bar.
    """
    return AgentApp(LocalBackend(shop.handle(), login), "sqlite:///shop.db", start="monitor",
                    read_only=read_only)


def monitor(app: AgentApp) -> MonitorScreen:
    screen = app.screen
    assert isinstance(screen, MonitorScreen), f"expected the monitor, got {screen!r}"
    return screen


async def monitor_ready(pilot: Pilot[Any], app: AgentApp, refreshes: int = 1) -> MonitorScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen)
                   and monitor(app).refreshes >= refreshes, what="the monitor's figures")
    return monitor(app)


def set_clock(shop: Shop, ticket_id: int, *, due_in: timedelta, at_risk: bool) -> None:
    """What the SLA sweep writes once time has passed: the due time and the flag."""
    with shop.store.write() as s:
        s.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(  # type: ignore[arg-type]
            sla_due_at=utcnow() + due_in, sla_at_risk=at_risk))


@pytest.fixture
def clocks(shop: Shop) -> Shop:
    """The shop's five tickets with a policy, two at risk and one breached."""
    with shop.store.write() as s:
        sla_admin.set_policy(s, ADMIN, name="standard", first_response=30, resolution=480)
    refund, crash, order, _address, _invoice = shop.ticket_ids
    set_clock(shop, crash, due_in=timedelta(minutes=4), at_risk=True)
    set_clock(shop, refund, due_in=timedelta(minutes=9), at_risk=True)
    set_clock(shop, order, due_in=timedelta(minutes=-12), at_risk=False)
    return shop


def sla_ids(app: AgentApp) -> list[int]:
    return [int(k.value or 0) for k in app.screen.query_one(SlaTable).rows]


async def test_every_panel_shows_the_store(clocks: Shop) -> None:
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await monitor_ready(pilot, app)
        text = await wait_for_text(pilot, app, "Backlog", "Forecast", "KPIs", "Agents",
                                   "Refund not received")
        refund, crash, order, _address, _invoice = clocks.ticket_ids
        assert sla_ids(app) == [crash, refund, order]  # at risk soonest first, then breached
        matrix = next(line for line in text.splitlines() if line.startswith("│ new "))
        # new tickets: urgent 1, high 1, normal 2, low 1, total 5
        assert matrix.split("│")[1].split() == ["new", "1", "1", "2", "1", "5"]
        assert "breached 1" in text and "at risk 2" in text
        assert "in 3m" in text or "in 4m" in text
        assert "12m late" in text or "11m late" in text
        assert "Team    (none) 1  billing 2  tech 1  logistics 1" in text
        assert "Channel app 1  chat 1  email 2  web 1" in text
        for login in ("ada", "alice", "bob", "sam"):
            assert login in app.screen.query_one(AgentTable).agents
        assert "First response (median)" in text and "SLA compliance" in text
        assert "Created / solved" in text


async def test_agents_are_refused(shop: Shop) -> None:
    app = monitor_app(shop, "alice")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        await wait_for_text(pilot, app, "the queue monitor is for supervisors and admins")
        await pilot.press("M")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_a_supervisor_opens_it_from_the_queue_and_goes_back(shop: Shop) -> None:
    app = shop.app("sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        await pilot.press("M")
        await monitor_ready(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="back")


async def test_space_pauses_and_resumes(clocks: Shop) -> None:
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        await pilot.press("space")
        await wait_for_text(pilot, app, "PAUSED")
        seen = screen.refreshes
        clocks.create("Made while paused", team="tech")
        await pilot.pause(1.5)
        assert screen.refreshes == seen
        assert "Made while paused" not in screen_text(app)
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.refreshes > seen, what="a refresh on resume")
        assert "PAUSED" not in screen_text(app)


async def test_nothing_is_fetched_behind_a_ticket_and_it_catches_up(clocks: Shop) -> None:
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        await pilot.press("enter")  # the cursor is on the first at-risk ticket
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), what="the ticket")
        seen = screen.refreshes
        clocks.create("Arrived while away", team="tech")
        await pilot.pause(1.2)
        assert screen.refreshes == seen
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.refreshes > seen, what="catching up")


async def test_reassign_a_selection_to_an_agent_keeps_the_cursor(clocks: Shop) -> None:
    refund, crash, order, _address, _invoice = clocks.ticket_ids
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        await pilot.press("x", "x")  # crash, then refund (x moves down)
        assert screen.sla.selected == {crash, refund}
        await wait_for_text(pilot, app, "2 selected")
        seen = screen.refreshes
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the picker")
        bob = [value for value, _l in app.screen.choices].index("bob")  # type: ignore[attr-defined]
        await pilot.press(*["down"] * bob, "enter")
        await wait_for(pilot, lambda: assignee_in_store(clocks, refund) == "bob"
                       and assignee_in_store(clocks, crash) == "bob", what="the reassignment")
        await wait_for(pilot, lambda: screen.refreshes > seen, what="a refresh")
        assert screen.sla.selected == set()
        assert screen.sla.cursor_ticket is not None and screen.sla.cursor_ticket.id == order
        # The board follows: bob now carries both (the SLA sweep re-reads their clocks).
        await wait_for(pilot, lambda: any(line.split("│")[-2].split()[:3] == ["bob", "online",
                                                                          "2/10"]
                                          for line in screen_text(app).splitlines()
                                          if line.count("│") >= 3), what="bob's load 2/10")
        assert assignee_in_store(clocks, order) is None


async def test_move_to_team_and_change_priority(clocks: Shop) -> None:
    refund, crash, _order, _address, _invoice = clocks.ticket_ids
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="teams")
        logistics = [v for v, _l in app.screen.choices].index("logistics")  # type: ignore[attr-defined]
        await pilot.press(*["down"] * logistics, "enter")
        await wait_for(pilot, lambda: stored(clocks, crash).team_id is not None
                       and stored(clocks, crash).team_id != stored(clocks, refund).team_id
                       and stored(clocks, crash).assignee_id is None, what="the move")
        await wait_for_text(pilot, app, "1 ticket(s) moved to team logistics.")
        await wait_for(pilot, lambda: crash not in sla_ids(app), what="its clock re-read")
        target = screen.sla.cursor_ticket
        assert target is not None and target.id == refund
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="priorities")
        await pilot.press("end", "enter")  # low
        await wait_for(pilot, lambda: stored(clocks, refund).priority == 1, what="priority")
        await wait_for_text(pilot, app, "1 ticket(s) moved to low.")


async def test_a_stale_ticket_is_reported_not_dropped(clocks: Shop) -> None:
    refund, crash, _order, _address, _invoice = clocks.ticket_ids
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        await pilot.press("space")  # freeze what is shown, then change a ticket elsewhere
        with clocks.store.write() as s:
            tickets.assign(s, ADMIN, crash, "alice")
        await pilot.press("x", "x", "a")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the picker")
        bob = [v for v, _l in app.screen.choices].index("bob")  # type: ignore[attr-defined]
        await pilot.press(*["down"] * bob, "enter")
        await wait_for(pilot, lambda: assignee_in_store(clocks, refund) == "bob")
        assert assignee_in_store(clocks, crash) == "alice"
        await wait_for_text(pilot, app, "1 ticket(s) moved to bob.", f"#{crash}")
        assert screen.sla.selected == {crash}


async def test_read_only_offers_no_actions(clocks: Shop) -> None:
    app = monitor_app(clocks, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        await wait_for_text(pilot, app, "read-only")
        await pilot.press("x", "a", "enter")
        await pilot.pause()
        assert screen.sla.selected == set() and app.screen is screen
        bar = screen_text(app).splitlines()[-1]
        assert "space r w Live" in bar and "Act" not in bar and " x " not in bar


async def test_a_second_process_is_followed_within_a_second(clocks: Shop) -> None:
    """Another process creates, assigns and solves tickets; the figures follow."""
    app = monitor_app(clocks)
    script = (
        "import sys\n"
        "from agent_tui.store import open_store\n"
        "from agent_tui.services import tickets\n"
        "from agent_tui.domain.views import TicketCreate, TicketUpdate\n"
        "from agent_tui.domain.enums import Status\n"
        "from tests.conftest import ADMIN\n"
        "store = open_store(sys.argv[1])\n"
        "step = sys.argv[2]\n"
        "with store.write() as s:\n"
        "    if step == 'create':\n"
        "        for n in range(3):\n"
        "            tickets.create(s, ADMIN, TicketCreate(subject=f'Outside {n}', body='hi',\n"
        "                           team='tech', customer_name='Out', customer_email='o@x.io'))\n"
        "    else:\n"
        "        tid = int(sys.argv[3])\n"
        "        d = tickets.assign(s, ADMIN, tid, 'bob')\n"
        "        tickets.update(s, ADMIN, tid, TicketUpdate(status=Status.SOLVED),\n"
        "                       expected_version=d.version)\n"
        "store.dispose()\n")

    def run(*args: str) -> float:
        subprocess.run([sys.executable, "-c", script, clocks.url, *args], check=True,
                       cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
        return time.monotonic()

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        assert screen.snapshot is not None and screen.snapshot.backlog.total == 5
        done = run("create")
        await wait_for(pilot, lambda: screen.snapshot is not None
                       and screen.snapshot.backlog.total == 8, timeout=5)
        assert time.monotonic() - done < 1.5
        await wait_for_text(pilot, app, "tech 4")
        done = run("solve", str(clocks.ticket_ids[1]))
        await wait_for(pilot, lambda: screen.snapshot is not None
                       and screen.snapshot.backlog.total == 7, timeout=5)
        assert time.monotonic() - done < 1.5
        board = app.screen.query_one(AgentTable).agents
        assert board["bob"].handled_today == 1
        assert clocks.ticket_ids[1] not in sla_ids(app)


def masked(text: str) -> str:
    """The screen with what changes from run to run (time of day, store path) blanked."""
    text = re.sub(r"as of \d\d:\d\d:\d\d UTC", "as of HH:MM:SS UTC", text)
    return re.sub(r"sqlite:///\S+", "sqlite:///STORE", text)


async def test_screen_snapshot_at_a_fixed_size(clocks: Shop) -> None:
    """The whole screen against tests/ui/snapshots/ (UPDATE_SNAPSHOTS=1 rewrites it)."""
    refund, crash, order, _address, _invoice = clocks.ticket_ids
    # Half a minute inside each minute, so the countdowns read the same on a slow run.
    set_clock(clocks, crash, due_in=timedelta(minutes=4, seconds=40), at_risk=True)
    set_clock(clocks, refund, due_in=timedelta(minutes=9, seconds=40), at_risk=True)
    set_clock(clocks, order, due_in=timedelta(minutes=-12, seconds=-20), at_risk=False)
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await monitor_ready(pilot, app)
        text = masked(await wait_for_text(pilot, app, "Refund not received", "12m late"))
    lines = text.splitlines()
    assert len(lines) == SIZE[1] and all(len(line) <= SIZE[0] for line in lines)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == SNAPSHOT.read_text(encoding="utf-8")


def test_cli_refuses_agents_and_missing_stores(shop: Shop, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``agent-tui monitor`` checks the role before it opens anything; a supervisor launches."""
    from typer.testing import CliRunner

    from agent_tui.cli import app as cli

    refused_run = CliRunner().invoke(cli, ["monitor", "--db", shop.url, "--as", "alice"])
    assert refused_run.exit_code == 1
    assert "for supervisors and admins; alice is agent" in refused_run.output
    missing = CliRunner().invoke(cli, ["monitor", "--db", f"sqlite:///{tmp_path / 'no.db'}"])
    assert missing.exit_code == 3 and "no Agent TUI store" in missing.output
    launched: dict[str, object] = {}

    def fake_launch(**kwargs: object) -> int:  # the real app is driven by the tests above
        launched.update(kwargs)
        return 0

    monkeypatch.setattr("agent_tui.app.launch", fake_launch)
    ok = CliRunner().invoke(cli, ["monitor", "--db", shop.url, "--as", "sam", "--read-only"])
    assert ok.exit_code == 0, ok.output
    assert launched == {"db_url": shop.url, "login": "sam", "start": "monitor",
                        "read_only": True}
    # --server: the token from the environment, the monitor on a RemoteBackend.
    remote: dict[str, object] = {}

    def fake_remote(server: str, token: str, **kwargs: object) -> int:
        remote.update(kwargs, server=server, token=token)
        return 0

    monkeypatch.setattr("agent_tui.app.launch_remote", fake_remote)
    monkeypatch.setenv("AGENT_TUI_TOKEN", "atk_test_secret")
    ok = CliRunner().invoke(cli, ["monitor", "--server", "http://127.0.0.1:8765"])
    assert ok.exit_code == 0, ok.output
    assert remote == {"server": "http://127.0.0.1:8765", "token": "atk_test_secret",
                      "start": "monitor", "read_only": False}


async def test_idle_means_no_refetch_and_w_changes_the_kpi_window(clocks: Shop) -> None:
    app = monitor_app(clocks)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await monitor_ready(pilot, app)
        seen = screen.refreshes
        await pilot.pause(1.6)  # three looks at the event log, nothing changed
        assert screen.refreshes == seen
        await pilot.press("w")
        await wait_for(pilot, lambda: screen.snapshot is not None
                       and screen.snapshot.window == "30d", what="the 30d window")
        await wait_for_text(pilot, app, "KPIs 30d", "30d")
        await pilot.press("question_mark")
        text = await wait_for_text(pilot, app, "Keys: monitor")
        for words in ("Pause", "To agent", "To team", "Priority", "monitor.assign"):
            assert words in text, words
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back on the monitor")
