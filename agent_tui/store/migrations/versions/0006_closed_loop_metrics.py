"""Closed loop and metrics: survey requests, loop settings, ticket facts, counters.

``ticket_fact`` holds one derived row per ticket (see
``agent_tui.services.metrics``) with three covering indexes, one per
window the KPIs read: created, solved, rated. Two partial indexes on
``ticket``: solved tickets by ``solved_at`` (auto-close finds the old ones
without reading the rest) and open tickets by ``sla_due_at`` (the backlog's
past-due count reads only the overdue part). Both are named ``ix_q_…`` like
the queue's partial indexes (0002) because they are of the same kind: SQLite
also picks them, the narrowest, to count the solved and the open view.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "survey_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("requested_at", nullable=False),
        _ts("answered_at"),
        sa.Column("rating_id", sa.Integer(), sa.ForeignKey("rating.id"), nullable=True),
    )
    op.create_index("ix_survey_request_ticket", "survey_request", ["ticket_id", "status"])
    op.create_table(
        "loop_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        _ts("updated_at", nullable=False),
    )
    big = sa.BigInteger()
    op.create_table(
        "ticket_fact",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_s", big, nullable=False),
        sa.Column("first_response_s", big, nullable=True),
        sa.Column("next_response_total_s", big, nullable=False),
        sa.Column("next_responses", sa.Integer(), nullable=False),
        sa.Column("solved_s", big, nullable=True),
        sa.Column("resolution_s", big, nullable=True),
        sa.Column("agent_replies", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("handle_s", big, nullable=False),
        sa.Column("bot_touched", sa.Integer(), nullable=False),
        sa.Column("handoff", sa.Integer(), nullable=False),
        sa.Column("bot_resolved", sa.Integer(), nullable=False),
        sa.Column("sla_met", sa.Integer(), nullable=True),
        sa.Column("rated_s", big, nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
    )
    op.create_index("ix_fact_created", "ticket_fact",
                    ["created_s", "channel", "team_id", "agent_id", "first_response_s",
                     "next_response_total_s", "next_responses", "bot_touched", "handoff",
                     "solved_s"])
    op.create_index("ix_fact_solved", "ticket_fact",
                    ["solved_s", "channel", "team_id", "agent_id", "resolution_s",
                     "agent_replies", "reopens", "handle_s", "bot_resolved", "sla_met"])
    op.create_index("ix_fact_rated", "ticket_fact",
                    ["rated_s", "channel", "team_id", "agent_id", "csat", "nps"])
    counters = ("created_n", "resolved_n", "nr_total", "nr_n", "bot_touched", "handoff",
                "solved_n", "fcr", "fcr_base", "handle", "bot_resolved", "sla_n", "sla_ok",
                "reopened", "csat_n", "csat_good", "nps_n", "promoters", "detractors")
    op.create_table(
        "metric_day",
        sa.Column("day", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("team_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("agent_id", sa.Integer(), primary_key=True, autoincrement=False),
        *[sa.Column(name, big, nullable=False) for name in counters],
        sa.Column("frt_hist", sa.Text(), nullable=False),
        sa.Column("res_hist", sa.Text(), nullable=False),
    )
    op.create_table(
        "metric_backlog",
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("priority", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("team_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    is_open = "is_open = 1" if dialect == "sqlite" else "is_open"
    op.execute("CREATE INDEX ix_q_solved_at ON ticket (solved_at, id) "
               "WHERE status = 'solved'")
    op.execute(f"CREATE INDEX ix_q_open_due ON ticket (sla_due_at) WHERE {is_open}")


def downgrade() -> None:
    op.drop_index("ix_q_open_due", table_name="ticket")
    op.drop_index("ix_q_solved_at", table_name="ticket")
    op.drop_table("metric_backlog")
    op.drop_table("metric_day")
    op.drop_index("ix_fact_rated", table_name="ticket_fact")
    op.drop_index("ix_fact_solved", table_name="ticket_fact")
    op.drop_index("ix_fact_created", table_name="ticket_fact")
    op.drop_table("ticket_fact")
    op.drop_table("loop_setting")
    op.drop_index("ix_survey_request_ticket", table_name="survey_request")
    op.drop_table("survey_request")
