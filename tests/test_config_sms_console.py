"""`sms_console:` in pager.yaml: the longest SNOOZE, with every mistake named at its line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pager.config import ConfigError, load_settings


def test_it_reads_the_longest_snooze(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text("sms_console:\n  max_snooze: 1h30m\n")
    assert load_settings(path, env={}).sms_console.max_snooze == timedelta(minutes=90)
    path.write_text("bind: 127.0.0.1:8080\n")
    assert load_settings(path, env={}).sms_console.max_snooze == timedelta(hours=4)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "sms_console:\n  max_snooze: 30s\n",
            "pager.yaml:2: sms_console max_snooze: between 1m and 1d",
        ),
        (
            "sms_console:\n  max_snooze: 2d\n",
            "pager.yaml:2: sms_console max_snooze: between 1m and 1d",
        ),
        (
            "sms_console:\n  max_snooze: soon\n",
            "pager.yaml:2: sms_console max_snooze: expected a duration",
        ),
        (
            "sms_console:\n  max_snooze: 0s\n",
            "pager.yaml:2: sms_console max_snooze: must be longer than 0s",
        ),
        ("sms_console:\n  snooze: 1h\n", "pager.yaml:2: unknown key 'snooze' in sms_console"),
        ("sms_console: 4h\n", "pager.yaml:1: sms_console: expected a mapping"),
    ],
)
def test_it_names_each_mistake_with_its_line(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert said in str(caught.value)
