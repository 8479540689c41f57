"""handoff notices: notifications outside any incident, queued once by a unique key

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with _attempts_set_aside(), op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("incident_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=600), nullable=True))
        batch_op.create_index("ix_notifications_dedup_key", ["dedup_key"], unique=True)


def downgrade() -> None:
    op.execute(
        "DELETE FROM attempts WHERE notification_id IN "
        "(SELECT id FROM notifications WHERE incident_id IS NULL)"
    )
    op.execute("DELETE FROM notifications WHERE incident_id IS NULL")
    with _attempts_set_aside(), op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_dedup_key")
        batch_op.drop_column("dedup_key")
        batch_op.alter_column("incident_id", existing_type=sa.Integer(), nullable=False)


@contextmanager
def _attempts_set_aside() -> Iterator[None]:
    """On SQLite batch mode rebuilds `notifications` (copy, drop, rename), and the drop fails
    while attempts refer to its rows; `PRAGMA foreign_keys=OFF` is ignored inside the
    migration's transaction. So the attempts wait in a plain copy meanwhile (same ids)."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute("CREATE TEMP TABLE attempts_aside AS SELECT * FROM attempts")
    op.execute("DELETE FROM attempts")
    yield
    op.execute("INSERT INTO attempts SELECT * FROM attempts_aside")
    op.execute("DROP TABLE attempts_aside")
