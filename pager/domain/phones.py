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


def from_msisdn(number: str) -> str:
    """A number as providers write it without the + (`447700900123`) in E.164
    (`+447700900123`); short codes and alphanumeric senders stay as they are."""
    return f"+{number}" if number.isdigit() and len(number) > 6 else number
