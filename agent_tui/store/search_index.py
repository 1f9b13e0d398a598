"""The knowledge full-text index: SQLite FTS5 or PostgreSQL tsvector + GIN.

The index is kept in step with ``knowledge_article`` by database triggers
(migration 0003), so every path that writes articles — the service, the
importer, the demo's bulk loader, a restore that upgrades an old backup —
updates it in the same transaction without knowing it exists. Only
published articles are indexed.

* SQLite: ``kb_fts`` (FTS5, columns title, tags, body) holds each column
  as prepared by :func:`agent_tui.domain.search_text.prepare_document`,
  which the triggers call as the SQL function ``kb_prep``. That function is
  registered on every connection by the engine factory; a connection
  without it (the ``sqlite3`` shell) cannot write articles.
* PostgreSQL: ``kb_search(article_id, doc)`` with ``doc`` built by a
  trigger as ``setweight(to_tsvector('english', kb_prep(title)), 'A') ||
  … tags 'B' … body 'C'``, where the PL/pgSQL ``kb_prep`` turns CJK runs into
  bigrams; the ``english`` configuration stems with the same Snowball
  algorithm the queries use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.search_text import prepare_document

#: Column weights: title above tags above body (BM25 on SQLite).
BM25_WEIGHTS = (10.0, 4.0, 1.0)
#: ts_rank weights {D, C, B, A}: body C, tags B, title A.
PG_RANK_WEIGHTS = "{0.05, 0.2, 0.5, 1.0}"


def register_sqlite_functions(dbapi_conn: Any) -> None:
    """Give a sqlite3 connection the ``kb_prep`` function the index triggers call."""
    dbapi_conn.create_function("kb_prep", 1, prepare_document, deterministic=True)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _rows(session: Session, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Run SQL with positional driver parameters (``?`` on SQLite, ``%s`` on psycopg).

    The search issues a few small statements per keystroke; going to the
    driver skips SQLAlchemy's compile step, which cost more than the
    queries themselves for a 300-word typo lookup.
    """
    return list(session.connection().exec_driver_sql(sql, params).fetchall())


def _marks(session: Session, n: int) -> str:
    mark = "?" if _dialect(session) == "sqlite" else "%s"
    return ", ".join([mark] * n)


def fts_query(terms: Iterable[str], head_terms: Iterable[str] = ()) -> str:
    """An FTS5 OR query of quoted terms; ``head_terms`` only in title and tags.

    Terms are letters, digits or CJK only (see ``search_text``), so quoting
    is all the escaping they need.
    """
    parts = [f'"{t}"' for t in terms]
    head = [f'"{t}"' for t in head_terms]
    if head:
        parts.append("{title tags} : (" + " OR ".join(head) + ")")
    return " OR ".join(parts)


def match(session: Session, terms: list[str], *, head_terms: list[str] | None = None,
          limit: int) -> list[tuple[int, float]]:
    """``(article_id, score)`` of the best published articles, higher scores first.

    ``terms`` match in any column, ``head_terms`` only in the title or tags
    (a common word still helps rank, but only the few articles with it in
    their title pay for it). One indexed full-text query; its cost grows
    with the rows that match, which the caller keeps under a budget.
    """
    head_terms = head_terms or []
    if not terms and not head_terms:
        return []
    if _dialect(session) == "sqlite":
        w = ", ".join(str(x) for x in BM25_WEIGHTS)
        rows = _rows(session,
                     f"SELECT rowid, bm25(kb_fts, {w}) AS r FROM kb_fts WHERE kb_fts MATCH ? "
                     "ORDER BY r LIMIT ?", (fts_query(terms, head_terms), limit))
        return [(int(rid), -float(r)) for rid, r in rows]
    tsq = " | ".join([*terms, *(f"{t}:AB" for t in head_terms)])
    rows = _rows(session,
                 "SELECT s.article_id, ts_rank(CAST(%s AS real[]), s.doc, q, 1) AS r "
                 "FROM kb_search s, to_tsquery('simple', %s) q WHERE s.doc @@ q "
                 "ORDER BY r DESC, s.article_id LIMIT %s", (PG_RANK_WEIGHTS, tsq, limit))
    return [(int(rid), float(r) * 100.0) for rid, r in rows]


def match_pairs(session: Session, groups: list[list[str]], *,
                limit: int) -> list[tuple[int, float]]:
    """Like :func:`match`, for articles holding terms of at least two of ``groups``.

    Each group is a word with its synonyms. The query is the OR of every
    pair of groups ANDed, so FTS5 intersects posting lists (cheap) and
    ranks only the few rows in an intersection. Every group appears in
    ``len(groups) - 1`` pairs, so BM25 counts each the same number of times;
    the score is divided by that to stay comparable with :func:`match`.
    """
    if len(groups) < 2:
        return []
    pairs = [(a, b) for i, a in enumerate(groups) for b in groups[i + 1:]]
    times = len(groups) - 1
    if _dialect(session) == "sqlite":
        def ors(g: list[str]) -> str:
            return "(" + " OR ".join(f'"{t}"' for t in g) + ")"
        expr = " OR ".join(f"({ors(a)} AND {ors(b)})" for a, b in pairs)
        w = ", ".join(str(x) for x in BM25_WEIGHTS)
        rows = _rows(session,
                     f"SELECT rowid, bm25(kb_fts, {w}) AS r FROM kb_fts WHERE kb_fts MATCH ? "
                     "ORDER BY r LIMIT ?", (expr, limit))
        return [(int(rid), -float(r) / times) for rid, r in rows]
    def pg_ors(g: list[str]) -> str:
        return "(" + " | ".join(g) + ")"
    tsq = " | ".join(f"({pg_ors(a)} & {pg_ors(b)})" for a, b in pairs)
    rows = _rows(session,
                 "SELECT s.article_id, ts_rank(CAST(%s AS real[]), s.doc, q, 1) AS r "
                 "FROM kb_search s, to_tsquery('simple', %s) q WHERE s.doc @@ q "
                 "ORDER BY r DESC, s.article_id LIMIT %s", (PG_RANK_WEIGHTS, tsq, limit))
    return [(int(rid), float(r) * 100.0) for rid, r in rows]


