"""Queue indexes and the append-only event log.

Every queue view × sort gets an index whose leading columns are the view's
equality terms and whose tail is the sort key plus ``id``, so a keyset page
reads exactly the rows it returns. Views over unsolved tickets use partial
indexes (only open rows), so the solved and closed 85 % of a mature store
cost them nothing. The ``event`` table refuses UPDATE and DELETE unless the
``audit_guard`` row is unlocked, which only the retention and erase paths do
inside their own (audited) transactions.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SORTS = {
    "prio": "priority DESC, created_at, id",
    "age": "created_at, id",
    "upd": "updated_at, id",
}
# name -> (leading columns, partial WHERE kind)
VIEWS = {
    "open": ("", "open"),
    "asg": ("assignee_id, ", "open"),
    "team": ("team_id, ", "open"),
    "chan": ("channel, ", "open"),
    "st": ("status, ", "open"),
    "solved": ("", "solved"),
}


def _where(kind: str, dialect: str) -> str:
    if kind == "solved":
        return "status = 'solved'"
    return "is_open = 1" if dialect == "sqlite" else "is_open"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for vname, (lead, kind) in VIEWS.items():
        for sname, tail in SORTS.items():
            op.execute(
                f"CREATE INDEX ix_q_{vname}_{sname} ON ticket ({lead}{tail}) "
                f"WHERE {_where(kind, dialect)}"
            )
    # No plain (assignee_id) or (team_id) index on purpose: SQLite then picks
    # it for "open tickets of agent X" counts and reads every closed ticket
    # too (208 ms at 1M); the partial ix_q_asg_*/ix_q_team_* serve them (ms).
    op.execute("CREATE INDEX ix_message_customer ON message (author_customer_id)")

    op.execute("INSERT INTO audit_guard (id, unlocked) VALUES (1, 0)")
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER event_append_only_{verb.lower()} BEFORE {verb} ON event "
                "WHEN coalesce((SELECT unlocked FROM audit_guard WHERE id = 1), 0) <> 1 "
                "BEGIN SELECT RAISE(ABORT, 'event log is append-only'); END"
            )
    else:
        op.execute(
            """
            CREATE FUNCTION event_append_only() RETURNS trigger AS $$
            BEGIN
                IF coalesce((SELECT unlocked FROM audit_guard WHERE id = 1), 0) <> 1 THEN
                    RAISE EXCEPTION 'event log is append-only';
                END IF;
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
            "FOR EACH ROW EXECUTE FUNCTION event_append_only()"
        )
        # TRUNCATE bypasses row triggers; refuse it outright.
        op.execute(
            "CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event "
            "FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS event_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS event_append_only_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS event_no_truncate ON event")
        op.execute("DROP TRIGGER IF EXISTS event_append_only ON event")
        op.execute("DROP FUNCTION IF EXISTS event_append_only()")
    op.execute("DELETE FROM audit_guard")
    op.drop_index("ix_message_customer")
    for vname in VIEWS:
        for sname in SORTS:
            op.drop_index(f"ix_q_{vname}_{sname}", table_name="ticket")
