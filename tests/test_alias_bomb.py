"""A YAML alias bomb is refused while composing, in both parsers, in bounded memory."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pager.domain import yamldoc
from pager.domain.yamldoc import Problem

FIXTURE = Path(__file__).parent / "fixtures" / "rotations" / "team.yaml"
MEMORY_LIMIT = 1 << 30  # bytes of address space for `pager check`: the bomb needs far more


def alias_bomb() -> str:
    """About 1.4 KB of YAML whose aliases expand to 9**9 (387 million) strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_it_refuses_an_alias_bomb_with_a_file_line_error() -> None:
    with pytest.raises(Problem) as refused:
        yamldoc.load(alias_bomb(), "rotations/bomb.yaml")
    assert str(refused.value).startswith("rotations/bomb.yaml:")
    assert "aliases expand to more than" in str(refused.value)


def test_it_refuses_an_alias_bomb_in_the_pure_python_parser_too() -> None:
    with pytest.raises(Problem, match="aliases expand to more than"):
        yamldoc._load(yamldoc._Loader(alias_bomb()), "bomb.yaml")


def test_it_refuses_an_alias_that_refers_to_itself() -> None:
    with pytest.raises(Problem, match="refers to itself"):
        yamldoc.load("a: &a [1, *a]\n", "loop.yaml")


def test_it_still_reads_ordinary_anchors_and_merge_keys() -> None:
    doc = yamldoc.load("base: &b {x: 1}\nuse: {<<: *b, y: 2}\nlist: [*b, *b]\n", "ok.yaml")
    assert doc["use"] == {"x": 1, "y": 2}
    assert doc["list"] == [{"x": 1}, {"x": 1}]


def test_it_cuts_a_long_user_value_quoted_in_a_message() -> None:
    key = "k" * 5000
    with pytest.raises(Problem) as refused:
        yamldoc.load(f"? {key}\n: 1\n? {key}\n: 2\n", "dup.yaml")
    assert "duplicate key" in str(refused.value)
    assert len(str(refused.value)) < 200


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_it_refuses_the_bomb_in_pager_check_within_a_memory_limit(tmp_path: Path) -> None:
    rotations = tmp_path / "rotations"
    rotations.mkdir()
    (rotations / "team.yaml").write_text(FIXTURE.read_text())
    (rotations / "bomb.yaml").write_text(alias_bomb())
    assert len(alias_bomb()) < 1500
    done = subprocess.run(
        [sys.executable, "-m", "pager", "check", str(rotations)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert f"{rotations / 'bomb.yaml'}:" in output
    assert "aliases expand to more than" in output
    assert "MemoryError" not in output


def test_the_bomb_is_what_it_claims_to_be() -> None:
    # Guards the fixture: composing it is cheap, and it really has 9**9 leaves once expanded.
    root = yaml.compose(alias_bomb(), Loader=yaml.SafeLoader)
    assert root is not None
    assert len(root.value) == 9
