"""an index on incidents.ack_code: a new incident's code is checked against the open ones

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_ack_code", "incidents", ["ack_code", "status"])


def downgrade() -> None:
    op.drop_index("ix_incidents_ack_code", table_name="incidents")
