"""Supervisor monitor benchmark: full refresh, event → on screen, idle CPU.

Prints one JSON document on stdout (progress on stderr). Targets (issue 5)
at 1M tickets with ~150k open: full refresh of every figure ≤ 100 ms; a
change by another writer on screen ≤ 1 s; ≤ 5 % of a core while live and
idle. Reuses a built store (``store_bench.py``'s ``build_or_reuse``: give a
copy, the event-latency part writes tickets into it).

* ``service``: ``services.monitor.monitor_snapshot`` in this thread, CPU and
  wall p50/p95, and each part of it;
* ``backend``: ``LocalBackend.monitor_snapshot()``, the worker-thread hop too;
* ``ui``: the real app headless at 160×45 on the monitor: first render,
  event → on screen (a ticket written through another store handle, until
  the monitor has rendered the new backlog total), and CPU % over
  ``--idle`` seconds with nothing happening.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from typing import Any

from sqlmodel import col, select
from store_bench import build_or_reuse
from timing import pct, timed

from agent_tui.app import AgentApp
from agent_tui.domain.enums import Role, Source
from agent_tui.domain.tables import Agent, utcnow
from agent_tui.domain.views import TicketCreate
from agent_tui.domain.views_metrics import GroupBy
from agent_tui.local import LocalBackend
from agent_tui.services import metrics, metrics_facts, tickets
from agent_tui.services import monitor as m
from agent_tui.services.agents import actor_for
from agent_tui.store import Store, open_store
from agent_tui.store.events import Actor
from screens.monitor import MonitorScreen


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def supervisor(store: Store) -> str:
    with store.read() as s:
        for agent in s.exec(select(Agent).order_by(col(Agent.id))):
            if Role(agent.role) is Role.SUPERVISOR and agent.active:
                return str(agent.login)
    raise SystemExit("the store has no active supervisor")


def bench_service(store: Store, actor: Actor, samples: int) -> dict[str, Any]:
    def full() -> None:
        with store.read() as s:
            m.monitor_snapshot(s, actor)

    now = utcnow()
    parts: dict[str, Any] = {
        "kpis_today": lambda s: metrics.snapshot(s, actor, "1d", now=now),
        "kpis_7d_by_day": lambda s: metrics.snapshot(s, actor, "7d", GroupBy.DAY, now=now),
        "status_priority": m.status_priority,
        "hourly_series": lambda s: m.hourly_series(s, now, 0),
        "sla_at_risk_total": lambda s: m.at_risk_total(s, now),
        "forecast": lambda s: m.breach_forecast(s, now),
        "agent_board": lambda s: m.agent_board(s, now, {}),
    }
    out: dict[str, Any] = {"full_refresh": timed(full, samples)}
    for name, fn in parts.items():
        def part(fn: Any = fn) -> None:
            with store.read() as s:
                fn(s)
        out[name] = timed(part, max(5, samples // 3))
    with store.read() as s:
        snap = m.monitor_snapshot(s, actor)
    out["figures"] = {"backlog": snap.backlog.total, "past_due": snap.backlog.past_due,
                      "at_risk": snap.at_risk_total, "agents": len(snap.agents),
                      "forecast": {f.horizon_min: f.expected for f in snap.forecast}}
    return out


async def bench_backend(store: Store, login: str, samples: int) -> dict[str, Any]:
    backend = LocalBackend(store, login, sla_sweep_interval=None)
    await backend.monitor_snapshot()
    wall, cpu = [], []
    for _ in range(samples):
        t0, c0 = time.perf_counter(), time.process_time()
        await backend.monitor_snapshot()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    await backend.close()
    return {"p50_ms": pct(wall, 50), "p95_ms": pct(wall, 95), "cpu_p50_ms": pct(cpu, 50),
            "cpu_p95_ms": pct(cpu, 95), "n": samples}


async def bench_ui(url: str, login: str, events: int, idle_s: float) -> dict[str, Any]:
    writer = open_store(url)  # "another process": its own handle and connections
    app_store = open_store(url)
    app = AgentApp(LocalBackend(app_store, login, sla_sweep_interval=None), url,
                   start="monitor")
    out: dict[str, Any] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        t0, c0 = time.perf_counter(), time.process_time()
        while not (isinstance(app.screen, MonitorScreen) and app.screen.refreshes >= 1):
            await pilot.pause(0.01)
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        out["first_render"] = {"wall_ms": round((time.perf_counter() - t0) * 1000, 1),
                               "cpu_ms": round((time.process_time() - c0) * 1000, 1)}
        await pilot.pause(1.0)
        latencies: list[float] = []
        for i in range(events):
            assert screen.snapshot is not None
            before = screen.snapshot.backlog.total
            done = threading.Event()

            def write(i: int = i, done: threading.Event = done) -> None:
                with writer.write() as s:
                    tickets.create(s, Actor.system(Source.CLI), TicketCreate(
                        subject=f"Monitor bench {i}", body="hello", team=None,
                        customer_name="Bench", customer_email="bench@example.com"))
                done.set()

            thread = threading.Thread(target=write)
            thread.start()
            while not done.is_set():
                await pilot.pause(0.005)
            written = time.perf_counter()
            while screen.snapshot is None or screen.snapshot.backlog.total <= before:
                await pilot.pause(0.005)
            latencies.append((time.perf_counter() - written) * 1000)
            thread.join()
            await pilot.pause(0.3)
        out["event_to_screen_ms"] = {"p50": pct(latencies, 50), "p95": pct(latencies, 95),
                                     "max": round(max(latencies), 1), "n": events}
        log(f"event to screen: {out['event_to_screen_ms']}")
        await pilot.pause(1.0)
        renders = screen.refreshes
        w0, c0 = time.perf_counter(), time.process_time()
        await pilot.pause(idle_s)
        wall = time.perf_counter() - w0
        out["idle"] = {"seconds": round(wall, 1),
                       "cpu_percent_of_a_core": round((time.process_time() - c0) / wall * 100, 2),
                       "full_refreshes": screen.refreshes - renders}
        log(f"idle: {out['idle']}")
    writer.dispose()
    app_store.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="SQLite path or store URL (a copy: it is written)")
    ap.add_argument("--tickets", type=int, default=1_000_000, help="build this many if empty")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as", dest="login", default=None, help="a supervisor (default: the first)")
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--events", type=int, default=10)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    args = ap.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    store, build = build_or_reuse(url, args.tickets, args.seed)
    with store.read() as s:
        pending = metrics_facts.pending_facts(s)
    if pending:
        log(f"building {pending} ticket facts")
        metrics_facts.build_missing(store.write)
    login = args.login or supervisor(store)
    with store.read() as s:
        actor = actor_for(s, login, Source.TUI)
        open_n = int(s.connection().exec_driver_sql(
            "SELECT count(*) FROM ticket WHERE is_open").scalar() or 0)
    result: dict[str, Any] = {"store": build, "open_tickets": open_n, "login": login}
    log("service")
    result["service"] = bench_service(store, actor, args.samples)
    log(f"full refresh: {result['service']['full_refresh']}")
    result["backend"] = asyncio.run(bench_backend(store, login, args.samples))
    store.dispose()
    log("ui")
    result["ui"] = asyncio.run(bench_ui(url, login, args.events, args.idle))
    result["targets"] = {"full_refresh_ms": 100, "event_to_screen_ms": 1000,
                         "idle_cpu_percent": 5}
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
