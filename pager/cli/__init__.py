"""The `pager` command."""

import click

from pager.cli.audit import audit
from pager.cli.canary import canary
from pager.cli.check import check
from pager.cli.database import backup, db
from pager.cli.importing import importing
from pager.cli.incidents import ack, escalate, incidents, note, resolve, show
from pager.cli.override import override
from pager.cli.people import page, people, verify
from pager.cli.rotations import oncall
from pager.cli.serve import serve, web, worker
from pager.cli.silence import silence
from pager.cli.simulate import simulate


@click.group()
@click.version_option(package_name="pager", prog_name="pager", message="%(prog)s %(version)s")
def main() -> None:
    """pager: self-hosted on-call paging."""


for command in (
    serve,
    web,
    worker,
    db,
    check,
    oncall,
    override,
    silence,
    audit,
    people,
    verify,
    page,
    canary,
    incidents,
    show,
    ack,
    resolve,
    escalate,
    note,
    backup,
    importing,
    simulate,
):
    main.add_command(command)
