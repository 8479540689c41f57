"""Phone numbers at the edges: E.164 normalisation and masking for logs and pages."""

from __future__ import annotations

import re

import phonenumbers

# Ofcom keeps 07700 900000-900999 for drama and documentation; phonenumbers (9.x) calls them
# invalid, but they are the numbers examples and tests should use, as they never ring anyone.
_FICTIONAL_UK = re.compile(r"\+447700900\d{3}")


def parse_e164(written: str) -> str:
    """`written` in E.164 form (`+447700900101`); ValueError saying what is wrong otherwise."""
    written = written.strip()
    if not written.startswith("+"):
        raise ValueError(f"'{written}' must start with + and the country code, like +447700900123")
    try:
        number = phonenumbers.parse(written, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"'{written}' is not a phone number") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not (phonenumbers.is_valid_number(number) or _FICTIONAL_UK.fullmatch(e164)):
        raise ValueError(f"'{written}' is not a valid phone number")
    return e164


def normalise(number: str) -> str | None:
    """E.164 form of `number` (which must start with +), or None when it is not a valid number."""
    try:
        return parse_e164(number)
    except ValueError:
        return None


def mask(number: str) -> str:
    """`+447700900101` -> `+44******0101`: enough to tell numbers apart, not to dial them."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


# A phone number inside free text (an HTTP library's error quoting the form it sent, a
# provider's message, a rotation file's typo): +E.164, URL-encoded (%2B), 00-prefixed, or a
# bare run of 11-15 digits as providers write numbers without the +.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w%])(\+|%2[Bb]|00)?(\d{7,15})(?!\d)")


def mask_numbers_in(text: str) -> str:
    """`text` with every phone number in it masked as `mask` does (`+44******0101`)."""

    def masked(match: re.Match[str]) -> str:
        prefix, digits = match.group(1), match.group(2)
        if prefix is None and len(digits) < 11:
            return match.group(0)  # a count, a port, an id: too short for a bare number
        return mask("+" + digits)

    return _NUMBER_IN_TEXT.sub(masked, text)


def from_msisdn(number: str) -> str:
    """A number as providers write it without the + (`447700900123`) in E.164
    (`+447700900123`); short codes and alphanumeric senders stay as they are."""
    return f"+{number}" if number.isdigit() and len(number) > 6 else number
