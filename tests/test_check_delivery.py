"""`pager check` with a pager.yaml: can pages reach everyone, and can answers come back?

Offline from the files alone; `--online` against fake Twilio Lookup and Vonage Number Insight
servers on 127.0.0.1, through the real SDKs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pager.cli.check import check
from tests.fakes.lookups import FakeNumberInsight, FakeTwilioLookups, Line

AT = "2026-11-25T12:00Z"
TEAM = """\
people:
  alice: {name: Alice, phone: "+447700900101", timezone: Europe/London}
  bob:   {name: Bob, phone: "+12025550123", timezone: America/New_York}
  dev:   {name: Dev, phone: "+919812345678", timezone: Asia/Kolkata}
rotations:
  primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice, bob, dev]}
policies:
  sre:
    steps:
      - {targets: [rotation:primary], channels: [sms], wait: 5m}
      - {targets: [rotation:primary], channels: [voice], wait: 5m}
services:
  payments: {policy: sre}
"""
OK = "ok: 3 people, 1 rotation, 0 overrides, 1 policy, 1 service in 1 file\n"
TWILIO = (
    "{name: twilio, type: twilio, account_sid: AC00000000000000000000000000000000, "
    'auth_token: 0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f, from: "+15005550006"}'
)
SNS = (
    "{name: sns-in, type: sns, region: ap-south-1, access_key_id: AKIAEXAMPLE, "
    "secret_access_key: s3cr3t}"
)
CLEAN = f"""\
public_url: https://pager.example.com
providers:
  - {TWILIO}
"""
# Line 7: vonage-uk's `from`; line 3: its entry; line 9: sns-in; line 12: the route to +91.
TROUBLED = f"""\
public_url: http://192.168.1.20:8080
providers:
  - name: vonage-uk
    type: vonage
    api_key: a1b2c3d4
    api_secret: "0123456789abcdef"
    from: PAGER
  - {TWILIO}
  - {SNS}
routing:
  "+44": [vonage-uk, twilio]
  "+91": [sns-in]
  default: [twilio]
"""
ALPHANUMERIC = (
    "provider 'vonage-uk' can't take SMS replies (it sends from 'PAGER', an alphanumeric "
    'sender ID that cannot take replies): ACK by SMS won\'t work for alice (routing "+44")'
)
SNS_ONE_WAY = (
    "provider 'sns-in' can't take SMS replies (SNS forwards no replies to pager): ACK by SMS "
    'won\'t work for dev (routing "+91")'
)
UNSIGNED = (
    "provider 'vonage-uk' has no signature_secret: its webhooks can't be verified, so pager "
    "refuses its delivery reports and SMS replies (they fail closed); set signature_secret"
)
PRIVATE_URL = (
    "public_url 'http://192.168.1.20:8080' is a private address: vonage-uk, twilio can't reach "
    "it, so delivery status, inbound SMS and keypad acks won't arrive; set public_url to an "
    "address they can reach"
)
NO_VOICE_ROUTE = (
    'routing "+91" has no provider that sends calls: voice pages to dev fall back to twilio'
)
TROUBLES = [
    ("pager.yaml", 7, 5, ALPHANUMERIC),
    ("pager.yaml", 9, 5, SNS_ONE_WAY),
    ("pager.yaml", 3, 5, UNSIGNED),
    ("pager.yaml", 1, 1, PRIVATE_URL),
    ("pager.yaml", 12, 3, NO_VOICE_ROUTE),
]


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with rotations/team.yaml; each test writes its pager.yaml."""
    (tmp_path / "rotations").mkdir()
    (tmp_path / "rotations" / "team.yaml").write_text(TEAM)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PAGER_CONFIG", raising=False)
    return tmp_path


