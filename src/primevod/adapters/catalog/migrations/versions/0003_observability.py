"""observability: metric points and totals, alarm states, canary runs, subscription patterns

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pattern", sa.JSON(), nullable=True))
    op.create_table(
        "metric_points",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("labels", sa.String(length=400), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", "labels", "minute"),
    )
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.create_index("ix_metric_points_minute", ["minute"], unique=False)
    op.create_table(
        "metric_totals",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("labels", sa.String(length=400), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", "labels"),
    )
    op.create_table(
        "alarm_states",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "canary_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("canary_runs", schema=None) as batch_op:
        batch_op.create_index("ix_canary_runs_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("canary_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_canary_runs_created_at")
    op.drop_table("canary_runs")
    op.drop_table("alarm_states")
    op.drop_table("metric_totals")
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_points_minute")
    op.drop_table("metric_points")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("pattern")
