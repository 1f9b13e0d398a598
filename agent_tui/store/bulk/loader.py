"""BulkLoader: batched, id-assigning writes of staged rows into a store."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from agent_tui.store.bulk.rows import (
    BIG_TABLES,
    SPECS,
    Batch,
    BatchResult,
    insert_sql,
    kind,
    sqlite_stage_ddl,
)
from agent_tui.store.bulk.sql import (
    PG_MIRROR_TAGS,
    PG_STAGE_TYPES,
    SQLITE_MIRROR_TAGS,
    select_exprs,
)
from agent_tui.store.engine import Store
from agent_tui.store.events import _PG_EVENT_LOCK, Actor


class BulkLoader:
    """Batched, id-assigning inserts into a store (SQLite or PostgreSQL).

    Use as a context manager; each :meth:`write` is one write transaction.
    ``drop_indexes`` (SQLite, into a store without tickets only): ``True``
    for every non-unique secondary index of :data:`BIG_TABLES`, or the names
    of some of them. They are dropped for the load and recreated from their
    exact stored DDL when the loader closes, also after an error. Measured
    at a million tickets, rebuilding pays off only for indexes whose keys
    arrive in random order (see :data:`RANDOM_ORDER_INDEXES`); indexes that
    grow at their end are cheaper to maintain than to rebuild.
    """

    def __init__(self, store: Store, actor: Actor, *,
                 drop_indexes: bool | Iterable[str] = False) -> None:
        self.store = store
        self.actor = actor
        self.drop_indexes: bool | frozenset[str] = (
            drop_indexes if isinstance(drop_indexes, bool) else frozenset(drop_indexes))
        self._raw: Any = None
        self._saved_pragmas: dict[str, Any] = {}
        self._dropped: list[tuple[str, str]] = []
        self._sql_cache: dict[tuple[str, str, frozenset[str]], str] = {}

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> BulkLoader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _conn(self) -> Any:
        if self._raw is None:
            raise RuntimeError("the bulk loader is not open")
        return self._raw.driver_connection

    def open(self) -> None:
        """Take a connection, tune it for bulk work and create the staging tables."""
        self._raw = self.store.engine.raw_connection()
        try:
            if self.store.is_sqlite:
                self._open_sqlite()
            else:
                self._open_pg()
        except BaseException:
            try:  # give the pool back the connection as we found it
                if self.store.is_sqlite:
                    self._restore_sqlite()
                else:
                    self._close_pg()
            finally:
                self._raw.close()
                self._raw = None
            raise

    def _open_sqlite(self) -> None:
        conn = self._conn
        for pragma in ("synchronous", "cache_size", "wal_autocheckpoint"):
            self._saved_pragmas[pragma] = conn.execute(f"PRAGMA {pragma}").fetchone()[0]
        # WAL + NORMAL cannot corrupt the store; it only syncs at checkpoints.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: keep index pages hot
        # Checkpoint every ~40 MiB instead of 4: hot index pages are copied back less often.
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
        conn.execute("ATTACH DATABASE ':memory:' AS bulk_mem")
        for ddl in sqlite_stage_ddl("bulk_mem"):
            conn.execute(ddl)
        if self.drop_indexes:
            self._drop_sqlite_indexes()

    def _drop_sqlite_indexes(self) -> None:
        conn = self._conn
        if conn.execute("SELECT 1 FROM ticket LIMIT 1").fetchone() is not None:
            raise ValueError("drop_indexes is only for loading into a store without tickets")
        marks = ", ".join("?" * len(BIG_TABLES))
        found = list(conn.execute(
            # Unique indexes stay: rebuilding one over bad rows would fail and lose it.
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND upper(sql) NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({marks}) "
            f"ORDER BY rowid", BIG_TABLES))
        wanted = self.drop_indexes
        if isinstance(wanted, bool):
            self._dropped = found if wanted else []
        else:
            unknown = wanted - {name for name, _sql in found}
            if unknown:
                raise ValueError(f"no droppable index named {', '.join(sorted(unknown))}")
            self._dropped = [(n, sql) for n, sql in found if n in wanted]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for name, _sql in self._dropped:
                conn.execute(f'DROP INDEX "{name}"')
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._dropped = []
            raise

    def _open_pg(self) -> None:
        conn = self._conn
        with conn.cursor() as cur:
            for spec in SPECS.values():
                cols = ", ".join(f'"{c}" {PG_STAGE_TYPES[kind(spec.table, c)]}'
                                 for c in spec.columns)
                cur.execute(f'CREATE TEMP TABLE IF NOT EXISTS "bulk_{spec.table}" '
                            f"(_n bigint GENERATED ALWAYS AS IDENTITY, {cols}) "
                            "ON COMMIT DELETE ROWS")
        conn.commit()

    def close(self) -> None:
        """Rebuild dropped indexes, restore the connection and give it back."""
        if self._raw is None:
            return
        try:
            if self.store.is_sqlite:
                self._close_sqlite()
            else:
                self._close_pg()
        finally:
            self._raw.close()
            self._raw = None

    def _close_sqlite(self) -> None:
        conn = self._conn
        try:
            if self._dropped:
                conn.execute("BEGIN IMMEDIATE")
                for _name, sql in self._dropped:
                    conn.execute(sql)
                conn.execute("COMMIT")
                self._dropped = []
        finally:
            self._restore_sqlite()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _restore_sqlite(self) -> None:
        conn = self._conn
        attached = {row[1] for row in conn.execute("PRAGMA database_list")}
        for schema in ("bulk_mem", "bulk_file"):
            if schema in attached:
                conn.execute(f"DETACH DATABASE {schema}")
        for pragma, value in self._saved_pragmas.items():
            conn.execute(f"PRAGMA {pragma} = {int(value)}")
        self._saved_pragmas = {}

    def _close_pg(self) -> None:
        conn = self._conn
        conn.rollback()
        with conn.cursor() as cur:
            for spec in SPECS.values():
                cur.execute(f'DROP TABLE IF EXISTS "bulk_{spec.table}"')
        conn.commit()

    # ---------------------------------------------------------------- writes
    def write(self, batch: Batch) -> BatchResult:
        """Insert one batch in one write transaction; return its id bases."""
        counts = batch.counts()
        if self.store.is_sqlite:
            conn = self._conn
            for name in counts:
                conn.execute(f'DELETE FROM bulk_mem."{name}"')
                conn.executemany(insert_sql("bulk_mem", SPECS[name]), batch.rows[name])
            try:
                return self._promote_sqlite("bulk_mem", counts)
            finally:
                for name in counts:
                    conn.execute(f'DELETE FROM bulk_mem."{name}"')
        return self._write_pg(batch, counts)

    def write_staged(self, path: Path) -> BatchResult:
        """Promote a staging file written by :func:`stage_file` (SQLite only)."""
        if not self.store.is_sqlite:
            raise ValueError("staging files are for SQLite stores; use write() on PostgreSQL")
        conn = self._conn
        conn.execute("ATTACH DATABASE ? AS bulk_file", (str(path),))
        try:
            counts = {}
            for name in SPECS:
                n = conn.execute(f'SELECT count(*) FROM bulk_file."{name}"').fetchone()[0]
                if n:
                    counts[name] = int(n)
            return self._promote_sqlite("bulk_file", counts)
        finally:
            conn.execute("DETACH DATABASE bulk_file")

    def _params(self, bases: dict[str, int]) -> dict[str, Any]:
        params: dict[str, Any] = {f"b_{t}": b for t, b in bases.items()}
        params.update(actor=self.actor.login, role=self.actor.role.value,
                      source=self.actor.source.value)
        return params

    def _promote_sql(self, schema: str, name: str, keyed: frozenset[str]) -> str:
        cache_key = (schema, name, keyed)
        sql = self._sql_cache.get(cache_key)
        if sql is None:
            targets, exprs = select_exprs(SPECS[name], set(keyed), self.store.dialect)
            if self.store.is_sqlite:
                source, order = f'{schema}."{name}"', "rowid"
            else:
                source, order = f'"bulk_{name}"', "_n"
            sql = (f'INSERT INTO "{name}" ({", ".join(targets)}) '
                   f"SELECT {', '.join(exprs)} FROM {source} ORDER BY {order}")
            self._sql_cache[cache_key] = sql
        return sql

    def _promote_sqlite(self, schema: str, counts: dict[str, int]) -> BatchResult:
        conn = self._conn
        keyed = frozenset(t for t in counts if SPECS[t].key)
        conn.execute("BEGIN IMMEDIATE")
        try:
            bases = {t: int(conn.execute(f'SELECT coalesce(max(id), 0) + 1 FROM "{t}"')
                            .fetchone()[0]) for t in sorted(keyed)}
            params = self._params(bases)
            for name in SPECS:
                if name in counts:
                    sql = self._promote_sql(schema, name, keyed)
                    used = {k: v for k, v in params.items() if f":{k}" in sql}
                    conn.execute(sql, used)
            if "ticket" in counts and "ticket_tag" not in counts:
                counts["ticket_tag"] = conn.execute(
                    SQLITE_MIRROR_TAGS.format(schema=schema),
                    {"b_ticket": bases["ticket"]}).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return BatchResult(bases=bases, counts=counts)

    def _write_pg(self, batch: Batch, counts: dict[str, int]) -> BatchResult:
        conn = self._conn
        keyed = frozenset(t for t in counts if SPECS[t].key)
        try:
            with conn.cursor() as cur:
                for name in counts:
                    cols = ", ".join(f'"{c}"' for c in SPECS[name].columns)
                    with cur.copy(f'COPY "bulk_{name}" ({cols}) FROM STDIN') as copy:
                        for row in batch.rows[name]:
                            copy.write_row(row)
                if "event" in counts:
                    # Same lock as append_event: seq order stays commit order.
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_EVENT_LOCK,))
                bases: dict[str, int] = {}
                for name in sorted(keyed):
                    bases[name] = self._reserve_pg(cur, name, counts[name])
                params = self._params(bases)
                for name in SPECS:
                    if name in counts:
                        sql = self._promote_sql("", name, keyed)
                        stmt = sa.text(sql).compile(dialect=self.store.engine.dialect)
                        cur.execute(str(stmt), {k: v for k, v in params.items()
                                                if k in stmt.params})
                if "ticket" in counts and "ticket_tag" not in counts:
                    cur.execute(PG_MIRROR_TAGS, {"b_ticket": bases["ticket"]})
                    counts["ticket_tag"] = cur.rowcount
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return BatchResult(bases=bases, counts=counts)

    @staticmethod
    def _reserve_pg(cur: Any, table: str, n: int) -> int:
        """Lock ``table`` against other inserts and move its sequence past our ids."""
        cur.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
        seq = cur.fetchone()[0]
        cur.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
        top = int(cur.fetchone()[0])
        cur.execute(f"SELECT last_value, is_called FROM {seq}")
        last, called = cur.fetchone()
        base = max(top, int(last) if called else int(last) - 1) + 1
        # Others take nextval() after our block; never an id we are about to use.
        cur.execute("SELECT setval(%s, %s, true)", (seq, base + n - 1))
        return base
