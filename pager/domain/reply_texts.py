"""The answers to SMS replies and commands: GSM-7, one SMS segment each.

A long title or name is shortened with '...'; a long list (codes, rotations, incidents) keeps
what fits and says how much it left out: "... (+3 more)".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pager.domain.durations import format_duration
from pager.domain.messages import (
    GSM7_SINGLE,
    day_and_time,
    fit,
    plural,
    sentence,
    septets,
    sms_line,
)
from pager.domain.replies import LONGEST_SNOOZE
from pager.domain.states import IncidentState

# `{title}`, `{by}`, `{step}` and `{problem}` arrive as sentences: with their own '.', '!' or '?'.
_REPLIES = {
    "acknowledged": "Acknowledged #{number} {service}: {title} Reply RES {code} when resolved.",
    "resolved": "Resolved #{number} {service}: {title}",
    "already_acknowledged": "#{number} was already acknowledged by {by}",
    "already_resolved": "#{number} is already resolved.",
    "unknown_code": "No open page with code {code} for this number. Reply HELP for help.",
    "nothing_open": "You have no open pages.",
    "locked": "Too many wrong codes. Try again in {minutes}.",
    "stopped": "You will get no more SMS pages from pager. Reply START to resume.",
    "started": "SMS pages from pager resumed.",
    "not_understood": "Not understood. Reply HELP for the commands.",
    "acknowledged_all": "Acknowledged {count}: all your open pages.",
    "resolved_all": "Resolved {count}: all your open pages.",
    "number_verified": "Number proven: pager pages you here. Thank you.",
    "test_acknowledged": "Test page #{number} acknowledged: your route works. Nothing to resolve.",
    "verify_refused": "That code is wrong, expired or used. Run pager verify for a new one.",
    "escalated": "Escalated #{number}: {step}",
    "not_escalating": "#{number} is not escalating: it was acknowledged by {by}",
    "escalation_over": "#{number} ran all its escalation steps: nobody is left to page.",
    "snoozed": "Snoozed #{number} {service}: {title} Pages again at {until} unless resolved "
    "(RES {code}).",
    "snooze_too_long": "A snooze lasts {longest} at most. Reply SNOOZE <code> {longest}, or less.",
    "noted": "Noted on #{number} {service}: {title}",
    "no_rotations": "No rotations are in force: ask whoever runs pager to check them.",
    "problem": "{problem} {usage}",
}
_SHORTENED = ("title", "by", "step", "problem")

# How to write each command: HELP <command>, and the answer to one written wrong.
USAGE = {
    "ack": "ACK <code> acknowledges that page; ACK alone your only open page; ACK ALL all of "
    "them. The code alone works too.",
    "resolve": "RES <code> resolves that incident; RES alone your only open page; RES ALL all "
    "of them.",
    "escalate": "ESC <code> runs the incident's next escalation step now (ESC alone: your only "
    "open page).",
    "snooze": "SNOOZE <code> 30m acknowledges now and pages again after 30m unless resolved. At "
    "most {longest}; 90s, 2h, 1h30m work too.",
    "note": "NOTE <code> <text> adds the text to the incident's timeline (NOTE <text>: your "
    "only open page).",
    "oncall": "ONCALL: who is on call now and next in your rotations, in your time zone. "
    "ONCALL <rotation> for another.",
    "status": "STATUS: your open pages, each with its code and state.",
    "stop": "STOP: no more SMS pages to this number (calls still come). START resumes them.",
    "start": "START resumes SMS pages to this number after a STOP.",
    "help": "pager: ACK, RES, ESC <code>; SNOOZE <code> 30m; NOTE <code> <text>; ONCALL "
    "[rotation]; STATUS; STOP; START. Code optional with 1 open page. HELP <cmd>: more.",
}
USAGE["unknown"] = USAGE["help"]


def reply_text(kind: str, **facts: object) -> str:
    """The auto-reply of `kind` to someone who texted us: GSM-7, one SMS segment.

    Facts per kind: acknowledged (number, service, title, code), resolved (number, service,
    title), already_acknowledged (number, by), already_resolved (number), unknown_code (code),
    locked (minutes), acknowledged_all and resolved_all (count), test_acknowledged (number),
    escalated (number, step), not_escalating (number, by), escalation_over (number), snoozed
    (number, service, title, until, code), snooze_too_long (longest), noted (number, service,
    title), problem (problem, usage); the others take none. Lists have their own functions:
    `which_one`, `oncall_text`, `unknown_rotation`, `status_text`; HELP is `help_text`.
    """
    if kind not in _REPLIES:
        raise ValueError(f"unknown reply kind {kind!r} (known: {', '.join(_REPLIES)})")
    template = _REPLIES[kind]
    values = {name: sms_line(str(value)) for name, value in facts.items()}
    if "minutes" in facts:
        values["minutes"] = plural(_int_fact(facts, "minutes"), "minute")
    if "count" in facts:
        values["count"] = plural(_int_fact(facts, "count"), "incident")

    def render(values: dict[str, str]) -> str:
        try:
            return template.format(**values)
        except KeyError as missing:
            raise ValueError(f"reply {kind!r} needs the fact {missing}") from None

    name = next((name for name in _SHORTENED if name in values), "")
    if not name:
        return render(values)
    return fit(
        lambda cut, _: render({**values, name: sentence(cut)}),
        values[name],
        "",
        fits=_one_segment,
    )


def help_text(asked: str = "", longest_snooze: timedelta = LONGEST_SNOOZE) -> str:
    """HELP: every command in one SMS; `HELP SNOOZE` (asked "snooze"): how to write that one."""
    return sms_line(USAGE.get(asked, USAGE["help"]).format(longest=format_duration(longest_snooze)))


def problem_text(kind: str, problem: str, longest_snooze: timedelta = LONGEST_SNOOZE) -> str:
    """The answer to a command of ours written wrong: what is wrong, then how to write it."""
    usage = help_text(kind if kind in USAGE else "help", longest_snooze)
    if not _one_segment(reply_text("problem", problem="...", usage=usage)):
        return usage  # how to write it matters more than what was wrong
    return reply_text("problem", problem=sentence(problem[:1].upper() + problem[1:]), usage=usage)


def which_one(codes: Sequence[str], command: str = "ACK <code>") -> str:
    """`You have 3 open pages. Reply ACK <code>: 4821, 1234, 5678.`: a command without a code
    from someone with several open pages; `command` is how to write it with one."""
    if not codes:
        raise ValueError("which_one needs the codes of the open pages, a non-empty list")
    head = f"You have {plural(len(codes), 'open page')}. Reply {sms_line(command)}:"
    return listing(head, [sms_line(code) for code in codes], ", ")


@dataclass(frozen=True)
class OnCallLine:
    """Who holds `rotation` now (None: nobody), until when (None: no end), and who next."""

    rotation: str
    person: str | None
    until: datetime | None
    then: str | None


def oncall_text(lines: Sequence[OnCallLine], timezone: str, now: datetime) -> str:
    """ONCALL: `On call (Europe/London): sre-primary Alice Example until Mon 09:00, then Bob
    Example.` with each time in `timezone`, the asker's own."""
    zone = ZoneInfo(timezone)
    items = []
    for line in lines:
        who = sms_line(line.person) if line.person else "nobody"
        if line.until is None:
            item = f"{sms_line(line.rotation)} {who}, no end"
        else:
            then = sms_line(line.then) if line.then else "nobody"
            item = (
                f"{sms_line(line.rotation)} {who} until {_when(line.until, zone, now)}, then {then}"
            )
        items.append(item)
    return listing(f"On call ({sms_line(timezone)}):", items, "; ")


