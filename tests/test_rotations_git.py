"""Rotations from a git repository: a local bare repository stands in for the git host, a
working clone pushes commits to it, and the pull is driven directly (`load_rotations` as the
watcher calls it) instead of waiting for the timer.

A good commit comes in force on the next pull; a bad one is refused, the last good set stays
and the error, with the commit, shows in the log, /readyz, the metric and the dashboard; an
unreachable repository keeps the set, at start too; a token in the URL never shows.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from pager import metrics
from pager.app import build_pager
from pager.config import ConfigError, Settings, load_settings
from pager.config.model import GitRotations
from pager.flows.context import Pager, Rotations
from pager.flows.rotations import load_rotations
from pager.flows.rotations_git import Unreachable
from pager.scheduler import RotationWatcher
from pager.store import rotation_sets
from pager.store.rotations_git import mask_credentials
from pager.web import create_app
from tests.conftest import ROTATIONS, make_settings
from tests.fakes.git_host import FakeGitHost, Upstream, git
from tests.fakes.twilio import bind_local_port
from tests.helpers import ALICE, CAROL, payload, phone, receive, run_due
from tests.test_dashboard import dashboard_app, sign_in, text
from tests.test_web import API

TEAM = (ROTATIONS / "team.yaml").read_text()
BROKEN = TEAM.replace("members: [alice, bob]", "members: [alice, bobby]")
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # alice's week (weekly from 2026-01-05)
CAROL_COVERS = (
    "overrides:\n"
    "  - {rotation: sre-primary, person: carol, from: 2026-03-02T09:30, to: 2026-03-02T12:00}\n"
)
TOKEN = "glpat-Zq8rT2vX9kLm4Np7"


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    repository = Upstream(tmp_path / "host")
    repository.push({"rotations/team.yaml": TEAM, "README.md": "on-call\n"}, "first rotations")
    return repository


def git_settings(database_url: str, url: str, checkout: Path, **changes: object) -> Settings:
    git = GitRotations(url, "main", checkout, path="rotations", **changes)  # type: ignore[arg-type]
    return make_settings(database_url, rotations_git=git)


@pytest.fixture
def settings(database_url: str, upstream: Upstream, tmp_path: Path) -> Settings:
    return git_settings(database_url, upstream.url, tmp_path / "clone")


@pytest.fixture
def pager(settings: Settings) -> Iterator[Pager]:
    with running(settings) as built:
        yield built


def pull(pager: Pager, now: datetime = MONDAY) -> Rotations:
    """What the watcher does every `every`: fetch, and load the head commit if it changed."""
    return load_rotations(pager, now, force=False)


@contextmanager
def running(settings: Settings) -> Iterator[Pager]:
    """A daemon's pager from start (`build_pager`) to stop."""
    pager = build_pager(settings)
    try:
        yield pager
    finally:
        pager.db.dispose()


def fetch_once(settings: Settings) -> Rotations:
    """A daemon's life before a restart: it starts, pulls once, stops."""
    with running(settings) as first:
        return pull(first)


@contextmanager
def silent_host() -> Iterator[tuple[socket.socket, str]]:
    """A git host that takes connections and never answers: a fetch from it hangs."""
    with bind_local_port() as listening:
        yield listening, f"http://127.0.0.1:{listening.getsockname()[1]}/oncall.git"


def oncall(pager: Pager, now: datetime = MONDAY) -> str | None:
    assert pager.rotations.schedule is not None
    return pager.rotations.schedule.shift_at("sre-primary", now).person


def paged(pager: Pager, key: str, now: datetime = MONDAY) -> list[str]:
    """Open an incident and send its first page; the numbers that got an SMS."""
    body = payload("alertmanager_firing.json")
    body["groupKey"] = key
    body["alerts"] = [dict(body["alerts"][0], fingerprint=key)]
    receive(pager, "payments-am", body, now)
    run_due(pager, now)
    return [n for n in (ALICE, CAROL) if phone(pager, n)]


def stored_names(pager: Pager) -> list[str]:
    with pager.db.transaction() as session:
        latest = rotation_sets.latest(session)
        return [name for name, _ in rotation_sets.files_of(latest)] if latest else []


