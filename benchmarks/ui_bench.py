"""Agent workstation benchmark: the real app, headless (Textual's run_test), on a big store.

Measures, as JSON on stdout (progress on stderr):

- ``first_frame``: app start → the queue shows its first page (wall and CPU);
- ``page_down``: ``pagedown`` inside the page of rows (CPU per key, the table's own
  scrolling) and ``]`` (the next page: a keyset fetch and a row-keyed update);
- ``open_ticket``: ``enter`` → thread, customer 360 and knowledge suggestions all shown;
- ``rss_mib``: the process's peak resident memory at the end.

CPU is ``time.process_time`` (all threads: the UI and its database workers),
because ``pilot.press`` itself sleeps ~50 ms waiting for idle (MACHINE-NOTES).
Targets (issue: agent workstation) at 1M tickets: first frame ≤ 0.5 s,
page-down ≤ 16 ms CPU, open ticket ≤ 100 ms, RSS ≤ 150 MB.

    .venv/bin/python benchmarks/ui_bench.py --db /tmp/bench-1m.db   # a store_bench store
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from typing import Any

from timing import pct

from agent_tui.app import AgentApp
from agent_tui.local import LocalBackend
from agent_tui.services.agents import default_login
from agent_tui.store import open_store
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from widgets.customer_panel import CustomerPanel
from widgets.suggestions import SuggestionPanel
from widgets.ticket_table import TicketTable


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": round(max(ms), 3),
            "mean_ms": round(statistics.fmean(ms), 3), "n": len(ms)}


async def wait_until(pilot: Any, predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the app")
        await asyncio.sleep(0.002)


async def run(url: str, login: str | None, opens: int, pages: int) -> dict[str, Any]:
    store = open_store(url)
    if login is None:
        with store.read() as s:
            login = default_login(s)
    assert login is not None
    out: dict[str, Any] = {"login": login}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    app = AgentApp(LocalBackend(store, login), url)
    async with app.run_test(size=(160, 45)) as pilot:

        def queue_shown() -> bool:
            screen = app.screen
            return isinstance(screen, QueueScreen) and screen.page is not None and bool(
                screen.query_one(TicketTable).ticket_ids)

        await wait_until(pilot, queue_shown)
        out["first_frame"] = {"wall_ms": round((time.perf_counter() - wall0) * 1000, 1),
                              "cpu_ms": round((time.process_time() - cpu0) * 1000, 1)}
        log(f"first frame: {out['first_frame']}")
        await pilot.press("3")  # all open: the biggest view
        await pilot.pause(0.5)
        cpu_keys: list[float] = []
        for _ in range(pages):
            c = time.process_time()
            await pilot.press("pagedown")
            cpu_keys.append((time.process_time() - c) * 1000)
        out["page_down_in_page_cpu"] = summary(cpu_keys)
        cpu_next: list[float] = []
        wall_next: list[float] = []
        for _ in range(pages):
            queue = app.screen
            assert isinstance(queue, QueueScreen)
            before = queue.page
            if before is None or not before.next_cursor:
                break  # the last page of a small store
            c, w = time.process_time(), time.perf_counter()
            await pilot.press("right_square_bracket")
            await wait_until(pilot, lambda q=queue, b=before: q.page is not b)
            await pilot.pause(0)  # let the rows render
            cpu_next.append((time.process_time() - c) * 1000)
            wall_next.append((time.perf_counter() - w) * 1000)
        out["next_page_cpu"] = summary(cpu_next)
        out["next_page_wall"] = summary(wall_next)
        log(f"pages: {out['page_down_in_page_cpu']} / {out['next_page_cpu']}")
        cpu_open: list[float] = []
        wall_open: list[float] = []
        for i in range(opens):
            c, w = time.process_time(), time.perf_counter()
            await pilot.press("enter")

            def workspace_shown() -> bool:
                screen = app.screen
                return (isinstance(screen, TicketScreen) and screen.ticket is not None
                        and screen.query_one(CustomerPanel).data is not None
                        and screen.query_one(SuggestionPanel).query_text == ""
                        and screen.query_one(SuggestionPanel).options.option_count > 0)

            await wait_until(pilot, workspace_shown)
            await pilot.pause(0)
            wall_open.append((time.perf_counter() - w) * 1000)
            cpu_open.append((time.process_time() - c) * 1000)
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
            await pilot.press("j")
            if i % 10 == 9:
                log(f"  opened {i + 1} tickets")
        out["open_ticket_cpu"] = summary(cpu_open)
        out["open_ticket_wall"] = summary(wall_open)
        log(f"open ticket: {out['open_ticket_cpu']} / {out['open_ticket_wall']}")
    out["rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    with store.read() as s:
        out["tickets"] = int(s.connection().exec_driver_sql(
            "SELECT max(id) FROM ticket").scalar() or 0)
    store.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="SQLite path or URL of a built store")
    ap.add_argument("--as", dest="login", default=None)
    ap.add_argument("--opens", type=int, default=30)
    ap.add_argument("--pages", type=int, default=20)
    args = ap.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    result = asyncio.run(run(url, args.login, args.opens, args.pages))
    result["targets"] = {"first_frame_ms": 500, "page_down_cpu_ms": 16,
                         "open_ticket_ms": 100, "rss_mib": 150}
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
