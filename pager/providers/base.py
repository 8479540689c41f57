"""The one small interface every SMS/voice provider implements.

A provider talks to its API and reads its webhooks. It never touches the database and never
decides about failover: it raises `ProviderError(permanent=...)` and the dispatch flow decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pager.domain.phones import mask, mask_numbers_in

if TYPE_CHECKING:
    import requests

    from pager.providers.sandbox import PhoneMessage

log = logging.getLogger(__name__)

Channel = Literal["sms", "voice"]

# Delivery states we track, whatever each provider calls them.
DeliveryState = Literal[
    "queued",  # accepted by the provider, not yet handed to a carrier
    "sent",  # handed to the carrier
    "delivered",  # SMS delivered to the handset
    "failed",  # could not be sent or delivered: fail over to the next provider
    "answered",  # call answered (by a person or a machine)
    "no_answer",  # call rang out, busy or was not answered: not a failure of the provider
]


class ProviderError(Exception):
    """The provider could not take the message. `permanent` means retrying the same provider is
    pointless (bad number, bad credentials); either way the caller may try another provider.

    `outcome_unknown`: the request went out but no answer came back (a read timeout, a dropped
    connection), so the provider may have sent the message all the same.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        # Providers' and HTTP libraries' messages quote the number they were given (`To=%2B44...`):
        # masked here, so no timeline, log or API ever shows it in full.
        super().__init__(mask_numbers_in(message))
        self.permanent = permanent
        self.code = code
        self.outcome_unknown = outcome_unknown


@dataclass(frozen=True)
class Sent:
    """What the provider answered when it took a message or call."""

    provider_message_id: str
    state: DeliveryState = "queued"


@dataclass(frozen=True)
class SmsLookup:
    """An SMS we asked a provider to send without hearing back, to find it at the provider."""

    to: str  # E.164
    body: str
    reference: str | None  # our reference of that attempt, sent along where the API keeps one
    since: datetime  # when that attempt started (our clock)
    skip: frozenset[str] = frozenset()  # provider ids of other attempts: never this one


@runtime_checkable
class FindsSms(Protocol):
    """A provider whose API can tell whether it took an SMS (by our reference, or by recipient
    and text where it keeps no reference of ours)."""

    def find_sms(self, lookup: SmsLookup) -> Sent | None:
        """The SMS as the provider has it, or None when it never took it; raises
        ProviderError when the provider cannot be asked."""
        ...


@dataclass(frozen=True)
class WebRequest:
    """A provider webhook as it reached us, framework-free.

    `url` is the URL the provider was given (our public_url + path + query), which is what
    providers sign, not what a reverse proxy may show us.
    """

    url: str
    method: str
    headers: Mapping[str, str]
    form: Mapping[str, str]
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundSms:
    sender: str  # E.164
    recipient: str  # E.164: our number
    body: str
    provider_message_id: str
    # A digest of exactly what the provider signed, where its signature leaves field
    # boundaries ambiguous (Twilio): a re-cut replay has a new id but the same signed content.
    signed_content: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    state: DeliveryState
    raw_status: str  # the provider's own word, for the timeline
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class KeypadInput:
    """Digits a person pressed during one of our calls."""

    provider_message_id: str  # the call's id
    digits: str
    caller: str = ""  # the number that pressed them, where the webhook says (the sandbox)


@dataclass(frozen=True)
class WebResponse:
    """What to answer a provider webhook with (for example TwiML that carries an SMS reply)."""

    body: str
    content_type: str
    status: int = 200


class WebhookInvalid(Exception):
    """A webhook that is not from the provider, or that we cannot read. Never changes state."""


class Provider(Protocol):
    name: str
    channels: frozenset[str]

    def send_sms(self, to: str, body: str, status_url: str, reference: str | None = None) -> Sent:
        """Send one SMS; the provider reports delivery to `status_url`. `reference` is our id
        of this attempt, sent along where the provider keeps one (see `FindsSms`)."""
        ...

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        """Call `to`, read `speech` aloud and post the digit pressed to `keypad_url`."""
        ...

    def verify_webhook(self, request: WebRequest) -> bool:
        """True only when the request carries a valid signature from this provider."""
        ...

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        """An inbound SMS webhook; raises WebhookInvalid when fields are missing."""
        ...

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        """A delivery-status webhook (SMS or call); raises WebhookInvalid when unreadable."""
        ...

    def parse_keypad(self, request: WebRequest) -> KeypadInput:
        """The webhook a call posts with the digits pressed; raises WebhookInvalid."""
        ...

    def sms_reply(self, inbound: InboundSms, text: str | None) -> WebResponse:
        """The answer to the inbound SMS webhook `inbound`; carries `text` back to its sender
        (in the response, as TwiML does, or by the provider's API) when given."""
        ...

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        """The answer to the keypad webhook `pressed`: say `text`, then hang up."""
        ...


