"""The reference's sections of pager.yaml on the daemon itself: the top level, API tokens, limits,
routing, rotations from git, Verify and sign-in."""

from __future__ import annotations

from datetime import timedelta

from pager.config.model import (
    GitRotations,
    Settings,
    SignInSettings,
    SmsConsoleSettings,
    VerifyService,
)
from pager.config.reference_model import Key, Kind, Section
from pager.config.sign_in import RANGES
from pager.config.sms_console import MAX_SNOOZE_RANGE
from pager.config.verify import CODE_LENGTHS, PER_MINUTE, TTL_RANGE
from pager.domain.durations import format_duration
from pager.domain.limits import DEFAULT_LIMITS


def _span(shortest: object, longest: object) -> str:
    return f"{shortest} to {longest}"


def _written(delta: timedelta) -> str:
    """A duration as a person would write it here: `30d` rather than `4w2d`."""
    whole_days = delta.days and not delta.seconds and not delta.microseconds
    return f"{delta.days}d" if whole_days else format_duration(delta)


def _between(durations: tuple[timedelta, timedelta]) -> str:
    return _span(_written(durations[0]), _written(durations[1]))


def _limits(channel: str) -> str:
    """A channel's default limits as pager.yaml writes them: `[5/15m, 11/1h]`."""
    limits = DEFAULT_LIMITS[channel]
    return "[" + ", ".join(f"{x.count}/{format_duration(x.per)}" for x in limits) + "]"


TOP = Section(
    id="top",
    title="The top level",
    path=(),
    intro="Every key is optional. Without a pager.yaml at all, pager runs the quick start: "
    "SQLite in the working directory, the sandbox provider and the example rotations.",
    example="""\
database_url: sqlite:///pager.db
rotations: rotations/
public_url: https://pager.example.com
bind: 127.0.0.1:8080
""",
    keys=(
        Key(
            "database_url",
            Kind.TEXT,
            "The database, as an SQLAlchemy URL: `sqlite:///pager.db` (a file, relative to the "
            "working directory) or `postgresql+psycopg://pager:${PGPASSWORD}@db/pager`, which "
            "several `pager worker` processes can share.",
            default="sqlite:///pager.db",
            default_of=(Settings, "database_url"),
        ),
        Key(
            "rotations",
            Kind.FOLDER,
            "The folder of rotation files (`*.yaml`, merged); a relative folder that does not "
            "exist where pager runs is taken relative to pager.yaml. A mapping with `git:` "
            "takes them from a git branch instead (below).",
            holds="folder, or a mapping (git)",
            default_text="`rotations/`",
        ),
        Key(
            "public_url",
            Kind.URL,
            "The address providers call back (delivery status, inbound SMS, keypad presses) "
            "and their signatures are computed over: the public HTTPS address, as the "
            "providers reach it. A trailing `/` is dropped.",
            default_text="`http://` + `bind`",
        ),
        Key(
            "bind",
            Kind.TEXT,
            "Where `pager serve` listens: `HOST:PORT` (`0.0.0.0:8080` on every interface, "
            "`[::1]:8080` for IPv6).",
            default="127.0.0.1:8080",
            default_of=(Settings, "bind"),
        ),
        Key(
            "api_tokens",
            Kind.LIST,
            "Bearer tokens for `/api/v1`: each a token, or a named token (below).",
            holds="list of secrets or named tokens",
            default_text="pager makes one, keeps it in the database and prints it at start",
        ),
        Key("providers", Kind.LIST, "Who sends the pages (below).", default_text="the sandbox"),
        Key("integrations", Kind.MAPPING, "Where alerts come from, by name (below)."),
        Key(
            "limits",
            Kind.MAPPING,
            "How often one number may be paged, per channel (below).",
            default_text=f"`sms: {_limits('sms')}`, `voice: {_limits('voice')}`",
        ),
        Key(
            "routing",
            Kind.MAPPING,
            "Which providers, in which order, page which numbers (below).",
            default_text="the `providers` order for every number",
        ),
        Key("heartbeats", Kind.MAPPING, "Dead man's switches, by name (below)."),
        Key("verify", Kind.MAPPING, "One-time codes for the team's own applications (below)."),
        Key("sign_in", Kind.MAPPING, "Dashboard sign-in codes and sessions (below)."),
        Key("webhooks", Kind.LIST, "Where pager tells other tools what happened (below)."),
        Key("canaries", Kind.LIST, "Routes proven end to end on a schedule (below)."),
        Key("sms_console", Kind.MAPPING, "The commands people send by SMS (below)."),
    ),
)

