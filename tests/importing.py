"""What the `pager import` tests share: running the command, and reading what it wrote."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from pager.cli import main
from pager.domain.rotation_schema import parse_schedule
from pager.domain.rotations import Schedule

FIXTURES = Path(__file__).parent / "fixtures" / "import"
AT = "2026-12-07T12:00:00Z"  # the instant the fixtures were saved at


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def import_saved(
    vendor: str, source: Path, tmp_path: Path, at: str, *more: str
) -> tuple[Result, Schedule]:
    """`pager import VENDOR --from source` into tmp_path/rotations (report in
    tmp_path/report.txt), and the schedule the written file reads as."""
    result = run(
        "import",
        vendor,
        "--from",
        str(source),
        "--out",
        str(tmp_path / "rotations"),
        "--report",
        str(tmp_path / "report.txt"),
        "--at",
        at,
        *more,
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "rotations" / f"{vendor}.yaml").read_text()
    schedule, problems = parse_schedule([(f"{vendor}.yaml", text)])
    assert schedule is not None, problems
    return result, schedule


def import_live(vendor: str, api_url: str, out: Path, key: str, *more: str) -> Result:
    """`pager import VENDOR --api-url api_url --out out` as of `AT`, the key in
    PAGER_IMPORT_API_KEY."""
    return run(
        "import",
        vendor,
        "--api-url",
        api_url,
        "--out",
        str(out),
        "--at",
        AT,
        *more,
        env={"PAGER_IMPORT_API_KEY": key},
    )


def written(out: Path, vendor: str) -> str:
    """The rotation file `pager import VENDOR --out out` wrote."""
    return (out / f"{vendor}.yaml").read_text()
