"""proven numbers: which (person, number) pairs answered a code, and test pages (an incident
flagged with the person it tests)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "verified_numbers",
        sa.Column("person", sa.String(200), primary_key=True),
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("verified_at", WHEN, nullable=False),
        sa.Column("way", sa.String(20), nullable=False),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("test_of", sa.String(200), nullable=True))
        batch_op.create_index("ix_incidents_test_of", ["test_of", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_test_of")
        batch_op.drop_column("test_of")
    op.drop_table("verified_numbers")
