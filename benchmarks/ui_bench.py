"""Agent workstation benchmark: the real app, headless (Textual's run_test), on a big store.

Measures, as JSON on stdout (progress on stderr):

- ``first_frame``: app start → the queue shows its first page (wall and CPU);
- ``page_down``: ``pagedown`` through the queue's window, split into the keys that
  only repaint from the row cache and those that also fetch the next page (CPU per
  key until the fetch is in and drawn; for those, also the UI thread's own share,
  since the page ahead is fetched on a worker thread after the key's frame is drawn);
- ``open_ticket``: ``enter`` → thread, customer 360 and knowledge suggestions all shown;
- ``rss_mib``: the process's peak resident memory at the end.

CPU is ``time.process_time`` (all threads: the UI and its database workers),
because ``pilot.press`` itself sleeps ~50 ms waiting for idle (MACHINE-NOTES).
Targets (issue: agent workstation) at 1M tickets: first frame ≤ 0.5 s,
page-down ≤ 16 ms CPU, open ticket ≤ 100 ms, RSS ≤ 150 MB.

    .venv/bin/python benchmarks/ui_bench.py --db /tmp/bench-1m.db   # a store_bench store

``--runs N`` makes N runs, each in a fresh process, one after another, and adds
``spread``: for each figure the lowest, median and highest over the runs (the
machine's own load moves these figures by 10-30%; one run proves little).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from timing import pct

from agent_tui.app import AgentApp
from agent_tui.local import LocalBackend
from agent_tui.services.agents import default_login
from agent_tui.store import APP_CACHE_MIB, open_store
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
    store = open_store(url, cache_mib=APP_CACHE_MIB)  # as agent_tui.app.launch opens it
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
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await wait_until(pilot, lambda: not queue.fetching and queue.page is not None)
        await pilot.pause(0.5)
        # pagedown through the window: the keys that only repaint from the row cache,
        # and the keys that also fetch a page ahead (and drop one above) — all of it is
        # CPU this process spends for the key, the database work included.
        table = queue.query_one(TicketTable)
        cpu_keys: list[float] = []
        cpu_fetching: list[float] = []
        ui_fetching: list[float] = []  # the UI thread's share of those keys
        for _ in range(pages):
            fetched = queue.generation, len(queue.window.chunks), queue.window.offset
            c, ui = time.process_time(), time.thread_time()
            await pilot.press("pagedown")
            await wait_until(pilot, lambda: not queue.fetching)
            await pilot.pause(0)
            ms = (time.process_time() - c) * 1000
            now = queue.generation, len(queue.window.chunks), queue.window.offset
            (cpu_fetching if now != fetched else cpu_keys).append(ms)
            if now != fetched:
                ui_fetching.append((time.thread_time() - ui) * 1000)
        out["page_down_cpu"] = summary(cpu_keys)
        out["page_down_with_fetch_cpu"] = summary(cpu_fetching) if cpu_fetching else None
        out["page_down_with_fetch_ui_thread_cpu"] = summary(ui_fetching) if ui_fetching else None
        out["rows_held"] = table.row_count
        out["row_reached"] = queue.window.offset + table.cursor_row + 1
        log(f"pages: {out['page_down_cpu']} / {out['page_down_with_fetch_cpu']}")
        for _ in range(3):  # back to the top of the view for the opens below
            await pilot.press("g")
            await wait_until(pilot, lambda: not queue.fetching)
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
    ap.add_argument("--pages", type=int, default=200, help="pagedown presses")
    ap.add_argument("--runs", type=int, default=1, help="runs, each in a fresh process")
    args = ap.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    targets = {"first_frame_ms": 500, "page_down_cpu_ms": 16, "open_ticket_ms": 100,
               "rss_mib": 150}
    if args.runs > 1:
        runs = [one_run(args, i) for i in range(args.runs)]
        print(json.dumps({"runs": runs, "spread": spread(runs), "targets": targets},
                         indent=2))
        return
    result = asyncio.run(run(url, args.login, args.opens, args.pages))
    result["targets"] = targets
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))


def one_run(args: argparse.Namespace, i: int) -> dict[str, Any]:
    log(f"run {i + 1} of {args.runs}")
    command = [sys.executable, __file__, "--db", args.db, "--opens", str(args.opens),
               "--pages", str(args.pages)]
    if args.login:
        command += ["--as", args.login]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    result.pop("targets", None)
    return result


def spread(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Lowest, median and highest of each figure over the runs."""
    figures = {
        "first_frame_cpu_ms": [r["first_frame"]["cpu_ms"] for r in runs],
        "page_down_cpu_p50_ms": [r["page_down_cpu"]["p50_ms"] for r in runs],
        "page_down_cpu_p95_ms": [r["page_down_cpu"]["p95_ms"] for r in runs],
        "page_down_with_fetch_cpu_p50_ms": [r["page_down_with_fetch_cpu"]["p50_ms"] for r in runs],
        "page_down_with_fetch_cpu_p95_ms": [r["page_down_with_fetch_cpu"]["p95_ms"] for r in runs],
        "page_down_with_fetch_ui_thread_cpu_p95_ms": [
            r["page_down_with_fetch_ui_thread_cpu"]["p95_ms"] for r in runs],
        "open_ticket_cpu_p50_ms": [r["open_ticket_cpu"]["p50_ms"] for r in runs],
        "open_ticket_cpu_p95_ms": [r["open_ticket_cpu"]["p95_ms"] for r in runs],
        "open_ticket_cpu_max_ms": [r["open_ticket_cpu"]["max_ms"] for r in runs],
        "rss_mib": [r["rss_mib"] for r in runs],
        "load_average_1m": [r["load_average"][0] for r in runs],
    }
    return {name: {"min": min(v), "median": statistics.median(v), "max": max(v)}
            for name, v in figures.items()}


if __name__ == "__main__":
    main()
