"""Alembic environment: runs on the connection `Database.upgrade` hands over."""

from alembic import context
from sqlalchemy import create_engine

from pager.store import people_models  # noqa: F401  (its tables, in Base.metadata)
from pager.store.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    # Only for `alembic revision --autogenerate` by developers: PAGER_MIGRATE_URL names a database.
    import os

    engine = create_engine(os.environ.get("PAGER_MIGRATE_URL", "sqlite:///pager-migrate.db"))
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