def run(config: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    Path("pager.yaml").write_text(config)
    given = [] if env else ["--config", "pager.yaml"]
    result = CliRunner(env=env).invoke(check, [*given, "--at", AT, *args])
    return result.exit_code, result.stdout, result.stderr


def test_it_says_ok_when_delivery_is_sound(team):
    assert run(CLEAN) == (0, OK, "")


def test_it_warns_of_each_delivery_problem_at_its_line_and_exits_0(team):
    code, stdout, _ = run(TROUBLED)

    assert code == 0
    assert (
        stdout == "".join(f"{f}:{line}:{col}: warning: {m}\n" for f, line, col, m in TROUBLES) + OK
    )


def test_it_makes_delivery_warnings_errors_when_strict(team):
    code, stdout, _ = run(TROUBLED, "--strict")

    assert code == 1
    assert stdout == "".join(f"{f}:{line}:{col}: {m}\n" for f, line, col, m in TROUBLES)


def test_it_prints_delivery_warnings_as_github_annotations(team):
    code, stdout, _ = run(TROUBLED, "--format", "github")

    assert code == 0
    assert stdout == (
        "".join(f"::warning file={f},line={line},col={col}::{m}\n" for f, line, col, m in TROUBLES)
        + OK
    )


def test_it_finds_the_config_in_pager_config_as_serve_does(team):
    code, stdout, _ = run(TROUBLED, env={"PAGER_CONFIG": "pager.yaml"})

    assert code == 0
    assert stdout.count("warning: ") == len(TROUBLES)


def test_it_checks_only_the_rotations_without_a_config(team):
    result = CliRunner().invoke(check, ["--at", AT])

    assert (result.exit_code, result.stdout) == (0, OK)


def test_it_says_when_a_fallback_provider_loses_replies(team):
    config = TROUBLED.replace("[vonage-uk, twilio]", "[twilio, vonage-uk]")

    _, stdout, _ = run(config)

    assert stdout.splitlines()[0] == (
        "pager.yaml:7:5: warning: provider 'vonage-uk' can't take SMS replies (it sends from "
        "'PAGER', an alphanumeric sender ID that cannot take replies): replies to the pages it "
        "sends when another provider fails are lost"
    )


def test_it_groups_the_people_who_lose_replies_by_their_route(team):
    config = TROUBLED.replace('  "+91": [sns-in]\n', "").replace(
        "default: [twilio]", "default: [vonage-uk]"
    )

    _, stdout, _ = run(config)

    assert stdout.splitlines()[0] == (
        "pager.yaml:7:5: warning: provider 'vonage-uk' can't take SMS replies (it sends from "
        "'PAGER', an alphanumeric sender ID that cannot take replies): ACK by SMS won't work for "
        'alice (routing "+44"); bob, dev (routing default)'
    )


def test_it_warns_of_a_provider_configured_one_way(team):
    config = CLEAN.replace('from: "+15005550006"}', 'from: "+15005550006", one_way: true}')

    code, stdout, _ = run(config)

    assert code == 0
    assert stdout == (
        "pager.yaml:3:151: warning: provider 'twilio' can't take SMS replies (it is configured "
        "one_way): ACK by SMS won't work for alice, bob, dev (no routing)\n" + OK
    )


def test_it_refuses_a_one_way_that_is_not_true_or_false(team):
    config = CLEAN.replace('from: "+15005550006"}', 'from: "+15005550006", one_way: maybe}')

    code, stdout, _ = run(config)

    assert code == 1
    assert stdout == "pager.yaml:3:151: provider 'twilio' one_way: expected true or false\n"


def test_it_takes_a_twilio_messaging_service_as_a_sender_that_gets_replies(team):
    config = CLEAN.replace('"+15005550006"', "MG" + "0123456789abcdef" * 2)

    assert run(config) == (0, OK, "")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost:8080", "localhost"),
        ("http://127.0.0.1:8080", "a loopback address"),
        ("http://[::1]:8080", "a loopback address"),
        ("https://10.1.2.3", "a private address"),
        ("https://172.16.0.9", "a private address"),
        ("https://169.254.10.10", "a link-local address"),
        ("https://pager.local", "a name only a local network resolves (.local)"),
        ("https://pager.home.arpa", "a name only a local network resolves (.home.arpa)"),
        ("https://pager:8080", "a name without a domain"),
    ],
)
def test_it_warns_when_providers_cannot_reach_public_url(team, url, reason):
    _, stdout, _ = run(CLEAN.replace("https://pager.example.com", url))

    assert stdout == (
        f"pager.yaml:1:1: warning: public_url '{url}' is {reason}: twilio can't reach it, so "
        "delivery status, inbound SMS and keypad acks won't arrive; set public_url to an "
        "address they can reach\n" + OK
    )


