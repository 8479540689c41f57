"""Texts we send: SMS pages built for GSM-7 on purpose, what a call reads aloud, notices and codes.

One character outside GSM-7 turns a whole SMS into UCS-2 (70 characters a segment instead of
160), so every SMS text goes through `to_gsm7` and is shortened to a segment budget here. The
answers to SMS replies are in `reply_texts`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

# GSM 03.38 default alphabet in code order (0x00-0x7F), without 0x1B, the escape to the
# extension table.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape plus itself, 2 septets. Its form feed is left out:
# to_gsm7 removes control characters.
GSM7_EXTENSION = "^{}\\[]~|€"

_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)

_LOOKALIKES = {
    **dict.fromkeys("‘’‚‛′‵`´", "'"),
    **dict.fromkeys("“”„‟″‶«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("\t\v\f", " "),
    **dict.fromkeys("\u0085\u2028\u2029", "\n"),
    "…": "...",
    "⁄": "/",
}

GSM7_SINGLE, GSM7_MULTI = 160, 153  # septets in one SMS / in each part of a long one
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units, likewise
VOICE_MAX = 400  # characters a call reads before "press 1": longer and people hang up
PAGE_REPLY = "Reply ACK {code} to acknowledge, RES {code} to resolve."  # ends every page SMS
VOICE_ENDING = "Press 1 to acknowledge, 2 to resolve, 3 to escalate now."  # ends every call


def channel_word(channel: str) -> str:
    """How the timeline names a page on `channel`: "sms" or "call"."""
    return "sms" if channel == "sms" else "call"


def to_gsm7(text: str) -> str:
    """`text` in GSM-7 only: look-alikes mapped, accents dropped where GSM-7 lacks the letter.

    Control characters are removed, anything with no GSM-7 equivalent becomes '?', and runs of
    spaces collapse to one (newlines are kept).
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(" {2,}", " ", "".join(_gsm7_char(ch) for ch in text))


@lru_cache(maxsize=4096)
def _gsm7_char(ch: str) -> str:
    if ch in _BASIC or ch in _EXTENSION:
        return ch
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    if category in ("Cc", "Cf") or category.startswith("M"):
        return ""
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed == ch:
        return "?"
    mapped = "".join(_gsm7_char(part) for part in decomposed)
    # A letter that decomposes into several unknown parts (Hangul) is still one '?'.
    return mapped if mapped.strip("?") else "?"


def is_gsm7(text: str) -> bool:
    """Whether `text` can be sent in the GSM-7 alphabet as it is."""
    return all(ch in _BASIC or ch in _EXTENSION for ch in text)


def septets(text: str) -> int:
    """Septets `text` takes in GSM-7: characters of the extension table count 2."""
    if not is_gsm7(text):
        raise ValueError("text is not GSM-7: pass it through to_gsm7 first, or use segments()")
    return sum(2 if ch in _EXTENSION else 1 for ch in text)


def segments(text: str) -> int:
    """How many SMS segments `text` is sent as: GSM-7 if it can be, otherwise UCS-2.

    A multi-part message never splits an escaped GSM-7 character or a UTF-16 surrogate pair
    across two parts, so the count can be one more than a plain division gives.
    """
    if is_gsm7(text):
        widths = [2 if ch in _EXTENSION else 1 for ch in text]
        single, multi = GSM7_SINGLE, GSM7_MULTI
    else:
        widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, multi = UCS2_SINGLE, UCS2_MULTI
    if sum(widths) <= single:
        return 1
    count, used = 1, 0
    for width in widths:
        if used + width > multi:
            count, used = count + 1, 0
        used += width
    return count


def page_text(
    *,
    number: int,
    service: str,
    title: str,
    firing: int,
    summary: str | None,
    code: str,
    max_segments: int = 2,
) -> str:
    """The SMS that pages someone: GSM-7, at most `max_segments` segments.

    `[pager] #12 payments: HighErrorRate (3 firing): <summary>. Reply ACK 4821 to acknowledge,
    RES 4821 to resolve.` Too long, the summary is shortened first, then the title, and a
    service name too long on its own last; the number and the reply sentence never are.
    """
    code = sms_line(code)
    reply = PAGE_REPLY.format(code=code)

    def render(service: str, title: str, summary: str) -> str:
        head = f"[pager] #{number} {service}: {title} ({firing} firing)"
        return f"{head}: {sentence(summary)} {reply}" if summary else f"{head}. {reply}"

    def fits(text: str) -> bool:
        return segments(text) <= max_segments

    service = _fitting_service(sms_line(service), render, fits)
    return fit(
        lambda title, summary: render(service, title, summary),
        sms_line(title) or "(no title)",
        sms_line(summary or ""),
        fits=fits,
    )


def voice_text(*, number: int, service: str, title: str, firing: int, summary: str | None) -> str:
    """What a call reads aloud: plain text, at most about VOICE_MAX characters."""
    ending = VOICE_ENDING

    def render(service: str, title: str, summary: str) -> str:
        head = f"This is pager. Incident {number} for {service}: {title}, {firing} firing."
        return f"{head} {sentence(summary)} {ending}" if summary else f"{head} {ending}"

    def fits(text: str) -> bool:
        return len(text) <= VOICE_MAX

    service = _fitting_service(_plain_line(service), render, fits)
    return fit(
        lambda title, summary: render(service, title, summary),
        _plain_line(title) or "no title",
        _plain_line(summary or ""),
        fits=fits,
    )


def _fitting_service(
    service: str, render: Callable[[str, str, str], str], fits: Callable[[str], bool]
) -> str:
    """The service name, shortened only if even a text with the shortest title can't fit."""
    if fits(render(service, "(no title)", "")):
        return service
    return shorten(service, lambda cut: fits(render(cut, "(no title)", ""))) or "..."


