"""`pager simulate` on fixture histories whose numbers are worked out by hand below.

The main fixture (tests/fixtures/simulate/): alice in London, bob in New York, carol in
Kolkata; `primary` (London, weekly, alice then bob) and `secondary` (carol alone); policy `sre`
pages primary, then secondary 10 minutes later. The window is the 14 days before 2026-03-31
00:00 UTC: Tuesday 17 March 00:00 UTC to Tuesday 31 March 00:00 UTC. London's clocks go
forward on Sunday 29 March at 01:00 UTC (GMT, UTC+0, to BST, UTC+1); New York is on EDT
(UTC-4) all window long (since 8 March), Kolkata is UTC+5:30 with no DST.

Base: primary hands off on Mondays at 09:00 London time: bob from Mon 16 March 09:00 UTC,
alice from Mon 23 March 09:00 UTC, bob from Mon 30 March 08:00 UTC (09:00 BST).
Head: the same at 17:00 London: Mon 16 March 17:00, Mon 23 March 17:00, Mon 30 March 16:00 UTC.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from pager.cli import main
from pager.store.db import Database
from pager.store.models import Incident

FIXTURES = Path(__file__).parent / "fixtures" / "simulate"
BASE, HEAD, GAPS = FIXTURES / "base", FIXTURES / "head", FIXTURES / "gaps"
HISTORY = FIXTURES / "history.jsonl"
WINDOW = ["--until", "2026-03-31T00:00Z", "--days", "14"]
CI = Path(__file__).resolve().parent.parent / "deploy" / "ci"


def simulate(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["simulate", *map(str, args)])


def loads(result: Result) -> dict[str, dict[str, Any]]:
    """Per person: {"base": {...}, "head": {...}} from the JSON report."""
    assert result.exit_code == 0, result.output
    return {row["person"]: row for row in json.loads(result.output)["people"]}


def stats(
    pages: int, nights: int, on_call: float, weekend: float, longest: float
) -> dict[str, Any]:
    return {
        "pages": pages,
        "night_pages": nights,
        "on_call_hours": on_call,
        "weekend_hours": weekend,
        "longest_hours": longest,
    }


# The history (history.jsonl), with who each set pages (acknowledged 5m after the first page
# where the history has no acknowledged_at; the second step comes 10m after the first):
#  1 Wed 18 Mar 03:00Z, acked 03:04: bob on primary in both; 23:00 EDT in New York: night.
#  2 Sat 21 Mar 15:00Z, no ack (taken as 15:05): bob in both; 11:00 EDT: day.
#  3 Tue 24 Mar 23:30Z, acked 23:45: alice (23:30 GMT: night), then at 23:40 step 2: carol
#    (05:10 IST on the 25th: night), in both sets.
#  4 Fri 27 Mar 02:00Z, low urgency: alice, but 02:00 GMT is her night: the step waits for
#    08:00 GMT and pages her then (day), in both sets.
#  5 Sun 29 Mar 12:00Z (13:00 BST): alice in both; day.
#  6 Mon 30 Mar 08:30Z (09:30 BST): base: bob (handed over at 08:00Z), 04:30 EDT: night;
#    head: still alice (until 16:00Z), day.
#  7 service `search`, which no set has: nobody paged.
#  8 10 March: before the window, left out.
EXPECTED = {
    "alice": {
        # base: incidents 3, 4, 5; head: 3, 4, 5, 6. Only 3 at night.
        "base": {"pages": 3, "night_pages": 1},
        "head": {"pages": 4, "night_pages": 1},
    },
    "bob": {
        # base: 1, 2, 6 (1 and 6 at night); head: 1, 2 (1 at night).
        "base": {"pages": 3, "night_pages": 2},
        "head": {"pages": 2, "night_pages": 1},
    },
    "carol": {
        "base": {"pages": 1, "night_pages": 1},  # step 2 of incident 3
        "head": {"pages": 1, "night_pages": 1},
    },
}
HOURS = {
    "alice": {
        # base: Mon 23 Mar 09:00Z to Mon 30 Mar 08:00Z = 7 x 24 - 1 (the clocks go forward) = 167.
        # Weekend in London: Sat 28 Mar 00:00 GMT (00:00Z) to Mon 30 Mar 00:00 BST (29 Mar
        # 23:00Z) = 47, all of it on call. Head: 23 Mar 17:00Z to 30 Mar 16:00Z, the same.
        "base": {"on_call_hours": 167.0, "weekend_hours": 47.0, "longest_hours": 167.0},
        "head": {"on_call_hours": 167.0, "weekend_hours": 47.0, "longest_hours": 167.0},
    },
    "bob": {
        # base: 17 Mar 00:00Z to 23 Mar 09:00Z = 6 x 24 + 9 = 153, and 30 Mar 08:00Z to the end
        # (31 Mar 00:00Z) = 16: 169. Weekend in New York: Sat 21 Mar 00:00 EDT (04:00Z) to Mon
        # 23 Mar 00:00 EDT (04:00Z) = 48, all on call; the next is alice's.
        # head: 17 Mar 00:00Z to 23 Mar 17:00Z = 161, and 30 Mar 16:00Z to the end = 8: 169.
        "base": {"on_call_hours": 169.0, "weekend_hours": 48.0, "longest_hours": 153.0},
        "head": {"on_call_hours": 169.0, "weekend_hours": 48.0, "longest_hours": 161.0},
    },
    "carol": {
        # Always on call: 14 x 24 = 336. Kolkata weekends: Sat 21 Mar 00:00 IST (20 Mar 18:30Z)
        # to 22 Mar 18:30Z, and 27 Mar 18:30Z to 29 Mar 18:30Z: 2 x 48 = 96.
        "base": {"on_call_hours": 336.0, "weekend_hours": 96.0, "longest_hours": 336.0},
        "head": {"on_call_hours": 336.0, "weekend_hours": 96.0, "longest_hours": 336.0},
    },
}


def test_it_replays_the_fixture_history_to_the_hand_checked_table() -> None:
    people = loads(
        simulate("--base", BASE, "--head", HEAD, "--history", HISTORY, *WINDOW, "--format", "json")
    )
    for person, sides in EXPECTED.items():
        for side in ("base", "head"):
            assert people[person][side] == {**sides[side], **HOURS[person][side]}, (person, side)
    assert people["alice"]["changed"] == ["pages"]
    assert people["bob"]["changed"] == ["pages", "night_pages", "longest_hours"]
    assert people["carol"]["changed"] == []


def test_it_says_which_incidents_page_nobody_and_what_each_page_was() -> None:
    report = json.loads(
        simulate(
            "--base", BASE, "--head", HEAD, "--history", HISTORY, *WINDOW, "--format", "json"
        ).output
    )
    assert report["incidents"] == 7  # incident 8 is before the window
    assert report["base"]["unpaged_incidents"] == [7]
    pages = [(p["incident"], p["person"], p["at"], p["step"]) for p in report["base"]["pages"]]
    assert pages == [
        (1, "bob", "2026-03-18T03:00:00Z", 1),
        (2, "bob", "2026-03-21T15:00:00Z", 1),
        (3, "alice", "2026-03-24T23:30:00Z", 1),
        (3, "carol", "2026-03-24T23:40:00Z", 2),
        (4, "alice", "2026-03-27T08:00:00Z", 1),  # low urgency: moved to her morning
        (5, "alice", "2026-03-29T12:00:00Z", 1),
        (6, "bob", "2026-03-30T08:30:00Z", 1),
    ]
    assert report["base"]["gaps"] == [] and report["head"]["gaps"] == []


def test_it_takes_an_incident_without_ack_as_acknowledged_after_ack_after() -> None:
    # With 15m, the second step (10m after the first page) pages carol too, for the incidents
    # the history gives no acknowledgement time: 2 (15:10Z Sat, 20:40 IST), 4 (08:10Z, 13:40
    # IST), 5 (12:10Z, 17:40 IST) and 6 (08:40Z, 14:10 IST): all day in Kolkata. 1 + 4 = 5.
    people = loads(
        simulate(
            "--base",
            BASE,
            "--head",
            HEAD,
            "--history",
            HISTORY,
            *WINDOW,
            "--ack-after",
            "15m",
            "--format",
            "json",
        )
    )
    assert people["carol"]["base"]["pages"] == 5
    assert people["carol"]["base"]["night_pages"] == 1
    assert people["alice"]["base"]["pages"] == 3  # unchanged: the first step pages once


def test_it_marks_what_the_head_changes_in_the_text_report() -> None:
    result = simulate("--base", BASE, "--head", HEAD, "--history", HISTORY, *WINDOW)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "pager simulate: 7 incidents opened 2026-03-17 00:00 to 2026-03-31 00:00 UTC (14 days), "
        "from history.jsonl"
    )
    assert "acknowledged 5m after its first page" in lines[3]
    table = [line.split("  ") for line in lines[5:9]]
    assert [[cell.strip() for cell in row if cell.strip()] for row in table] == [
        ["person", "time zone", "pages", "night pages", "on call h", "weekend h", "longest h"],
        ["*", "alice (Alice)", "Europe/London", "3 -> 4 (+1)", "1", "167.0", "47.0", "167.0"],
        ["*", "bob (Bob)", "America/New_York", "3 -> 2 (-1)", "2 -> 1 (-1)", "169.0", "48.0",
         "153.0 -> 161.0 (+8.0)"],
        ["carol (Carol)", "Asia/Kolkata", "1", "1", "336.0", "96.0", "336.0"],
    ]  # fmt: skip
    assert "incidents that page nobody: base 1 (#7), head 1 (#7)" in lines
    assert lines[-1] == "  none in either set"


def test_it_writes_a_markdown_table_for_a_pull_request_comment() -> None:
    result = simulate(
        "--base", BASE, "--head", HEAD, "--history", HISTORY, *WINDOW, "--format", "markdown"
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("### pager simulate")
    header = "| person | time zone | pages | night pages | on call h | weekend h | longest h |"
    at = lines.index(header)
    assert lines[at + 1] == "|---|---|---:|---:|---:|---:|---:|"
    assert lines[at + 2] == (
        "| **Alice (`alice`)** | Europe/London | 3 -> **4** (+1) | 1 | 167.0 | 47.0 | 167.0 |"
    )
    assert lines[at + 3] == (
        "| **Bob (`bob`)** | America/New_York | 3 -> **2** (-1) | 2 -> **1** (-1) | 169.0 | "
        "48.0 | 153.0 -> **161.0** (+8.0) |"
    )
    assert lines[at + 4] == "| Carol (`carol`) | Asia/Kolkata | 1 | 1 | 336.0 | 96.0 | 336.0 |"


def test_it_finds_the_gaps_nobody_would_be_paged_in(tmp_path: Path) -> None:
    # gaps/: daytime is alice's, Monday to Friday 09:00-17:00 London (GMT = UTC here) from
    # Mon 2 March 09:00. The window is that week: Mon 2 Mar 00:00Z to Mon 9 Mar 00:00Z.
    # Gaps: Mon 00:00-09:00 (9 h), four nights 17:00-09:00 (4 x 16 = 64 h), Fri 17:00 to the
    # end (55 h): 6 gaps, 128 h; on call 5 x 8 = 40 h. Head adds bob over the weekend (an
    # override, Sat 7 Mar 00:00 to Mon 9 Mar 00:00): the last gap is Fri 17:00-24:00 (7 h),
    # 80 h in all. Bob's own weekend (New York, where the clocks go forward on Sunday 8
    # March): Sat 00:00 EST (05:00Z) on, so 48 - 5 = 43 h of his 48 h on call.
    head = tmp_path / "head"
    shutil.copytree(GAPS, head)
    with (head / "team.yaml").open("a") as file:
        file.write("overrides:\n")
        file.write(
            "  - {rotation: daytime, person: bob, from: 2026-03-07T00:00, to: 2026-03-09T00:00}\n"
        )
    history = FIXTURES / "gaps-history.jsonl"
    window = ["--until", "2026-03-09T00:00Z", "--days", "7"]
    result = simulate(
        "--base", GAPS, "--head", head, "--history", history, *window, "--format", "json"
    )
    report, people = json.loads(result.output), loads(result)
    base_gaps = [(g["kind"], g["start"], g["end"]) for g in report["base"]["gaps"]]
    nights = [(f"2026-03-0{d}T17:00:00Z", f"2026-03-0{d + 1}T09:00:00Z") for d in (2, 3, 4, 5)]
    spans = [("2026-03-02T00:00:00Z", "2026-03-02T09:00:00Z"), *nights]
    rotation = [
        ("rotation", a, b) for a, b in [*spans, ("2026-03-06T17:00:00Z", "2026-03-09T00:00:00Z")]
    ]
    service = [("service", a, b) for _, a, b in rotation]
    assert base_gaps == rotation + service
    head_gaps = [(g["kind"], g["start"], g["end"]) for g in report["head"]["gaps"]]
    last = ("2026-03-06T17:00:00Z", "2026-03-07T00:00:00Z")
    assert head_gaps == [("rotation", a, b) for a, b in [*spans, last]] + [
        ("service", a, b) for a, b in [*spans, last]
    ]
    assert people["alice"]["base"] == stats(1, 0, 40.0, 0.0, 8.0)
    # Sat 10:00Z (05:00 EST, night): base: step 1 finds nobody, step 2 pages bob at once;
    # head: bob is on call, step 1 pages him.
    assert people["bob"]["base"] == stats(1, 1, 0.0, 0.0, 0.0)
    assert people["bob"]["head"] == stats(1, 1, 48.0, 43.0, 48.0)
    steps = [(p["person"], p["step"], p["at"]) for p in report["base"]["pages"]]
    # A step with nobody to page hands on at once, not after its wait.
    assert steps == [("alice", 1, "2026-03-04T12:00:00Z"), ("bob", 2, "2026-03-07T10:00:00Z")]
    assert [(p["person"], p["step"]) for p in report["head"]["pages"]] == [("alice", 1), ("bob", 1)]
    text = simulate("--base", GAPS, "--head", head, "--history", history, *window).output
    assert "  rotation daytime: base 6 gaps, 128.0 h; head 6 gaps, 80.0 h *" in text.splitlines()
    assert "    head: Fri 2026-03-06 17:00 to Sat 2026-03-07 00:00 Europe/London (7.0 h)" in text


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose rotations/ is the base set in one commit, the head set in the next."""
    repo = tmp_path / "team"
    (repo / "rotations").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "CI")
    shutil.copy(BASE / "team.yaml", repo / "rotations" / "team.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    shutil.copy(HEAD / "team.yaml", repo / "rotations" / "team.yaml")
    git(repo, "commit", "-qam", "head: hand off at 17:00")
    return repo


def test_it_reads_base_and_head_from_two_commits_of_a_git_repository(repo: Path) -> None:
    # The working tree is then changed back: a revision is read from its commit, not the tree.
    shutil.copy(BASE / "team.yaml", repo / "rotations" / "team.yaml")
    rotations = repo / "rotations"
    args = ["--rotations", rotations, "--history", HISTORY, *WINDOW, "--format", "json"]
    result = simulate("--base", "HEAD~1", "--head", "HEAD", *args)
    people = loads(result)
    for person, sides in EXPECTED.items():
        assert people[person]["head"] == {**sides["head"], **HOURS[person]["head"]}, person
    report = json.loads(result.output)
    assert report["base"]["commit"] == git(repo, "rev-parse", "HEAD~1")
    assert report["head"]["label"] == "HEAD"
    # Without --head: the folder as it is in the working tree (the base set again).
    same = loads(simulate("--base", "main", *args))
    assert same["bob"]["head"]["pages"] == 3


def test_it_reports_an_invalid_set_at_a_commit_with_file_and_line(repo: Path) -> None:
    broken = (
        (HEAD / "team.yaml").read_text().replace("members: [alice, bob]", "members: [alice, dave]")
    )
    (repo / "rotations" / "team.yaml").write_text(broken)
    git(repo, "commit", "-qam", "an unknown person")
    commit = git(repo, "rev-parse", "HEAD")[:12]
    result = simulate(
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--rotations",
        repo / "rotations",
        "--history",
        HISTORY,
        *WINDOW,
    )
    assert result.exit_code == 1
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "dave" in text)
    assert f"{commit}:rotations/team.yaml:{line}:" in result.output
    assert "unknown person 'dave'" in result.output
    assert "the head rotation set (HEAD) has problems" in result.output


