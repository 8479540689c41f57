"""verifications: the Verify API's verifications (code kept hashed) and each code sent

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sid", sa.String(34), nullable=False, unique=True),
        sa.Column("service_sid", sa.String(34), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("wrong_tries", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("forgotten_at", WHEN, nullable=True),
    )
    op.create_index("ix_verifications_to", "verifications", ["service_sid", "phone", "created_at"])
    op.create_table(
        "verification_sends",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "verification_id", sa.Integer(), sa.ForeignKey("verifications.id"), nullable=False
        ),
        sa.Column("sid", sa.String(34), nullable=False, unique=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_index(
        "ix_verification_sends_verification_id", "verification_sends", ["verification_id"]
    )
    op.create_index("ix_verification_sends_at", "verification_sends", ["at"])


def downgrade() -> None:
    op.drop_table("verification_sends")
    op.drop_table("verifications")
