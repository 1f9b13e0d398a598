"""Live queue benchmark: applying one ticket event, from its row vs by re-fetching.

The real app, headless (Textual's run_test), on a built store (``store_bench``'s
demo, 100k tickets by default). Another store handle changes a ticket in the
queue's window, the way another process would; the event is then handed to
the queue screen, and what it costs is measured until the table is drawn:

- ``apply_row_cpu``: the event carries the ticket's row (what the queue does now):
  put it in the window by row key and redraw; no page fetched
  (``apply_row_handler_cpu``: the handler alone, without the redraw);
- ``refetch_cpu``: what the queue did before for every event: fetch its window
  again and count all eight views;
- ``recount_cpu``: the counts alone, which the row path now fetches at most once a
  second for a burst of events.

CPU is ``time.process_time`` (all threads: the UI and its database workers), as in
``ui_bench``; wall time would mostly measure ``pilot``'s idle waits. The app's own
live feed is stopped, so each event is applied exactly once, by the code measured.

    .venv/bin/python benchmarks/live_bench.py --db /tmp/live-bench-100k.db   # builds it
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from typing import Any

from store_bench import build_or_reuse
from timing import pct

from agent_tui.app import AgentApp
from agent_tui.backend import EventView, Source, TicketUpdate
from agent_tui.domain.tables import Ticket
from agent_tui.local import LocalBackend
from agent_tui.services import tickets
from agent_tui.services.agents import default_login
from agent_tui.services.convert import event_view, masked_event
from agent_tui.store import APP_CACHE_MIB, Store, open_store
from agent_tui.store.events import Actor, events_after, last_seq
from screens.base import TicketsChanged
from screens.queue import QueueScreen
from widgets.ticket_table import TicketTable


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": round(max(ms), 3),
            "mean_ms": round(statistics.fmean(ms), 3), "n": len(ms)}


async def wait_until(predicate: Any, timeout: float = 60.0, what: str = "the app") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


WRITER = Actor.system(Source.CLI, login="live-bench")


def change(writer: Store, ticket_id: int, rng: random.Random) -> list[EventView]:
    """Another process changes one ticket; the events as an agent's feed gets them."""
    with writer.read() as s:
        start = last_seq(s)
    with writer.write() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        tickets.update(s, WRITER, ticket_id, TicketUpdate(
            # A subject never set before (a rerun on the same store picks the same tickets).
            subject=f"Live change {rng.randrange(10**6)} at {time.time_ns()}"),
            expected_version=ticket.version)
    with writer.read() as s:
        return [masked_event(event_view(e)) for e in events_after(s, start)]


async def run(url: str, login: str | None, samples: int, seed: int) -> dict[str, Any]:
    store = open_store(url, cache_mib=APP_CACHE_MIB)  # as agent_tui.app.launch opens it
    writer = open_store(url)
    if login is None:
        with store.read() as s:
            login = default_login(s)
    assert login is not None
    rng = random.Random(seed)
    out: dict[str, Any] = {"login": login, "view": "all_open"}
    app = AgentApp(LocalBackend(store, login), url)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(lambda: isinstance(app.screen, QueueScreen)
                         and app.screen.page is not None)
        await pilot.press("3")  # all open: the biggest view
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await wait_until(lambda: not queue.fetching and len(queue.counts) >= 6)
        app.workers.cancel_group(app, "live")  # events reach the queue only from here
        await pilot.pause(0.3)
        table = queue.query_one(TicketTable)
        out["rows_held"] = table.row_count
        apply_ms: list[float] = []
        refetch_ms: list[float] = []
        recount_ms: list[float] = []
        handler_ms: list[float] = []
        for i in range(samples):
            target = rng.choice(table.ticket_ids[: table.visible_count])
            events = change(writer, target, rng)
            row_events = [e for e in events if e.entity == "ticket"]
            assert row_events and all("row" in e.diff for e in row_events), "no rows"

            applied = queue.live_applied
            c = time.process_time()
            queue.post_message(TicketsChanged(row_events))
            await wait_until(lambda a=applied: queue.live_applied > a, what="the row applied")
            await pilot.pause(0)  # the redraw
            apply_ms.append((time.process_time() - c) * 1000)
            shown = table.ticket(target)
            assert shown is not None and shown.subject == row_events[-1].diff["row"]["subject"]

            # The handler alone (no redraw): the same event once more, a no-op in place.
            c = time.process_time()
            queue.on_tickets_changed(TicketsChanged(row_events))
            handler_ms.append((time.process_time() - c) * 1000)
            await pilot.pause(0)

            counts = queue.counts
            c = time.process_time()
            queue.request_refresh()  # the old path: the window again, then every count
            await wait_until(lambda c0=counts: queue.counts is not c0 and not queue.fetching,
                             what="the re-fetch")
            await pilot.pause(0)
            refetch_ms.append((time.process_time() - c) * 1000)

            counts = queue.counts
            c = time.process_time()
            queue._recount_now()  # what the row path still fetches, once a second at most
            await wait_until(lambda c0=counts: queue.counts is not c0, what="the counts")
            await pilot.pause(0)
            recount_ms.append((time.process_time() - c) * 1000)
            if i % 10 == 9:
                log(f"  {i + 1} events")
        out["apply_row_cpu"] = summary(apply_ms)
        out["apply_row_handler_cpu"] = summary(handler_ms)
        out["refetch_cpu"] = summary(refetch_ms)
        out["recount_cpu"] = summary(recount_ms)
        out["speedup_p50"] = round(out["refetch_cpu"]["p50_ms"] / out["apply_row_cpu"]["p50_ms"],
                                   1)
    with store.read() as s:
        out["tickets"] = int(s.connection().exec_driver_sql(
            "SELECT count(*) FROM ticket").scalar() or 0)
    store.dispose()
    writer.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/live-bench-100k.db",
                    help="SQLite path or URL; built with store_bench's demo if missing")
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as", dest="login", default=None)
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    store, built = build_or_reuse(url, args.tickets, args.seed)
    store.dispose()
    out = asyncio.run(run(url, args.login, args.samples, args.seed))
    out["store"] = built
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
