"""incidents: an index in the API's list order (created_at, id), for keyset pages

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_created", "incidents", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_incidents_created", table_name="incidents")
