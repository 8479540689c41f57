"""SMS and voice providers behind one interface (see `base`). `build` makes one from settings.

Adding a provider: one module, one factory below, one line in `pager.config.PROVIDER_KEYS`.
SDKs are imported only when a configured provider needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pager.config import ProviderSettings
from pager.providers.base import Provider, ProviderError
from pager.providers.sandbox import Recorder, SandboxProvider

Options = Mapping[str, str]


def _optional(options: Options, key: str) -> str | None:
    return options.get(key) or None


def _timeout(options: Options) -> float:
    return float(options.get("timeout", 10))


def _twilio(name: str, o: Options) -> Provider:
    from pager.providers.twilio import TwilioProvider

    return TwilioProvider(
        name=name,
        account_sid=o["account_sid"],
        auth_token=o["auth_token"],
        from_number=o["from"],
        api_base_url=_optional(o, "api_base_url"),
        timeout=_timeout(o),
    )


def _vonage(name: str, o: Options) -> Provider:
    from pager.providers.vonage import VonageProvider

    return VonageProvider(
        name=name,
        api_key=o["api_key"],
        api_secret=o["api_secret"],
        from_number=o["from"],
        application_id=_optional(o, "application_id"),
        private_key=_optional(o, "private_key"),
        signature_secret=_optional(o, "signature_secret"),
        signature_method=o.get("signature_method") or "sha256",
        api_host=_optional(o, "api_host"),
        rest_host=_optional(o, "rest_host"),
        timeout=_timeout(o),
    )


def _sns(name: str, o: Options) -> Provider:
    from pager.providers.sns import SnsProvider

    return SnsProvider(
        name,
        o["region"],
        o["access_key_id"],
        o["secret_access_key"],
        sender_id=_optional(o, "sender_id"),
        origination_number=_optional(o, "origination_number"),
        endpoint_url=_optional(o, "endpoint_url"),
        timeout=_timeout(o),
    )


def _sinch(name: str, o: Options) -> Provider:
    from pager.providers.sinch import SinchProvider

    return SinchProvider(
        name,
        o["service_plan_id"],
        o["api_token"],
        o["from"],
        region=o.get("region") or "us",
        base_url=_optional(o, "base_url"),
        webhook_secret=_optional(o, "webhook_secret"),
        timeout=_timeout(o),
    )


def _messagebird(name: str, o: Options) -> Provider:
    from pager.providers.messagebird import MessageBirdProvider

    return MessageBirdProvider(
        name,
        o["access_key"],
        o["originator"],
        base_url=_optional(o, "base_url"),
        signing_key=_optional(o, "signing_key"),
        timeout=_timeout(o),
    )


FACTORIES: dict[str, Callable[[str, Options], Provider]] = {
    "twilio": _twilio,
    "vonage": _vonage,
    "sns": _sns,
    "sinch": _sinch,
    "messagebird": _messagebird,
}


def build(settings: ProviderSettings, *, sandbox_token: str, record: Recorder) -> Provider:
    """The provider `settings` describe (config validation already checked its keys)."""
    if settings.type == "sandbox":
        return SandboxProvider(
            settings.name, sandbox_token, record, settings.options.get("from", "pager")
        )
    factory = FACTORIES.get(settings.type)
    if factory is None:
        raise ValueError(f"unknown provider type {settings.type!r}")
    return factory(settings.name, settings.options)


__all__ = ["FACTORIES", "Provider", "ProviderError", "build"]
