"""``build_demo``: a realistic support store for Aurora, a smart-home company.

Teams, agents, business hours, SLA policies, macros, the knowledge base,
customers with identities on every channel and orders, and tickets from
every channel with their threads, internal notes, ratings and full event
history — in English and Chinese, from the content in ``data/``. The same
seed and ``now`` give the same store (ids, texts, times).

Everything is written through :class:`agent_tui.store.bulk.BulkLoader`, so
a million tickets take minutes, not hours. Events (actor ``demo``, role
admin, source cli, time = when it happened): one ``*.created`` per team,
agent, business hours, SLA policy, macro, article, organization, customer,
ticket and rating, plus — at every size — one per change of a ticket
(``ticket.assigned``/``replied``/``noted``/``updated``), so a ticket's
``version`` equals its number of events, as with the ticket service.
Identities, orders, messages and tags belong to their parent's event.
Customer and bot messages add no event (there is no inbound service yet).

Progress is reported as ``progress(phase, done, total)`` with phases
"setup" (1 step), "customers" and "tickets" (rows), and "indexes" (1 step:
rebuilding dropped indexes after a big SQLite load).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from agent_tui.domain.enums import Role, Source
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import utcnow
from agent_tui.services.demo.content import load_content
from agent_tui.services.demo.plan import (
    CUSTOMER_BATCH,
    TICKET_BATCH,
    DemoPlan,
    unsolved_share,
)
from agent_tui.services.demo.runner import Pipeline
from agent_tui.services.demo.setup import DEFAULT_LOGIN, setup_batch, setup_info
from agent_tui.store import Store
from agent_tui.store.bulk import RANDOM_ORDER_INDEXES, Batch, BatchResult, BulkLoader, epoch_us
from agent_tui.store.events import Actor

__all__ = ["DemoSummary", "build_demo"]

#: From this many tickets on, batches are made by worker processes.
PARALLEL_FROM = 5_000
#: From this many tickets on (SQLite), indexes are rebuilt after the load.
REBUILD_INDEXES_FROM = 100_000
MAX_TICKETS = 20_000_000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` made: the login to use, rows per table, and how fast."""

    default_login: str
    counts: dict[str, int]
    seconds: float
    tickets_per_second: float


def _check_empty(store: Store) -> None:
    with store.engine.connect() as conn:
        for table in ("agent", "team", "customer", "ticket"):
            if conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is not None:
                raise Invalid("store", f"the demo needs an empty store, and this one already "
                                       f"has {table}s; give a new --db")


def build_demo(store: Store, *, tickets: int = 2000, seed: int = 7,
               progress: Progress | None = None, now: datetime | None = None,
               workers: int | None = None, history: bool = True) -> DemoSummary:
    """Fill an empty, migrated store with the demo company.

    ``progress(phase, done, total)`` is called as phases ("setup",
    "customers", "tickets", "indexes") advance. ``workers`` is the number of
    generator processes (default: one per CPU for big builds, none for small
    ones); it changes the speed, never the content. ``history=False`` writes
    only the ``*.created`` events of tickets (not one per reply, note and
    status change): fewer rows for benchmark-sized stores; ``version`` still
    counts the changes.
    """
    if not 0 <= tickets <= MAX_TICKETS:
        raise Invalid("tickets", f"must be between 0 and {MAX_TICKETS:,}")
    now = now or utcnow()
    if now.tzinfo is None:
        raise Invalid("now", "give a timezone-aware time")
    report: Progress = progress or (lambda _phase, _done, _total: None)
    content = load_content()
    _check_empty(store)
    if workers is None:
        workers = (os.cpu_count() or 1) if tickets >= PARALLEL_FROM else 0
    elif not 0 <= workers <= 64:
        raise Invalid("workers", "must be between 0 and 64")
    actor = Actor(login="demo", role=Role.ADMIN, source=Source.CLI)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    rebuild = store.is_sqlite and tickets >= REBUILD_INDEXES_FROM
    loader = BulkLoader(store, actor, drop_indexes=RANDOM_ORDER_INDEXES if rebuild else False)
    with loader, Pipeline(workers=workers, staged=store.is_sqlite) as pipeline:

        def write(item: Batch | Path) -> BatchResult:
            result = loader.write_staged(item) if isinstance(item, Path) else loader.write(item)
            for table, n in result.counts.items():
                counts[table] = counts.get(table, 0) + n
            return result

        report("setup", 0, 1)
        now_us = epoch_us(now)
        info = setup_info(content, write(setup_batch(content, seed=seed, now_us=now_us)))
        report("setup", 1, 1)
        plan = DemoPlan(seed=seed, now_us=now_us, tickets=tickets,
                        customers=max(50, tickets // 3), team_ids=info.team_ids,
                        agents=info.agents, sla=info.sla, sla_vip=info.sla_vip,
                        organizations=info.organizations, unsolved_share=unsolved_share(tickets),
                        full_history=history)
        bases = []
        for number, item in enumerate(pipeline.run(plan, "customers", plan.customer_batches)):
            bases.append(write(item).bases["customer"])
            report("customers", min(plan.customers, (number + 1) * CUSTOMER_BATCH),
                   plan.customers)
        plan = replace(plan, customer_bases=tuple(bases))
        for number, item in enumerate(pipeline.run(plan, "tickets", plan.ticket_batches)):
            write(item)
            report("tickets", min(tickets, (number + 1) * TICKET_BATCH), tickets)
        report("indexes", 0, 1)
    report("indexes", 1, 1)
    seconds = time.perf_counter() - started
    # The KPIs read per-ticket facts; building them now means the first report
    # is instant instead of minutes. Timed apart from the load itself.
    from agent_tui.services.metrics_facts import build_missing

    report("metrics", 0, tickets)
    build_missing(store.write, progress=lambda done, total: report("metrics", done, total))
    report("metrics", tickets, tickets)
    return DemoSummary(default_login=DEFAULT_LOGIN, counts=dict(sorted(counts.items())),
                       seconds=seconds,
                       tickets_per_second=tickets / seconds if seconds > 0 else 0.0)
