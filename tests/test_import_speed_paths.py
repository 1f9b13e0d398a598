"""The shortcuts that make a big ticket import fast give what the slow paths give.

* The KPI facts and counters an import builds in its own transaction equal
  a full rebuild from the stored tickets (``metrics_facts.rebuild_all``),
  and the facts watermark ends at the newest ticket.
* When the watermark lagged before the import, the import still leaves
  every fact and counter right.

On SQLite and PostgreSQL (``world``).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from agent_tui.services import metrics_facts
from agent_tui.services.importing import import_file
from agent_tui.store import Store
from tests.conftest import ADMIN, World

DERIVED = {"ticket_fact": "ticket_id", "metric_day": "day, channel, team_id, agent_id",
           "metric_backlog": "status, priority, channel, team_id",
           "metric_hist": "dim, span, day, key, kind, bucket"}
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed", "")
PRIORITIES = ("low", "normal", "high", "urgent", "")
CHANNELS = ("email", "chat", "phone", "web", "app", "social", "")
TEAMS = ("billing", "tech", "logistics", "")
ASSIGNEES = ("ada", "sam", "alice", "bob", "")


def tickets_csv(path: Path, prefix: str, n: int, seed: int) -> Path:
    """``n`` ticket rows with every status, priority, channel, team and assignee."""
    rnd = random.Random(seed)
    lines = ["external_id,subject,body,status,priority,channel,customer_email,team,assignee,"
             "created_at"]
    for i in range(n):
        created = (f"2024-{1 + rnd.randrange(12):02d}-{1 + rnd.randrange(28):02d}"
                   f"T{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:{rnd.randrange(60):02d}Z"
                   if i % 9 else "")  # a few without created_at: they take the import's time
        lines.append(",".join((
            f"{prefix}-{i}", f"Subject {i}", f"Body {i}", rnd.choice(STATUSES),
            rnd.choice(PRIORITIES), rnd.choice(CHANNELS), f"c{rnd.randrange(n // 3 + 1)}@x.org",
            rnd.choice(TEAMS), rnd.choice(ASSIGNEES), created)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ZERO = (0, None, "", "{}", "[]")  # a counter at zero, or an empty histogram


def derived(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    # A counter row whose counts all went down to zero stays (as it does when the
    # services change a ticket); a rebuild from scratch has no such row.
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.read() as s:
        for table, order in DERIVED.items():
            keys = 1 if table == "ticket_fact" else len(order.split(","))
            out[table] = [tuple(r) for r in s.execute(sa.text(
                f"SELECT * FROM {table} ORDER BY {order}"))
                if table == "ticket_fact" or any(v not in ZERO for v in tuple(r)[keys:])]
    return out


def watermark_and_top(store: Store) -> tuple[int, int]:
    with store.read() as s:
        mark = s.execute(sa.text("SELECT value FROM loop_setting WHERE key = :k"),
                         {"k": metrics_facts.WATERMARK}).scalar()
        top = s.execute(sa.text("SELECT max(id) FROM ticket")).scalar()
    return int(mark or 0), int(top or 0)


def test_facts_built_by_the_import_equal_a_full_rebuild(world: World, tmp_path: Path) -> None:
    store = world.store
    first = import_file(store, ADMIN, kind="tickets",
                        path=tickets_csv(tmp_path / "a.csv", "A", 300, 1), batch_size=70)
    assert first.committed and first.created == 300
    mark, top = watermark_and_top(store)
    assert mark == top  # built in the import: nothing was left for build_missing
    # A second file on top of the first: its ids follow the watermark again.
    second = import_file(store, ADMIN, kind="tickets",
                         path=tickets_csv(tmp_path / "b.csv", "B", 120, 2), batch_size=50)
    assert second.committed and second.created == 120
    assert watermark_and_top(store)[0] == watermark_and_top(store)[1]
    built = derived(store)
    assert len(built["ticket_fact"]) == 420 and built["metric_day"] and built["metric_backlog"]
    metrics_facts.rebuild_all(store.write)
    assert derived(store) == built


def test_facts_stay_right_when_the_watermark_lagged(world: World, tmp_path: Path) -> None:
    store = world.store
    assert import_file(store, ADMIN, kind="tickets",
                       path=tickets_csv(tmp_path / "a.csv", "A", 90, 3)).committed
    with store.write() as s:  # as after a bulk load whose backfill has not run yet
        s.execute(sa.text("UPDATE loop_setting SET value = '40' WHERE key = :k"),
                  {"k": metrics_facts.WATERMARK})
    assert import_file(store, ADMIN, kind="tickets",
                       path=tickets_csv(tmp_path / "b.csv", "B", 60, 4)).committed
    mark, top = watermark_and_top(store)
    assert mark == top == 150
    built = derived(store)
    assert len(built["ticket_fact"]) == 150
    metrics_facts.rebuild_all(store.write)
    assert derived(store) == built


def test_tickets_an_import_updates_get_their_facts_recomputed(world: World,
                                                             tmp_path: Path) -> None:
    """Re-importing a file whose rows changed (status, priority, channel, team,
    assignee, created_at) leaves facts and counters as a full rebuild makes them."""
    store = world.store
    assert import_file(store, ADMIN, kind="tickets",
                       path=tickets_csv(tmp_path / "a.csv", "A", 200, 6)).committed
    changed = import_file(store, ADMIN, kind="tickets",
                          path=tickets_csv(tmp_path / "b.csv", "A", 200, 7), batch_size=60)
    assert changed.committed and changed.updated > 150 and changed.created == 0
    built = derived(store)
    assert len(built["ticket_fact"]) == 200
    metrics_facts.rebuild_all(store.write)
    assert derived(store) == built


def test_a_bad_row_after_written_batches_rolls_the_one_pass_back(world: World,
                                                                  tmp_path: Path) -> None:
    """A real ticket import validates and writes in one pass; a bad row found after
    some batches were written rolls them back, and every bad line is reported."""
    store = world.store
    path = tickets_csv(tmp_path / "a.csv", "A", 100, 5)
    lines = path.read_text(encoding="utf-8").splitlines()
    for number in (51, 91):  # file lines: the header is line 1
        cells = lines[number - 1].split(",")
        cells[4] = "critical"  # priority
        lines[number - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tables = ("ticket", "message", "customer", "identity", "event", "ticket_fact", "ticket_tag")

    def counts() -> dict[str, int]:
        with store.read() as s:
            return {t: int(s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
                    for t in tables}

    before = counts()
    phases: list[tuple[str, int]] = []
    report = import_file(store, ADMIN, kind="tickets", path=path, batch_size=10,
                         progress=lambda phase, rows, done, total: phases.append((phase, rows)))
    assert not report.ok and not report.committed
    assert [(e.line, e.column) for e in report.errors] == [(51, "priority"), (91, "priority")]
    assert ("importing", 40) in phases  # four batches were written before the bad one...
    assert counts() == before  # ...and rolled back with everything else
    assert report.created == 98 and report.also == {"customers_created": 33}  # as a dry run

    kept = import_file(store, ADMIN, kind="tickets", path=path, batch_size=10, skip_bad=True)
    assert kept.committed and kept.created == 98 and kept.skipped == 2
    assert [e.line for e in kept.errors] == [51, 91]
    assert counts()["ticket"] == before["ticket"] + 98
    assert watermark_and_top(store)[0] == watermark_and_top(store)[1]
