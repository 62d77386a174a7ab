"""beacons: the playback events players report (quality of experience)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "beacon_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("player", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("t_ms", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("bitrate", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("dropped_frames", sa.Integer(), nullable=True),
        sa.Column("fatal", sa.Boolean(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("beacon_events", schema=None) as batch_op:
        batch_op.create_index("ix_beacon_events_received", ["received_at"], unique=False)
        batch_op.create_index("ix_beacon_events_asset", ["asset_id", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("beacon_events", schema=None) as batch_op:
        batch_op.drop_index("ix_beacon_events_asset")
        batch_op.drop_index("ix_beacon_events_received")
    op.drop_table("beacon_events")
