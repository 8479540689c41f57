"""Fake number lookups on 127.0.0.1 that speak the providers' wire formats, for tests.

`FakeTwilioLookups`: Twilio Lookup v2, `GET /v2/PhoneNumbers/{PhoneNumber}?Fields=...` with
HTTP basic auth (account SID and auth token), answering Twilio's phone number resource as JSON.
The SDK calls a different domain for lookups than for messages: point it here with
`client.lookups.base_url = fake.base_url` (pager's `lookups_base_url` option).

`FakeNumberInsight`: Vonage Number Insight, `GET /ni/basic/json` and `/ni/standard/json` with
the API key and secret (basic auth, or `api_key`/`api_secret` parameters), answering HTTP 200
with a `status` in the body as Vonage does. Like the Vonage fake it serves TLS with the test
CA: `HttpClientOptions(api_host=fake.host)` and `REQUESTS_CA_BUNDLE=fake.ca_bundle`.

Both know the numbers a test tells them about (`lines`, `invalid`); any other number is
valid with no carrier data (Twilio: error 60600; Vonage: network type unknown). Twilio's
`fail_next` answers that many next lookups with a server error, Vonage's `next_status` the next
one with a status.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

import phonenumbers
from werkzeug.wrappers import Request, Response

from tests.fakes.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, _LocalServer
from tests.fakes.twilio import _error as _twilio_error
from tests.fakes.vonage import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    local_tls,
    serve_tls_in_background,
)

UNPROVISIONED = 60600  # Twilio: "Unprovisioned or Out of Coverage"
ISO3 = {"GB": "GBR", "US": "USA", "DE": "DEU", "FR": "FRA", "IN": "IND", "CA": "CAN"}
COUNTRY_NAMES = {"GB": "United Kingdom", "US": "United States of America", "DE": "Germany"}


@dataclass(frozen=True)
class Line:
    """What the carrier database says of a number, in the provider's own words."""

    type: str  # Twilio: mobile, landline, nonFixedVoip...; Vonage: mobile, landline, virtual...
    carrier: str
    mcc: str = "234"
    mnc: str = "15"


class _Lookups(_LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, Line] = {}  # E.164 -> line
        self.invalid: dict[str, str] = {}  # E.164 -> Twilio validation error / Vonage message
        self.requests: list[dict[str, Any]] = []  # path and parameters of each lookup

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        self._append(self.requests, {"path": request.path, **request.args.to_dict()})
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        raise NotImplementedError


class FakeTwilioLookups(_Lookups):
    """Twilio's Lookup v2 API for one account."""

    def __init__(
        self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN
    ) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.fail_next = 0  # answer this many next lookups with HTTP 500 (Twilio code 20500)

    def _answer(self, request: Request) -> Response:
        number = request.path.removeprefix("/v2/PhoneNumbers/")
        if request.method != "GET" or number == request.path or "/" in number:
            return _twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            return _twilio_error(401, 20003, "Authenticate")
        with self._changed:
            failing, self.fail_next = self.fail_next > 0, max(self.fail_next - 1, 0)
        if failing:
            return _twilio_error(500, 20500, "Internal Server Error (fake)")
        fields = request.args.get("Fields", "").split(",")
        return _json(self._resource(number, "line_type_intelligence" in fields))

    def _resource(self, number: str, line_type: bool) -> dict[str, Any]:
        parsed = _parse(number)
        valid = number not in self.invalid
        resource: dict[str, Any] = {
            "calling_country_code": str(parsed.country_code) if parsed else None,
            "country_code": _region(parsed),
            "phone_number": number,
            "national_format": _national(parsed) if valid else None,
            "valid": valid,
            "validation_errors": [] if valid else [self.invalid[number]],
            "caller_name": None,
            "sim_swap": None,
            "call_forwarding": None,
            "line_status": None,
            "line_type_intelligence": self._line(number) if line_type and valid else None,
            "identity_match": None,
            "reassigned_number": None,
            "sms_pumping_risk": None,
            "phone_number_quality_score": None,
            "pre_fill": None,
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
        }
        return resource

    def _line(self, number: str) -> dict[str, Any]:
        line = self.lines.get(number)
        if line is None:
            return {
                "carrier_name": None,
                "error_code": UNPROVISIONED,
                "mobile_country_code": None,
                "mobile_network_code": None,
                "type": None,
            }
        return {
            "carrier_name": line.carrier,
            "error_code": None,
            "mobile_country_code": line.mcc,
            "mobile_network_code": line.mnc if line.type == "mobile" else None,
            "type": line.type,
        }


