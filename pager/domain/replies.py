"""What a person's SMS reply means: acknowledge, resolve, help, stop, start, or not understood."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

ReplyKind = Literal["ack", "resolve", "help", "stop", "start", "unknown"]


@dataclass(frozen=True)
class Reply:
    """A parsed SMS reply; `code` is the ack code it named, if any (4 to 8 ASCII digits);
    `everything` is "ACK ALL" / "RES ALL": every open page of the sender (digests offer it)."""

    kind: ReplyKind
    code: str | None = None
    everything: bool = False


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
# re.ASCII: a look-alike letter (the Kelvin sign for K) or a non-ASCII digit never matches.
_COMMAND = re.compile(
    r"(?P<word>[a-z]+)?[\s#:]*(?:(?P<code>[0-9]+)|(?<=\s)(?P<all>all))?", re.ASCII | re.IGNORECASE
)
_CODE_LENGTHS = range(4, 9)


def parse_reply(text: str) -> Reply:
    """What an SMS reply asks for; Reply("unknown") for anything not clearly a command.

    Forgiving about case and spacing ("ack4821", " Ack  #4821 "), trailing punctuation and
    emoji, and whatever follows the first line (a phone's "Sent from my iPhone"). STOP, START
    and HELP words count only as the whole message. Digits alone ("4821") acknowledge: people
    under stress type just the code. Only ASCII digits make a code; never raises.
    """
    line = _first_line(text)
    keyword = _KEYWORDS.get(line.upper()) if line.isascii() else None
    if keyword is not None:
        return Reply(keyword)
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


def bare_digits(text: str) -> str | None:
    """The digits of a reply that is digits only ("482193", " 482193. "), else None: such a
    reply may be a code proving a number as well as an ack code (see flows.verify)."""
    line = _first_line(text)
    return line if line.isascii() and line.isdigit() else None


def _first_line(text: str) -> str:
    """The first line with something in it, without spacing, punctuation and emoji around it."""
    for line in text.splitlines():
        start, end = 0, len(line)
        while start < end and _category(line[start]) in "ZC":
            start += 1
        while end > start and _category(line[end - 1]) in "ZCPSM":
            end -= 1
        if start < end:
            return line[start:end]
    return ""


def _category(ch: str) -> str:
    return unicodedata.category(ch)[0]