class _StatsCache:
    """Per-store term statistics, valid while the FTS5 index is unchanged.

    fts5vocab counts a term's documents by walking its posting list, so a
    lookup costs as much as the term is common (~0.3 ms for a word in 5 % of
    100k articles). The counts only change when the index does, and FTS5
    rewrites its structure record (``kb_fts_data`` row 10) on every change,
    so that record is the cache key: one b-tree read per query.
    """

    MAX_TERMS = 100_000

    def __init__(self) -> None:
        self.key: dict[str, bytes] = {}
        self.df: dict[str, dict[str, int]] = {}
        self.head: dict[str, dict[str, int]] = {}

    def for_session(self, session: Session) -> tuple[dict[str, int], dict[str, int]]:
        url = str(session.get_bind().engine.url)
        (block,) = _rows(session, "SELECT block FROM kb_fts_data WHERE id = 10", ()) or [(b"",)]
        key = bytes(block[0] or b"")
        if self.key.get(url) != key or len(self.df.get(url, ())) > self.MAX_TERMS:
            self.key[url], self.df[url], self.head[url] = key, {}, {}
        return self.df[url], self.head[url]


_STATS = _StatsCache()
_ABSENT = -1


def doc_freqs(session: Session, terms: list[str]) -> dict[str, int]:
    """How many indexed articles hold each term; terms no article holds are absent.

    SQLite reads FTS5's vocabulary table (exact counts), through a cache
    that lives as long as the index is unchanged. PostgreSQL has no cheap
    per-term count, so it reports 1 for a term that exists (an index probe
    each): enough for typo correction, while common terms are not demoted
    there.
    """
    out: dict[str, int] = {}
    unique = list(dict.fromkeys(terms))
    sqlite = _dialect(session) == "sqlite"
    cache: dict[str, int] = {}
    if sqlite:
        cache, _ = _STATS.for_session(session)
        for t in unique:
            n = cache.get(t)
            if n is not None and n != _ABSENT:
                out[t] = n
        unique = [t for t in unique if t not in cache]
    for start in range(0, len(unique), 500):
        chunk = tuple(unique[start:start + 500])
        if sqlite:
            marks = _marks(session, len(chunk))
            sql = f"SELECT term, doc FROM kb_fts_vocab WHERE term IN ({marks})"
        else:
            sql = ("SELECT c.t, 1 FROM unnest(%s::text[]) AS c(t) WHERE EXISTS ("
                   "SELECT 1 FROM kb_search s WHERE s.doc @@ to_tsquery('simple', c.t))")
        found = {str(term): int(df) for term, df in
                 _rows(session, sql, chunk if sqlite else (list(chunk),))}
        out.update(found)
        if sqlite:
            cache.update({t: found.get(t, _ABSENT) for t in chunk})
    return out


def head_freqs(session: Session, terms: list[str]) -> dict[str, int]:
    """At most how many articles hold each term in the title or tags (SQLite; else {}).

    The sum of the two columns' document counts: an upper bound, which is
    what a cost budget wants. Cached like :func:`doc_freqs`.
    """
    if not terms or _dialect(session) != "sqlite":
        return {}
    _, cache = _STATS.for_session(session)
    missing = tuple(t for t in dict.fromkeys(terms) if t not in cache)
    if missing:
        counts = dict.fromkeys(missing, 0)
        marks = _marks(session, len(missing))
        sql = f"SELECT term, col, doc FROM kb_fts_vocab_col WHERE term IN ({marks})"
        for term, col, df in _rows(session, sql, missing):
            if col in ("title", "tags"):
                counts[str(term)] += int(df)
        cache.update(counts)
    return {t: cache[t] for t in terms if cache.get(t)}


def indexed_count(session: Session) -> int:
    """About how many articles are indexed: N in the IDF of the confidence.

    The highest article id, one primary-key read: an exact count (or
    ``max(rowid)`` on the FTS5 table, which scans it) would cost a scan per
    query, and the IDF only needs the order of magnitude.
    """
    value = session.connection().exec_driver_sql(
        "SELECT max(id) FROM knowledge_article").scalar()
    return int(value or 0)


def indexed_ids(session: Session, ids: list[int]) -> set[int]:
    """Which of ``ids`` are in the index (for tests and ``doctor``-style checks)."""
    if not ids:
        return set()
    table, col = ("kb_fts", "rowid") if _dialect(session) == "sqlite" else (
        "kb_search", "article_id")
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    rows = session.execute(sa.text(f"SELECT {col} FROM {table} WHERE {col} IN ({marks})"),
                           {f"i{n}": i for n, i in enumerate(ids)})
    return {int(r[0]) for r in rows}
