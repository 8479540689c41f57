"""pager.yaml: every key the loop issue names, ${ENV} interpolation, and located errors."""

from __future__ import annotations

from datetime import timedelta
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
        f"{path}:14: unknown key 'colour' in provider 'sandbox' "
        "(known: allow_with_real_providers, from, name, rate, type)"
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
            "2: provider type 'nexmo' unknown "
            "(known: messagebird, sandbox, sinch, sns, twilio, vonage)",
        ),
        (
            "providers:\n  - {name: t, type: twilio, from: '+1'}\n",
            "2: provider 't': missing 'account_sid'",
        ),
        (
            "integrations:\n  a: {service: s, source: nagios, token: x}\n",
            "2: source 'nagios' unknown "
            "(known: alertmanager, grafana, github, gitlab, jenkins, pagerduty, generic)",
        ),
        (
            "integrations:\n  a: {service: s, source: grafana}\n",
            "2: integration 'a': missing 'token'",
        ),
        ("api_tokens: abc\n", "1: api_tokens: expected a list of tokens"),
        ("api_tokens:\n  - {token: x}\n", "2: api_tokens: a named token needs a name"),
        (
            "api_tokens:\n  - {name: ci, token: x, tokn: y}\n",
            "2: unknown key 'tokn' in api_tokens entry",
        ),
        (
            "api_tokens:\n  - {name: ci, tokn: x}\n",
            "2: api_tokens: the token named 'ci' is missing 'token'",
        ),
        ("bind: [1\n", "2: invalid YAML"),
        ("database_url: x\nbind: 21090\n", "2: bind: expected HOST:PORT, like 127.0.0.1:8080"),
        ("bind: 'localhost:99999'\n", "1: bind: expected HOST:PORT"),
    ],
)
def test_it_reports_each_mistake_with_its_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    found = problems(path, {})
    assert found[0].startswith(f"{path}:{expected}"), found


def test_it_reads_named_api_tokens_beside_bare_ones(tmp_path: Path) -> None:
    text = 'api_tokens:\n  - "${BARE}"\n  - {name: ci-bot, token: "${CI}"}\n'
    settings = load_settings(write(tmp_path, text), {"BARE": "b-1", "CI": "c-1"})
    assert settings.api_tokens == ("b-1", "c-1")
    assert settings.api_token_names == ("api", "ci-bot")


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


DELIVERY = """\
providers:
  - {name: twilio, type: twilio, account_sid: AC1, auth_token: t, from: "+15017122661"}
  - {name: backup, type: sandbox}
limits:
  sms: [3/10m, 8/1h]
  voice: []
routing:
  "+44": [backup, twilio]
  default: [twilio]
heartbeats:
  watchdog: {service: payments, interval: 2m, token: "${BEAT}"}
integrations:
  am:
    service: payments
    source: alertmanager
    token: x
    group_by: [alertname, cluster]
    reopen_within: 10m
"""


def test_it_reads_limits_routing_heartbeats_and_grouping(tmp_path: Path) -> None:
    from datetime import timedelta

    from pager.domain.limits import Limit

    settings = load_settings(write(tmp_path, DELIVERY), {"BEAT": "b1"})
    assert settings.limits["sms"] == (Limit(3, timedelta(minutes=10)), Limit(8, timedelta(hours=1)))
    assert settings.limits["voice"] == ()
    assert settings.routing == {"+44": ("backup", "twilio"), "default": ("twilio",)}
    beat = settings.heartbeats["watchdog"]
    assert (beat.service, beat.interval, beat.token) == ("payments", timedelta(minutes=2), "b1")
    integration = settings.integrations["am"]
    assert integration.group_by == ("alertname", "cluster")
    assert integration.reopen_within == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("sms: [3/10m, 8/1h]", "sms: [three/10m]"),
            "5: limits sms: 'three/10m' is not a limit like 5/15m",
        ),
        (
            ('"+44": [backup, twilio]', '"+44": [nexmo]'),
            "8: routing +44: no provider 'nexmo' (known: twilio, backup)",
        ),
        (('"+44": [backup, twilio]', "uk: [twilio]"), "8: routing: 'uk' is not a prefix"),
        (
            ("interval: 2m", "interval: soon"),
            "11: heartbeat 'watchdog' interval: expected a duration",
        ),
        (
            ("reopen_within: 10m", "reopen_within: 0s"),
            "18: integration 'am' reopen_within: must be longer than 0s",
        ),
    ],
)
def test_it_reports_delivery_mistakes_with_their_line(tmp_path: Path, change, expected) -> None:
    path = write(tmp_path, DELIVERY.replace(*change))
    found = problems(path, {"BEAT": "b1"})
    assert found[0].startswith(f"{path}:{expected}"), found


def test_it_routes_by_the_longest_matching_prefix(sqlite_url: str) -> None:
    from dataclasses import replace

    from pager.app import build_pager
    from pager.config import ProviderSettings
    from tests.conftest import make_settings

    settings = replace(
        make_settings(
            sqlite_url, ProviderSettings("a", "sandbox"), ProviderSettings("b", "sandbox")
        ),
        routing={"+44": ("b", "a"), "+447700": ("a",), "default": ("b",)},
    )
    pager = build_pager(settings)
    try:
        names = lambda phone: [p.name for p in pager.providers_for("sms", phone)]  # noqa: E731
        assert names("+447700900101") == ["a"]
        assert names("+447911123456") == ["b", "a"]
        assert names("+15017122661") == ["b"]
    finally:
        pager.db.dispose()


def test_it_reads_sign_in_code_and_session_times(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text("sign_in:\n  code_ttl: 5m\n  idle_timeout: 1h\n  lifetime: 1d\n")
    sign_in = load_settings(path, env={}).sign_in
    assert (sign_in.code_ttl, sign_in.idle_timeout, sign_in.lifetime) == (
        timedelta(minutes=5),
        timedelta(hours=1),
        timedelta(days=1),
    )
    path.write_text("bind: 127.0.0.1:8080\n")
    defaults = load_settings(path, env={}).sign_in
    assert (defaults.code_ttl, defaults.idle_timeout, defaults.lifetime) == (
        timedelta(minutes=10),
        timedelta(hours=12),
        timedelta(days=7),
    )


def test_it_refuses_sign_in_times_out_of_range_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text("sign_in:\n  code_ttl: 30m\n  idle_timeout: 3d\n  lifetime: 1d\n  other: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    said = str(caught.value)
    assert "pager.yaml:2: sign_in code_ttl: between 5m and 10m" in said
    assert "pager.yaml:3: sign_in: idle_timeout is longer than lifetime" in said
    assert "pager.yaml:5: unknown key 'other' in sign_in" in said


def test_it_refuses_a_provider_timeout_written_as_a_duration_and_a_key_without_its_pair(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pager.yaml"
    path.write_text(
        "providers:\n"
        "  - {name: twilio, type: twilio, account_sid: AC1, auth_token: t, from: '+15017122661',"
        " timeout: 10s}\n"
        "  - {name: vonage, type: vonage, api_key: k, api_secret: s, from: '+447700900000',"
        " application_id: app}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    said = str(caught.value)
    assert "pager.yaml:2: provider 'twilio' timeout: seconds from 0 to 60, like 10 or 2.5" in said
    assert "pager.yaml:3: provider 'vonage': application_id needs private_key" in said
