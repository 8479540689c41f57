"""pager.yaml: every key the loop issue names, ${ENV} interpolation, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pager.config import ConfigError, default_settings, load_settings

FULL = """\
database_url: sqlite:///pager.db          # or postgresql+psycopg://...
rotations: rotations/                     # directory of YAML files, merged
public_url: http://127.0.0.1:8080/        # base URL providers call back; used for signatures
api_tokens: ["${PAGER_API_TOKEN}"]        # bearer tokens for /api/v1
providers:                                # order = failover order
  - name: twilio                          # appears in webhook URLs: /providers/<name>/...
    type: twilio
    account_sid: ${TWILIO_ACCOUNT_SID}
    auth_token: ${TWILIO_AUTH_TOKEN}
    from: "+15017122661"
    api_base_url: http://127.0.0.1:19001  # optional: any Twilio-compatible API endpoint
  - name: sandbox
    type: sandbox
integrations:
  payments-am:
    service: payments
    source: alertmanager                  # alertmanager | grafana (more sources come later)
    token: ${PAYMENTS_AM_TOKEN}
"""
ENV = {
    "PAGER_API_TOKEN": "api-1",
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "secret",
    "PAYMENTS_AM_TOKEN": "am-1",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pager.yaml"
    path.write_text(text)
    return path


def problems(path: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env)
    return [str(p) for p in caught.value.problems]


def test_it_reads_the_documented_example_with_secrets_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL), ENV)
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.api_tokens == ("api-1",)
    assert [(p.name, p.type) for p in settings.providers] == [
        ("twilio", "twilio"),
        ("sandbox", "sandbox"),
    ]
    assert dict(settings.providers[0].options) == {
        "account_sid": "AC123",
        "auth_token": "secret",
        "from": "+15017122661",
        "api_base_url": "http://127.0.0.1:19001",
    }
    integration = settings.integrations["payments-am"]
    assert (integration.service, integration.source, integration.token) == (
        "payments",
        "alertmanager",
        "am-1",
    )


def test_it_names_the_file_and_line_of_an_unknown_key(tmp_path: Path) -> None:
    path = write(
        tmp_path, FULL.replace("    type: sandbox\n", "    type: sandbox\n    colour: red\n")
    )
    assert problems(path, ENV) == [
        f"{path}:14: unknown key 'colour' in provider 'sandbox' (known: from, name, type)"
    ]


def test_it_says_which_environment_variable_is_missing_and_where(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "TWILIO_AUTH_TOKEN"}
    path = write(tmp_path, FULL)
    assert problems(path, env) == [
        f"{path}:9: provider 'twilio' auth_token: environment variable TWILIO_AUTH_TOKEN is not set"
    ]


def test_it_takes_a_default_after_colon_dash(tmp_path: Path) -> None:
    path = write(tmp_path, "database_url: ${PAGER_DB:-sqlite:///other.db}\n")
    assert load_settings(path, {}).database_url == "sqlite:///other.db"
    assert load_settings(path, {"PAGER_DB": "sqlite:///x.db"}).database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour: red\n", "1: unknown key 'colour' in settings"),
        ("providers: []\n", "1: providers: expected a non-empty list"),
        (
            "providers:\n  - {name: x, type: nexmo}\n",
            "2: provider type 'nexmo' unknown (known: messagebird, sandbox, sinch, sns, twilio, vonage)",
        ),
        (
            "providers:\n  - {name: t, type: twilio, from: '+1'}\n",
            "2: provider 't': missing 'account_sid'",
        ),
        (
            "integrations:\n  a: {service: s, source: nagios, token: x}\n",
            "2: source 'nagios' unknown (known: alertmanager, grafana, github, gitlab, jenkins, pagerduty, generic)",
        ),
        (
            "integrations:\n  a: {service: s, source: grafana}\n",
            "2: integration 'a': missing 'token'",
        ),
        ("api_tokens: abc\n", "1: api_tokens: expected a list of tokens"),
        ("bind: [1\n", "2: invalid YAML"),
    ],
)
def test_it_reports_each_mistake_with_its_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    found = problems(path, {})
    assert found[0].startswith(f"{path}:{expected}"), found


def test_it_defaults_to_sqlite_the_sandbox_and_the_repo_rotations(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = default_settings()
    assert settings.database_url == "sqlite:///pager.db"
    assert [p.type for p in settings.providers] == ["sandbox"]
    assert (settings.rotations / "example.yaml").is_file()
    assert settings.public_url == "http://127.0.0.1:8080"
    assert default_settings("127.0.0.1:9999").public_url == "http://127.0.0.1:9999"
