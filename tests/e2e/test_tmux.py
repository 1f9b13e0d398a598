"""End to end in a real terminal: agent-tui under tmux works a whole ticket, keys only.

Open the first ticket of the queue, read the customer 360, insert the top
knowledge suggestion into a reply, send it, set the ticket solved with the
``:`` command line, quit; then check the store.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from agent_tui.services.demo import build_demo
from agent_tui.store import open_store
from agent_tui.store.migrate import upgrade

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
AGENT_TUI = Path(sys.executable).with_name("agent-tui")


class Terminal:
    """One tmux session running a command at a fixed size."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.name = f"agent-tui-e2e-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "160", "-y", "45",
                        f"env -u COLUMNS -u LINES {exports} {' '.join(command)}"], check=True)
        # A tmux server started elsewhere may size new windows to its own default.
        subprocess.run(["tmux", "resize-window", "-t", self.name, "-x", "160", "-y", "45"],
                       check=False, capture_output=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], check=True,
                              capture_output=True, text=True).stdout

    def wait(self, predicate: Callable[[str], object], what: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if predicate(shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen:\n{shown}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name],
                              capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    store = open_store(url)
    upgrade(store)
    build_demo(store, tickets=300, seed=5, workers=0)
    store.dispose()
    yield url


def test_work_a_ticket_end_to_end_in_tmux(demo_url: str, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "AGENT_TUI_CONFIG_FILE": str(tmp_path / "none.toml"), "TERM": "xterm-256color"}
    term = Terminal([str(AGENT_TUI), "--db", demo_url, "--as", "maya"], env)
    try:
        term.wait(lambda s: "Mine" in s and "live" in s, "the queue")
        term.keys("1")  # my open tickets
        term.wait(lambda s: re.search(r"Mine \d+", s), "my view")
        time.sleep(0.5)
        term.keys("Enter")
        shown = term.wait(lambda s: "Knowledge for this ticket" in s and "Identities" in s,
                          "the ticket with its 360 and suggestions")
        found = re.search(r"^ #(\d+) ", shown, re.M)
        assert found, shown
        ticket_id = int(found.group(1))
        term.keys("k")
        time.sleep(0.3)
        term.keys("i")
        term.wait(lambda s: "Inserted" in s and "Reply to the customer" in s, "the insert")
        term.keys("C-s")
        term.wait(lambda s: "Reply sent on" in s, "the reply")
        term.type(":")
        term.wait(lambda s: ":command" in s, "the command line")
        term.type("status solved")
        term.keys("Enter")
        term.wait(lambda s: "status solved" in s, "solved")
        term.keys("C-q")
        deadline = time.monotonic() + 10
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not term.alive(), "the app did not quit"
    finally:
        term.close()
    store = open_store(demo_url)
    try:
        with store.read() as s:
            status, assignee = s.execute(sa.text(
                "SELECT t.status, a.login FROM ticket t JOIN agent a ON a.id = t.assignee_id "
                "WHERE t.id = :id"), {"id": ticket_id}).one()
            kinds = [k for (k,) in s.execute(sa.text(
                "SELECT kind FROM event WHERE entity = 'ticket' AND entity_id = :id "
                "ORDER BY seq"), {"id": ticket_id})]
            used = s.execute(sa.text("SELECT count(*) FROM event WHERE kind = 'kb.used'")).scalar()
            last = s.execute(sa.text(
                "SELECT author_kind, public FROM message WHERE ticket_id = :id "
                "ORDER BY id DESC LIMIT 1"), {"id": ticket_id}).one()
    finally:
        store.dispose()
    assert status == "solved" and assignee == "maya"
    # The background SLA sweep may add its own events in between; ours come in order.
    mine = [k for k in kinds if k in ("ticket.replied", "ticket.updated", "survey.requested")]
    assert mine[-3:] == ["ticket.replied", "ticket.updated", "survey.requested"]
    assert used == 1 and last[0] == "agent" and last[1]
