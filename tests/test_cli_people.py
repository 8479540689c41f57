"""`pager people`, `pager verify` and `pager page --test` against a configured database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from pager.app import build_pager
from pager.cli import main
from pager.cli.serve import settings_from
from pager.flows import incidents
from pager.flows.context import Pager, utcnow
from tests.conftest import ROTATIONS
from tests.helpers import ALICE, BOB, phone, run_due

NOW = "2026-12-08T03:00:00Z"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "pager.yaml"
    path.write_text(f"database_url: sqlite:///{tmp_path / 'pager.db'}\nrotations: {ROTATIONS}\n")
    return path


def run(config: Path, *args: str) -> tuple[int, str]:
    with freeze_time(NOW):
        result = CliRunner().invoke(main, [*args, "--config", str(config)])
    return result.exit_code, result.output


def sent(config: Path) -> Pager:
    """The daemon's part: send what the command put in the outbox."""
    pager = build_pager(settings_from(config, None))
    with freeze_time(NOW):
        run_due(pager, utcnow())
    return pager


def test_it_lists_people_with_masked_numbers_and_whether_they_are_proven(config: Path) -> None:
    code, output = run(config, "people")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].split() == [
        "HANDLE",
        "NAME",
        "NUMBER",
        "VERIFIED",
        "CHANNELS",
        "TIME",
        "ZONE",
        "LAST",
        "TEST",
    ]
    assert lines[1].split() == [
        "alice",
        "Alice",
        "Example",
        "+44******0101",
        "NO",
        "sms",
        "Europe/London",
        "never",
    ]
    assert "+447700900101" not in output


def test_it_texts_a_code_and_proves_the_number_with_it(config: Path) -> None:
    code, output = run(config, "verify", "alice")
    assert code == 0, output
    assert output == "a code is on its way to alice: they reply with it by SMS (valid 10 min)\n"
    pager = sent(config)
    try:
        texts = [m.body for m in phone(pager, ALICE) if m.direction == "out"]
        [found] = [re.match(r"(\d{6}) is your pager code to prove", t) for t in texts]
        assert found
        wrong = f"{(int(found.group(1)) + 1) % 10**6:06d}"
        assert run(config, "verify", "alice", "--code", wrong)[0] == 1
        code, output = run(config, "verify", "alice", "--code", found.group(1))
        assert (code, output) == (0, "alice: number proven\n")
    finally:
        pager.db.dispose()
    assert run(config, "people")[1].splitlines()[1].split()[4] == "yes"


def test_it_names_the_known_people_for_an_unknown_handle(config: Path) -> None:
    code, output = run(config, "verify", "mallory")
    assert code == 1
    assert "no person 'mallory' in the rotations (known: alice, bob, carol)" in output


def test_it_sends_a_test_page_to_that_person_only(config: Path) -> None:
    code, output = run(config, "page", "--test", "alice")
    assert (code, output) == (0, "test page #1 sent to alice: they acknowledge it like any page\n")
    pager = sent(config)
    try:
        assert incidents.view(pager, 1).test_of == "alice"
        assert any("Test page for Alice" in m.body for m in phone(pager, ALICE))
        assert phone(pager, BOB) == []
    finally:
        pager.db.dispose()
    assert "#1: delivered, not acked" in run(config, "people")[1]


def test_it_sends_only_test_pages(config: Path) -> None:
    code, output = run(config, "page", "alice")
    assert code == 2
    assert "only test pages can be sent from here: add --test" in output
