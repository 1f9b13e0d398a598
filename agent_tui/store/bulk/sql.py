"""The SQL that promotes staged rows into the store (both dialects)."""

from __future__ import annotations

from collections.abc import Iterable

from agent_tui.store.bulk.rows import TableSpec, kind

#: Staging column types on PostgreSQL; timestamps arrive as epoch microseconds.
PG_STAGE_TYPES = {"ts": "bigint", "date": "date", "bool": "boolean", "int": "bigint",
                  "text": "text"}


def _event_entity_expr(keyed: Iterable[str], schema_col: str) -> str:
    whens = " ".join(f"WHEN '{t}' THEN :b_{t}" for t in keyed)
    if not whens:
        return schema_col
    return f"{schema_col} + CASE entity {whens} ELSE 0 END"


def select_exprs(spec: TableSpec, keyed: set[str], dialect: str) -> tuple[list[str], list[str]]:
    """Target columns and the SELECT expressions that fill them from a staged row."""
    refs = dict(spec.refs)
    targets: list[str] = []
    exprs: list[str] = []
    for column in spec.columns:
        expr = f'"{column}"'
        if column == spec.key:
            expr = f"{expr} + :b_{spec.table}"
        elif column in refs and refs[column] in keyed:
            expr = f"{expr} + :b_{refs[column]}"
        elif spec.table == "event" and column == "entity_id":
            expr = _event_entity_expr(sorted(keyed), expr)
        elif kind(spec.table, column) == "ts":
            if dialect == "sqlite":
                # Exactly sqlite_timestamp()'s text; NULL stays NULL (NULL || x is NULL).
                expr = (f"datetime({expr} / 1000000, 'unixepoch')"
                        f" || printf('.%06d', {expr} % 1000000)")
            else:
                expr = f"timestamptz 'epoch' + {expr} * interval '1 microsecond'"
        targets.append(f'"{column}"')
        exprs.append(expr)
    if spec.table == "event":
        targets += ['"actor"', '"role"', '"source"']
        exprs += [":actor", ":role", ":source"]
    return targets, exprs


# ticket_tag from the staged tickets' space-separated tags (JSON-quoted, then split).
SQLITE_MIRROR_TAGS = r"""
INSERT INTO ticket_tag (ticket_id, tag)
SELECT DISTINCT s.id + :b_ticket, j.value
FROM {schema}.ticket AS s,
     json_each('["' || replace(replace(replace(s.tags, '\', '\\'), '"', '\"'), ' ', '","')
               || '"]') AS j
WHERE s.tags <> '' AND j.value <> ''
"""
PG_MIRROR_TAGS = """
INSERT INTO ticket_tag (ticket_id, tag)
SELECT DISTINCT s.id + %(b_ticket)s, t.tag
FROM bulk_ticket AS s, unnest(string_to_array(s.tags, ' ')) AS t(tag)
WHERE t.tag <> ''
"""
