"""what a provider's lookup said of each paged number, for routing by carrier

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_lookups",
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("carrier", sa.String(length=200), nullable=True),
        sa.Column("line_type", sa.String(length=30), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("looked_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )


def downgrade() -> None:
    op.drop_table("number_lookups")