def test_it_refuses_a_revision_that_names_no_commit(repo: Path) -> None:
    result = simulate(
        "--base", "no-such-branch", "--rotations", repo / "rotations", "--history", HISTORY
    )
    assert result.exit_code == 2
    assert "no-such-branch: neither a folder nor a commit" in result.output


def test_it_reports_a_bad_history_line_with_file_and_line(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text(
        '{"service": "payments", "opened_at": "2026-03-18T03:00:00Z"}\n'
        "\n"
        '{"service": "payments", "opened_at": "2026-03-18 03:00"}\n'
        '{"service": "payments", "opened_at": "2026-03-19T03:00:00Z", "acknowleged_at": null}\n'
    )
    result = simulate("--base", BASE, "--head", HEAD, "--history", history, *WINDOW)
    assert result.exit_code == 1
    assert f"{history}:3:1: 'opened_at' must be an ISO 8601 time with an offset" in result.output
    assert f"{history}:4:1: unknown key 'acknowleged_at'" in result.output


def test_it_reads_a_history_written_as_one_json_array(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in HISTORY.read_text().splitlines()]
    history = tmp_path / "history.json"
    history.write_text(json.dumps(lines, indent=2))
    people = loads(
        simulate("--base", BASE, "--head", HEAD, "--history", history, *WINDOW, "--format", "json")
    )
    assert people["bob"]["base"]["pages"] == EXPECTED["bob"]["base"]["pages"]


def test_it_reads_the_incidents_from_the_database(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    db.upgrade()

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    with db.transaction() as session:
        for number, (opened, acked, test_of) in enumerate(
            [
                ("2026-03-18T03:00", "2026-03-18T03:04", None),  # incident 1 of the fixture
                ("2026-03-30T08:30", None, None),  # incident 6
                ("2026-03-30T09:00", None, "bob"),  # a test page: not an incident to replay
            ]
        ):
            session.add(
                Incident(
                    service="payments", integration="am", title=f"t{number}", status="resolved",
                    urgency="high", ack_code=f"{number:04d}", created_at=at(opened),
                    updated_at=at(opened), acknowledged_at=at(acked) if acked else None,
                    test_of=test_of,
                )
            )  # fmt: skip
    db.dispose()
    config = tmp_path / "pager.yaml"
    config.write_text(f"database_url: {database_url}\n")
    result = simulate(
        "--config", config, "--base", BASE, "--head", HEAD, *WINDOW, "--format", "json"
    )
    people = loads(result)
    assert json.loads(result.output)["history"] == "database"
    assert people["bob"]["base"]["pages"] == 2 and people["bob"]["base"]["night_pages"] == 2
    assert people["bob"]["head"]["pages"] == 1  # incident 6 is alice's in head
    assert people["alice"]["head"]["pages"] == 1


def test_it_refuses_a_database_that_is_not_there(tmp_path: Path) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'missing.db'}\n")
    result = simulate("--config", config, "--base", BASE, "--head", HEAD, *WINDOW)
    assert result.exit_code == 2
    assert "no database" in result.output
    assert not (tmp_path / "missing.db").exists()  # read only: not even created


@pytest.mark.parametrize(
    "name", ["github-actions-rotations-report.yml", "gitlab-ci-rotations-report.yml"]
)
def test_it_ships_ci_jobs_that_yamllint_accepts(name: str) -> None:
    # yamllint comes with the test extras (and Debian's package); where neither is there, skip.
    yamllint = shutil.which("yamllint") or shutil.which(
        "yamllint", path=str(Path(sys.executable).parent)
    )
    if yamllint is None:
        pytest.skip("yamllint is not installed")
    job = CI / name
    result = subprocess.run(
        [yamllint, "--strict", "-c", str(CI.parent / ".yamllint.yaml"), str(job)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pager simulate --base" in job.read_text() and "--format markdown" in job.read_text()


def github_script() -> tuple[str, dict[str, str]]:
    workflow = yaml.safe_load((CI / "github-actions-rotations-report.yml").read_text())
    steps = workflow["jobs"]["report"]["steps"]
    script = next(step for step in steps if step.get("name") == "Simulate the change")["run"]
    return script, {"BASE_REF": "main"}


def gitlab_script() -> tuple[str, dict[str, str]]:
    job = yaml.safe_load((CI / "gitlab-ci-rotations-report.yml").read_text())["rotations:report"]
    script = next(line for line in job["script"] if "pager simulate" in line)
    return script, {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}


@pytest.mark.parametrize("job", [github_script, gitlab_script], ids=["github", "gitlab"])
def test_it_runs_the_ci_jobs_simulate_script_in_a_checkout(
    job: Any, repo: Path, tmp_path: Path
) -> None:
    # The job's own script, in a clone whose origin/main is the base commit and HEAD the head,
    # as CI checks out a pull request. The window ends now, so only what does not depend on
    # the date is checked.
    script, variables = job()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, timeout=30)
    git(clone, "update-ref", "refs/remotes/origin/main", "HEAD~1")
    database = tmp_path / "pager.db"
    Database(f"sqlite:///{database}").upgrade()
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), **variables}
    env |= {"RUNNER_TEMP": str(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    for source in (
        {"PAGER_HISTORY": str(HISTORY)},
        {"PAGER_DATABASE_URL": f"sqlite:///{database}"},
    ):
        done = subprocess.run(
            ["bash", "-c", script], cwd=clone, env=env | source, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        written = next(p for p in (tmp_path / "report.md", clone / "report.md") if p.exists())
        report = written.read_text()
        written.unlink()
        assert report.startswith("### pager simulate")
        assert f"- base: `origin/main` (`{git(clone, 'rev-parse', 'HEAD~1')[:12]}`)" in report
        assert f"- head: `HEAD` (`{git(clone, 'rev-parse', 'HEAD')[:12]}`)" in report
        assert "| person | time zone | pages |" in report
    assert "from the database" in report  # the second run read the (empty) database


def test_it_shows_a_person_swapped_in_beside_the_one_swapped_out(tmp_path: Path) -> None:
    # Head gives bob's turns to dave, also in New York: dave takes bob's numbers, bob has none.
    head = tmp_path / "head"
    head.mkdir()
    text = (BASE / "team.yaml").read_text()
    text = text.replace("members: [alice, bob]", "members: [alice, dave]").replace(
        '  bob:   {name: Bob,   phone: "+447700900102"',
        '  dave:  {name: Dave,  phone: "+447700900104"',
    )
    (head / "team.yaml").write_text(text)
    result = simulate(
        "--base", BASE, "--head", head, "--history", HISTORY, *WINDOW, "--format", "json"
    )
    people = loads(result)
    assert people["bob"]["head"] is None
    assert people["dave"]["base"] is None
    assert people["dave"]["head"] == {**EXPECTED["bob"]["base"], **HOURS["bob"]["base"]}
    rows = simulate("--base", BASE, "--head", head, "--history", HISTORY, *WINDOW).output
    dave = next(line for line in rows.splitlines() if "dave (Dave)" in line)
    bob = next(line for line in rows.splitlines() if "bob (Bob)" in line)
    assert dave.startswith("*") and "- -> 3" in dave and "- -> 169.0" in dave
    assert bob.startswith("*") and "3 -> -" in bob
