"""SMS and voice providers behind one interface (see `base`). `build` makes one from settings.

Adding a provider: one module with `build(settings, context)` (and `lookup(settings)` when it
looks numbers up), and its `ProviderType` in `pager.config.provider_types`; nothing here changes.
SDKs are imported only when a configured provider needs them: a type's module is imported when
an entry of that type is built.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pager.config import PROVIDER_TYPES, ProviderSettings
from pager.providers.base import BuildContext, Provider, ProviderError
from pager.providers.sandbox import Recorder


def module_of(settings: ProviderSettings) -> ModuleType:
    """The module of the entry's provider type (`ProviderType.module`), imported."""
    kind = PROVIDER_TYPES.get(settings.type)
    if kind is None:
        raise ValueError(f"unknown provider type {settings.type!r}")
    return importlib.import_module(kind.module)


def build(settings: ProviderSettings, *, sandbox_token: str, record: Recorder) -> Provider:
    """The provider `settings` describe (config validation already checked its keys)."""
    context = BuildContext(sandbox_token, record)
    provider: Provider = module_of(settings).build(settings, context)
    return provider


__all__ = ["BuildContext", "Provider", "ProviderError", "build", "module_of"]
