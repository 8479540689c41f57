"""Arbitrary JSON, bytes, forms and headers thrown at every alert source and every provider's
webhook readers: only their own errors may escape (SourceError / Ignored, WebhookInvalid), and a
signature check only ever answers True or False.

Inputs are both free-form JSON and real payloads (tests/fixtures/payloads) with parts replaced.
CI runs EXAMPLES (20) per test; PAGER_FUZZ_EXAMPLES=N runs 4N (see test_openapi_fuzz.py).

This module also holds the "everything configured" settings the HTTP fuzz and the hostile-input
tests share: every provider type and every source.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from pager.config import FieldMapping, IntegrationSettings, ProviderSettings
from pager.providers import build
from pager.providers.base import WebhookInvalid, WebRequest
from pager.providers.sandbox import PhoneMessage
from pager.sources import PARSERS, REGISTRY, Delivery, Ignored, SourceError
from pager.web.errors import ApiError
from pager.web.integrations import json_body
from tests.fakes.sinch import sign as sinch_signature
from tests.helpers import PAYLOADS

EXAMPLES = int(os.environ.get("PAGER_FUZZ_EXAMPLES", "0")) * 4 or 20
TOKEN = "fuzz-token"
SECRET = "fuzz-secret-" + "5e" * 16  # 32+ bytes: JWT keys must be that long
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, so nothing leaves the host
PUBLIC_URL = "http://127.0.0.1:8080"

TWILIO_ACCOUNT = "AC" + "0" * 32
EVERY_PROVIDER = (
    ProviderSettings("sandbox", "sandbox"),
    ProviderSettings(
        "twilio",
        "twilio",
        {
            "account_sid": TWILIO_ACCOUNT,
            "auth_token": SECRET,
            "from": "+15005550006",
            "api_base_url": NOWHERE,
            "timeout": "2",
        },
    ),
    ProviderSettings(
        "vonage",
        "vonage",
        {
            "api_key": "fuzzkey",
            "api_secret": SECRET,
            "from": "+15005550006",
            "signature_secret": SECRET,
            "api_host": "127.0.0.1:9",
            "rest_host": "127.0.0.1:9",
            "timeout": "2",
        },
    ),
    ProviderSettings(
        "sns",
        "sns",
        {
            "region": "eu-west-1",
            "access_key_id": "AKIAFUZZ",
            "secret_access_key": SECRET,
            "endpoint_url": NOWHERE,
            "timeout": "2",
        },
    ),
    ProviderSettings(
        "sinch",
        "sinch",
        {
            "service_plan_id": "plan",
            "api_token": SECRET,
            "from": "+447700900999",
            "base_url": NOWHERE,
            "webhook_secret": SECRET,
            "timeout": "2",
        },
    ),
    ProviderSettings(
        "messagebird",
        "messagebird",
        {
            "access_key": SECRET,
            "originator": "pager",
            "base_url": NOWHERE,
            "signing_key": SECRET,
            "timeout": "2",
        },
    ),
)
MAPPING = FieldMapping(
    id=("incident", "key"),
    title=("incident", "name"),
    status=("state",),
    summary=("incident", "description"),
    labels=("incident", "tags"),
    url=("incident", "url"),
    firing=("open", "triggered"),
    resolved=("closed",),
)
EVERY_SOURCE = {
    integration.name: integration
    for integration in (
        IntegrationSettings("alertmanager", "payments", "alertmanager", TOKEN),
        IntegrationSettings("grafana", "payments", "grafana", TOKEN),
        IntegrationSettings("grafana-signed", "payments", "grafana", TOKEN, SECRET),
        IntegrationSettings("github", "payments", "github", TOKEN, SECRET),
        IntegrationSettings("gitlab", "payments", "gitlab", TOKEN),
        IntegrationSettings("jenkins", "payments", "jenkins", TOKEN, branches=("main",)),
        IntegrationSettings("pagerduty", "payments", "pagerduty", TOKEN),
        IntegrationSettings("generic", "payments", "generic", TOKEN),
        IntegrationSettings("generic-signed", "payments", "generic", TOKEN, SECRET),
        IntegrationSettings("generic-mapped", "payments", "generic", TOKEN, mapping=MAPPING),
    )
}


def signature_headers(
    provider: str, url: str, form: Mapping[str, str], body: bytes, at: int | None = None
) -> dict[str, str]:
    """The headers with which `provider` (of EVERY_PROVIDER) signs a webhook to `url`, at `at`
    (Unix seconds; now by default)."""
    now = int(time.time()) if at is None else at
    if provider == "twilio":
        return {"X-Twilio-Signature": RequestValidator(SECRET).compute_signature(url, dict(form))}
    if provider == "sinch":
        return sinch_signature(SECRET, body, timestamp=now)
    if provider == "messagebird":
        claims = {
            "iss": "MessageBird",
            "nbf": now - 1,
            "exp": now + 60,
            "url_hash": hashlib.sha256(url.encode()).hexdigest(),
        }
        if body:
            claims["payload_hash"] = hashlib.sha256(body).hexdigest()
        return {"MessageBird-Signature-JWT": jwt.encode(claims, SECRET, algorithm="HS256")}
    if provider == "vonage":
        claims = {"iat": now, "payload_hash": hashlib.sha256(body).hexdigest()}
        return {"Authorization": "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")}
    return {}  # the sandbox takes its token in the form or query; SNS never posts to us


# Field names the readers look for, so generated objects often hold them.
ALERT_KEYS = (
    "alerts", "status", "labels", "annotations", "startsAt", "endsAt", "fingerprint",
    "generatorURL", "groupKey", "commonAnnotations", "message", "valueString", "title", "id",
    "summary", "url", "routing_key", "event_action", "dedup_key", "payload", "severity",
    "source", "timestamp", "custom_details", "client", "client_url", "action", "repository",
    "workflow_run", "check_suite", "full_name", "head_branch", "conclusion", "object_attributes",
    "project", "ref", "tag", "path_with_namespace", "default_branch", "name", "build", "phase",
    "scm", "branch", "incident", "key", "state",
)  # fmt: skip
WEBHOOK_FIELDS = (
    "From", "To", "Body", "MessageSid", "MessageStatus", "CallSid", "CallStatus", "Digits",
    "ErrorCode", "ErrorMessage", "msisdn", "to", "text", "messageId", "status", "err-code",
    "uuid", "call_uuid", "dtmf", "digits", "sig", "timestamp", "originator", "recipient", "body",
    "id", "statusErrorCode", "statusReason", "token", "from", "call", "type", "batch_id", "code",
)  # fmt: skip
SIGNATURE_HEADERS = (
    "X-Twilio-Signature", "X-Twilio-Webhooks-Signature-Settings", "x-sinch-webhook-signature",
    "x-sinch-webhook-signature-nonce", "x-sinch-webhook-signature-timestamp",
    "x-sinch-webhook-signature-algorithm", "MessageBird-Signature-JWT", "Authorization",
)  # fmt: skip
CLAIMS = ("iat", "nbf", "exp", "iss", "url_hash", "payload_hash", "api_key")
EVENT_HEADERS = {
    "X-GitHub-Event": ("workflow_run", "check_suite", "ping", "push"),
    "X-Gitlab-Event": ("Pipeline Hook", "Push Hook"),
}
FIXTURES = [json.loads(path.read_text()) for path in sorted(PAYLOADS.glob("*.json"))]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def json_values(keys: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Any value `json.loads` can return (NaN and infinities included), with objects that
    often use `keys`."""
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    names = st.sampled_from(keys) | st.text(max_size=8)
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=6),
        max_leaves=15,
    )


