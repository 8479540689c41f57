"""Settings: `pager.yaml` with `${ENV_VAR}` interpolation, or the embedded quick-start defaults.

Secrets come from the environment (`${TWILIO_AUTH_TOKEN}`), never from files in git. A key we
do not know is an error with its file and line, so a typo never silently disables a setting.
"""

from pager.config.load import default_rotations, default_settings, load_settings
from pager.config.model import (
    INTEGRATION_KEYS,
    REPO_ROTATIONS,
    SOURCE_RULES,
    SOURCES,
    ConfigError,
    FieldMapping,
    FieldPath,
    HeartbeatSettings,
    IntegrationSettings,
    ProviderSettings,
    Settings,
    SourceRules,
    VerifyService,
)
from pager.config.provider_types import PROVIDER_TYPES, ProviderType

__all__ = [
    "INTEGRATION_KEYS",
    "PROVIDER_TYPES",
    "REPO_ROTATIONS",
    "SOURCES",
    "SOURCE_RULES",
    "ConfigError",
    "FieldMapping",
    "FieldPath",
    "HeartbeatSettings",
    "IntegrationSettings",
    "ProviderSettings",
    "ProviderType",
    "Settings",
    "SourceRules",
    "VerifyService",
    "default_rotations",
    "default_settings",
    "load_settings",
]
