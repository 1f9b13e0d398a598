"""A fast loader for very large inserts: the demo, benchmarks, the CSV import.

The ORM costs tens of microseconds per row; a million tickets with their
threads is ten million rows. So rows travel here as plain tuples and land
in two steps per batch:

1. **stage**: ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) into
   unindexed staging tables — or, on SQLite, into a staging file that a
   worker process wrote (:func:`stage_file`), so the Python cost of binding
   parameters is spent on another core;
2. **promote**: inside one write transaction, read ``max(id)`` under the
   write lock, then ``INSERT … SELECT`` every staged table into the store,
   turning batch-local ids into real ones and epoch microseconds into the
   dialect's timestamps in SQL.

Ids: a batch numbers the rows of a *keyed* table from 0, and child rows in
the same batch refer to those local numbers (``TableSpec.refs``); the
loader adds the base it read under the lock, so ids are assigned by the
loader and stay correct even if someone else wrote in between. An event's
``entity_id`` is local when its entity's table has keyed rows in the same
batch, absolute otherwise. Tables whose ids nobody references get theirs
from the database.

Timestamps: batches carry epoch microseconds (:func:`epoch_us`); SQLite
gets exactly the text :func:`~agent_tui.domain.tables.base.sqlite_timestamp`
writes (``YYYY-MM-DD HH:MM:SS.ffffff``, which SQLAlchemy reads back) and
PostgreSQL a ``timestamptz``, both computed by the database. Dates travel
as ISO strings.

Tags: when a batch has tickets but no ``ticket_tag`` rows, the loader
mirrors each ticket's ``tags`` column into ``ticket_tag`` in SQL, so the
two can never disagree (and nobody pays Python for those rows).

Events are inserted directly, one row per created or changed entity, as the
audit trail requires; the append-only trigger blocks only UPDATE/DELETE.
"""

from agent_tui.store.bulk.loader import BulkLoader
from agent_tui.store.bulk.rows import (
    BIG_TABLES,
    RANDOM_ORDER_INDEXES,
    SPECS,
    Batch,
    BatchResult,
    TableSpec,
    epoch_us,
    from_epoch_us,
    stage_file,
)

__all__ = [
    "BIG_TABLES",
    "RANDOM_ORDER_INDEXES",
    "SPECS",
    "Batch",
    "BatchResult",
    "BulkLoader",
    "TableSpec",
    "epoch_us",
    "from_epoch_us",
    "stage_file",
]
