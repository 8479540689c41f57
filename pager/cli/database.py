"""`pager db upgrade|current|downgrade` (the schema's migrations) and `pager backup FILE`."""

from __future__ import annotations

from pathlib import Path

import click

from pager.cli.serve import config_option, settings_from
from pager.store.backup import BackupRefused, backup_sqlite, pg_dump_lines, sqlite_file
from pager.store.db import Database


def _database(config_path: Path | None) -> Database:
    url = settings_from(config_path, None).database_url
    found = sqlite_file(url)
    if found is not None and not found.is_file():
        raise click.ClickException(f"no database at {found} (the daemon makes it when it starts)")
    return Database(url)


@click.group()
def db() -> None:
    """Database administration: the schema's migrations."""


@db.command()
@config_option
def upgrade(config_path: Path | None) -> None:
    """Apply database migrations (the daemon also does this when it starts)."""
    settings = settings_from(config_path, None)
    database = Database(settings.database_url)
    try:
        database.upgrade()
    finally:
        database.dispose()
    click.echo(f"database is at the newest migration ({Database.head()})")


@db.command()
@config_option
def current(config_path: Path | None) -> None:
    """Which migration the database is at, and whether it is the newest."""
    database = _database(config_path)
    try:
        at = database.current()
    finally:
        database.dispose()
    head = Database.head()
    if at == head:
        click.echo(f"{at} (the newest)")
    else:
        click.echo(f"{at or 'none'} (the newest is {head}: run `pager db upgrade`)")


@db.command()
@click.argument("revision")
@config_option
def downgrade(revision: str, config_path: Path | None) -> None:
    """Take the schema back to REVISION (like 0016; `-- -1` for one step), for going back to
    an older pager. What the newer migrations added is dropped: take a backup first."""
    database = _database(config_path)
    try:
        database.downgrade(revision)
        at = database.current()
    except Exception as exc:  # alembic's own errors name the revision it could not find
        raise click.ClickException(f"cannot downgrade to {revision!r}: {exc}") from exc
    finally:
        database.dispose()
    click.echo(f"database is at {at or 'none'}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@config_option
def backup(file: Path, config_path: Path | None) -> None:
    """Copy the SQLite database to FILE, safe while the daemon runs (SQLite's backup API).

    Restore: stop the daemon, put FILE where `database_url` points (or point it at FILE),
    start the daemon. For PostgreSQL this prints the pg_dump line to run instead."""
    url = settings_from(config_path, None).database_url
    source = sqlite_file(url)
    if source is None:
        dump, restore = pg_dump_lines(url, file)
        click.echo("pager backup copies SQLite databases; for PostgreSQL, run:", err=True)
        click.echo(f"  {dump}", err=True)
        click.echo(f"and to restore it:\n  {restore}", err=True)
        raise SystemExit(1)
    try:
        made = backup_sqlite(source, file)
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up {source} to {made.path}: {made.incidents} incidents, {made.pages} pages")