def gauge(name: str) -> float | None:
    labels = {"branch": "main"} if name == "pager_rotations_git_fetch_ok" else {}
    return metrics.REGISTRY.get_sample_value(name, labels)


def readyz(pager: Pager) -> dict:
    response = create_app(pager).test_client().get("/readyz", headers=API)
    assert response.status_code == 200
    body: dict = response.get_json()
    return body


def test_it_fetches_the_branch_head_when_it_first_starts(pager: Pager, upstream: Upstream) -> None:
    sha = git("rev-parse", "HEAD", cwd=upstream.work)

    state = pager.rotations  # build_pager: the clone was empty, so it fetched

    assert state.schedule is not None and not state.problems and state.origin == "files"
    assert oncall(pager) == "alice"
    assert stored_names(pager) == [f"{sha[:12]}:rotations/team.yaml"]  # the last good set
    assert gauge("pager_rotations_valid") == 1 and gauge("pager_rotations_git_fetch_ok") == 1
    assert readyz(pager)["status"] == "ok"


def test_it_applies_a_good_commit_on_the_next_pull(
    pager: Pager, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    pull(pager)
    sha = upstream.push({"rotations/overrides.yaml": CAROL_COVERS}, "carol covers the morning")
    assert oncall(pager) == "alice"  # pushed, not yet pulled

    with caplog.at_level(logging.INFO, logger="pager"):
        state = pull(pager, MONDAY + timedelta(minutes=1))

    assert oncall(pager) == "carol" and not state.problems
    assert state.loaded_at == MONDAY + timedelta(minutes=1)
    assert f"event=rotations_loaded digest={state.digest[:12]} files=2 commit={sha}" in caplog.text
    assert paged(pager, "after-the-pull") == [CAROL]


def test_it_refuses_a_bad_commit_keeps_the_last_good_set_and_shows_the_error(
    pager: Pager, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    good = pull(pager)
    bad = upstream.push({"rotations/team.yaml": BROKEN}, "typo")

    with caplog.at_level(logging.ERROR, logger="pager"):
        state = pull(pager)

    [problem] = state.problems
    assert str(problem).startswith(f"{bad[:12]}:rotations/team.yaml:")
    assert "unknown person 'bobby'" in str(problem)
    assert state.schedule is good.schedule and state.digest == good.digest
    assert oncall(pager) == "alice" and paged(pager, "while-broken") == [ALICE]
    assert f"event=rotations_invalid problem={str(problem)!r}" in caplog.text
    assert gauge("pager_rotations_valid") == 0
    ready = readyz(pager)
    assert ready["status"] == "degraded"
    assert ready["checks"]["rotations"].startswith("degraded: the head commit is invalid")
    assert ready["checks"]["rotation_problems"] == [str(problem)]
    client = dashboard_app(pager).test_client()
    sign_in(client)
    assert str(problem) in text(client.get("/"))
    with pager.db.transaction() as session:
        assert rotation_sets.latest(session).digest == good.digest  # type: ignore[union-attr]

    assert pull(pager).problems == [problem]  # the same commit again: still refused, still shown
    upstream.push({"rotations/team.yaml": TEAM}, "fix the typo")
    assert not pull(pager).problems and gauge("pager_rotations_valid") == 1


def test_it_keeps_the_set_while_the_repository_is_unreachable(
    pager: Pager, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    good = pull(pager)
    come_back = upstream.gone()

    with caplog.at_level(logging.WARNING, logger="pager"):
        state = pull(pager)

    [problem] = state.problems
    assert isinstance(problem, Unreachable)
    assert str(problem).startswith(f"{upstream.url} branch main: cannot fetch (git fetch failed:")
    assert "does not appear to be a git repository" in str(problem)
    assert "event=rotations_fetch_failed" in caplog.text
    assert state.schedule is good.schedule and paged(pager, "repo-down") == [ALICE]
    assert gauge("pager_rotations_git_fetch_ok") == 0 and gauge("pager_rotations_valid") == 1
    ready = readyz(pager)
    assert ready["status"] == "degraded"
    assert ready["checks"]["rotations"] == (
        "degraded: cannot fetch the repository; the set in force stays"
    )
    reload = (
        create_app(pager)
        .test_client()
        .post("/api/v1/rotations/reload", headers={"Authorization": "Bearer api-token"})
    )
    assert reload.status_code == 422 and reload.get_json()["problems"] == [str(problem)]
    listed = (
        create_app(pager)
        .test_client()
        .get("/api/v1/rotations", headers={"Authorization": "Bearer api-token"})
    )
    assert listed.get_json()["status"] == "unreachable"

    come_back()
    assert not pull(pager).problems and gauge("pager_rotations_git_fetch_ok") == 1
    assert readyz(pager)["status"] == "ok"


def test_it_starts_with_the_last_good_set_when_the_repository_is_unreachable(
    settings: Settings, upstream: Upstream
) -> None:
    good = fetch_once(settings)
    shutil.rmtree(settings.rotations_git.checkout)  # type: ignore[union-attr]
    upstream.gone()

    with running(settings) as restarted:  # the clone is empty: it tries to fetch
        assert restarted.rotations.origin == "database"
        assert restarted.rotations.digest == good.digest and oncall(restarted) == "alice"
        assert isinstance(restarted.rotations.problems[0], Unreachable)
        state = pull(restarted)
        assert state.digest == good.digest and isinstance(state.problems[0], Unreachable)
        assert paged(restarted, "started-while-down") == [ALICE]
        assert readyz(restarted)["status"] == "degraded"


def test_it_starts_on_the_commit_its_clone_holds_without_touching_the_network(
    database_url: str, upstream: Upstream, tmp_path: Path
) -> None:
    checkout = tmp_path / "clone"
    fetch_once(git_settings(database_url, upstream.url, checkout))
    with silent_host() as (silent, url):  # a fetch would hang: nobody may call it
        with running(git_settings(database_url, url, checkout)) as restarted:
            assert restarted.rotations.origin == "files" and not restarted.rotations.problems
            assert oncall(restarted) == "alice"
        silent.setblocking(False)
        with pytest.raises(BlockingIOError):
            silent.accept()


def test_it_gives_up_on_a_host_that_does_not_answer(
    database_url: str, upstream: Upstream, tmp_path: Path
) -> None:
    checkout = tmp_path / "clone"
    good = fetch_once(git_settings(database_url, upstream.url, checkout))
    with silent_host() as (_, url):
        one_second = git_settings(database_url, url, checkout, timeout=timedelta(seconds=1))
        with running(one_second) as pager:
            state = pull(pager)
    [problem] = state.problems
    assert isinstance(problem, Unreachable)
    assert "git fetch: no answer within 1s" in str(problem)
    assert state.digest == good.digest


def test_it_says_when_the_folder_is_not_in_the_commit(
    database_url: str, upstream: Upstream, tmp_path: Path
) -> None:
    wrong = GitRotations(upstream.url, "main", tmp_path / "clone", path="schedules")
    with running(make_settings(database_url, rotations_git=wrong)) as pager:
        state = pull(pager)
    sha = git("rev-parse", "HEAD", cwd=upstream.work)
    assert [str(p) for p in state.problems] == [
        f"{sha[:12]}:schedules:1: no such folder in this commit"
    ]
    assert state.schedule is None


def test_a_token_in_the_url_never_shows(
    upstream: Upstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every git command line is recorded: `ps` shows those to every user of the machine.
    commands = tmp_path / "git-commands.log"
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    real = shutil.which("git")
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {commands}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}:{os.environ['PATH']}")
    config = tmp_path / "pager.yaml"
    with FakeGitHost(upstream.bare.parent, "oauth2", TOKEN) as host:
        config.write_text(
            f"database_url: sqlite:///{tmp_path / 'data' / 'pager.db'}\n"
            "rotations:\n"
            f"  git: {host.base_url.replace('//', '//oauth2:${GIT_TOKEN}@')}/oncall.git\n"
            "  path: rotations\n"
        )
        (tmp_path / "data").mkdir()
        settings = load_settings(config, {"GIT_TOKEN": TOKEN})
        assert TOKEN in settings.rotations_git.url  # type: ignore[union-attr]
        with running(settings) as pager, caplog.at_level(logging.DEBUG):
            assert pull(pager).schedule is not None  # the token opened the door
            host.password = "rotated-on-the-host"
            state = pull(pager)
            readiness = (
                create_app(pager).test_client().get("/readyz", headers=API).get_data(as_text=True)
            )
    assert "oauth2" in host.users_seen
    [problem] = state.problems
    assert "Authentication failed" in str(problem)
    assert "http://***@127.0.0.1" in str(problem)
    assert "fetch" in commands.read_text()
    shown = [caplog.text, str(problem), readiness, repr(settings), commands.read_text()]
    on_disk = [p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert on_disk and not any(TOKEN.encode() in content for content in on_disk)
    for text_ in shown:
        assert TOKEN not in text_


@pytest.mark.parametrize(
    ("text", "url", "masked"),
    [
        (
            "fatal: unable to access 'https://oauth2:tok-3n_abc@git.example.com/ops/oncall.git/'",
            "",
            "fatal: unable to access 'https://***@git.example.com/ops/oncall.git/'",
        ),
        ("https://ghp_tokentoken@github.com/x.git", "", "https://***@github.com/x.git"),
        (
            "ssh://git@git.example.com/ops/oncall.git",
            "",
            "ssh://***@git.example.com/ops/oncall.git",
        ),
        (
            "password p@ss-word refused (p%40ss-word)",
            "https://bob:p%40ss-word@git.example.com/x.git",
            "password *** refused (***)",
        ),
        ("token t0ken-only seen", "https://t0ken-only@git.example.com/x.git", "token *** seen"),
        (
            "git fetch failed: fatal: not found",
            "ssh://git@host/x.git",
            "git fetch failed: fatal: not found",
        ),
        (
            "unable to access 'https://gitlab.example.com/ops/oncall.git?private_token=glpat-abc123'",
            "",
            "unable to access 'https://gitlab.example.com/ops/oncall.git?private_token=***'",
        ),
        ("GET /x?ref=main&access_token=s3cr3t#top", "", "GET /x?ref=main&access_token=***#top"),
    ],
)
def test_it_masks_credentials(text: str, url: str, masked: str) -> None:
    assert mask_credentials(text, url) == masked


CONFIG = """\
database_url: "{database}"
rotations:
{rotations}
"""


def read_config(
    tmp_path: Path, rotations: str, database: str = "sqlite:///data/pager.db", **env: str
) -> Settings:
    config = tmp_path / "etc" / "pager.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(CONFIG.format(database=database, rotations=rotations))
    return load_settings(config, env)


def test_the_git_form_of_rotations_has_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = read_config(tmp_path, "  git: https://git.example.com/ops/oncall.git")
    assert settings.rotations_git == GitRotations(
        "https://git.example.com/ops/oncall.git",
        "main",
        tmp_path / "data" / "pager-rotations",  # next to the SQLite file
        path="",
        every=timedelta(minutes=1),
        timeout=timedelta(seconds=30),
    )


def test_the_git_form_of_rotations_reads_every_key(tmp_path: Path) -> None:
    settings = read_config(
        tmp_path,
        "  git: https://oauth2:${GIT_TOKEN}@git.example.com/ops/oncall.git\n"
        "  branch: release/oncall\n"
        "  path: /teams/rotations/\n"
        "  every: 30s\n"
        "  timeout: 10s\n"
        "  checkout: ../state/clone\n",
        GIT_TOKEN="s3cr3t-token",
    )
    git = settings.rotations_git
    assert git is not None
    assert git.url == "https://oauth2:s3cr3t-token@git.example.com/ops/oncall.git"
    assert (git.branch, git.path, git.every, git.timeout) == (
        "release/oncall",
        "teams/rotations",
        timedelta(seconds=30),
        timedelta(seconds=10),
    )
    assert git.checkout == tmp_path / "etc" / ".." / "state" / "clone"
    assert "s3cr3t-token" not in repr(settings)


def test_the_plain_form_of_rotations_is_still_a_folder(tmp_path: Path) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text("rotations: teams/\n")
    settings = load_settings(config, {})
    assert settings.rotations == tmp_path / "teams" and settings.rotations_git is None


@pytest.mark.parametrize(
    ("rotations", "database", "problem"),
    [
        ("  branch: main", "sqlite:///pager.db", "pager.yaml:3: rotations: missing 'git'"),
        (
            "  git: https://h/x.git\n  every: 0s",
            "sqlite:///pager.db",
            "pager.yaml:4: rotations every: must be longer than 0s",
        ),
        (
            "  git: https://h/x.git\n  brnch: dev",
            "sqlite:///pager.db",
            "pager.yaml:4: unknown key 'brnch' in rotations",
        ),
        (
            "  git: https://h/x.git\n  branch: a b",
            "sqlite:///pager.db",
            "pager.yaml:4: rotations branch: 'a b' is not a branch name",
        ),
        (
            "  git: https://h/x.git\n  branch: --upload-pack=evil",
            "sqlite:///pager.db",
            "pager.yaml:4: rotations branch: '--upload-pack=evil' is not a branch name",
        ),
        (
            "  git: https://h/x.git\n  path: ../elsewhere",
            "sqlite:///pager.db",
            "pager.yaml:4: rotations path: a folder inside the repository",
        ),
        (
            "  git: https://h/x.git",
            "postgresql+psycopg://pager@db.example.com/pager",
            "pager.yaml:3: rotations: missing 'checkout'",
        ),
        (
            "  git: ${GIT_URL}",
            "sqlite:///pager.db",
            "pager.yaml:3: rotations git: expected an https://, ssh://, git:// or file:// URL",
        ),
    ],
)
def test_the_git_form_of_rotations_names_each_problem(
    tmp_path: Path, rotations: str, database: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        read_config(tmp_path, rotations, database, GIT_URL="not-a-url s3cr3t-token")
    [found] = raised.value.problems
    assert str(found).removeprefix(f"{tmp_path / 'etc'}/").startswith(problem)
    assert "s3cr3t-token" not in str(found)


def wait_until(condition: Callable[[], object]) -> None:
    """Bounded: under freezegun the monotonic clock stands still, so count the tries."""
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


def test_the_watcher_fetches_as_it_starts_then_every_interval(
    database_url: str, upstream: Upstream, tmp_path: Path
) -> None:
    settings = git_settings(
        database_url, upstream.url, tmp_path / "clone", every=timedelta(minutes=5)
    )
    with freeze_time(MONDAY) as clock, running(settings) as pager:
        started = pager.rotations.digest
        upstream.push({"rotations/overrides.yaml": CAROL_COVERS}, "pushed after the start")
        watcher = RotationWatcher(pager)
        watcher.start()
        try:
            wait_until(lambda: pager.rotations.digest != started)  # fetched as it started
            assert oncall(pager) == "carol"
            job = watcher._scheduler.get_job("rotations")
            assert job.next_run_time == MONDAY + timedelta(minutes=5)
            upstream.push({"rotations/overrides.yaml": CAROL_COVERS.replace("carol", "bob")})
            clock.tick(timedelta(minutes=5))
            watcher._scheduler.wakeup()
            wait_until(lambda: oncall(pager) == "bob")
            next_run = watcher._scheduler.get_job("rotations").next_run_time
            assert next_run == MONDAY + timedelta(minutes=10)
        finally:
            watcher.stop()


def test_the_example_in_the_docs_reads(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[1] / "docs" / "rotations.md").read_text()
    section = docs.split("\n## Rotations from git\n", 1)[1]
    found = re.search(r"```\n(.*?)```", section, flags=re.DOTALL)
    assert found is not None
    config = tmp_path / "pager.yaml"
    config.write_text(found[1])
    settings = load_settings(config, {"GIT_TOKEN": "t0ken-t0ken"})
    assert settings.rotations_git == GitRotations(
        "https://oauth2:t0ken-t0ken@git.example.com/ops/oncall.git",
        "main",
        Path("/var/lib/pager/oncall"),
        path="rotations",
        every=timedelta(minutes=1),
        timeout=timedelta(seconds=30),
    )
