"""Crash safety: a writer killed with SIGKILL at a random moment, fifty times.

Each writer is forked by ``crash_server`` (which imported the app once), so
a round costs its random delay plus a few milliseconds rather than a fresh
interpreter. The writer acknowledges a ticket or a reply only after
``store.run_write`` returned, i.e. after the commit; every acknowledged write
must survive the kill, and the file must stay intact with no half-written
ticket.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent_tui.domain.views import TicketCreate
from agent_tui.services import tickets
from agent_tui.store import Store
from tests.conftest import ADMIN, migrated, seed_world
from tests.reliability.harness import REPO, store_violations

pytestmark = pytest.mark.slow

ROUNDS = 50


class CrashServer:
    """The test's side of ``tests.reliability.crash_server``."""

    def __init__(self, url: str, login: str, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.crash_server", url, login],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        first = self._line()
        assert first == "ready", f"crash server did not start: {self.stderr()}"

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"crash server went away: {self.stderr()}")
        return line.strip()

    def _send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def _until(self, prefix: str, acks: list[tuple[str, int, int]]) -> list[str]:
        while True:
            words = self._line().split()
            if words[0] == prefix:
                return words
            kind, ticket_id, version = words
            acks.append((kind, int(ticket_id), int(version)))

    def fork(self, acks: list[tuple[str, int, int]]) -> int:
        self._send("fork")
        return int(self._until("pid", acks)[1])

    def reap(self, pid: int, acks: list[tuple[str, int, int]]) -> int:
        self._send(f"reap {pid}")
        return int(self._until("dead", acks)[2])

    def close(self) -> None:
        if self.proc.poll() is None:
            self._send("quit")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


def _missing(store: Store, acked: dict[int, int]) -> list[str]:
    """Acknowledged tickets that are gone or older than acknowledged."""
    lost = []
    with store.read() as s:
        for ticket_id, version in acked.items():
            try:
                now = tickets.detail(s, ADMIN, ticket_id).version
            except Exception as exc:  # NotFound is exactly the finding
                lost.append(f"#{ticket_id}: {exc}")
                continue
            if now < version:
                lost.append(f"#{ticket_id}: version {now}, acknowledged {version}")
    return lost


def test_killed_writers_lose_no_acknowledged_write(sqlite_url: str, tmp_path: Path) -> None:
    store = migrated(sqlite_url)
    seed_world(store)
    server = CrashServer(sqlite_url, "bob", tmp_path / "crash_server.stderr")
    rng = random.Random(0x5EED)  # reproducible delays
    acked: dict[int, int] = {}
    rounds_with_acks = 0
    try:
        for rnd in range(ROUNDS):
            acks: list[tuple[str, int, int]] = []
            pid = server.fork(acks)
            time.sleep(rng.uniform(0.05, 0.4))
            os.kill(pid, signal.SIGKILL)
            code = server.reap(pid, acks)
            assert code == -signal.SIGKILL, (
                f"round {rnd}: the writer died on its own (exit {code}): {server.stderr()}")
            rounds_with_acks += bool(acks)
            this_round: dict[int, int] = {}
            for _kind, ticket_id, version in acks:
                this_round[ticket_id] = max(this_round.get(ticket_id, 0), version)
            assert _missing(store, this_round) == [], f"round {rnd}"
            assert store_violations(store) == [], f"round {rnd}"
            acked.update(this_round)
        # Not vacuous: many kills landed while a writer was busy committing.
        assert rounds_with_acks >= ROUNDS // 5
        # After fifty crashes the store still takes writes, with the next id.
        t = store.run_write(lambda s: tickets.create(s, ADMIN, TicketCreate(
            subject="after the crashes", body="still fine", customer_email="ok@example.org")))
        assert t.id > max(acked)
        assert _missing(store, acked) == []
        assert store_violations(store) == []
        print(f"crash safety: {ROUNDS} kills, {rounds_with_acks} mid-write, "
              f"{len(acked)} acknowledged tickets kept")
    finally:
        server.close()
        store.dispose()
