"""What the `pager import` tests share: running the command, and reading what it wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
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


def import_refused(vendor: str, api_url: str, out: Path) -> Result:
    """`pager import VENDOR --api-url api_url --out out` with a key the API refuses."""
    return run(
        "import",
        vendor,
        "--api-url",
        api_url,
        "--out",
        str(out),
        env={"PAGER_IMPORT_API_KEY": "wrong-key"},
    )


def import_again(vendor: str, answers: Path, out: Path) -> Result:
    """`pager import VENDOR --from answers --out out` as of `AT`: answers saved by `--save`."""
    return run("import", vendor, "--from", str(answers), "--out", str(out), "--at", AT)


def report_of(result: Result, tmp_path: Path, expected: Iterable[str], vendor: str) -> str:
    """The report `import_saved` wrote into tmp_path, checked: the same as the command's
    output, holding every one of `expected` and no difference from the `vendor`'s own."""
    report = (tmp_path / "report.txt").read_text()
    assert result.output == report
    for text in expected:
        assert text in report
    assert f"differs from {vendor}'s own schedule" not in report
    return report


def assert_same_on_call(
    schedule: Schedule,
    rotation: str,
    entries: Iterable[tuple[str | None, datetime, datetime]],
    vendor: str,
    name_of: Callable[[str | None], str | None] = lambda person: person,
) -> None:
    """At the start, middle and last minute of each of the vendor's `entries` (who, start,
    end), `rotation` has the same person on call, as `name_of` names ours."""
    for name, start, end in entries:
        for at in (start, start + (end - start) / 2, end - timedelta(minutes=1)):
            ours = name_of(schedule.shift_at(rotation, at).person)
            assert ours == name, f"{rotation} at {at.isoformat()}: pager {ours}, {vendor} {name}"
