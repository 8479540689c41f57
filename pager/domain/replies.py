"""What a person's SMS means: a command (ACK, RES, ESC, SNOOZE, NOTE, ONCALL, STATUS, HELP),
a carrier keyword (STOP, START, HELP), or not understood."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pager.domain.durations import parse_duration

ReplyKind = Literal[
    "ack",
    "resolve",
    "escalate",
    "snooze",
    "note",
    "oncall",
    "status",
    "help",
    "stop",
    "start",
    "unknown",
]
# The commands that act on one incident: named by its ack code, or the sender's only open page.
ON_AN_INCIDENT: frozenset[ReplyKind] = frozenset({"ack", "resolve", "escalate", "snooze", "note"})


@dataclass(frozen=True)
class Reply:
    """A parsed SMS; `code` is the ack code it named, if any (4 to 8 ASCII digits);
    `everything` is "ACK ALL" / "RES ALL": every open page of the sender (digests offer it).

    `snooze` is SNOOZE's duration; `text` is NOTE's note, ONCALL's rotation or the command
    HELP was asked about. `problem` says what is wrong with a command of ours written wrong
    ("'30x' is not a duration"): the answer is then how to write it.
    """

    kind: ReplyKind
    code: str | None = None
    everything: bool = False
    snooze: timedelta | None = None
    text: str = ""
    problem: str | None = None


# Carrier keywords: honoured only as the whole message, as carriers themselves do.
_KEYWORDS: dict[str, ReplyKind] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), "stop"),
    **dict.fromkeys(("START", "YES", "UNSTOP"), "start"),
    **dict.fromkeys(("HELP", "INFO"), "help"),
}
_COMMANDS: dict[str, ReplyKind] = {
    **dict.fromkeys(("ACK", "ACKED", "ACKNOWLEDGE", "ACKNOWLEDGED"), "ack"),
    **dict.fromkeys(("RES", "RESOLVE", "RESOLVED"), "resolve"),
}
# The console's commands, each read by its own parser below.
_CONSOLE: dict[str, ReplyKind] = {
    **dict.fromkeys(("ESC", "ESCALATE"), "escalate"),
    "SNOOZE": "snooze",
    "NOTE": "note",
    "ONCALL": "oncall",
    "STATUS": "status",
    "HELP": "help",
}
# re.ASCII: a look-alike letter (the Kelvin sign for K) or a non-ASCII digit never matches.
_COMMAND = re.compile(
    r"(?P<word>[a-z]+)?[\s#:]*(?:(?P<code>[0-9]+)|(?<=\s)(?P<all>all))?", re.ASCII | re.IGNORECASE
)
# The command word of a console command; "on call" and "on-call" are ONCALL too.
_WORD = re.compile(r"on[\s-]?call(?![a-z])|[a-z]+", re.ASCII | re.IGNORECASE)
# An ack code leading the rest of a command ("#4821 30m", ": 4821"), as a whole word.
_LEADING_CODE = re.compile(r"[\s#:]*(?P<code>[0-9]+)(?=[\s,;:.]|$)", re.ASCII)
_NOTE_START = re.compile(r"^[\s#:,;.-]+")  # between the code and the note ("4821: db up")
_TRAILING_CODE = re.compile(r"\s#?(?P<code>[0-9]+)$", re.ASCII)
_CODE_LENGTHS = range(4, 9)
# What people type for a unit ("30 min", "2 hours"), as pager's durations write it.
_UNIT_WORDS = re.compile(
    r"(?<=[0-9])\s*(sec|secs|second|seconds|min|mins|minute|minutes|hr|hrs|hour|hours|days?)\b",
    re.ASCII | re.IGNORECASE,
)
# How long a SNOOZE may last unless `sms_console: max_snooze` says otherwise.
LONGEST_SNOOZE = timedelta(hours=4)
MAX_ROTATION_ASKED = 100  # characters of ONCALL's rotation kept (rotation ids are short)


def parse_reply(text: str) -> Reply:
    """What an SMS asks for; Reply("unknown") for anything not clearly a command.

    Forgiving about case and spacing ("ack4821", " Ack  #4821 "), trailing punctuation and
    emoji, and whatever follows the first line (a phone's "Sent from my iPhone"). STOP, START
    and HELP words count only as the whole message. Digits alone ("4821") acknowledge: people
    under stress type just the code. Only ASCII digits make a code; never raises.
    """
    line = _first_line(text)
    keyword = _KEYWORDS.get(line.upper()) if line.isascii() else None
    if keyword is not None:
        return Reply(keyword)
    word = _WORD.match(line)
    name = re.sub(r"[\s-]", "", word.group()).upper() if word else ""
    if name in _CONSOLE:
        assert word is not None
        rest = line[word.end() :]
        # NOTE keeps the note as typed, its ending too ("restarted db." or "ok 👍").
        return _console(_CONSOLE[name], rest, _first_line(text, "ZC")[word.end() :])
    return _ack_or_resolve(line)


def bare_digits(text: str) -> str | None:
    """The digits of a reply that is digits only ("482193", " 482193. "), else None: such a
    reply may be a code proving a number as well as an ack code (see flows.verify)."""
    line = _first_line(text)
    return line if line.isascii() and line.isdigit() else None


def _ack_or_resolve(line: str) -> Reply:
    match = _COMMAND.fullmatch(line)
    if not line or match is None:
        return Reply("unknown")
    word, code = match["word"], match["code"]
    kind = _COMMANDS.get(word.upper()) if word else ("ack" if code else None)
    if kind is None or (code is not None and len(code) not in _CODE_LENGTHS):
        return Reply("unknown")
    if match["all"]:
        return Reply(kind, everything=True) if word else Reply("unknown")
    return Reply(kind, code)


def _console(kind: ReplyKind, rest: str, rest_as_typed: str) -> Reply:
    if kind == "help":
        topic = _CONSOLE.get(rest.strip(" #:").upper()) or _COMMANDS.get(rest.strip().upper())
        return Reply("help", text=topic or "")
    if kind == "status":  # whatever follows ("STATUS please") changes nothing
        return Reply("status")
    if kind == "oncall":
        asked = rest_as_typed.strip().rstrip(".!?,;").strip()  # a rotation may end in "-"
        return Reply("oncall", text=" ".join(asked.split())[:MAX_ROTATION_ASKED])
    code, after = _leading_code(rest)
    if kind == "escalate":
        if code is not None and len(code) not in _CODE_LENGTHS:
            return Reply(kind, problem=f"'{code}' is not a code (4 to 8 digits)")
        if after.strip():
            return Reply(kind, code, problem="ESC takes a code only")
        return Reply(kind, code)
    if code is not None and len(code) not in _CODE_LENGTHS:
        code, after = None, rest  # not a code: the start of the note, or a duration's number
    if kind == "note":
        return _note(code, rest_as_typed)
    return _snooze(code, after)


def _leading_code(rest: str) -> tuple[str | None, str]:
    """The code that starts `rest`, and what follows it; (None, rest) when none does."""
    found = _LEADING_CODE.match(rest)
    if found is None:
        return None, rest
    return found["code"], rest[found.end() :]


def _note(code: str | None, rest_as_typed: str) -> Reply:
    """NOTE <code> <text> or NOTE <text>: a first word of 4 to 8 digits is the code."""
    _, after = _leading_code(rest_as_typed) if code is not None else (None, rest_as_typed)
    note = " ".join(_NOTE_START.sub("", after).split())
    if not note:
        return Reply("note", code, problem="NOTE needs the note")
    return Reply("note", code, text=note)


def _snooze(code: str | None, rest: str) -> Reply:
    """SNOOZE <code> 30m, SNOOZE 30m <code> or SNOOZE 30m: a duration of pager's (1h30m)."""
    rest = rest.strip()
    trailing = _TRAILING_CODE.search(rest) if code is None else None
    if trailing is not None and len(trailing["code"]) in _CODE_LENGTHS:
        code, rest = trailing["code"], rest[: trailing.start()].strip()
    if not rest:
        return Reply("snooze", code, problem="SNOOZE needs how long")
    length = _duration(rest)
    if length is None:
        shown = rest if len(rest) <= 20 else rest[:17] + "..."
        return Reply("snooze", code, problem=f"'{shown}' is not a duration")
    if length <= timedelta(0):
        return Reply("snooze", code, problem="a snooze needs a time above 0")
    return Reply("snooze", code, snooze=length)


def _duration(text: str) -> timedelta | None:
    if not text.isascii():  # durations.py reads any Unicode digit; a reply takes ASCII only
        return None
    short = _UNIT_WORDS.sub(lambda unit: unit[1][0], text)  # its first letter: s, m, h, d
    try:
        return parse_duration(short.lower())
    except (ValueError, OverflowError):  # OverflowError: more weeks than a timedelta holds
        return None


def _first_line(text: str, trimmed_end: str = "ZCPSM") -> str:
    """The first line with something in it, without spacing around it, and at its end without
    the categories in `trimmed_end` (by default punctuation and emoji too)."""
    for line in text.splitlines():
        start, end = 0, len(line)
        while start < end and _category(line[start]) in "ZC":
            start += 1
        while end > start and _category(line[end - 1]) in trimmed_end:
            end -= 1
        if start < end and _has_content(line[start:end]):
            return line[start:end]
    return ""


def _has_content(line: str) -> bool:
    """Whether the line holds more than punctuation and emoji (those make no command)."""
    return any(_category(ch) not in "ZCPSM" for ch in line)


def _category(ch: str) -> str:
    return unicodedata.category(ch)[0]