class FakeNumberInsight(_Lookups):
    """Vonage's Number Insight API (basic and standard) for one account, over TLS."""

    def __init__(
        self, api_key: str = DEFAULT_API_KEY, api_secret: str = DEFAULT_API_SECRET
    ) -> None:
        super().__init__()
        self.api_key, self.api_secret = api_key, api_secret
        self.next_status: tuple[int, str] | None = None  # answer the next lookup with this
        self.host = ""  # "127.0.0.1:PORT", for HttpClientOptions(api_host=...)
        self.ca_bundle = ""  # the test CA's certificate (PEM file) for REQUESTS_CA_BUNDLE

    def start(self) -> Self:
        self.ca_bundle, context = local_tls()
        self._server = serve_tls_in_background(self._wsgi, context)
        self.host = f"127.0.0.1:{self._server.port}"
        self.base_url = f"https://{self.host}"
        return self

    def _answer(self, request: Request) -> Response:
        level = {"/ni/basic/json": "basic", "/ni/standard/json": "standard"}.get(request.path)
        if request.method not in ("GET", "POST") or level is None:
            return Response("Not Found", status=404)
        auth = request.authorization
        given = (auth.username, auth.password) if auth else None
        given = given or (request.values.get("api_key"), request.values.get("api_secret"))
        if given != (self.api_key, self.api_secret):
            return _json(_status(4, "Invalid credentials"))
        digits = request.values.get("number", "")
        with self._changed:
            failure, self.next_status = self.next_status, None
        if failure is not None:
            return _json(_status(*failure))
        number = f"+{digits}"
        parsed = _parse(number)
        if number in self.invalid or parsed is None:
            message = self.invalid.get(
                number, "Invalid request :: Not valid number format detected"
            )
            return _json(_status(3, f"{message} [ {digits} ]"))
        return _json(self._insight(digits, parsed, level))

    def _insight(self, digits: str, parsed: phonenumbers.PhoneNumber, level: str) -> dict[str, Any]:
        region = _region(parsed)
        body: dict[str, Any] = {
            **_status(0, "Success"),
            "request_id": str(uuid.uuid4()),
            "international_format_number": digits,
            "national_format_number": _national(parsed),
            "country_code": region,
            "country_code_iso3": ISO3.get(region or ""),
            "country_name": COUNTRY_NAMES.get(region or ""),
            "country_prefix": str(parsed.country_code),
        }
        if level == "basic":
            return body
        line = self.lines.get(f"+{digits}")
        carrier = {
            "network_code": f"{line.mcc}{line.mnc}" if line else None,
            "name": line.carrier if line else None,
            "country": region,
            "network_type": line.type if line else "unknown",
        }
        return {
            **body,
            "request_price": "0.00500000",
            "remaining_balance": "10.00000000",
            "current_carrier": carrier,
            "original_carrier": carrier,
            "ported": "not_ported" if line else "unknown",
        }


def _status(status: int, message: str) -> dict[str, Any]:
    return {"status": status, "status_message": message}


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _parse(number: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None


def _region(parsed: phonenumbers.PhoneNumber | None) -> str | None:
    """The number's country; fictional numbers (Ofcom's drama range) count by their code."""
    if parsed is None:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return region or phonenumbers.region_code_for_country_code(parsed.country_code)


def _national(parsed: phonenumbers.PhoneNumber | None) -> str | None:
    if parsed is None:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
