"""Every endpoint fuzzed against docs/openapi.yaml through the real Flask app (WSGI, no network).

Each operation gets generated requests, valid and invalid, twice: once from a stranger (no or
wrong credentials) and once signed in (a signing proxy in front of the app adds every token and
provider signature the request needs, so the fuzzer reaches the parsers and the flows). Every
answer must be a documented status with a body of the documented shape, never a 5xx, and come
within test_hostile.TIME_LIMIT seconds.

CI runs EXAMPLES (20) per operation signed in and a quarter of that as a stranger (who mostly
meets a 401 or 403), derandomized and without shrinking. For a longer run, random, with
schemathesis' coverage phase (boundary values) and shrunk failures:
    PAGER_FUZZ_EXAMPLES=1000 python -m pytest tests/test_openapi_fuzz.py tests/test_parsers_fuzz.py
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from pager.app import build_pager
from pager.config import HeartbeatSettings, VerifyService
from pager.flows.context import Pager, utcnow
from pager.flows.sign_in import start_session
from pager.providers.sandbox import SandboxProvider
from pager.sources.signatures import hmac_sha256_hex
from pager.web import create_app
from tests.conftest import make_settings
from tests.test_dashboard import Forms
from tests.test_hostile import within_time_limit
from tests.test_parsers_fuzz import (
    EVERY_PROVIDER,
    EVERY_SOURCE,
    SECRET,
    TOKEN,
    signature_headers,
)

schemathesis = pytest.importorskip("schemathesis")  # a test dependency (pyproject.toml)
checks = pytest.importorskip("schemathesis.specs.openapi.checks")

SPEC = Path(__file__).parents[1] / "pager" / "web" / "openapi.yaml"  # = docs/openapi.yaml
EXAMPLES = int(os.environ.get("PAGER_FUZZ_EXAMPLES", "20"))
LONG_RUN = "PAGER_FUZZ_EXAMPLES" in os.environ
VERIFY_SID = "VA" + "0" * 32
VERIFY = {VERIFY_SID: VerifyService(VERIFY_SID, "Fuzz", TOKEN)}
HEARTBEATS = {"watchdog": HeartbeatSettings("watchdog", "payments", timedelta(minutes=5), TOKEN)}
# Path parameters the fuzzer mostly draws from what is configured, so it gets past the 404.
KNOWN_NAMES = {
    "/integrations/{name}": sorted(EVERY_SOURCE),
    "/providers/{name}/inbound": [p.name for p in EVERY_PROVIDER],
    "/providers/{name}/status": [p.name for p in EVERY_PROVIDER],
    "/providers/{name}/voice": [p.name for p in EVERY_PROVIDER],
    "/calendar/{rotation}.ics": ["sre-primary"],
    "/heartbeat/{name}": sorted(HEARTBEATS),
    "/assets/{filename}": ["dashboard.css", "dashboard.js"],
    "/verify/v2/Services/{service_sid}/Verifications": [VERIFY_SID],
    "/verify/v2/Services/{service_sid}/VerificationCheck": [VERIFY_SID],
    "/verify/v2/Services/{service_sid}/Verifications/{sid}": [VERIFY_SID],
}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# Operations that answer 5xx to signed-in callers today, each with its finding (and a strict
# xfail in test_hostile.py); when one is fixed, remove it here too. None are known now.
KNOWN_5XX: dict[str, str] = {}
# Operations without credentials: a stranger's request is the signed-in one, fuzzed below.
OPEN_TO_ALL = [
    "healthz",
    "readyz",
    "metrics",
    "enqueuePagerDutyEvent",
    "enqueuePagerDutyChange",
    "dashboardAsset",
    "openapiDocument",
]

schema = schemathesis.openapi.from_path(SPEC)
# Boundary values for every keyword: thorough, but some 2,000 more requests; long runs only.
schema.config.phases.coverage.enabled = LONG_RUN


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    path = context.operation.path if context.operation else ""
    known = KNOWN_NAMES.get(path)
    if not known or not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    key = next(k for k in ("rotation", "filename", "name", "service_sid") if f"{{{k}}}" in path)
    configured = st.sampled_from(known).map(lambda name: {**path_parameters, key: name})
    return st.one_of(configured, configured, configured, st.just(path_parameters))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pager]:
    """A Pager with every provider type and every source configured, on its own database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'pager.db'}"
    settings_ = make_settings(
        url,
        *EVERY_PROVIDER,
        api_tokens=(TOKEN,),
        integrations=EVERY_SOURCE,
        heartbeats=HEARTBEATS,
        verify_services=VERIFY,
    )
    pager = build_pager(settings_)
    yield pager
    pager.db.dispose()


@pytest.fixture(scope="module")
def stranger_app(fuzzed: Pager) -> Flask:
    return create_app(fuzzed)


@pytest.fixture(scope="module")
def signed_app(fuzzed: Pager) -> SigningProxy:
    return SigningProxy(create_app(fuzzed), fuzzed)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    phases=list(Phase) if LONG_RUN else [Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=LONG_RUN,
)