def reply_quietly(provider: str, to: str, send: Callable[[], object]) -> None:
    """Send an auto-reply through a provider's API. A failure is logged, not raised: the
    inbound message was handled, and an error answer would make the provider post it again."""
    try:
        send()
    except ProviderError as error:
        log.warning("event=sms_reply_failed provider=%s to=%s error=%s", provider, mask(to), error)


def outcome_unknown(exc: BaseException) -> bool:
    """Whether `exc` means the request reached the provider but its answer did not reach us:
    a read timeout or a connection dropped mid-answer (a refused or timed-out connection
    never sent anything)."""
    # Imported here: with the sandbox provider alone, requests (5 MB) stays out of the daemon.
    import requests
    from urllib3.exceptions import ProtocolError

    if isinstance(exc, requests.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ConnectTimeout):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps it
        return isinstance(reason, ProtocolError)
    return False


# Connections kept open to each provider host: a runner has up to `domain.rates.senders_for`
# calls in flight, and a call over a connection that was dropped after use (requests keeps 10,
# the Twilio SDK min(32, CPUs + 4)) pays a new TCP and TLS handshake.
KEEP_CONNECTIONS = 64


def keep_alive_session() -> requests.Session:
    """A requests session keeping up to `KEEP_CONNECTIONS` connections open per host."""
    import requests  # here, as in `outcome_unknown`: only a provider that calls out loads it
    import requests.adapters

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=KEEP_CONNECTIONS)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def get_for_lookup(failed: str, url: str, *, timeout: float, **options: Any) -> requests.Response:
    """GET `url` to look an SMS up; no answer raises a temporary ProviderError, `failed` first."""
    import requests

    try:
        return requests.get(url, timeout=timeout, **options)
    except requests.RequestException as exc:
        raise ProviderError(f"{failed}: {type(exc).__name__}: {exc}", permanent=False) from exc


def listed(failed: str, response: requests.Response, key: str) -> list[dict[str, Any]]:
    """The list under `key` in a lookup's JSON answer (empty when absent); an answer that is
    not such JSON raises a temporary ProviderError, `failed` first."""
    try:
        items = response.json().get(key) or []
    except (ValueError, AttributeError) as exc:
        raise ProviderError(f"{failed}: unreadable answer", permanent=False) from exc
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


class Verdict(StrEnum):
    """What an HTTP answer of a provider means for the message it was asked to take."""

    ACCEPTED = "accepted"  # 2xx: the provider took it
    TRANSIENT = "transient"  # not now: the same provider may take it later
    PERMANENT = "permanent"  # the request itself is wrong: the same provider never will
    UNKNOWN = "unknown"  # no answer: it may have taken it (look it up before sending again)

    @property
    def permanent(self) -> bool:
        return self is Verdict.PERMANENT


# 4xx answers that say "not now" rather than "never": timed out, too early, too many.
TRANSIENT_STATUSES = frozenset({408, 425, 429})


def classify(
    status: int | None, code: object = None, *, transient_codes: Collection[str] = frozenset()
) -> Verdict:
    """How an HTTP answer of a provider is judged: 2xx accepted; 408, 425, 429 and 5xx (or any
    other status) transient; another 4xx permanent (bad number, bad credentials); no status at
    all unknown. A provider's own error `code` in `transient_codes` is transient whatever the
    status: SNS answers "too many" with a 400."""
    if code is not None and str(code) in transient_codes:
        return Verdict.TRANSIENT
    if not status:
        return Verdict.UNKNOWN
    if 200 <= status < 300:
        return Verdict.ACCEPTED
    if 400 <= status < 500 and status not in TRANSIENT_STATUSES:
        return Verdict.PERMANENT
    return Verdict.TRANSIENT


@dataclass(frozen=True)
class BuildContext:
    """What the daemon hands each provider it builds besides its entry: the sandbox's token and
    how it records its messages (the other providers need neither)."""

    sandbox_token: str
    record: Callable[[PhoneMessage], None]


def optional_option(options: Mapping[str, str], key: str) -> str | None:
    """An option of a provider entry, None when left out or empty."""
    return options.get(key) or None


def timeout_option(options: Mapping[str, str]) -> float:
    """The entry's `timeout` in seconds (10 when left out)."""
    return float(options.get("timeout", 10))
