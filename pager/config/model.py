"""The settings as the daemon uses them, and the constants that say what a file may contain."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pager.config.provider_types import PROVIDER_TYPES, ProviderType
from pager.domain.codes import CODE_TTL
from pager.domain.limits import DEFAULT_LIMITS, Limit
from pager.domain.replies import LONGEST_SNOOZE
from pager.domain.yamldoc import Problem


@dataclass(frozen=True)
class SourceRules:
    """What an integration of one source needs: how it authenticates, which options it takes."""

    auth: str  # "token" | "secret" | "token or secret" (the secret, when set, wins)
    options: frozenset[str] = frozenset()


SOURCE_RULES: dict[str, SourceRules] = {
    "alertmanager": SourceRules("token"),
    "grafana": SourceRules("token or secret"),
    "github": SourceRules("secret", frozenset({"branches"})),
    "gitlab": SourceRules("token", frozenset({"branches"})),
    "jenkins": SourceRules("token", frozenset({"branches"})),
    "pagerduty": SourceRules("token"),
    "generic": SourceRules("token or secret", frozenset({"mapping"})),
}
SOURCES = tuple(SOURCE_RULES)
INTEGRATION_KEYS = {
    "service",
    "source",
    "token",
    "secret",
    "previous_secret",
    "branches",
    "mapping",
    "group_by",
    "reopen_within",
    "urgency",
}
MAPPING_PATHS = ("id", "title", "status", "summary", "labels", "url")
_MISSING_AUTH = {
    "token": "missing 'token'",
    "secret": "missing 'secret' (the webhook's HMAC secret, e.g. ${GITHUB_WEBHOOK_SECRET})",
    "token or secret": "missing 'token' (or 'secret' for signed requests)",
}
_UNUSED_AUTH = {
    "token": {"secret", "previous_secret"},
    "secret": {"token"},
    "token or secret": set(),
}
# Keys every provider entry may have besides its type's own (`provider_types`).
PROVIDER_COMMON_KEYS = {"name", "type", "rate"}
TOP_KEYS = {
    "database_url",
    "rotations",
    "public_url",
    "api_tokens",
    "providers",
    "integrations",
    "bind",
    "limits",
    "routing",
    "heartbeats",
    "verify",
    "sign_in",
    "webhooks",
    "sms_console",
    "canaries",
}
# What outgoing webhooks can be told (`webhooks: events:`); all of them by default.
WEBHOOK_EVENTS = (
    "incident.triggered",
    "incident.acknowledged",
    "incident.unacknowledged",
    "incident.escalated",
    "incident.resolved",
    "incident.note",
    "sms.received",
)
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
REPO_ROTATIONS = Path(__file__).resolve().parent.parent.parent / "rotations"


class ConfigError(Exception):
    """The configuration cannot be used; `problems` are `file:line: message` each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    type: str
    options: Mapping[str, str] = field(default_factory=dict)
    # How fast this account sends: `count` at once, then one every per/count; None: no limit.
    rate: Limit | None = None

    @property
    def kind(self) -> ProviderType:
        """What its type declares (`provider_types`): keys, channels, sender, signing key."""
        return PROVIDER_TYPES[self.type]

    @property
    def channels(self) -> frozenset[str]:
        """What it can carry: SMS, calls or both (Vonage calls need an application)."""
        kind = self.kind
        if "voice" in kind.channels and not all(self.options.get(k) for k in kind.voice_needs):
            return kind.channels - {"voice"}
        return kind.channels

    @property
    def keypad(self) -> bool:
        """Whether its calls take a keypad press (MessageBird's voice messages only talk)."""
        return "voice" in self.channels and self.kind.keypad

    @property
    def sender(self) -> str | None:
        """The sender its SMS show: a number, a short code or an alphanumeric sender ID."""
        key = self.kind.sender_key
        return self.options.get(key) if key else None

    def why_no_replies(self) -> str | None:
        """Why an SMS reply to what it sends can't reach pager, or None when one can."""
        kind = self.kind
        if kind.no_replies:
            return kind.no_replies
        if self.options.get("one_way"):
            return "it is configured one_way"
        sender = self.sender or ""
        if kind.replying_senders is not None and kind.replying_senders.fullmatch(sender):
            return None
        if any(ch.isalpha() for ch in sender):
            return f"it sends from '{sender}', an alphanumeric sender ID that cannot take replies"
        return None


FieldPath = tuple[str, ...]  # `$.incident.key` -> ("incident", "key")


@dataclass(frozen=True)
class FieldMapping:
    """Where a generic webhook's body keeps each alert field, and which states mean what."""

    title: FieldPath
    id: FieldPath | None = None
    status: FieldPath | None = None
    summary: FieldPath | None = None
    labels: FieldPath | None = None
    url: FieldPath | None = None
    firing: tuple[str, ...] = ("firing",)
    resolved: tuple[str, ...] = ("resolved",)


