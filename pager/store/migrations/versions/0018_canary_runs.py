"""round-trip canaries: each SMS sent through a route to one of pager's own numbers, and
whether it came back

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "canary_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canary", sa.String(150), nullable=False, index=True),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False, unique=True),
        sa.Column("nonce", sa.String(32), nullable=False, unique=True),
        sa.Column("notification_id", sa.Integer, nullable=True, index=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("deadline", WHEN, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("canary_runs")
