"""The reference's `providers:` sections: the keys every entry takes, then each type's own."""

from __future__ import annotations

from pager.config.provider_types import PROVIDER_TYPES
from pager.config.reference_model import Key, Kind, Section
from pager.domain.durations import format_duration
from pager.domain.limits import Limit

_TIMEOUT = Key(
    "timeout",
    Kind.SECONDS,
    "How long one request to the provider may take before pager counts it as timed out (and "
    "asks the provider whether the SMS went out, see docs/sending.md). A number, not `10s`.",
    default="10",
)
_ONE_WAY = Key(
    "one_way",
    Kind.FLAG,
    "Set `true` when SMS replies to this sender can't reach pager (a number without inbound "
    "SMS, a sender shared with another system): `pager check` then warns as for an "
    "alphanumeric sender.",
    default="false",
)


def _sender(key: str, number: str, other: str = "") -> Key:
    """The key of a provider type that names the sender its SMS show."""
    others = f"{other}, or an alphanumeric" if other else "or an alphanumeric"
    return Key(
        key,
        Kind.TEXT,
        f'The sender: a number in E.164 form, in quotes (`"{number}"`), {others} sender ID '
        "(which can't take SMS replies).",
        required=True,
    )


def _provider_type(kind: str, intro: str, example: str, keys: tuple[Key, ...]) -> Section:
    """The section of the keys of one provider type (besides those every entry takes)."""
    return Section(
        id=f"provider {kind}",
        title=f"`providers`: `type: {kind}`",
        path=("providers", "*"),
        match=("type", kind),
        intro=intro,
        example=example,
        keys=keys,
    )


def rate_text(limit: Limit | None) -> str:
    """A rate as pager.yaml writes it: `1/s`, `30/m`, `500/5m`, or `unlimited`."""
    if limit is None:
        return "unlimited"
    unit = format_duration(limit.per)
    return f"{limit.count}/{unit.removeprefix('1') if unit in ('1s', '1m', '1h') else unit}"


def _default_rates() -> str:
    by_rate: dict[str, list[str]] = {}
    for kind in PROVIDER_TYPES.values():
        by_rate.setdefault(rate_text(kind.default_rate), []).append(kind.name)
    return "; ".join(f"`{rate}` for {', '.join(kinds)}" for rate, kinds in by_rate.items())


COMMON = Section(
    id="providers",
    title="`providers`: every entry",
    path=("providers", "*"),
    intro="Who sends the pages. The list order is the failover order (`routing` changes it "
    "per destination); two entries of one type, each with its own sender, give a sender per "
    "country or per carrier. Each entry takes these keys, and its type's own below. "
    "Left out, pager uses the sandbox alone.",
    example="""\
providers:
  - name: twilio-tollfree             # a second sender of the same account
    type: twilio
    account_sid: ${TWILIO_ACCOUNT_SID}
    auth_token: ${TWILIO_AUTH_TOKEN}
    from: "+18005550100"
    rate: 3/s                         # a toll-free number carries 3 SMS a second
""",
    keys=(
        Key(
            "name",
            Kind.TEXT,
            "How pager names the provider in `routing`, in the timeline and in its webhook URLs "
            "(`/providers/<name>/...`): a-z, 0-9, `-` and `_`, each name once.",
            default_text="its `type`",
        ),
        Key(
            "type",
            Kind.TEXT,
            f"One of {', '.join(f'`{kind}`' for kind in PROVIDER_TYPES)}; it decides which other "
            "keys the entry takes (below).",
            required=True,
        ),
        Key(
            "rate",
            Kind.RATE,
            "How fast this account and sender may send, SMS and calls together (`count/time`, "
            "time in s, m or h; also `500/5m`): `1/s` for a long code, `3/s` toll-free, "
            "`100/s` a short code. Pages beyond it wait or go through the next provider.",
            default_text=f"by type: {_default_rates()}",
        ),
    ),
)