@dataclass(frozen=True)
class IntegrationSettings:
    name: str
    service: str
    source: str
    token: str | None  # None: the daemon generates one and keeps it in the database
    secret: str | None = None  # HMAC key (GitHub, Grafana, generic)
    previous_secret: str | None = None  # still accepted while the senders move to `secret`
    branches: tuple[str, ...] = ()  # CI sources: empty means the repository's default branch
    mapping: FieldMapping | None = None  # generic source: where the fields are
    # Alerts whose values of these labels match share an incident (default: the source's group).
    group_by: tuple[str, ...] = ()
    # An alert firing again this soon after its incident resolved reopens it (flapping).
    reopen_within: timedelta | None = None
    # An alert's `severity` label -> "high" (pages at any hour) or "low" (waits for morning).
    urgency: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HeartbeatSettings:
    """A dead man's switch: `POST /heartbeat/<name>` at least every `interval`, or an incident."""

    name: str
    service: str
    interval: timedelta
    token: str | None  # None: the daemon generates one and keeps it in the database


@dataclass(frozen=True)
class VerifyService:
    """One application's Verify service (`verify: services: VA...`): its codes' name, length,
    lifetime and channels, and the token its requests authenticate with."""

    sid: str  # VA + 32 hex, as the application's Twilio SDK names it
    name: str  # in the text: "Your Acme verification code is: 123456"
    token: str = field(repr=False)  # the HTTP Basic password
    code_length: int = 6
    ttl: timedelta = timedelta(minutes=10)
    channels: tuple[str, ...] = ("sms", "call")
    per_minute: int = 60  # verifications started per minute, all numbers together


@dataclass(frozen=True)
class SignInSettings:
    """`sign_in:`: how long a dashboard sign-in code lives, and a session's idle timeout and
    absolute lifetime."""

    code_ttl: timedelta = CODE_TTL
    idle_timeout: timedelta = timedelta(hours=12)  # a shift
    lifetime: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class SmsConsoleSettings:
    """`sms_console:`: the commands people send by SMS (ESC, SNOOZE, NOTE, ONCALL, STATUS)."""

    max_snooze: timedelta = LONGEST_SNOOZE  # SNOOZE <code> 30m: at most this long


@dataclass(frozen=True)
class WebhookSettings:
    """One outgoing webhook (`webhooks:`): where events go, which, and in what form."""

    name: str
    url: str = field(repr=False)  # may carry a token of the receiver's (Slack's URLs do)
    secret: str = field(repr=False, default="")  # Standard Webhooks: whsec_ + base64
    events: tuple[str, ...] = WEBHOOK_EVENTS
    format: str = "standard"  # standard | slack
    timeout: timedelta = timedelta(seconds=10)


@dataclass(frozen=True)
class CanarySettings:
    """A round-trip canary (`canaries:`): every `every`, an SMS through the provider entry
    `route` to `to`, a number one of pager's providers receives on; back within `timeout`, or
    the route failed. Two failures in a row open an incident on `service`."""

    route: str
    to: str  # E.164
    service: str
    every: timedelta = timedelta(hours=6)
    timeout: timedelta = timedelta(minutes=5)

    @property
    def key(self) -> str:
        """What names this canary in the database and in /metrics: route and number."""
        return f"{self.route}:{self.to}"


@dataclass(frozen=True)
class GitRotations:
    """`rotations:` as a branch of a git repository that the daemon fetches every `every`."""

    url: str = field(repr=False)  # may hold a token from ${ENV}: print it only masked
    branch: str
    checkout: Path  # where the daemon keeps its own clone
    path: str = ""  # the folder of rotation files in the repository; "" is its root
    every: timedelta = timedelta(minutes=1)
    timeout: timedelta = timedelta(seconds=30)  # for each git command


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///pager.db"
    rotations: Path = Path("rotations")
    rotations_git: GitRotations | None = None  # set: the rotations come from git, not a folder
    public_url: str = "http://127.0.0.1:8080"
    bind: str = "127.0.0.1:8080"
    api_tokens: tuple[str, ...] = ()
    # The name of each of `api_tokens`, in order: the actor of what is done with it (a bare
    # token in pager.yaml is "api"; `{name: ci-bot, token: ...}` names it).
    api_token_names: tuple[str, ...] = ()
    providers: tuple[ProviderSettings, ...] = (ProviderSettings("sandbox", "sandbox"),)
    integrations: Mapping[str, IntegrationSettings] = field(default_factory=dict)
    source: str = "embedded defaults"
    # Per-number limits by channel: at most N pages in any window (carriers block floods).
    limits: Mapping[str, tuple[Limit, ...]] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    # Provider order by destination: E.164 prefix ("+1", "+44") or "default" -> provider names.
    routing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    heartbeats: Mapping[str, HeartbeatSettings] = field(default_factory=dict)
    # Verify services by SID: the team's own applications sending codes through pager.
    verify_services: Mapping[str, VerifyService] = field(default_factory=dict)
    sign_in: SignInSettings = SignInSettings()
    webhooks: tuple[WebhookSettings, ...] = ()
    sms_console: SmsConsoleSettings = SmsConsoleSettings()
    canaries: tuple[CanarySettings, ...] = ()


def host_and_port(bind: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6) split; ValueError naming the expected form."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, like 127.0.0.1:8080 or 0.0.0.0:8080, got {bind!r}")
    return host.strip("[]"), int(port)
