"""What each provider type is, declared once: the keys its entry takes, how fast it sends, which
key names its sender and which checks its webhooks, what it carries, where its code lives.

As GoAlert's `nfydest.TypeInfo` declares each destination type, one `ProviderType` declares each
provider type, and every table the configuration needs follows from `PROVIDER_TYPES`. Adding a
provider: its module under `pager/providers/` (with a `build` function, and a `lookup` one when
it looks numbers up), one descriptor below and its line in `PROVIDER_TYPES`, and its section of
the configuration reference (`reference_providers`).

The descriptors name their module rather than import it: configuration sits below the providers
(import-linter's layers), and a provider's SDK is imported only when an entry of its type is
built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from pager.domain.limits import Limit

# One long code (a plain phone number) carries about 1 SMS a second in the US and Canada; a
# toll-free number 3/s, a short code 100/s (an entry sets `rate: 3/s` or `rate: 100/s`).
ONE_PER_SECOND = Limit(1, timedelta(seconds=1))
SMS_AND_VOICE = frozenset({"sms", "voice"})
SMS_ONLY = frozenset({"sms"})


@dataclass(frozen=True)
class ProviderType:
    """One provider type: what its entries in pager.yaml take and what it can do."""

    name: str  # the entry's `type`
    module: str  # where `build(settings, context) -> Provider` lives
    required: frozenset[str]  # keys besides name, type and rate
    optional: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()  # options written true/false (read as "true" or "")
    # How fast it sends when its entry names no `rate`; None: no limit.
    default_rate: Limit | None = ONE_PER_SECOND
    sender_key: str | None = None  # the key of the sender its SMS show, where replies come back
    # The key that verifies its webhooks, where that key is optional: without it they fail closed.
    signing_key: str | None = None
    posts_callbacks: bool = False  # posts delivery status, inbound SMS or keypad to public_url
    channels: frozenset[str] = SMS_AND_VOICE
    voice_needs: frozenset[str] = frozenset()  # options that must all be set for it to call
    keypad: bool = False  # its calls take a keypad press (an ack by pressing a digit)
    lookups: bool = False  # its module has `lookup(settings)`: line type and carrier of a number
    no_replies: str | None = None  # why an SMS reply never reaches pager, whatever the sender
    # Senders with letters that still take replies (alphanumeric sender IDs can't).
    replying_senders: re.Pattern[str] | None = None
    # Keys that need another: (key, the key it needs, why), checked when the entry is read.
    key_needs: tuple[tuple[str, str, str], ...] = ()

    @property
    def keys(self) -> frozenset[str]:
        """Every key of its own an entry of this type may have."""
        return self.required | self.optional


TWILIO = ProviderType(
    name="twilio",
    module="pager.providers.twilio",
    required=frozenset({"account_sid", "auth_token", "from"}),
    optional=frozenset({"api_base_url", "lookups_base_url", "timeout", "one_way"}),
    flags=frozenset({"one_way"}),
    sender_key="from",
    posts_callbacks=True,  # signed with the (required) auth token
    keypad=True,
    lookups=True,
    replying_senders=re.compile(r"MG[0-9a-fA-F]{32}"),  # a Messaging Service SID
)

VONAGE = ProviderType(
    name="vonage",
    module="pager.providers.vonage",
    required=frozenset({"api_key", "api_secret", "from"}),
    optional=frozenset(
        {
            "application_id",
            "private_key",
            "signature_secret",
            "signature_method",
            "api_host",
            "rest_host",
            "timeout",
            "one_way",
        }
    ),
    flags=frozenset({"one_way"}),
    sender_key="from",
    signing_key="signature_secret",
    posts_callbacks=True,
    voice_needs=frozenset({"application_id", "private_key"}),
    keypad=True,
    lookups=True,
    key_needs=(("application_id", "private_key", "calls are signed with the application's key"),),
)

SNS = ProviderType(
    name="sns",
    module="pager.providers.sns",
    required=frozenset({"region", "access_key_id", "secret_access_key"}),
    optional=frozenset({"sender_id", "origination_number", "endpoint_url", "timeout"}),
    channels=SMS_ONLY,
    no_replies="SNS forwards no replies to pager",
)

SINCH = ProviderType(
    name="sinch",
    module="pager.providers.sinch",
    required=frozenset({"service_plan_id", "api_token", "from"}),
    optional=frozenset({"region", "base_url", "webhook_secret", "timeout", "one_way"}),
    flags=frozenset({"one_way"}),
    sender_key="from",
    signing_key="webhook_secret",
    posts_callbacks=True,
    channels=SMS_ONLY,
)

MESSAGEBIRD = ProviderType(
    name="messagebird",
    module="pager.providers.messagebird",
    required=frozenset({"access_key", "originator"}),
    optional=frozenset({"base_url", "signing_key", "timeout", "one_way"}),
    flags=frozenset({"one_way"}),
    sender_key="originator",
    signing_key="signing_key",
    posts_callbacks=True,
    keypad=False,  # its voice messages only talk
)

SANDBOX = ProviderType(
    name="sandbox",
    module="pager.providers.sandbox",
    required=frozenset(),
    optional=frozenset({"from", "allow_with_real_providers"}),
    flags=frozenset({"allow_with_real_providers"}),
    default_rate=None,  # no carrier to flood
    keypad=True,
)

# Every provider type by name, in the order the configuration reference lists them.
PROVIDER_TYPES: dict[str, ProviderType] = {
    t.name: t for t in (TWILIO, VONAGE, SNS, SINCH, MESSAGEBIRD, SANDBOX)
}