def fit(
    render: Callable[[str, str], str], title: str, summary: str, fits: Callable[[str], bool]
) -> str:
    """`render(title, summary)` made to fit: the summary shortened first, then the title."""
    if fits(text := render(title, summary)):
        return text
    short = shorten(summary, lambda cut: fits(render(title, cut)))
    if short is not None:
        return render(title, short)
    if fits(text := render(title, "")):
        return text
    short = shorten(title, lambda cut: fits(render(cut, "")))
    return render(short or "...", "")


def shorten(text: str, fits: Callable[[str], bool]) -> str | None:
    """The longest start of `text`, ended with '...', that fits; None if none does."""

    def cut(length: int) -> str:
        head = text[:length].rstrip(" .")
        return head + "..." if head else ""

    # Longer starts never fit better, so a binary search finds the longest that fits.
    best, low, high = 0, 1, len(text) - 1
    while low <= high:
        middle = (low + high) // 2
        if cut(middle) and fits(cut(middle)):
            best, low = middle, middle + 1
        else:
            high = middle - 1
    if not best:
        return None
    # Prefer ending at a word if that loses only a little.
    space = text.rfind(" ", 0, best)
    return cut(space) if space > max(0, best - 16) and cut(space) else cut(best)


def sentence(text: str) -> str:
    """`text` ending as a sentence: with its own '.', '!' or '?', else with a '.'."""
    return text if text.endswith((".", "!", "?")) else text + "."


def plural(count: int, noun: str) -> str:
    """ "1 page", "3 pages": `count` and `noun`, with an s unless one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def sms_line(text: str) -> str:
    """`text` in GSM-7 on one line, its runs of spacing made one space."""
    return " ".join(to_gsm7(text).split())


def _plain_line(text: str) -> str:
    # Control characters are invalid in the XML a voice provider is given.
    kept = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())


def digest_text(pages: Sequence[tuple[int, str, str, str]], max_segments: int = 2) -> str:
    """One SMS for several held-back pages, each `(number, service, title, code)`:

    `[pager] 3 new incidents: #12 payments: HighErrorRate (ACK 4821); #13 ... Reply ACK ALL to
    acknowledge all, or ACK <code> for one.` Incidents that don't fit end as `+N more`.
    """
    tail = "Reply ACK ALL to acknowledge all, or ACK <code> for one."
    items = [
        f"#{number} {sms_line(service)}: {sms_line(title) or '(no title)'} (ACK {sms_line(code)})"
        for number, service, title, code in pages
    ]
    head = f"[pager] {plural(len(pages), 'new incident')}:"
    for shown in range(len(items), 0, -1):
        more = len(items) - shown
        listed = "; ".join(items[:shown]) + (f"; +{more} more" if more else "")
        text = f"{head} {listed}. {tail}"
        if segments(text) <= max_segments:
            return text
    return f"{head} +{len(items)} more. {tail}"


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_and_time(local: datetime, *, date: bool = True) -> str:
    """`Mon 30 Nov 09:00` (`Mon 09:00` without the date), in English whatever the locale."""
    day = _DAYS[local.weekday()]
    if not date:
        return f"{day} {local:%H:%M}"
    return f"{day} {local.day} {_MONTHS[local.month - 1]} {local:%H:%M}"


HANDOFF_UNVERIFIED = (
    " Number unproven: run pager verify (or see the dashboard), reply with the code."
)


def handoff_text(
    rotation: str, until: datetime | None, timezone: str, unverified: bool = False
) -> str:
    """The SMS to someone coming on call: GSM-7, one segment.

    `You are on call for sre-primary until Mon 30 Nov 09:00 Europe/London.`: `until` (aware)
    shown in `timezone`, theirs; `until further notice.` when the schedule shows no end. A
    rotation id too long for one segment is shortened with '...'. To someone whose number is
    not yet proven (`pager verify`), it also asks for the proof (HANDOFF_UNVERIFIED).
    """
    asking = HANDOFF_UNVERIFIED if unverified else ""
    if until is None:
        ending = "until further notice."
    else:
        local = until.astimezone(ZoneInfo(timezone))
        ending = f"until {day_and_time(local)} {sms_line(timezone)}."
    return fit(
        lambda name, _: f"You are on call for {name} {ending}{asking}",
        sms_line(rotation),
        "",
        fits=lambda text: septets(text) <= GSM7_SINGLE,
    )


def sign_in_text(code: str, minutes: int) -> str:
    """The SMS that carries a sign-in code: GSM-7, one segment, the code first (phones offer it
    for autofill), and what to do with one nobody asked for."""
    return (
        f"{code} is your pager sign-in code. It expires in {minutes} min. "
        "If you did not ask for it, ignore this SMS."
    )


def verify_text(code: str, minutes: int) -> str:
    """The SMS that carries a code proving a number: GSM-7, one segment, the code first."""
    return (
        f"{code} is your pager code to prove this number. Reply with just the code, or enter "
        f"it on the dashboard. It expires in {minutes} min."
    )


def sign_in_speech(code: str) -> str:
    """The same code read aloud ("call me instead"): digit by digit, twice."""
    spaced = ", ".join(code)
    return f"This is pager. Your sign-in code is {spaced}. Again: {spaced}. Goodbye."


def verify_service_text(service: str, code: str) -> str:
    """The SMS of a Verify code, worded as Twilio Verify words it (applications and their users
    know it), the code last so phones offer it for autofill."""
    return f"Your {service} verification code is: {code}"


def verify_speech(service: str, code: str) -> str:
    """A Verify code read aloud: digit by digit, twice."""
    spaced = ", ".join(code)
    return f"Your {service} verification code is {spaced}. Again: {spaced}. Goodbye."
