"""Store benchmark for the foundation: bulk build, queue pages, counts, detail, 360.

Prints one JSON document on stdout. Targets (issue: foundation) at 1M tickets
with ~150k open: >= 20,000 tickets/s bulk build into SQLite; queue page p95
<= 5 ms; ticket detail and customer 360 p95 <= 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from timing import pct, timed

from agent_tui.domain.enums import Sort, View
from agent_tui.local import LocalBackend
from agent_tui.services import customers, queue, tickets
from agent_tui.services.agents import actor_for
from agent_tui.services.demo import build_demo
from agent_tui.store import Store, open_store
from agent_tui.store.migrate import current_revision, upgrade


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)



def build_or_reuse(url: str, n_tickets: int, seed: int) -> tuple[Store, dict[str, Any]]:
    store = open_store(url)
    if current_revision(store) is not None:
        with store.read() as s:
            have = s.connection().exec_driver_sql("SELECT count(*) FROM ticket").scalar() or 0
        if have >= n_tickets:
            log(f"reusing {url} ({have} tickets)")
            return store, {"reused": True, "tickets": int(have)}
        raise SystemExit(f"{url} exists with {have} tickets; delete it or pick another --db")
    upgrade(store)
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 5 or done == total:
            last[0] = now
            log(f"  {stage}: {done}/{total}")

    log(f"building {n_tickets} tickets into {url}")
    t0 = time.perf_counter()
    summary = build_demo(store, tickets=n_tickets, seed=seed, progress=progress)
    seconds = time.perf_counter() - t0
    return store, {"reused": False, "tickets": n_tickets, "seconds": round(seconds, 1),
                   "tickets_per_s": round(n_tickets / seconds), "counts": summary.counts,
                   "default_login": summary.default_login}


def view_args(store: Store) -> dict[View, str | None]:
    with store.read() as s:
        conn = s.connection()
        team = conn.exec_driver_sql(
            "SELECT t.name FROM ticket k JOIN team t ON t.id = k.team_id WHERE k.is_open "
            "GROUP BY t.name ORDER BY count(*) DESC LIMIT 1").scalar()
    return {View.TEAM: team, View.CHANNEL: "email"}


def busiest_agent(store: Store) -> str:
    with store.read() as s:
        return str(s.connection().exec_driver_sql(
            "SELECT a.login FROM ticket k JOIN agent a ON a.id = k.assignee_id WHERE k.is_open "
            "GROUP BY a.login ORDER BY count(*) DESC LIMIT 1").scalar())


def bench_queue(store: Store, login: str, samples: int, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    args = view_args(store)
    with store.read() as s:
        actor = actor_for(s, login, "tui")
    for view in View:
        arg = args.get(view)
        for sort in Sort:
            with store.read() as s:
                cursor = None
                for _ in range(depth):
                    page = queue.list_tickets(s, actor, view, view_arg=arg, sort=sort,
                                              after=cursor, limit=50)
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
                deep_cursor = cursor

                def first(s: Any = s, view: View = view, sort: Sort = sort,
                          arg: str | None = arg) -> Any:
                    return queue.list_tickets(s, actor, view, view_arg=arg, sort=sort, limit=50)

                def deep(s: Any = s, view: View = view, sort: Sort = sort,
                         arg: str | None = arg, c: str | None = deep_cursor) -> Any:
                    return queue.list_tickets(s, actor, view, view_arg=arg, sort=sort,
                                              after=c, limit=50)

                out[f"{view.value}/{sort.value}"] = {
                    "first_page": timed(first, samples),
                    f"page_{depth + 1}": timed(deep, samples),
                }
        with store.read() as s:
            n = queue.count(s, actor, view, view_arg=arg)
            out[f"{view.value}/count"] = {"rows": n, **timed(
                lambda s=s, view=view, arg=arg: queue.count(s, actor, view, view_arg=arg),
                max(5, samples // 10))}
    return out


def bench_detail(store: Store, login: str, samples: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with store.read() as s:
        actor = actor_for(s, login, "tui")
        conn = s.connection()
        max_id = int(conn.exec_driver_sql("SELECT max(id) FROM ticket").scalar() or 1)
        max_c = int(conn.exec_driver_sql("SELECT max(id) FROM customer").scalar() or 1)
        detail = timed(lambda: tickets.detail(s, actor, rng.randint(1, max_id)), samples)
        c360 = timed(lambda: customers.get_360(s, actor, rng.randint(1, max_c)), samples)
    return {"ticket_detail": detail, "customer_360": c360}


def bench_backend_roundtrip(store: Store, login: str, samples: int) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        backend = LocalBackend(store, login)
        ms = []
        for _ in range(samples):
            t0 = time.perf_counter()
            await backend.list_tickets(View.ALL_OPEN, limit=50)
            ms.append((time.perf_counter() - t0) * 1000)
        return {"all_open_first_page": {"p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95)}}
    return asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="SQLite path or database URL (reused if built)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--depth", type=int, default=100, help="pages walked before the deep page")
    a = ap.parse_args()
    url = a.db or f"/tmp/agent-tui-bench-{a.tickets}.db"
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    store, build = build_or_reuse(url, a.tickets, a.seed)
    login = busiest_agent(store)
    with store.read() as s:
        conn = s.connection()
        total = conn.exec_driver_sql("SELECT count(*) FROM ticket").scalar()
        open_n = conn.exec_driver_sql("SELECT count(*) FROM ticket WHERE is_open").scalar()
    log("measuring queue pages")
    q = bench_queue(store, login, a.samples, a.depth)
    log("measuring detail and 360")
    d = bench_detail(store, login, a.samples, a.seed)
    rt = bench_backend_roundtrip(store, login, a.samples)
    worst_page = max(v[k]["p95_ms"] for v in q.values() if "first_page" in v for k in v)
    worst_cpu = max(v[k]["cpu_p95_ms"] for v in q.values() if "first_page" in v for k in v)
    result = {
        "benchmark": "store",
        "dialect": store.dialect,
        "tickets": total, "open_tickets": open_n, "as_agent": login,
        "build": build,
        "queue": q,
        "queue_worst_page_p95_ms": worst_page,
        "queue_worst_page_cpu_p95_ms": worst_cpu,
        "load_average": os.getloadavg(),
        "count_worst_p50_ms": max(v["p50_ms"] for k, v in q.items() if k.endswith("/count")),
        **d,
        "local_backend_roundtrip": rt,
        "db_bytes": os.path.getsize(store.sqlite_path) if store.sqlite_path else None,
        "targets": {"build_tickets_per_s": 20000, "queue_page_p95_ms": 5,
                    "detail_p95_ms": 10, "customer_360_p95_ms": 10},
    }
    store.dispose()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
