"""The `pager` command."""

from importlib import import_module

import click

from pager.cli.audit import audit
from pager.cli.canary import canary
from pager.cli.check import check
from pager.cli.incidents import ack, escalate, incidents, note, resolve, show
from pager.cli.override import override
from pager.cli.people import page, people, verify
from pager.cli.rotations import oncall
from pager.cli.serve import serve, web, worker
from pager.cli.silence import silence

# Commands the daemons never run, imported only when asked for (or for `pager --help`): what
# they import would otherwise stay in every `pager serve`'s memory. name -> (module, function)
RARELY_RUN = {
    "db": ("pager.cli.database", "db"),
    "backup": ("pager.cli.database", "backup"),
    "import": ("pager.cli.importing", "importing"),
    "simulate": ("pager.cli.simulate", "simulate"),
}


class _Commands(click.Group):
    """A group that imports the commands in `RARELY_RUN` when one of them is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *RARELY_RUN})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in RARELY_RUN and cmd_name not in self.commands:
            module, name = RARELY_RUN[cmd_name]
            self.add_command(getattr(import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands)
@click.version_option(package_name="pager", prog_name="pager", message="%(prog)s %(version)s")
def main() -> None:
    """pager: self-hosted on-call paging."""


for command in (
    serve,
    web,
    worker,
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
):
    main.add_command(command)