TWILIO = _provider_type(
    "twilio",
    intro="SMS and calls (with keypad acknowledgements) through one Twilio account. In the "
    'Twilio console, set the number\'s "A message comes in" webhook to '
    "`{public_url}/providers/<name>/inbound` (HTTP POST).",
    example="""\
providers:
  - name: twilio
    type: twilio
    account_sid: ${TWILIO_ACCOUNT_SID}
    auth_token: ${TWILIO_AUTH_TOKEN}
    from: "+15017122661"                  # in quotes: unquoted, YAML reads a number
    api_base_url: https://api.twilio.com
    lookups_base_url: https://lookups.twilio.com
    timeout: 10
    one_way: false
""",
    keys=(
        Key("account_sid", Kind.TEXT, "The account's SID (`AC...`).", required=True),
        Key(
            "auth_token",
            Kind.SECRET,
            "The account's auth token; it also checks the signature of every webhook Twilio "
            "posts to pager.",
            required=True,
        ),
        _sender("from", "+15017122661", "a Messaging Service SID (`MG...`)"),
        Key(
            "api_base_url",
            Kind.URL,
            "Another Twilio-compatible API endpoint, such as a test double on 127.0.0.1.",
            default="https://api.twilio.com",
        ),
        Key(
            "lookups_base_url",
            Kind.URL,
            "Where numbers are looked up (Lookup v2) for `pager check --online` and carrier "
            "routes; point it elsewhere for a test double.",
            default="https://lookups.twilio.com",
        ),
        _TIMEOUT,
        _ONE_WAY,
    ),
)

VONAGE = _provider_type(
    "vonage",
    intro="SMS through Vonage's SMS API, and calls through its Voice API when the entry names "
    "an application. Give `{public_url}/providers/<name>/inbound` as the inbound URL and "
    "`{public_url}/providers/<name>/status` as the status URL (docs/providers.md).",
    example="""\
providers:
  - name: vonage
    type: vonage
    api_key: ${VONAGE_API_KEY}
    api_secret: ${VONAGE_API_SECRET}
    from: "+447700900000"
    application_id: ${VONAGE_APPLICATION_ID}
    private_key: ${VONAGE_PRIVATE_KEY}
    signature_secret: ${VONAGE_SIGNATURE_SECRET}
    signature_method: sha256
    api_host: api.nexmo.com
    rest_host: rest.nexmo.com
    timeout: 10
    one_way: false
""",
    keys=(
        Key("api_key", Kind.TEXT, "The account's API key.", required=True),
        Key("api_secret", Kind.SECRET, "The account's API secret.", required=True),
        _sender("from", "+447700900000"),
        Key(
            "application_id",
            Kind.TEXT,
            "The Vonage application that places calls; with `private_key`, the provider "
            "calls as well as texts. Set both or neither.",
            default_text="none: SMS only",
        ),
        Key(
            "private_key",
            Kind.SECRET,
            "The application's private key: the PEM text, or the path of its file "
            "(`/run/secrets/private.key`).",
            required_when="with `application_id`",
        ),
        Key(
            "signature_secret",
            Kind.SECRET,
            "Checks Vonage's webhooks (signed SMS API callbacks, Messages API and Voice JWTs). "
            "Without it pager refuses them all: no delivery status, no replies, no keypad acks.",
        ),
        Key(
            "signature_method",
            Kind.TEXT,
            "The HMAC the account signs SMS webhooks with (Dashboard > API settings): `md5`, "
            "`sha1`, `sha256` or `sha512`.",
            default="sha256",
        ),
        Key(
            "api_host",
            Kind.TEXT,
            "The host of the Voice, Reports and Number Insight APIs; another one for a test "
            "double.",
            default="api.nexmo.com",
        ),
        Key(
            "rest_host",
            Kind.TEXT,
            "The host of the SMS API; another one for a test double.",
            default="rest.nexmo.com",
        ),
        _TIMEOUT,
        _ONE_WAY,
    ),
)

