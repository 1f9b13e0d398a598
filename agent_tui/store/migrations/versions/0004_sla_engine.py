"""SLA engine: ticket flags and due times, clock state, escalation rules, team leads.

``ticket.sla_check_at`` is the next moment the sweep must look at a ticket;
its partial index (only rows with a running clock) lets the sweep find due
work with a range scan, never a full scan of a million tickets. Columns are
added without a batch rebuild of ``ticket`` so that the queue's partial
indexes stay and a big store upgrades in seconds.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

import agent_tui.domain.tables.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, agent_tui.domain.tables.base.UTCDateTime(timezone=True),
                     nullable=nullable)


def upgrade() -> None:
    op.add_column("ticket", _ts("next_response_due_at"))
    op.add_column("ticket", sa.Column("sla_at_risk", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.add_column("ticket", sa.Column("sla_breached", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.add_column("ticket", _ts("sla_check_at"))
    op.create_index("ix_ticket_sla_check", "ticket", ["sla_check_at"],
                    sqlite_where=sa.text("sla_check_at IS NOT NULL"),
                    postgresql_where=sa.text("sla_check_at IS NOT NULL"))
    # SQLite: a plain column (ADD COLUMN cannot name a constraint that a later
    # DROP COLUMN could remove, and a batch rebuild of ``team`` would trip the
    # foreign keys that point at it); services.sla checks the agent exists.
    op.add_column("team", sa.Column("lead_agent_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key("fk_team_lead_agent", "team", "agent", ["lead_agent_id"], ["id"])
    op.create_table(
        "ticket_sla",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("counter_us", sa.BigInteger(), nullable=False),
        _ts("segment_start"),
        sa.Column("fr_start_us", sa.BigInteger(), nullable=True),
        sa.Column("fr_stop_us", sa.BigInteger(), nullable=True),
        sa.Column("fr_breached", sa.Boolean(), nullable=False),
        sa.Column("nr_start_us", sa.BigInteger(), nullable=True),
        sa.Column("nr_stop_us", sa.BigInteger(), nullable=True),
        sa.Column("nr_breached", sa.Boolean(), nullable=False),
        sa.Column("res_start_us", sa.BigInteger(), nullable=True),
        sa.Column("res_stop_us", sa.BigInteger(), nullable=True),
        sa.Column("res_breached", sa.Boolean(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policy.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_table(
        "sla_escalation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("clock", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at", nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policy.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sla_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at_risk_percent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sla_setting")
    op.drop_table("sla_escalation_rule")
    op.drop_table("ticket_sla")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_team_lead_agent", "team", type_="foreignkey")
    op.drop_column("team", "lead_agent_id")
    op.drop_index("ix_ticket_sla_check", table_name="ticket")
    for column in ("sla_check_at", "sla_breached", "sla_at_risk", "next_response_due_at"):
        op.drop_column("ticket", column)
