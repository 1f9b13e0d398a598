"""Ticket import benchmark: ``agent-tui import tickets`` into a fresh SQLite store.

Generates a realistic tickets CSV of N rows (subjects and bodies of a few
hundred characters, about one customer per three tickets, tags, mixed
statuses, priorities and channels, teams and assignees, ``created_at``
spread over 90 days), then, through the same service the CLI calls:

1. a ``--dry-run`` against the fresh store (validation and matching only),
2. the first import (everything created),
3. a re-import of the same file (everything unchanged: the idempotent pass).

Prints one JSON document on stdout: rows, wall seconds, rows/s and CPU
seconds (``time.process_time``, which includes SQLite's work since it runs
in-process; ``child_cpu_seconds``: the forked reader's, see
``services/importing/worker.py``) for each step, plus the store's size.
``--in-process`` keeps the reading in the writing process, ``--fork``
forks it even on a busy machine, for A/B runs.
Progress goes to stderr.
Target (issue: foundation): >= 20,000 tickets/s bulk import into SQLite.

    .venv/bin/python benchmarks/import_bench.py --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent_tui.domain.enums import AgentStatus, Role, Source
from agent_tui.services import agents
from agent_tui.services.importing import ImportReport, import_file, worker
from agent_tui.store import Store, open_store
from agent_tui.store.events import Actor
from agent_tui.store.migrate import upgrade

ACTOR = Actor.system(Source.CLI, login="cli:bench")
TEAMS = ("billing", "tech", "logistics")
AGENTS = (("ada", "Ada Admin"), ("sam", "Sam Supervisor"), ("alice", "Alice Agent"),
          ("bob", "Bob Agent"), ("chen", "Chen Wei"), ("dana", "Dana Scully"))
STATUSES = ("new", "open", "open", "pending", "on_hold", "solved", "solved", "closed")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
CHANNELS = ("email", "email", "chat", "phone", "web", "app", "social")
TAGS = ("refund", "billing", "shipping", "login", "bug", "vip", "delay", "damaged", "invoice",
        "password", "upgrade", "cancel", "feedback", "api", "mobile", "urgent-review")
PRODUCTS = ("Basic plan", "Pro plan", "Team plan", "Widget X", "Widget Pro", "Gift card")
CATEGORIES = ("billing", "technical", "delivery", "account", "other")
WORDS = ("order", "package", "arrived", "late", "damaged", "refund", "charged", "twice",
         "account", "password", "reset", "email", "cannot", "login", "app", "crashes",
         "when", "open", "settings", "invoice", "missing", "address", "changed", "please",
         "help", "urgent", "subscription", "cancel", "renewal", "discount", "code", "works",
         "not", "since", "yesterday", "tracking", "number", "shows", "delivered", "but",
         "nothing", "here", "Größe", "café", "naïve", "送货", "延迟")
FIRST = ("Maria", "John", "Wei", "Aisha", "Lukas", "Sofia", "Omar", "Yuki", "Priya", "Jonas",
         "Elena", "Kwame", "Chloé", "Mateo", "Anna", "Ivan")
LAST = ("Silva", "Smith", "Zhang", "Khan", "Müller", "Rossi", "Haddad", "Tanaka", "Patel",
        "Berg", "Novak", "Mensah", "Dubois", "García", "Kowalska", "Petrov")
COLUMNS = ("external_id", "subject", "body", "status", "priority", "channel", "customer_email",
           "customer_name", "customer_phone", "team", "assignee", "tags", "created_at",
           "category", "product")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _sentence(rnd: random.Random, words: int) -> str:
    text = " ".join(rnd.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def generate(path: Path, rows: int, seed: int) -> None:
    """Write ``rows`` tickets to ``path`` as CSV (about one customer per three tickets)."""
    rnd = random.Random(seed)
    n_customers = max(1, rows // 3)
    customers = []
    for i in range(n_customers):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        phone = f"+1 (555) {rnd.randrange(100, 999)}-{i % 10000:04d}" if i % 4 == 0 else ""
        customers.append((f"{first.lower()}.{i}@example.com", f"{first} {last}", phone))
    end = datetime(2026, 11, 1, tzinfo=UTC)
    span = 90 * 24 * 3600
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for i in range(rows):
            email, name, phone = customers[rnd.randrange(n_customers)]
            created = end - timedelta(seconds=rnd.randrange(span))
            paragraphs = [" ".join(_sentence(rnd, rnd.randint(6, 14))
                                   for _ in range(rnd.randint(1, 3)))
                          for _ in range(rnd.randint(1, 3))]
            assigned = rnd.random() < 0.6
            out.writerow((
                f"ZD-{100000 + i}",
                _sentence(rnd, rnd.randint(4, 10))[:-1],
                "\n\n".join(paragraphs),
                rnd.choice(STATUSES), rnd.choice(PRIORITIES), rnd.choice(CHANNELS),
                email, name, phone,
                rnd.choice(TEAMS) if rnd.random() < 0.8 else "",
                rnd.choice(AGENTS)[0] if assigned else "",
                ",".join(rnd.sample(TAGS, rnd.randint(0, 3))),
                created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                rnd.choice(CATEGORIES), rnd.choice(PRODUCTS) if rnd.random() < 0.7 else "",
            ))


def fresh_store(url: str) -> Store:
    """A migrated store with the teams and agents the file names."""
    store = open_store(url)
    upgrade(store)
    admin = Actor.system()
    with store.write() as s:
        for team in TEAMS:
            agents.add_team(s, admin, name=team)
        for i, (login, name) in enumerate(AGENTS):
            agents.add_agent(s, admin, login=login, name=name,
                             role=Role.ADMIN if i == 0 else Role.AGENT,
                             teams=[TEAMS[i % len(TEAMS)]], status=AgentStatus.ONLINE)
    return store


def _children_cpu() -> float:
    """CPU seconds of the reaped child processes (the import's forked reader)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(store: Store, path: Path, *, dry_run: bool, label: str) -> dict[str, Any]:
    """One import through the service; wall and CPU time."""
    last = [0.0]

    def progress(phase: str, rows: int, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 2:
            last[0] = now
            log(f"  {label}: {phase} {rows:,} rows ({100 * done // max(total, 1)}%)")

    child0 = _children_cpu()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    report: ImportReport = import_file(store, ACTOR, kind="tickets", path=path, dry_run=dry_run,
                                       progress=progress)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    child_cpu = _children_cpu() - child0
    if not report.ok or report.errors_total:
        raise SystemExit(f"{label}: the import refused rows: {report.errors[:3]}")
    result = {"rows": report.rows, "seconds": round(wall, 3),
              "rows_per_s": round(report.rows / wall, 1) if wall else 0.0,
              "cpu_seconds": round(cpu, 3), "child_cpu_seconds": round(child_cpu, 3),
              "rows_per_cpu_s": round(report.rows / cpu, 1) if cpu else 0.0,
              "created": report.created, "updated": report.updated,
              "unchanged": report.unchanged, "committed": report.committed, **report.also}
    log(f"{label}: {json.dumps(result)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None,
                        help="work directory (default: a new temporary one, removed after)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--in-process", action="store_true",
                        help="never fork a reader (the import as on a single core)")
    parser.add_argument("--fork", action="store_true",
                        help="fork a reader even when the load average says no core is free")
    args = parser.parse_args()
    if args.in_process:
        worker.FORK_AT_BYTES = sys.maxsize
    if args.fork:
        worker.spare_core = lambda: True
    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="import-bench-")
        work = Path(tmp.name)
    else:
        work = args.dir
        work.mkdir(parents=True, exist_ok=True)
    try:
        csv_path = work / "tickets.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows, args.seed)
        log(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - t0:.1f} s")
        db = work / "import.db"
        for leftover in work.glob("import.db*"):
            leftover.unlink()
        store = fresh_store(f"sqlite:///{db}")
        try:
            load0 = os.getloadavg()
            dry = run(store, csv_path, dry_run=True, label="dry-run")
            first = run(store, csv_path, dry_run=False, label="import")
            again = run(store, csv_path, dry_run=False, label="re-import")
            load1 = os.getloadavg()
        finally:
            store.engine.dispose()
        size = sum(p.stat().st_size for p in work.glob("import.db*"))
        print(json.dumps({
            "rows": args.rows, "csv_bytes": csv_path.stat().st_size,
            "dry_run": dry, "import": first, "reimport": again,
            "store_bytes": size, "max_rss_mib": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "loadavg_before": load0, "loadavg_after": load1,
            "cpus": os.cpu_count(),
        }, indent=2))
    finally:
        if tmp is not None and not args.keep:
            tmp.cleanup()


if __name__ == "__main__":
    main()
