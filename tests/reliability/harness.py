"""Starting worker processes and checking a store's invariants after them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from agent_tui.store import Store

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120.0  # eight interpreters importing on two busy cores


@dataclass
class Worker:
    """One ``python -m tests.reliability.worker`` process."""

    name: str
    proc: subprocess.Popen[str]
    stderr_path: Path
    stderr: IO[str]

    def stderr_text(self) -> str:
        self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]


def start_workers(specs: list[tuple[str, str, dict[str, Any]]], log_dir: Path) -> list[Worker]:
    """Start every worker, wait until all are ready, then let them all go at once.

    ``specs`` holds (name, mode, config) triples.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = []
    for name, mode, cfg in specs:
        err_path = log_dir / f"{name}.stderr"
        err = err_path.open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.worker", mode, json.dumps(cfg)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO,
            env=env)
        workers.append(Worker(name, proc, err_path, err))
    try:
        for w in workers:
            assert w.proc.stdout is not None
            line = w.proc.stdout.readline()  # blocks until the worker has imported and opened
            if line.strip() != "ready":
                raise AssertionError(f"worker {w.name} did not start: {w.stderr_text()}")
        for w in workers:
            assert w.proc.stdin is not None
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
    except BaseException:
        stop_workers(workers)
        raise
    return workers


def collect(workers: list[Worker], timeout: float) -> list[dict[str, Any]]:
    """Each worker's JSON result; fails with its stderr if it crashed."""
    results = []
    try:
        for w in workers:
            out, _ = w.proc.communicate(timeout=timeout)
            if w.proc.returncode != 0:
                raise AssertionError(f"worker {w.name} exited {w.proc.returncode}: "
                                     f"{w.stderr_text()}")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        stop_workers(workers)
    return results


def running(workers: list[Worker]) -> bool:
    return any(w.proc.poll() is None for w in workers)


def stop_workers(workers: list[Worker]) -> None:
    for w in workers:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
        w.stderr.close()


def store_violations(store: Store) -> list[str]:
    """Invariants every committed state must satisfy; empty when all hold.

    The store is a SQLite file or a PostgreSQL database written only through
    the services, so: the file is intact, every ticket has exactly one
    ``ticket.created`` event and no event names a missing ticket, every
    version bump has its one event, and every extra message its reply/note
    event.
    """
    bad: list[str] = []
    with store.engine.connect() as conn:
        if store.is_sqlite:
            check = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
            if check != ["ok"]:
                bad.append(f"integrity_check: {check[:3]}")
        q = {
            "tickets without their ticket.created event":
                "SELECT t.id FROM ticket t WHERE (SELECT count(*) FROM event e WHERE "
                "e.entity = 'ticket' AND e.entity_id = t.id AND e.kind = 'ticket.created') <> 1",
            "ticket events naming a missing ticket":
                "SELECT e.seq FROM event e LEFT JOIN ticket t ON t.id = e.entity_id "
                "WHERE e.entity = 'ticket' AND t.id IS NULL",
            "tickets whose version is not their number of version-bumping events":
                "SELECT t.id FROM ticket t WHERE t.version <> (SELECT count(*) FROM event e "
                "WHERE e.entity = 'ticket' AND e.entity_id = t.id AND e.kind IN ("
                "'ticket.created', 'ticket.replied', 'ticket.noted', 'ticket.updated', "
                "'ticket.assigned'))",
            "tickets whose messages do not match their reply/note events":
                "SELECT t.id FROM ticket t WHERE (SELECT count(*) FROM message m WHERE "
                "m.ticket_id = t.id) <> 1 + (SELECT count(*) FROM event e WHERE "
                "e.entity = 'ticket' AND e.entity_id = t.id "
                "AND e.kind IN ('ticket.replied', 'ticket.noted'))",
        }
        for what, sql in q.items():
            rows = [r[0] for r in conn.execute(sa.text(sql + " LIMIT 5")).all()]
            if rows:
                bad.append(f"{what}: {rows}")
    return bad