def test_it_notes_a_public_url_on_plain_http(team):
    code, stdout, _ = run(CLEAN.replace("https://", "http://"), "--strict")

    assert code == 0
    assert stdout == (
        "pager.yaml:1:1: note: public_url 'http://pager.example.com' is plain http: webhooks "
        "are still signed, but replies and numbers cross the internet unencrypted; prefer "
        "https in production\n" + OK
    )


def test_it_prints_a_note_as_a_github_notice(team):
    _, stdout, _ = run(CLEAN.replace("https://", "http://"), "--format", "github")

    assert stdout.startswith("::notice file=pager.yaml,line=1,col=1::public_url ")


def test_it_says_nothing_of_public_url_when_no_provider_posts_to_it(team):
    config = "public_url: http://127.0.0.1:8080\nproviders:\n  - {name: sandbox, type: sandbox}\n"

    assert run(config) == (0, OK, "")


def test_it_takes_bind_as_the_place_of_a_public_url_left_out(team):
    config = CLEAN.replace("public_url: https://pager.example.com", "bind: 0.0.0.0:8080")

    _, stdout, _ = run(config)

    assert stdout.startswith(
        "pager.yaml:1:1: warning: public_url 'http://0.0.0.0:8080' is the unspecified address "
        "(it means every interface to bind, no place to reach): "
    )


@pytest.mark.parametrize(
    ("provider", "key", "refused"),
    [
        (
            "{name: sinch, type: sinch, service_plan_id: p1, api_token: t1, from: '+15005550006'}",
            "webhook_secret",
            "delivery reports and SMS replies",
        ),
        (
            "{name: messagebird, type: messagebird, access_key: k1, originator: '+15005550006'}",
            "signing_key",
            "delivery reports and SMS replies",  # its voice messages take no keypad
        ),
        (
            "{name: vonage, type: vonage, api_key: k1, api_secret: s1, from: '+15005550006', "
            "application_id: app-1, private_key: pem}",
            "signature_secret",
            "delivery reports, SMS replies and keypad acks",
        ),
    ],
)
def test_it_warns_of_each_provider_without_its_signing_key(team, provider, key, refused):
    name = provider.split(",")[0].removeprefix("{name: ")
    config = CLEAN.replace(TWILIO, provider)

    _, stdout, _ = run(config)

    assert stdout.splitlines()[0] == (
        f"pager.yaml:3:5: warning: provider '{name}' has no {key}: its webhooks can't be "
        f"verified, so pager refuses its {refused} (they fail closed); set {key}"
    )


def test_it_warns_of_people_no_provider_can_call(team):
    config = f"public_url: https://pager.example.com\nproviders:\n  - {SNS}\n"

    _, stdout, _ = run(config)

    lines = stdout.splitlines()
    assert lines[1:] == [
        f"rotations/team.yaml:{line}:3: warning: person '{who}' can't be paged by voice: no "
        "configured provider sends calls"
        for line, who in ((2, "alice"), (3, "bob"), (4, "dev"))
    ] + [OK.strip()]


