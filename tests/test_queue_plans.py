"""Scale rule guard (ARCHITECTURE §6): every view × sort reads an index in order.

A plan that sorts (``USE TEMP B-TREE FOR ORDER BY``) or scans the table would
sort the whole backlog on every page at 1M tickets; this fails before a
benchmark has to notice.
"""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import sqlite

from agent_tui.domain.enums import Channel, Sort, View
from agent_tui.store import Store
from agent_tui.store import queue as q
from tests.conftest import migrated

VIEWS = [
    q.QueueSpec(view=View.ALL_OPEN), q.QueueSpec(view=View.MY_OPEN, me=1),
    q.QueueSpec(view=View.UNASSIGNED), q.QueueSpec(view=View.PENDING),
    q.QueueSpec(view=View.ON_HOLD), q.QueueSpec(view=View.SOLVED),
    q.QueueSpec(view=View.TEAM, team_id=1), q.QueueSpec(view=View.CHANNEL, channel=Channel.CHAT),
]


def _plans(store: Store, spec: q.QueueSpec) -> list[str]:
    terms = q.conditions(spec, "sqlite")
    order = {Sort.PRIORITY: (q.T.c.priority.desc(), q.T.c.created_at, q.T.c.id),
             Sort.AGE: (q.T.c.created_at, q.T.c.id),
             Sort.UPDATED: (q.T.c.updated_at.desc(), q.T.c.id.desc())}[spec.sort]
    stmt = q._base(terms).order_by(*order).limit(51)
    sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        return [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("spec", VIEWS, ids=lambda s: s.view.value)
def test_each_view_and_sort_reads_its_index_in_order(sqlite_url: str, spec: q.QueueSpec,
                                                     sort: Sort) -> None:
    store = migrated(sqlite_url)
    try:
        from dataclasses import replace

        plans = _plans(store, replace(spec, sort=sort))
    finally:
        store.dispose()
    ticket_plan = next(p for p in plans if "ticket" in p and "USING" in p)
    assert "ix_q_" in ticket_plan, plans
    assert not any("TEMP B-TREE" in p for p in plans), plans


@pytest.mark.parametrize("spec", VIEWS, ids=lambda s: s.view.value)
def test_each_view_counts_from_its_partial_index(sqlite_url: str, spec: q.QueueSpec) -> None:
    """A count must not walk a full-table index and check is_open row by row."""
    import sqlalchemy as sa

    store = migrated(sqlite_url)
    try:
        stmt = sa.select(sa.func.count()).select_from(q.T).where(*q.conditions(spec, "sqlite"))
        sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        with store.engine.connect() as conn:
            plans = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    finally:
        store.dispose()
    assert any("ix_q_" in p for p in plans), plans
