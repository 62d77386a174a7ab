"""costs: each job's estimate and actual, for the budget and the cost report

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "costs",
        sa.Column("execution_id", sa.String(length=80), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("estimate_usd", sa.Float(), nullable=False),
        sa.Column("actual_usd", sa.Float(), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("estimate", sa.JSON(), nullable=False),
        sa.Column("actual", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("execution_id"),
    )
    with op.batch_alter_table("costs", schema=None) as batch_op:
        batch_op.create_index("ix_costs_asset_id", ["asset_id"], unique=False)
        batch_op.create_index("ix_costs_month_state", ["month", "state"], unique=False)
        batch_op.create_index("ix_costs_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("costs", schema=None) as batch_op:
        batch_op.drop_index("ix_costs_created")
        batch_op.drop_index("ix_costs_month_state")
        batch_op.drop_index("ix_costs_asset_id")
    op.drop_table("costs")
