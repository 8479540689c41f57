"""`pager --version` says which pager this is (the installed distribution's version)."""

from importlib.metadata import version

from click.testing import CliRunner

from pager.cli import main


def test_it_prints_its_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"pager {version('pager')}\n"
