"""Contention: writers, readers and a backup loop on one SQLite file.

Four writer processes and two reader processes run for 30 s while this
process backs the store up again and again. No lock error may reach any
caller, every page a reader gets must be consistent, and every backup must
be an intact, transactionally consistent store.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from agent_tui.domain.enums import Priority
from agent_tui.domain.tables import Event
from agent_tui.domain.views import TicketCreate
from agent_tui.services import tickets
from agent_tui.services.backup import BackupResult, backup
from agent_tui.store import open_store
from tests.conftest import ADMIN, migrated, seed_world
from tests.reliability.harness import collect, running, start_workers, store_violations

pytestmark = pytest.mark.slow

SECONDS = 30
SEED_TICKETS = 30
WRITERS = ["ada", "sam", "alice", "bob"]
READERS = ["sam", "alice"]


def _check_backup(result: BackupResult) -> list[str]:
    """The backup is a store of its own: intact, and a consistent snapshot."""
    copy = open_store(f"sqlite:///{result.path}")
    try:
        bad = store_violations(copy)
        with copy.read() as s:
            n = s.exec(select(func.count()).select_from(tickets.Ticket)).one()
        if n != result.tables["ticket"]:
            bad.append(f"{result.path.name}: {n} tickets, result said {result.tables['ticket']}")
    finally:
        copy.dispose()
    for p in result.path.parent.glob(result.path.name + "*"):
        p.unlink()
    return [f"{result.path.name}: {b}" for b in bad]


def test_writers_readers_and_backups_share_one_sqlite_file(sqlite_url: str,
                                                           tmp_path: Path) -> None:
    store = migrated(sqlite_url)
    try:
        seed_world(store)
        with store.write() as s:
            for i in range(SEED_TICKETS):
                tickets.create(s, ADMIN, TicketCreate(
                    subject=f"seed {i}", body="seed", customer_email=f"seed{i}@example.org",
                    priority=Priority((i % 4) + 1)))
        base = {"url": sqlite_url, "seconds": SECONDS, "logins": WRITERS,
                "max_id": SEED_TICKETS}
        specs = [(f"writer-{login}", "writer", {**base, "login": login, "seed": i})
                 for i, login in enumerate(WRITERS)]
        specs += [(f"reader-{login}", "reader", {**base, "login": login, "seed": 100 + i})
                  for i, login in enumerate(READERS)]
        backups_dir = tmp_path / "backups"
        backups_dir.mkdir()
        workers = start_workers(specs, tmp_path)

        made: list[BackupResult] = []
        backup_problems: list[str] = []
        while running(workers):
            try:
                result = backup(store, backups_dir / f"b{len(made) + 1}.db")
            except Exception as exc:  # any failure is a finding
                backup_problems.append(f"backup {len(made) + 1}: {type(exc).__name__}: {exc}")
                time.sleep(0.5)
                continue
            made.append(result)
            backup_problems += _check_backup(result)
            time.sleep(0.3)  # a loop, not a siege: leave the CPUs mostly to the workers
        results = collect(workers, timeout=120)

        errors = [f"{r['login']}: {e}" for r in results for e in r["errors"]]
        assert errors == [], errors[:10]
        violations = [f"{r['login']}: {v}" for r in results for v in r.get("violations", [])]
        assert violations == [], violations[:10]
        assert backup_problems == [], backup_problems[:10]

        writes = sum(n for r in results if "max_id" in r
                     for op, n in r["ops"].items() if op not in ("conflict", "skip"))
        reads = sum(r["ops"].get("page", 0) + r["ops"].get("walk", 0)
                    for r in results if "violations" in r)
        assert writes > 0 and reads > 0 and len(made) > 0
        # Growing backups: each later one holds at least what the one before held.
        counts = [b.tables["ticket"] for b in made]
        assert counts == sorted(counts)
        with store.read() as s:
            logged = s.exec(select(func.count()).select_from(Event).where(
                col(Event.kind) == "store.backed_up")).one()
        assert logged == len(made)
        assert store_violations(store) == []
        print(f"contention: {writes} writes, {reads} reads, {len(made)} backups")
    finally:
        store.dispose()
