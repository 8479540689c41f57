"""Ack codes: the short numbers people text back to acknowledge or resolve a page."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Collection

ACK_CODE_DIGITS = range(4, 9)  # what parse_reply accepts as a code
_MOST_TAKEN = 0.9  # past this share of codes in use, tries would mostly miss


def new_ack_code(taken: Collection[str] = (), digits: int = 4) -> str:
    """A uniformly random code of `digits` digits (from `secrets`) that is not in `taken`.

    Raises ValueError when nearly every code of that length is taken: pick more digits.
    """
    if digits not in ACK_CODE_DIGITS:
        raise ValueError(f"ack codes have 4 to 8 digits, not {digits}")
    space = 10**digits
    in_use = {code for code in taken if len(code) == digits and code.isascii() and code.isdigit()}
    if len(in_use) >= space * _MOST_TAKEN:
        raise ValueError(
            f"{len(in_use)} of the {space} codes of {digits} digits are taken: use more digits"
        )
    # At most 90% taken, 200 misses in a row has a chance below 1e-9.
    for _ in range(200):
        code = f"{secrets.randbelow(space):0{digits}d}"
        if code not in in_use:
            return code
    raise ValueError(f"no free code of {digits} digits found in 200 tries: use more digits")


def same_code(a: str, b: str) -> bool:
    """Whether two codes are equal, compared in constant time."""
    # surrogatepass: any str encodes, so a malformed reply can't raise here.
    return hmac.compare_digest(_bytes(a), _bytes(b))


def _bytes(code: str) -> bytes:
    return code.encode("utf-8", "surrogatepass")
