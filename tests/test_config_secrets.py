"""Secrets from files named by the environment (`TWILIO_AUTH_TOKEN_FILE=/run/secrets/twilio`),
as Docker and Kubernetes mount them: read, the variable itself wins, and a problem names the
variable and the path but never what the file holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pager.config import ConfigError, load_settings
from tests.test_config import ENV, FULL

SECRET = "tw-s3cret-from-a-file"


def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "pager.yaml"
    path.write_text(FULL)
    return path


def env_with_file(secret_file: Path) -> dict[str, str]:
    env = {k: v for k, v in ENV.items() if k != "TWILIO_AUTH_TOKEN"}
    return {**env, "TWILIO_AUTH_TOKEN_FILE": str(secret_file)}


def auth_token(tmp_path: Path, env: dict[str, str]) -> str:
    return load_settings(settings_file(tmp_path), env).providers[0].options["auth_token"]


def problems(tmp_path: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_file(tmp_path), env)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (SECRET, SECRET),
        (f"{SECRET}\n", SECRET),  # echo adds one
        (f"{SECRET}\r\n", SECRET),
        (f"{SECRET}\n\n", f"{SECRET}\n"),  # only one is taken off
        (f" {SECRET} ", f" {SECRET} "),  # spaces may be part of a secret
    ],
)
def test_it_reads_a_secret_from_the_file_named_by_var_file(
    tmp_path: Path, written: str, read: str
) -> None:
    secret_file = tmp_path / "twilio_auth_token"
    secret_file.write_text(written, newline="")
    assert auth_token(tmp_path, env_with_file(secret_file)) == read


def test_it_prefers_the_variable_to_the_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "twilio_auth_token"
    secret_file.write_text(f"{SECRET}\n")
    env = {**env_with_file(secret_file), "TWILIO_AUTH_TOKEN": "from-the-environment"}
    assert auth_token(tmp_path, env) == "from-the-environment"


def test_it_reads_the_file_when_the_variable_is_set_but_empty(tmp_path: Path) -> None:
    secret_file = tmp_path / "twilio_auth_token"
    secret_file.write_text(f"{SECRET}\n")
    env = {**env_with_file(secret_file), "TWILIO_AUTH_TOKEN": ""}
    assert auth_token(tmp_path, env) == SECRET


def test_it_names_the_variable_and_the_path_of_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "secrets" / "twilio_auth_token"
    path = settings_file(tmp_path)
    assert problems(tmp_path, env_with_file(missing)) == [
        f"{path}:9: provider 'twilio' auth_token: TWILIO_AUTH_TOKEN_FILE={missing}: "
        "cannot read the file (No such file or directory)"
    ]


def test_it_does_not_fall_back_to_a_default_when_the_named_file_is_missing(
    tmp_path: Path,
) -> None:
    # The operator asked for the file: a default would hide the broken mount.
    path = tmp_path / "pager.yaml"
    path.write_text(FULL.replace("${TWILIO_AUTH_TOKEN}", "${TWILIO_AUTH_TOKEN:-dev-token}"))
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN_FILE="):
        load_settings(path, env_with_file(tmp_path / "absent"))


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "the file is empty"),
        (b"\n", "the file is empty"),
        (SECRET.encode() + b"\xff\xfe", "the file is not UTF-8 text"),
    ],
)
def test_it_reports_an_unusable_file_without_quoting_it(
    tmp_path: Path, content: bytes, why: str
) -> None:
    secret_file = tmp_path / "twilio_auth_token"
    secret_file.write_bytes(content)
    [problem] = problems(tmp_path, env_with_file(secret_file))
    assert problem.endswith(f"TWILIO_AUTH_TOKEN_FILE={secret_file}: {why}")
    assert SECRET not in problem and "\\xff" not in problem


def test_it_reports_a_directory_where_the_file_should_be(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, env_with_file(tmp_path))
    assert problem.endswith(
        f"TWILIO_AUTH_TOKEN_FILE={tmp_path}: cannot read the file (Is a directory)"
    )


def test_it_still_says_the_variable_is_not_set_when_neither_is(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "TWILIO_AUTH_TOKEN"}
    assert problems(tmp_path, env) == [
        f"{tmp_path / 'pager.yaml'}:9: provider 'twilio' auth_token: "
        "environment variable TWILIO_AUTH_TOKEN is not set"
    ]