API_TOKENS = Section(
    id="api_tokens",
    title="`api_tokens`: a named token",
    path=("api_tokens", "*"),
    intro="A bare token acts as `api`; a named one acts under its name, which the audit trail "
    "shows for everything done with it.",
    example="""\
api_tokens:
  - "${PAGER_API_TOKEN}"
  - name: ci-bot
    token: ${CI_BOT_TOKEN}
""",
    keys=(
        Key("name", Kind.TEXT, "Who acts with the token: 1-100 characters.", required=True),
        Key("token", Kind.SECRET, "The bearer token itself.", required=True),
    ),
)

LIMITS = Section(
    id="limits",
    title="`limits`",
    path=("limits",),
    intro="At most N pages to one number in any window W, per channel, because carriers block "
    "numbers that flood a phone. What a limit holds goes out later as one digest, never "
    "dropped; each SMS the number sent us in the window lets one more through "
    "(docs/sending.md).",
    example="""\
limits:
  sms: [5/15m, 11/1h]
  voice: [3/15m]
""",
    keys=tuple(
        Key(
            channel,
            Kind.LIST,
            f"The {channel} limits, each `count/duration`; a channel left out keeps its "
            "default, `[]` turns its limits off.",
            holds="list of limits like `5/15m`",
            default=_limits(channel),
        )
        for channel in ("sms", "voice")
    ),
)

ROUTING = Section(
    id="routing",
    title="`routing`",
    path=("routing",),
    intro="Provider order by destination, each value a list of provider names. A number whose "
    "carrier is known goes by the key naming that carrier, else by its longest prefix, else "
    "by `default`; without a match, the `providers` order. The carrier is the provider's own "
    "name for it: `pager check --config pager.yaml --online` shows it (docs/providers.md).",
    example="""\
routing:
  "carrier:Verizon Wireless": [twilio-tollfree, twilio]
  "+1 carrier:T-Mobile USA": [twilio]
  "+44": [vonage, sinch, twilio]
  default: [twilio, vonage]
""",
    forms=True,
    keys=(
        Key(
            '"+PREFIX"',
            Kind.LIST,
            'Numbers starting with this E.164 prefix (`"+44"`, 1-6 digits, in quotes).',
            holds="list of provider names",
        ),
        Key(
            '"carrier:NAME"',
            Kind.LIST,
            "Numbers on this carrier (compared ignoring case), before any prefix key; needs a "
            "`twilio` or `vonage` provider to look numbers up.",
            holds="list of provider names",
        ),
        Key(
            '"+PREFIX carrier:NAME"',
            Kind.LIST,
            "Numbers on this carrier that start with this prefix.",
            holds="list of provider names",
        ),
        Key("default", Kind.LIST, "Every other number.", holds="list of provider names"),
    ),
)

GIT = Section(
    id="rotations git",
    title="`rotations` as git",
    path=("rotations",),
    intro="Instead of a folder, a branch of a git repository: the daemon keeps its own clone, "
    "fetches it every `every`, and a commit whose files do not validate never replaces the "
    "rotations in force (docs/rotations.md). Credentials go in the URL, from `${ENV}`.",
    example="""\
rotations:
  git: https://oauth2:${GIT_TOKEN}@git.example.com/ops/oncall.git
  branch: main
  path: rotations
  every: 1m
  timeout: 30s
  checkout: /var/lib/pager/rotations
""",
    keys=(
        Key(
            "git",
            Kind.URL,
            "The repository: an `https://`, `ssh://`, `git://` or `file://` URL, or "
            "`user@host:path`. Its user and password show only as `***@`.",
            required=True,
        ),
        Key("branch", Kind.TEXT, "The branch whose head commit is in force.", default="main"),
        Key(
            "path",
            Kind.TEXT,
            "The folder of rotation files in the repository (not its sub-folders).",
            default='""',
            default_text="the repository's root",
            default_of=(GitRotations, "path"),
        ),
        Key(
            "every",
            Kind.DURATION,
            "How often to fetch.",
            default="1m",
            default_of=(GitRotations, "every"),
        ),
        Key(
            "timeout",
            Kind.DURATION,
            "How long each git command may take.",
            default="30s",
            default_of=(GitRotations, "timeout"),
        ),
        Key(
            "checkout",
            Kind.FOLDER,
            "Where the daemon keeps its clone, relative to pager.yaml.",
            required_when="on PostgreSQL",
            default_text="next to the SQLite file (`pager.db` -> `pager-rotations/`)",
        ),
    ),
)