def test_it_counts_the_calls_of_notification_rules_of_a_step_without_channels(team):
    # The steps name no channels: alice's rules call her, so calls are paged too.
    rules = TEAM.replace(
        "timezone: Europe/London}", "timezone: Europe/London, notify: [sms, voice after 2m]}", 1
    )
    rules = rules.replace(", channels: [sms]", "").replace(", channels: [voice]", "")
    Path("rotations/team.yaml").write_text(rules)
    config = f"public_url: https://pager.example.com\nproviders:\n  - {SNS}\n"

    _, stdout, _ = run(config)

    assert stdout.splitlines()[1:] == [
        f"rotations/team.yaml:{line}:3: warning: person '{who}' can't be paged by voice: no "
        "configured provider sends calls"
        for line, who in ((2, "alice"), (3, "bob"), (4, "dev"))
    ] + [OK.strip()]


def test_it_warns_of_a_carrier_route_that_cannot_send_a_channel(team):
    # Line 5: the carrier route.
    config = CLEAN + f"""  - {SNS}\nrouting:\n  "carrier:Reliance Jio": [sns-in]\n"""

    _, stdout, _ = run(config)

    assert stdout.splitlines()[-2] == (
        'pager.yaml:6:3: warning: routing "carrier:Reliance Jio" has no provider that sends '
        "calls: voice pages to numbers on that carrier go by their prefix instead"
    )


def test_it_warns_of_carrier_routes_when_nothing_can_look_carriers_up(team):
    config = (
        "public_url: https://pager.example.com\nproviders:\n"
        "  - {name: sandbox, type: sandbox, allow_with_real_providers: true}"
        f'\n  - {SNS}\nrouting:\n  "+91 carrier:Reliance Jio": [sns-in, sandbox]\n'
    )

    _, stdout, _ = run(config)

    assert stdout.splitlines()[-2] == (
        'pager.yaml:6:3: warning: routing "+91 carrier:Reliance Jio" names a carrier, but no '
        "configured provider looks up numbers (twilio or vonage): no number's carrier is ever "
        "known, so pages go by prefix"
    )


def test_it_says_nothing_of_a_carrier_route_that_can_work(team):
    config = CLEAN + 'routing:\n  "carrier:Verizon Wireless": [twilio]\n'

    assert run(config) == (0, OK, "")


def test_it_lists_the_problems_of_a_broken_config_and_exits_1(team):
    config = CLEAN.replace("providers:", "providers:\n  - {name: x, type: telegraph}")

    code, stdout, _ = run(config)

    assert code == 1
    assert stdout == (
        "pager.yaml:3:15: provider type 'telegraph' unknown (known: messagebird, sandbox, sinch, "
        "sns, twilio, vonage)\n"
    )


def test_it_exits_2_when_the_config_does_not_exist(team):
    result = CliRunner().invoke(check, ["--config", "nope.yaml"])

    assert result.exit_code == 2
    assert result.stderr == "Error: no such file: nope.yaml\n"


# --- --online: what the providers know of each number ----------------------------------------

ONLINE = """\
public_url: https://pager.example.com
providers:
  - name: vonage-uk
    type: vonage
    api_key: a1b2c3d4
    api_secret: "0123456789abcdef"
    signature_secret: s1gn
    from: "+447700900999"
    api_host: {vonage_host}
  - name: twilio
    type: twilio
    account_sid: AC00000000000000000000000000000000
    auth_token: {twilio_token}
    from: "+15005550006"
    lookups_base_url: {twilio_url}
routing:
  "+44": [vonage-uk, twilio]
  default: [twilio]
"""


@pytest.fixture
def lookups(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeTwilioLookups, FakeNumberInsight]]:
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    with FakeTwilioLookups() as twilio, FakeNumberInsight() as vonage:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", vonage.ca_bundle)
        yield twilio, vonage


def online_config(twilio: FakeTwilioLookups, vonage: FakeNumberInsight, token: str = "") -> str:
    return ONLINE.format(
        vonage_host=vonage.host, twilio_url=twilio.base_url, twilio_token=token or twilio.auth_token
    )


