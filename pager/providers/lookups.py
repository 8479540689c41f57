"""What a provider knows about a phone number: valid or not, line type, carrier.

Twilio Lookup v2 with Line Type Intelligence, and Vonage Number Insight (standard), each through
its official SDK. Used by `pager check --online`, and by the runner to learn each on-call
number's carrier when `routing:` names carriers (`pager.flows.carriers`); never on the paging
path. Each lookup costs a little money at the provider, so nothing else calls these.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pager.config import PROVIDER_TYPES, ProviderSettings
from pager.providers import module_of
from pager.providers.base import ProviderError, classify

# Line types normalised across providers; anything else keeps the provider's own word.
MOBILE, LANDLINE, VOIP, TOLL_FREE, UNKNOWN = "mobile", "landline", "voip", "toll-free", "unknown"
# Line types an SMS page will not reach.
NO_SMS = frozenset({LANDLINE, TOLL_FREE, "premium", "shared-cost", "pager"})

TWILIO_LINE_TYPES = {
    "mobile": MOBILE,
    "landline": LANDLINE,
    "fixedVoip": VOIP,
    "nonFixedVoip": VOIP,
    "tollFree": TOLL_FREE,
    "premium": "premium",
    "sharedCost": "shared-cost",
    "pager": "pager",
    "unknown": UNKNOWN,
}
VONAGE_LINE_TYPES = {
    "mobile": MOBILE,
    "landline": LANDLINE,
    "landline_premium": "premium",
    "landline_tollfree": TOLL_FREE,
    "virtual": VOIP,
    "pager": "pager",
    "unknown": UNKNOWN,
}
# Number Insight statuses: 0 success; 3 the number is not one (we always send one);
# 43-45 the live mobile lookup did not answer, so some fields are missing.
VONAGE_INVALID, VONAGE_PARTIAL = 3, frozenset({43, 44, 45})


@dataclass(frozen=True)
class NumberFacts:
    """What one lookup said about `number`."""

    number: str  # E.164, as asked
    source: str  # the provider's name in pager.yaml
    valid: bool
    line_type: str = UNKNOWN
    carrier: str | None = None
    invalid_because: str | None = None  # the provider's reason, when not valid
    note: str | None = None  # the provider answered only in part

    @property
    def takes_sms(self) -> bool:
        return self.line_type not in NO_SMS


class NumberLookup(Protocol):
    name: str

    def look_up(self, number: str) -> NumberFacts:
        """Facts about the E.164 `number`; ProviderError when the provider can't answer."""
        ...


class TwilioLookup:
    """Twilio Lookup v2: `GET /v2/PhoneNumbers/{n}?Fields=line_type_intelligence`."""

    def __init__(
        self,
        name: str,
        account_sid: str,
        auth_token: str,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        from pager.providers.twilio import twilio_client

        self.name = name
        self._client = twilio_client(account_sid, auth_token, timeout)
        if base_url:
            self._client.lookups.base_url = base_url

    def look_up(self, number: str) -> NumberFacts:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            found = self._client.lookups.v2.phone_numbers(number).fetch(
                fields="line_type_intelligence"
            )
        except TwilioRestException as error:
            raise ProviderError(
                f"twilio {self.name}: lookup failed: HTTP {error.status}, code {error.code}: "
                f"{error.msg}",
                permanent=classify(error.status).permanent,
                code=str(error.code),
            ) from None
        except (TwilioException, OSError) as error:  # requests' connection errors are OSErrors
            message = f"twilio {self.name}: lookup failed: {type(error).__name__}"
            raise ProviderError(message, permanent=False) from None
        if not found.valid:
            reasons = ", ".join(found.validation_errors or []) or "no reason given"
            return NumberFacts(number, self.name, False, invalid_because=reasons)
        line: Mapping[str, object] = found.line_type_intelligence or {}
        raw = str(line.get("type") or "unknown")
        error_code = line.get("error_code")
        return NumberFacts(
            number,
            self.name,
            True,
            line_type=TWILIO_LINE_TYPES.get(raw, raw),
            carrier=str(line["carrier_name"]) if line.get("carrier_name") else None,
            note=f"line type intelligence error {error_code}" if error_code else None,
        )


class VonageInsight:
    """Vonage Number Insight standard: `GET /ni/standard/json?number=...`."""

    def __init__(
        self,
        name: str,
        api_key: str,
        api_secret: str,
        api_host: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        from vonage import Auth, HttpClientOptions, Vonage

        self.name = name
        hosts = {"api_host": api_host} if api_host else {}
        options = HttpClientOptions(**hosts, timeout=math.ceil(timeout))
        self._insight = Vonage(Auth(api_key=api_key, api_secret=api_secret), options).number_insight
        # Both log whole responses, which quote the number, at WARNING.
        logging.getLogger("vonage").setLevel(logging.ERROR)
        logging.getLogger("vonage_number_insight").setLevel(logging.ERROR)

    def look_up(self, number: str) -> NumberFacts:
        from vonage_http_client.errors import HttpRequestError
        from vonage_number_insight import StandardInsightRequest
        from vonage_number_insight.errors import NumberInsightError

        try:
            found = self._insight.get_standard_info(
                StandardInsightRequest(number=number.removeprefix("+"))
            )
        except NumberInsightError:
            return self._refused(number)
        except HttpRequestError as error:
            status = error.response.status_code
            raise ProviderError(
                f"vonage {self.name}: lookup failed: HTTP {status}",
                permanent=classify(status).permanent,
                code=str(status),
            ) from None
        except OSError as error:  # requests' connection errors are OSErrors
            message = f"vonage {self.name}: lookup failed: {type(error).__name__}"
            raise ProviderError(message, permanent=False) from None
        carrier = found.current_carrier
        raw = (carrier.network_type if carrier else None) or "unknown"
        partial = found.status in VONAGE_PARTIAL
        return NumberFacts(
            number,
            self.name,
            True,
            line_type=VONAGE_LINE_TYPES.get(raw, raw),
            carrier=carrier.name if carrier and carrier.name else None,
            note=f"status {found.status}: {found.status_message}" if partial else None,
        )

    def _refused(self, number: str) -> NumberFacts:
        """A non-zero status: the number is not one (3), or the request failed (raised)."""
        response = self._insight.http_client.last_response
        body = response.json() if response is not None else {}
        status, message = body.get("status"), body.get("status_message", "")
        if status == VONAGE_INVALID:
            return NumberFacts(number, self.name, False, invalid_because=message)
        raise ProviderError(
            f"vonage {self.name}: lookup failed: status {status}: {message}",
            permanent=status in (4, 9, 19),
            code=str(status),
        )


def lookup_types() -> list[str]:
    """The provider types that offer a lookup (`ProviderType.lookups`), by name."""
    return sorted(kind.name for kind in PROVIDER_TYPES.values() if kind.lookups)


def lookup_for(settings: ProviderSettings) -> NumberLookup | None:
    """The lookup a configured provider offers (its module's `lookup`), or None when its type
    offers none."""
    if not settings.kind.lookups:
        return None
    found: NumberLookup = module_of(settings).lookup(settings)
    return found
