"""Number lookups through the real SDKs: Twilio Lookup v2 and Vonage Number Insight, each
against a fake on 127.0.0.1 speaking its wire format."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from pager.config import ProviderSettings
from pager.providers.base import ProviderError
from pager.providers.lookups import (
    NumberFacts,
    TwilioLookup,
    VonageInsight,
    lookup_for,
)
from tests.fakes.lookups import FakeNumberInsight, FakeTwilioLookups, Line

ALICE = "+447700900101"
BOB = "+447700900102"


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilioLookups]:
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    with FakeTwilioLookups() as fake:
        yield fake


@pytest.fixture
def vonage(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNumberInsight]:
    with FakeNumberInsight() as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)  # the SDK uses requests
        yield fake


def twilio_lookup(fake: FakeTwilioLookups, auth_token: str | None = None) -> TwilioLookup:
    return TwilioLookup(
        "twilio", fake.account_sid, auth_token or fake.auth_token, base_url=fake.base_url
    )


def vonage_insight(fake: FakeNumberInsight, api_secret: str | None = None) -> VonageInsight:
    return VonageInsight("vonage", fake.api_key, api_secret or fake.api_secret, api_host=fake.host)


def test_it_reads_twilio_s_line_type_and_carrier(twilio):
    twilio.lines[ALICE] = Line("mobile", "Vodafone UK")

    facts = twilio_lookup(twilio).look_up(ALICE)

    assert facts == NumberFacts(ALICE, "twilio", True, line_type="mobile", carrier="Vodafone UK")
    assert twilio.requests == [
        {"path": f"/v2/PhoneNumbers/{ALICE}", "Fields": "line_type_intelligence"}
    ]


@pytest.mark.parametrize(
    ("twilio_type", "ours", "takes_sms"),
    [
        ("landline", "landline", False),
        ("nonFixedVoip", "voip", True),
        ("fixedVoip", "voip", True),
        ("tollFree", "toll-free", False),
        ("voicemail", "voicemail", True),
    ],
)
def test_it_names_twilio_s_line_types_in_one_vocabulary(twilio, twilio_type, ours, takes_sms):
    twilio.lines[ALICE] = Line(twilio_type, "BT")

    facts = twilio_lookup(twilio).look_up(ALICE)

    assert (facts.line_type, facts.takes_sms) == (ours, takes_sms)


def test_it_reports_a_number_twilio_calls_invalid_with_its_reason(twilio):
    twilio.invalid[ALICE] = "TOO_SHORT"

    facts = twilio_lookup(twilio).look_up(ALICE)

    assert facts == NumberFacts(ALICE, "twilio", False, invalid_because="TOO_SHORT")


def test_it_notes_a_number_twilio_has_no_line_data_for(twilio):
    facts = twilio_lookup(twilio).look_up(BOB)

    assert facts == NumberFacts(
        BOB, "twilio", True, line_type="unknown", note="line type intelligence error 60600"
    )


def test_it_raises_a_permanent_error_on_wrong_twilio_credentials(twilio):
    with pytest.raises(ProviderError) as raised:
        twilio_lookup(twilio, auth_token="wrong").look_up(ALICE)

    assert raised.value.permanent
    assert str(raised.value) == (
        "twilio twilio: lookup failed: HTTP 401, code 20003: Unable to fetch record: Authenticate"
    )


def test_it_raises_a_passing_error_when_twilio_is_unreachable(twilio):
    lookup = twilio_lookup(twilio)
    twilio.stop()

    with pytest.raises(ProviderError) as raised:
        lookup.look_up(ALICE)

    assert not raised.value.permanent
    assert str(raised.value) == "twilio twilio: lookup failed: ConnectionError"


def test_it_reads_vonage_s_network_type_and_carrier(vonage):
    vonage.lines[ALICE] = Line("mobile", "Vodafone Limited")

    facts = vonage_insight(vonage).look_up(ALICE)

    assert facts == NumberFacts(
        ALICE, "vonage", True, line_type="mobile", carrier="Vodafone Limited"
    )
    assert vonage.requests == [{"path": "/ni/standard/json", "number": ALICE[1:]}]


@pytest.mark.parametrize(
    ("network_type", "ours", "takes_sms"),
    [
        ("landline", "landline", False),
        ("landline_tollfree", "toll-free", False),
        ("landline_premium", "premium", False),
        ("virtual", "voip", True),
    ],
)
def test_it_names_vonage_s_network_types_in_one_vocabulary(vonage, network_type, ours, takes_sms):
    vonage.lines[ALICE] = Line(network_type, "BT")

    facts = vonage_insight(vonage).look_up(ALICE)

    assert (facts.line_type, facts.takes_sms) == (ours, takes_sms)


def test_it_reports_a_number_vonage_refuses_as_invalid(vonage):
    vonage.invalid[ALICE] = "Invalid request :: Not valid number format detected"

    facts = vonage_insight(vonage).look_up(ALICE)

    assert facts == NumberFacts(
        ALICE,
        "vonage",
        False,
        invalid_because="Invalid request :: Not valid number format detected [ 447700900101 ]",
    )


def test_it_keeps_a_partial_vonage_answer_with_a_note(vonage):
    vonage.lines[ALICE] = Line("mobile", "EE")
    vonage.next_status = (43, "Live mobile lookup not returned")

    facts = vonage_insight(vonage).look_up(ALICE)

    assert facts == NumberFacts(
        ALICE, "vonage", True, note="status 43: Live mobile lookup not returned"
    )


@pytest.mark.parametrize(
    ("status", "message", "permanent"),
    [
        (4, "Invalid credentials", True),
        (1, "Throttled", False),
        (9, "Partner quota exceeded", True),
    ],
)
def test_it_raises_when_vonage_refuses_the_request(vonage, status, message, permanent):
    vonage.next_status = (status, message)

    with pytest.raises(ProviderError) as raised:
        vonage_insight(vonage).look_up(ALICE)

    assert raised.value.permanent is permanent
    assert str(raised.value) == f"vonage vonage: lookup failed: status {status}: {message}"


def test_it_raises_on_wrong_vonage_credentials(vonage):
    with pytest.raises(ProviderError) as raised:
        vonage_insight(vonage, api_secret="wrong").look_up(ALICE)

    assert str(raised.value) == "vonage vonage: lookup failed: status 4: Invalid credentials"


def test_it_keeps_the_number_out_of_the_logs(vonage, caplog):
    vonage.invalid[ALICE] = "Invalid request :: Not valid number format detected"
    caplog.set_level(logging.INFO)  # the SDK logs responses at WARNING; urllib3 at DEBUG

    vonage_insight(vonage).look_up(ALICE)

    assert ALICE[1:] not in caplog.text


def test_it_offers_a_lookup_only_for_twilio_and_vonage(twilio):
    twilio_settings = ProviderSettings(
        "tw",
        "twilio",
        {
            "account_sid": twilio.account_sid,
            "auth_token": twilio.auth_token,
            "from": "+15005550006",
            "lookups_base_url": twilio.base_url,
        },
    )
    sns = ProviderSettings("sns", "sns", {"region": "eu-west-1"})

    lookup = lookup_for(twilio_settings)

    assert lookup is not None and lookup.name == "tw"
    assert lookup.look_up(BOB).valid
    assert lookup_for(sns) is None