@schema.exclude(operation_id=OPEN_TO_ALL).parametrize()
@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 4, 5))
def test_it_answers_strangers_as_documented(case: schemathesis.Case, stranger_app: Flask) -> None:
    within_time_limit(lambda: case.call_and_validate(app=stranger_app, checks=CHECKS))


# CI leaves out what is known to fail (test_hostile.py has a strict xfail for each); a long run
# fuzzes everything, so it shows whether they are fixed.
@schema.exclude(operation_id=[] if LONG_RUN else list(KNOWN_5XX)).parametrize()
@FUZZ_SETTINGS
def test_it_answers_signed_requests_as_documented(
    case: schemathesis.Case, signed_app: SigningProxy
) -> None:
    signed_app.call_and_validate(case)


class SigningProxy:
    """WSGI middleware that signs each request as its sender would: the tokens, integration
    HMACs, the named provider's webhook signature over the body as the app will read it, and
    the dashboard's session cookie and CSRF token."""

    def __init__(self, app: Flask, pager: Pager) -> None:
        self.app = app
        self.pager = pager
        self.sandbox_token = next(
            p.token for p in pager.providers if isinstance(p, SandboxProvider)
        )
        # A dashboard session (as a sign-in by code starts one) and its CSRF token.
        self.session_cookie = start_session(pager, "alice", "127.0.0.1", "fuzz", utcnow())
        client = app.test_client()
        client.set_cookie("pager_session", self.session_cookie)
        self.csrf_token = Forms(client.get("/").get_data(as_text=True)).forms[0]["fields"][
            "csrf_token"
        ]

    def call_and_validate(self, case: schemathesis.Case) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
        case.query = {**(case.query or {}), "token": self._query_token(case.path)}
        within_time_limit(lambda: case.call_and_validate(app=self, checks=CHECKS))

    def _query_token(self, path: str) -> str:
        if path.startswith("/calendar/"):
            return self.pager.calendar_token
        if path.startswith(("/sandbox", "/providers/")):
            return self.sandbox_token
        return TOKEN

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path: str = environ.get("PATH_INFO", "")
        if path.startswith("/verify/"):  # Verify: HTTP Basic with the service's token
            basic = base64.b64encode(f"AC{'0' * 32}:{TOKEN}".encode()).decode()
            headers = {"Authorization": f"Basic {basic}"}
        elif path.startswith("/providers/"):
            headers = self._provider_signature(environ, path, body)
        elif path.startswith(("/integrations/", "/v2/", "/api/", "/heartbeat/")):
            body = _with_routing_key(body) if path.endswith("/enqueue") else body
            digest = hmac_sha256_hex(SECRET, body)
            headers = {
                "X-Hub-Signature-256": f"sha256={digest}",
                "X-Pager-Signature": f"sha256={digest}",
                "X-Grafana-Alerting-Signature": digest,
                "X-Gitlab-Token": TOKEN,
            }
            environ.pop("HTTP_X_GRAFANA_ALERTING_TIMESTAMP", None)
        else:  # the dashboard: signed in, and every form carries the CSRF token
            headers = {"Cookie": f"pager_session={self.session_cookie}"}
            if environ["REQUEST_METHOD"] == "POST" and (_is_form(environ) or not body):
                form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
                body = urlencode({**form, "csrf_token": self.csrf_token}).encode()
                environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        return self.app(environ, start_response)

    def _provider_signature(
        self, environ: dict[str, Any], path: str, body: bytes
    ) -> dict[str, str]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        query["token"] = self.sandbox_token
        environ["QUERY_STRING"] = urlencode(query)
        url = f"{self.pager.settings.public_url}{path}?{environ['QUERY_STRING']}"
        form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
        form = form if _is_form(environ) else {}
        provider = path.split("/")[2]
        return signature_headers(provider, url, form, body)


def _with_routing_key(body: bytes) -> bytes:
    """A PagerDuty event's routing key is its credential: the pagerduty integration's token."""
    try:
        event = json.loads(body)
    except ValueError:
        return body
    return json.dumps({**event, "routing_key": TOKEN}).encode() if isinstance(event, dict) else body


def _is_form(environ: dict[str, Any]) -> bool:
    return str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded")


def test_the_spec_documents_every_route_of_the_app(stranger_app: Flask) -> None:
    """A route added to the app without a line in docs/openapi.yaml fails here."""
    documented = {
        (path.replace("{", "<").replace("}", ">"), method.upper())
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
        if method != "parameters"
    }
    routed = {
        (_without_converters(rule.rule), method)
        for rule in stranger_app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS") and rule.endpoint != "static"
    }
    assert routed == documented, json.dumps(
        {"undocumented": sorted(routed - documented), "not routed": sorted(documented - routed)}
    )


def _without_converters(rule: str) -> str:
    """`/x/<int:incident_id>/<any(ack, resolve):action>` -> `/x/<incident_id>/<action>`."""
    return re.sub(r"<[^<>:]+:([^<>]+)>", r"<\1>", rule)
