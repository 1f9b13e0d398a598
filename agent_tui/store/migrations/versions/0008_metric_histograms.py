"""Duration histograms per day along one dimension: ``metric_hist``.

``metric_day`` keeps its JSON histograms per day × channel × team × agent;
a 30-day report had to unnest all of them (tens of thousands of rows ×
buckets). ``metric_hist`` holds the same buckets projected on one dimension
at a time (all, channel, team, agent), one row per bucket and day and
again per 6-day block (``span``), so a report sums whole blocks plus edge
days × its own groups' buckets. The upgrade backfills it from the JSON of
``metric_day`` in SQL (exact: a projection is a sum over the other
dimensions), so existing stores report the same figures at once, without a
rebuild. ``WITHOUT ROWID`` on SQLite: the key is the whole row but ``n``,
so the range scan reads the table itself.

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BLOCK = 6  # days per block row: ``agent_tui.domain.tables.loop.HIST_BLOCK`` when written
_DIMS = (("all", "''"), ("channel", "channel"), ("team", "CAST(team_id AS TEXT)"),
         ("agent", "CAST(agent_id AS TEXT)"))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "metric_hist",
        sa.Column("dim", sa.String(8), primary_key=True),
        sa.Column("span", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("day", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(4), primary_key=True),
        sa.Column("bucket", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )
    for kind, column in (("frt", "frt_hist"), ("res", "res_hist")):
        if dialect == "sqlite":
            source = f"metric_day, json_each(metric_day.{column}) AS j"
            count = "j.value"
        else:
            source = (f"metric_day, jsonb_each_text(CAST(metric_day.{column} AS jsonb)) "
                      "AS j(key, value)")
            count = "CAST(j.value AS BIGINT)"
        for dim, key in _DIMS:
            by = "" if dim == "all" else f"{key}, "  # PostgreSQL refuses GROUP BY ''
            op.execute(
                "INSERT INTO metric_hist (dim, span, day, key, kind, bucket, n) "
                f"SELECT '{dim}', 1, day, {key}, '{kind}', CAST(j.key AS INTEGER), sum({count}) "
                f"FROM {source} GROUP BY day, {by}CAST(j.key AS INTEGER) "
                f"HAVING sum({count}) <> 0")
    op.execute(  # the blocks: sums of their days' rows
        "INSERT INTO metric_hist (dim, span, day, key, kind, bucket, n) "
        f"SELECT dim, {BLOCK}, day - day % {BLOCK}, key, kind, bucket, sum(n) FROM metric_hist "
        f"WHERE span = 1 GROUP BY dim, day - day % {BLOCK}, key, kind, bucket")


def downgrade() -> None:
    op.drop_table("metric_hist")