@st.composite
def mutated_fixture(draw: st.DrawFn) -> Any:
    """A real payload with a few of its values replaced by anything, or removed."""
    document = copy.deepcopy(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(1, 3))):
        parents = list(_containers(document))
        parent = draw(st.sampled_from(parents))
        if not parent:
            continue
        key = draw(
            st.sampled_from(list(parent) if isinstance(parent, dict) else range(len(parent)))
        )
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(json_values(ALERT_KEYS))
    return document


def _containers(value: Any) -> Any:
    if isinstance(value, dict | list):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


payloads = json_values(ALERT_KEYS) | mutated_fixture()


@pytest.mark.parametrize("source", sorted(PARSERS))
@FUZZ
@given(payload=payloads)
def test_it_refuses_any_unreadable_body_with_a_source_error(source: str, payload: Any) -> None:
    try:
        events = PARSERS[source](payload)
    except SourceError:
        return
    assert isinstance(events, list)


@pytest.mark.parametrize("source", sorted(REGISTRY))
@FUZZ
@given(payload=payloads, event=st.sampled_from([e for es in EVENT_HEADERS.values() for e in es]))
def test_every_source_reads_any_json_or_says_why_not(source: str, payload: Any, event: str) -> None:
    headers = {name: event for name in EVENT_HEADERS}
    for integration in (i for i in EVERY_SOURCE.values() if i.source == source):
        with contextlib.suppress(SourceError, Ignored):
            REGISTRY[source].read(payload, Delivery.of(b"", headers), integration)


