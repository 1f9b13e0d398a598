"""``metric_hist`` on an existing store: migration 0008 backfills it exactly.

A store built before 0008 has only ``metric_day``'s cross-product JSON; the
upgrade must leave the very rows the incremental path keeps, so the first
report after the upgrade is already right (no rebuild needed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from agent_tui.services import metrics, metrics_rollup
from agent_tui.services.demo import build_demo
from agent_tui.store import Store
from tests.conftest import ADMIN

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _hist(store: Store) -> list[tuple[object, ...]]:
    with store.read() as s:
        return sorted(tuple(r) for r in s.execute(
            sa.select(metrics_rollup.H).where(metrics_rollup.H.c.n != 0)))


def test_migration_0008_backfills_the_histograms_and_downgrades(store: Store) -> None:
    from alembic import command

    from agent_tui.store.migrate import _config, current_revision, upgrade

    build_demo(store, tickets=200, seed=5, now=NOW, workers=0)
    kept = _hist(store)
    with store.read() as s:
        before = [metrics.snapshot(s, ADMIN, "30d", by, now=NOW)
                  for by in (None, "channel", "team", "agent", "day")]
    assert {row[0] for row in kept} == {"all", "channel", "team", "agent"}
    cfg = _config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert current_revision(store) == "0007"
    with store.engine.connect() as conn:
        assert "metric_hist" not in sa.inspect(conn).get_table_names()
    upgrade(store)
    assert _hist(store) == kept
    with store.read() as s:
        after = [metrics.snapshot(s, ADMIN, "30d", by, now=NOW)
                 for by in (None, "channel", "team", "agent", "day")]
    assert [(a.overall, a.groups) for a in after] == [(b.overall, b.groups) for b in before]
    assert before[0].overall.resolution.count > 0


def test_block_units_cover_each_window_day_once() -> None:
    block = metrics.HIST_BLOCK
    for first in range(20_000, 20_000 + 2 * block):
        for length in (1, 5, 7, 12, 30, 90):
            last = first + length - 1
            for blocks in (True, False):
                days: list[int] = []
                for span, lo, hi in metrics._hist_units(first, last, blocks=blocks):
                    assert span == 1 or (span == block and lo % block == 0)
                    for start in range(lo, hi + 1, span):
                        days.extend(range(start, start + span))
                assert sorted(days) == list(range(first, last + 1))
                if length == 30 and blocks:
                    assert len(metrics._hist_units(first, last, blocks=True)) == 3