def unknown_rotation(asked: str, known: Sequence[str]) -> str:
    """ONCALL <rotation> with a rotation nobody has: the ones there are."""
    shown = sms_line(asked)
    shown = shown if len(shown) <= 30 else shown[:27] + "..."
    return listing(f"No rotation '{shown}'. There are:", [sms_line(r) for r in known], ", ")


@dataclass(frozen=True)
class StatusLine:
    """One open incident of the asker's: acknowledged ones may escalate again `until`."""

    number: int
    service: str
    status: str  # triggered | acknowledged
    code: str
    by: str | None = None
    until: datetime | None = None


def status_text(lines: Sequence[StatusLine], timezone: str, now: datetime) -> str:
    """STATUS: `2 open: #12 payments triggered, code 4821; #13 db acked by Bob Example until
    03:40, code 5521.` with times in `timezone`, the asker's own."""
    if not lines:
        return reply_text("nothing_open")
    zone = ZoneInfo(timezone)
    items = []
    for line in lines:
        state = line.status
        if line.status == IncidentState.ACKNOWLEDGED:
            state = "acked" + (f" by {sms_line(line.by)}" if line.by else "")
            state += f" until {_when(line.until, zone, now)}" if line.until else ""
        items.append(f"#{line.number} {sms_line(line.service)} {state}, code {sms_line(line.code)}")
    return listing(f"{len(lines)} open:", items, "; ")


def local_time(at: datetime, timezone: str, now: datetime) -> str:
    """`at` as the asker reads it in `timezone`: `03:40` today, `Mon 09:00` this week, else
    `Mon 14 Dec 09:00`."""
    return _when(at, ZoneInfo(timezone), now)


def listing(head: str, items: Sequence[str], separator: str) -> str:
    """`head item, item.` with as many items as fit one segment, the rest counted: `head item,
    item (+3 more).`; an item too long on its own is shortened."""
    for shown in range(len(items), 0, -1):
        more = len(items) - shown
        ending = f" (+{more} more)." if more else "."
        text = f"{head} {separator.join(items[:shown])}{ending}"
        if _one_segment(text):
            return text
    ending = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
    return fit(lambda cut, _: f"{head} {cut}{ending}", items[0], "", _one_segment)


def _when(at: datetime, zone: ZoneInfo, now: datetime) -> str:
    local, today = at.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return f"{local:%H:%M}"
    return day_and_time(local, date=not timedelta(0) < local - today < timedelta(days=6))


def _one_segment(text: str) -> bool:
    return septets(text) <= GSM7_SINGLE


def _int_fact(facts: dict[str, object], name: str) -> int:
    value = facts[name]
    if not isinstance(value, int):
        raise ValueError(f"reply needs the fact {name!r} as a whole number, got {value!r}")
    return value
