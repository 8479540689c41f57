"""What `pager serve` prints at start: the address it listens on, the public URL it gives
senders, and where its rotations come from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pager.app import banner, build_pager
from pager.config import default_settings
from pager.config.model import REPO_ROTATIONS
from tests.conftest import ROTATIONS


def first_lines(settings, lines: int = 3) -> list[str]:
    pager = build_pager(settings)
    try:
        return banner(pager).splitlines()[:lines]
    finally:
        pager.db.dispose()


def test_it_says_the_bound_address_and_the_public_url_apart(tmp_path: Path) -> None:
    settings = replace(
        default_settings("0.0.0.0:8080"),
        database_url=f"sqlite:///{tmp_path / 'p.db'}",
        public_url="https://pager.example.com",
        rotations=ROTATIONS,
    )
    assert first_lines(settings) == [
        "pager is listening on http://0.0.0.0:8080  (config: embedded defaults)",
        "  public URL:  https://pager.example.com  (what providers and senders are given)",
        f"  rotations:   {ROTATIONS.resolve()}",
    ]


def test_it_says_when_it_uses_the_example_shipped_with_pager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./rotations here
    settings = replace(default_settings(), database_url=f"sqlite:///{tmp_path / 'p.db'}")
    assert first_lines(settings)[2] == (
        f"  rotations:   {REPO_ROTATIONS.resolve()}  "
        "(the example shipped with pager: there is no ./rotations here)"
    )
