"""Phone numbers at the edges: E.164 normalisation and masking for logs and pages."""

from __future__ import annotations

import phonenumbers


def normalise(number: str) -> str | None:
    """E.164 form of `number` (which must start with +), or None when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(number.strip(), None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str) -> str:
    """`+447700900101` -> `+44******0101`: enough to tell numbers apart, not to dial them."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
