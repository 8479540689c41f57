"""SMS and voice providers behind one interface (see `base`). `build` makes one from settings."""

from __future__ import annotations

from pager.config import ProviderSettings
from pager.providers.base import Provider, ProviderError
from pager.providers.sandbox import Recorder, SandboxProvider


def build(settings: ProviderSettings, *, sandbox_token: str, record: Recorder) -> Provider:
    """The provider `settings` describe (config validation already checked its keys)."""
    options = settings.options
    if settings.type == "twilio":
        from pager.providers.twilio import TwilioProvider

        return TwilioProvider(
            name=settings.name,
            account_sid=options["account_sid"],
            auth_token=options["auth_token"],
            from_number=options["from"],
            api_base_url=options.get("api_base_url") or None,
            timeout=float(options.get("timeout", 10)),
        )
    if settings.type == "sandbox":
        return SandboxProvider(settings.name, sandbox_token, record, options.get("from", "pager"))
    raise ValueError(f"unknown provider type {settings.type!r}")


__all__ = ["Provider", "ProviderError", "build"]
