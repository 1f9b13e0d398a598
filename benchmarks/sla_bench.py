"""SLA engine benchmark: sweep and recompute over a demo store, as JSON.

Builds (or reuses) a demo store of N tickets, then measures: an idle sweep
(nothing due: one indexed probe, no write lock), a sweep one hour ahead
(flags flipped, breaches escalated), a clock read for one ticket, and the
batched ``sla recompute`` of every open ticket. Times are wall-clock on the
machine it runs on.

    .venv/bin/python benchmarks/sla_bench.py --tickets 100000 --db sqlite:////tmp/sla.db
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta

import sqlalchemy as sa

from agent_tui.domain.tables import utcnow
from agent_tui.services import sla_admin
from agent_tui.services.demo import build_demo
from agent_tui.services.sla_sweeper import SWEEP_ACTOR, run_recompute, run_sweep
from agent_tui.store import open_store
from agent_tui.store.migrate import current_revision, upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--db", required=True, help="sqlite:///PATH or postgresql://…")
    parser.add_argument("--reuse", action="store_true", help="Use the store as it is.")
    args = parser.parse_args()
    store = open_store(args.db)
    if not args.reuse or current_revision(store) is None:
        upgrade(store)
        build_demo(store, tickets=args.tickets, seed=11, now=utcnow())
    out: dict[str, object] = {"tickets": args.tickets, "dialect": store.engine.dialect.name}
    with store.engine.connect() as conn:
        def count(where: str) -> int:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM ticket WHERE {where}"))
                       .scalar() or 0)
        out["open"] = count("is_open")
        out["at_risk"] = count("sla_at_risk")
        out["breached_open"] = count("sla_breached AND is_open")
        out["scheduled_checks"] = count("sla_check_at IS NOT NULL")
    now = utcnow()
    run_sweep(store, SWEEP_ACTOR, now=now - timedelta(days=365))  # warm the pool
    t = time.perf_counter()
    run_sweep(store, SWEEP_ACTOR, now=now - timedelta(days=365))
    out["idle_sweep_ms"] = round((time.perf_counter() - t) * 1000, 2)
    t = time.perf_counter()
    swept = run_sweep(store, SWEEP_ACTOR, now=now + timedelta(hours=1))
    elapsed = time.perf_counter() - t
    out["sweep_1h_ahead"] = {"checked": swept.checked, "changed": len(swept.changed),
                             "ms": round(elapsed * 1000, 1),
                             "ms_per_ticket": round(elapsed * 1000 / max(swept.checked, 1), 3)}
    with store.read() as s:
        some = int(s.execute(sa.text("SELECT max(id) FROM ticket WHERE is_open")).scalar_one())
        t = time.perf_counter()
        for _ in range(50):
            sla_admin.clocks(s, some)
        out["clocks_read_ms"] = round((time.perf_counter() - t) * 1000 / 50, 3)
    t = time.perf_counter()
    n = run_recompute(store, SWEEP_ACTOR, now=now + timedelta(hours=1))
    elapsed = time.perf_counter() - t
    out["recompute_open"] = {"tickets": n, "s": round(elapsed, 2),
                             "ms_per_ticket": round(elapsed * 1000 / max(n, 1), 3)}
    store.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