VERIFY = Section(
    id="verify",
    title="`verify`",
    path=("verify",),
    intro="pager speaks Twilio Verify v2, so an application using the `twilio` SDK sends its "
    "one-time codes through pager by changing one base URL (docs/verify.md).",
    example="""\
verify:
  services:
    VA0123456789abcdef0123456789abcdef:
      name: Acme
      token: ${ACME_VERIFY_TOKEN}
      code_length: 6
      ttl: 10m
      channels: [sms, call]
      per_minute: 60
""",
    keys=(
        Key(
            "services",
            Kind.MAPPING,
            "The applications, by Service SID: `VA` and 32 hex digits, made up by you.",
        ),
    ),
)

VERIFY_SERVICES = Section(
    id="verify services",
    title="`verify`: each of `services`",
    path=("verify", "services", "*"),
    intro="One application's codes (the example above), and the token its requests "
    "authenticate with.",
    example="",  # the one of `verify` above
    keys=(
        Key(
            "name",
            Kind.TEXT,
            'In the text: "Your Acme verification code is: 123456"; 1-30 characters.',
            required=True,
        ),
        Key(
            "token",
            Kind.SECRET,
            "The HTTP Basic password of the application's requests (the username is not checked).",
            required=True,
        ),
        Key(
            "code_length",
            Kind.NUMBER,
            f"Digits in a code: {_span(CODE_LENGTHS.start, CODE_LENGTHS.stop - 1)}.",
            default="6",
            default_of=(VerifyService, "code_length"),
        ),
        Key(
            "ttl",
            Kind.DURATION,
            f"How long a code can be checked, from the first send: {_between(TTL_RANGE)}.",
            default="10m",
            default_of=(VerifyService, "ttl"),
        ),
        Key(
            "channels",
            Kind.LIST,
            "How codes may go out: `sms` and/or `call`.",
            holds="list of channels",
            default="[sms, call]",
            default_of=(VerifyService, "channels"),
        ),
        Key(
            "per_minute",
            Kind.NUMBER,
            "Codes started per minute for the service, all numbers together: "
            f"{_span(PER_MINUTE.start, PER_MINUTE.stop - 1)}.",
            default="60",
            default_of=(VerifyService, "per_minute"),
        ),
    ),
)

SIGN_IN = Section(
    id="sign_in",
    title="`sign_in`",
    path=("sign_in",),
    intro="Signing in to the dashboard: a code sent to the person's phone (or one from an "
    "authenticator app), then a session.",
    example="""\
sign_in:
  code_ttl: 10m
  idle_timeout: 12h
  lifetime: 7d
""",
    keys=(
        Key(
            "code_ttl",
            Kind.DURATION,
            f"How long a sign-in code lives: {_between(RANGES['code_ttl'])}.",
            default="10m",
            default_of=(SignInSettings, "code_ttl"),
        ),
        Key(
            "idle_timeout",
            Kind.DURATION,
            "A session unused this long ends: "
            f"{_between(RANGES['idle_timeout'])}, and no longer than `lifetime`.",
            default="12h",
            default_of=(SignInSettings, "idle_timeout"),
        ),
        Key(
            "lifetime",
            Kind.DURATION,
            f"A session ends this long after sign-in: {_between(RANGES['lifetime'])}.",
            default="7d",
            default_of=(SignInSettings, "lifetime"),
        ),
    ),
)

SMS_CONSOLE = Section(
    id="sms_console",
    title="`sms_console`",
    path=("sms_console",),
    intro="The commands people send by SMS besides ACK and RES: ESC, SNOOZE, NOTE, ONCALL, "
    'STATUS, HELP (README, "Replying to a page").',
    example="""\
sms_console:
  max_snooze: 4h
""",
    keys=(
        Key(
            "max_snooze",
            Kind.DURATION,
            "The longest `SNOOZE <code> 30m` may be: "
            f"{_between(MAX_SNOOZE_RANGE)}; longer quiet is a maintenance window "
            "(`pager silence`).",
            default="4h",
            default_of=(SmsConsoleSettings, "max_snooze"),
        ),
    ),
)