@FUZZ
@given(raw=st.binary(max_size=300) | json_values(ALERT_KEYS).map(lambda v: json.dumps(v).encode()))
def test_it_answers_any_bytes_with_a_400_or_reads_them(raw: bytes) -> None:
    """What /integrations/<name> does with a body: decode it, then read it."""
    try:
        payload = json_body(raw)
    except ApiError as exc:
        assert exc.status == 400
        return
    for parse in PARSERS.values():
        with contextlib.suppress(SourceError):
            parse(payload)


def _recorded(message: PhoneMessage) -> None:
    """The sandbox stores what its phones get; here nothing needs keeping."""


PROVIDERS = {
    settings_.name: build(settings_, sandbox_token=TOKEN, record=_recorded)
    for settings_ in EVERY_PROVIDER
}


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)


@st.composite
def signed_tokens(draw: st.DrawFn) -> str:
    """JWTs under our secret with any claims, so the checks after the signature run too."""
    claims = draw(st.dictionaries(st.sampled_from(CLAIMS), scalars, max_size=len(CLAIMS)))
    if draw(st.booleans()):
        claims["iat"] = int(datetime.now(UTC).timestamp())
    # PyJWS signs any payload; jwt.encode would refuse claims of the wrong type.
    return jwt.PyJWS().encode(json.dumps(claims).encode(), SECRET, algorithm="HS256")


forms = st.dictionaries(st.sampled_from(WEBHOOK_FIELDS) | st.text(max_size=5), st.text(max_size=20))
webhook_bodies = (
    st.binary(max_size=200)
    | json_values(WEBHOOK_FIELDS).map(lambda v: json.dumps(v).encode())
    | forms.map(lambda form: urlencode(form).encode())
)
header_values = st.text(max_size=40) | signed_tokens() | signed_tokens().map("Bearer {}".format)


@st.composite
def web_requests(draw: st.DrawFn) -> WebRequest:
    path = draw(st.sampled_from(["inbound", "status", "voice"]))
    query = draw(st.dictionaries(st.sampled_from(WEBHOOK_FIELDS), st.text(max_size=20), max_size=4))
    return WebRequest(
        url=f"{PUBLIC_URL}/providers/x/{path}" + (f"?{urlencode(query)}" if query else ""),
        method=draw(st.sampled_from(["POST", "GET"])),
        headers=draw(
            st.dictionaries(st.sampled_from(SIGNATURE_HEADERS), header_values, max_size=4)
        ),
        form=draw(forms),
        body=draw(webhook_bodies),
        query=query,
    )


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@FUZZ
@given(request=web_requests())
def test_a_provider_reads_any_webhook_or_calls_it_invalid(
    provider: str, request: WebRequest
) -> None:
    """Signed or not: the view checks the signature first, but a reader must not trust it."""
    reader = PROVIDERS[provider]
    assert reader.verify_webhook(request) in (True, False)
    readers: list[Callable[[WebRequest], object]] = [
        reader.parse_inbound,
        reader.parse_status,
        reader.parse_keypad,
    ]
    for read in readers:
        with contextlib.suppress(WebhookInvalid):
            read(request)
