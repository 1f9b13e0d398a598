"""Workspace actions (issue 4): ``ticket_link`` and ``ticket.merged_into_id``.

Links tie two tickets (related, duplicate, follow-up); a merge closes its
source with ``merged_into_id`` pointing at the ticket that took its
messages. The new ticket column is nullable with no default and no foreign
key, so both SQLite and PostgreSQL add it without rewriting the table.

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

from agent_tui.domain.tables.base import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.create_table(
        "ticket_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("other_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "other_id", name="uq_ticket_link_pair"),
    )
    op.create_index("ix_ticket_link_other", "ticket_link", ["other_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_link_other", table_name="ticket_link")
    op.drop_table("ticket_link")
    op.drop_column("ticket", "merged_into_id")
