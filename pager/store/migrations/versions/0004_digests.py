"""sent times and digests, for per-recipient limits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("digest_of", sa.Integer(), nullable=True))
        batch_op.create_index("ix_notifications_phone_sent", ["phone", "channel", "sent_at"])


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_phone_sent")
        batch_op.drop_column("digest_of")
        batch_op.drop_column("sent_at")
