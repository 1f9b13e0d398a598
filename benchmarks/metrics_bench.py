"""Metrics benchmark: ``metrics.snapshot`` p50/p95 per group_by on a demo store.

Builds (or reuses, ``--db``) a demo store of N tickets with the demo
generator, builds the ticket facts and counters the bulk load skipped
(timed: this is what the first report after a big load costs), then
measures ``snapshot`` for each window × group_by, and the cost a ticket
change pays to keep its fact and counters current (``refresh_fact``).
Prints one JSON document on stdout. Target (issue 3): snapshot ≤ 100 ms
with 1M tickets of which ~150k open.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from timing import timed

from agent_tui.domain.enums import Source
from agent_tui.services import metrics, metrics_facts
from agent_tui.services.demo import build_demo
from agent_tui.store import Store, open_store
from agent_tui.store.events import Actor
from agent_tui.store.migrate import current_revision, upgrade

ACTOR = Actor.system(Source.CLI, login="bench")
GROUPS = [None, "channel", "team", "agent", "day"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)



def build_or_reuse(url: str, n_tickets: int, seed: int) -> tuple[Store, dict[str, Any]]:
    store = open_store(url)
    if current_revision(store) is not None:
        upgrade(store)  # a store built before this schema gets the tables first
        with store.read() as s:
            have = s.connection().exec_driver_sql("SELECT count(*) FROM ticket").scalar() or 0
        if have >= n_tickets:
            log(f"reusing {url} ({have} tickets)")
            return store, {"reused": True, "tickets": int(have)}
        raise SystemExit(f"{url} exists with {have} tickets; delete it or pick another --db")
    upgrade(store)
    log(f"building {n_tickets} tickets into {url}")
    t0 = time.perf_counter()
    build_demo(store, tickets=n_tickets, seed=seed)
    seconds = time.perf_counter() - t0
    return store, {"reused": False, "tickets": n_tickets, "seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="SQLite path or database URL (reused if built)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--windows", default="7d,30d,24h")
    a = ap.parse_args()
    url = a.db or f"/tmp/agent-tui-metrics-{a.tickets}.db"
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    store, build = build_or_reuse(url, a.tickets, a.seed)
    with store.read() as s:
        pending = metrics_facts.pending_facts(s)
    log(f"building facts for {pending} tickets")
    t0 = time.perf_counter()
    built = metrics_facts.build_missing(store.write)
    facts = {"built": built, "seconds": round(time.perf_counter() - t0, 1)}
    with store.read() as s:
        conn = s.connection()
        total = conn.exec_driver_sql("SELECT count(*) FROM ticket").scalar()
        open_n = conn.exec_driver_sql("SELECT count(*) FROM ticket WHERE is_open").scalar()
        max_id = int(conn.exec_driver_sql("SELECT max(id) FROM ticket").scalar() or 1)
    out: dict[str, Any] = {}
    for window in a.windows.split(","):
        for group in GROUPS:
            with store.read() as s:
                snap = metrics.snapshot(s, ACTOR, window, group)
                out[f"{window}/{group or 'overall'}"] = {
                    "groups": len(snap.groups), "created": snap.overall.created,
                    **timed(lambda s=s, w=window, g=group: metrics.snapshot(s, ACTOR, w, g),
                            a.samples)}
    rng = random.Random(a.seed)

    def refresh() -> None:
        with store.write() as s:
            metrics_facts.refresh_fact(s, rng.randint(1, max_id))

    with store.read() as s:
        sample = metrics.snapshot(s, ACTOR, "7d")
    worst = max(v["p95_ms"] for k, v in out.items() if not k.split("/")[0].endswith("h"))
    result = {
        "benchmark": "metrics", "dialect": store.dialect, "tickets": total,
        "open_tickets": open_n, "build": build, "facts_backfill": facts,
        "snapshot": out, "snapshot_day_windows_worst_p95_ms": worst,
        "refresh_fact_per_change": timed(refresh, a.samples),
        "sample_7d_overall": sample.overall.model_dump(mode="json"),
        "sample_backlog": sample.backlog.model_dump(mode="json"),
        "load_average": os.getloadavg(),
        "target": {"snapshot_ms": 100, "at_tickets": 1_000_000, "open": 150_000},
    }
    store.dispose()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
