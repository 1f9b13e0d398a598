"""Routing, channels and bot: the skill map, settings, the rotation, queue indexes.

Two partial indexes serve routing and ``next_ticket``: the unassigned open
tickets of a team by priority and by SLA due time. They hold only open,
unassigned rows (a small share of a mature store), so the "most urgent
ticket nobody has" is a short index range read however many tickets exist.
Open load per agent is served by 0002's ``ix_q_asg_*`` partial indexes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _seq_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("skill", sa.String(length=100), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("field", "value", name="uq_routing_rule_field_value"),
    )
    op.create_table(
        "routing_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "routing_agent_state",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("last_routed_seq", _seq_type(), nullable=True),
        sa.Column("routed_total", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    dialect = op.get_bind().dialect.name
    where = ("is_open = 1" if dialect == "sqlite" else "is_open") + " AND assignee_id IS NULL"
    op.execute("CREATE INDEX ix_route_free_prio ON ticket "
               f"(team_id, priority DESC, created_at, id) WHERE {where}")
    op.execute(f"CREATE INDEX ix_route_free_due ON ticket (team_id, sla_due_at, id) WHERE {where}")
    # Thread continuation: a customer's latest ticket on one channel.
    op.execute("CREATE INDEX ix_route_customer_channel ON ticket (customer_id, channel, id)")
    # Identity resolution looks an address up whatever channel it was seen on.
    op.execute("CREATE INDEX ix_identity_address ON identity (address)")


def downgrade() -> None:
    op.drop_index("ix_identity_address", table_name="identity")
    op.drop_index("ix_route_customer_channel", table_name="ticket")
    op.drop_index("ix_route_free_due", table_name="ticket")
    op.drop_index("ix_route_free_prio", table_name="ticket")
    op.drop_table("routing_agent_state")
    op.drop_table("routing_setting")
    op.drop_table("routing_rule")
