"""provider send rates shared by every runner, and a reference per attempt to look it up by

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_slots",
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("next_free_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider"),
    )
    # Nothing refers to attempts, so SQLite's batch mode may rebuild it freely.
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint("uq_attempts_reference", ["reference"])


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_attempts_reference", type_="unique")
        batch_op.drop_column("reference")
    op.drop_table("provider_slots")