SNS = _provider_type(
    "sns",
    intro="SMS through AWS SNS in one region. SNS reports no delivery status and forwards no "
    "replies to pager, and a timed-out SMS can't be looked up: list it behind a provider that "
    "can be asked (docs/sending.md).",
    example="""\
providers:
  - name: sns
    type: sns
    region: eu-west-1
    access_key_id: ${AWS_ACCESS_KEY_ID}
    secret_access_key: ${AWS_SECRET_ACCESS_KEY}
    sender_id: PAGER
    origination_number: "+447700900001"
    endpoint_url: https://sns.eu-west-1.amazonaws.com
    timeout: 10
""",
    keys=(
        Key("region", Kind.TEXT, "The AWS region that sends (`eu-west-1`).", required=True),
        Key("access_key_id", Kind.TEXT, "The access key of an IAM user.", required=True),
        Key("secret_access_key", Kind.SECRET, "That access key's secret.", required=True),
        Key(
            "sender_id",
            Kind.TEXT,
            "An alphanumeric sender ID, where the destination country allows one.",
        ),
        Key(
            "origination_number",
            Kind.TEXT,
            "The number (E.164, in quotes) or short code the SMS come from.",
        ),
        Key(
            "endpoint_url",
            Kind.URL,
            "Another SNS endpoint, such as a test double; `AWS_ENDPOINT_URL` and "
            "`~/.aws/config` are never read.",
            default_text="the region's endpoint",
        ),
        _TIMEOUT,
    ),
)

SINCH = _provider_type(
    "sinch",
    intro="SMS through one Sinch service plan (no calls).",
    example="""\
providers:
  - name: sinch
    type: sinch
    service_plan_id: ${SINCH_SERVICE_PLAN_ID}
    api_token: ${SINCH_API_TOKEN}
    from: "+447700900002"
    region: eu
    base_url: https://eu.sms.api.sinch.com
    webhook_secret: ${SINCH_WEBHOOK_SECRET}
    timeout: 10
    one_way: false
""",
    keys=(
        Key("service_plan_id", Kind.TEXT, "The service plan that sends.", required=True),
        Key("api_token", Kind.SECRET, "The service plan's API token.", required=True),
        _sender("from", "+447700900002"),
        Key(
            "region",
            Kind.TEXT,
            "The region of the service plan (`us`, `eu`...): the API is "
            "`https://<region>.sms.api.sinch.com`.",
            default="us",
        ),
        Key(
            "base_url",
            Kind.URL,
            "Another API endpoint, such as a test double; it wins over `region`.",
            default_text="`https://<region>.sms.api.sinch.com`",
        ),
        Key(
            "webhook_secret",
            Kind.SECRET,
            "Checks the signature of Sinch's callbacks; without it pager refuses them all (no "
            "delivery reports, no replies).",
        ),
        _TIMEOUT,
        _ONE_WAY,
    ),
)

MESSAGEBIRD = _provider_type(
    "messagebird",
    intro="SMS, and spoken calls without a keypad, through one MessageBird account.",
    example="""\
providers:
  - name: messagebird
    type: messagebird
    access_key: ${MESSAGEBIRD_ACCESS_KEY}
    originator: "+31970102030"
    base_url: https://rest.messagebird.com
    signing_key: ${MESSAGEBIRD_SIGNING_KEY}
    timeout: 10
    one_way: false
""",
    keys=(
        Key("access_key", Kind.SECRET, "The account's live access key.", required=True),
        _sender("originator", "+31970102030"),
        Key(
            "base_url",
            Kind.URL,
            "Another API endpoint, such as a test double.",
            default="https://rest.messagebird.com",
        ),
        Key(
            "signing_key",
            Kind.SECRET,
            "Checks the signature of MessageBird's webhooks; without it pager refuses them all "
            "(no delivery status, no replies).",
        ),
        _TIMEOUT,
        _ONE_WAY,
    ),
)

SANDBOX = _provider_type(
    "sandbox",
    intro="For trying pager out: pages land on pager's own sandbox page, never on a phone; its "
    "replies act only on pages it sent itself.",
    example="""\
providers:
  - name: sandbox
    type: sandbox
    from: pager
    allow_with_real_providers: true
""",
    keys=(
        Key("from", Kind.TEXT, "The sender its pages show.", default="pager"),
        Key(
            "allow_with_real_providers",
            Kind.FLAG,
            "Beside real providers a page that fails over to the sandbox reaches no phone, so "
            "`pager check` refuses it; set `true` to test failover on purpose.",
            default="false",
        ),
    ),
)

PROVIDER_SECTIONS = (COMMON, TWILIO, VONAGE, SNS, SINCH, MESSAGEBIRD, SANDBOX)