def test_it_looks_each_number_up_with_the_provider_that_texts_it(lookups):
    twilio, vonage = lookups
    vonage.lines["+447700900101"] = Line("mobile", "Vodafone Limited")
    twilio.lines["+12025550123"] = Line("landline", "Verizon")
    twilio.lines["+919812345678"] = Line("mobile", "Airtel", "404", "10")

    code, stdout, _ = run(online_config(twilio, vonage), "--online")

    assert code == 0
    assert stdout == (
        "person  number         line      carrier           looked up by\n"
        "alice   +44******0101  mobile    Vodafone Limited  vonage-uk\n"
        "bob     +12*****0123   landline  Verizon           twilio\n"
        "dev     +91******5678  mobile    Airtel            twilio\n"
        "rotations/team.yaml:3:3: warning: person 'bob': +12*****0123 is a landline number "
        "(Verizon): SMS pages won't reach it; page them by voice or give a mobile number\n" + OK
    )
    assert [r["path"] for r in twilio.requests] == [
        "/v2/PhoneNumbers/+12025550123",
        "/v2/PhoneNumbers/+919812345678",
    ]
    assert vonage.requests == [{"path": "/ni/standard/json", "number": "447700900101"}]


def test_it_fails_on_a_number_the_provider_calls_invalid(lookups):
    twilio, vonage = lookups
    twilio.invalid["+919812345678"] = "INVALID_BUT_POSSIBLE"

    code, stdout, _ = run(online_config(twilio, vonage), "--online")

    assert code == 1
    assert stdout.splitlines()[3] == "dev     +91******5678  invalid  -        twilio"
    assert stdout.splitlines()[4] == (
        "rotations/team.yaml:4:3: person 'dev': twilio says +91******5678 is not a valid number "
        "(INVALID_BUT_POSSIBLE)"
    )
    assert OK not in stdout


def test_it_notes_a_lookup_answered_only_in_part(lookups):
    twilio, vonage = lookups
    vonage.next_status = (44, "Live mobile lookup not returned")

    code, stdout, _ = run(online_config(twilio, vonage), "--online")

    assert code == 0
    assert (
        "rotations/team.yaml:2:3: note: person 'alice': vonage-uk answered in part (status 44: "
        "Live mobile lookup not returned)\n"
    ) in stdout
    assert (
        "rotations/team.yaml:3:3: note: person 'bob': twilio answered in part (line type "
        "intelligence error 60600)\n"
    ) in stdout


def test_it_exits_2_when_a_provider_refuses_the_lookups(lookups):
    twilio, vonage = lookups
    vonage.lines["+447700900101"] = Line("mobile", "EE")

    result = run(online_config(twilio, vonage, token="wrong"), "--online")

    assert result == (
        2,
        "",
        "Error: cannot look up the numbers: twilio twilio: lookup failed: HTTP 401, code 20003: "
        "Unable to fetch record: Authenticate\n",
    )


def test_it_needs_a_provider_with_lookups_to_go_online(team):
    code, _, stderr = run(f"providers:\n  - {SNS}\n", "--online")

    assert code == 2
    assert stderr.endswith("Error: --online needs a pager.yaml with a twilio or vonage provider\n")


def test_it_reads_the_config_with_the_environment_as_the_daemon_does(team, monkeypatch):
    monkeypatch.delenv("PAGER_TEST_UNSET_TOKEN", raising=False)
    config = CLEAN.replace("0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f", "'${PAGER_TEST_UNSET_TOKEN}'")

    unset = run(config)
    monkeypatch.setenv("PAGER_TEST_UNSET_TOKEN", "unused")
    placeholder = run(config)

    assert unset[:2] == (
        1,
        "pager.yaml:3:83: provider 'twilio' auth_token: environment variable "
        "PAGER_TEST_UNSET_TOKEN is not set\n",
    )
    assert placeholder == (0, OK, "")
