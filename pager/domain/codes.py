"""Ack codes: the short numbers people text back to acknowledge or resolve a page."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

ACK_CODE_DIGITS = range(4, 9)  # what parse_reply accepts as a code


def ack_code_digits(in_use: int) -> int:
    """The fewest digits for a new code while `in_use` codes are taken: codes stay short (4
    digits up to 5,000 open incidents) and a random draw hits a free one at least half the
    time, so `draw_ack_code` needs only a few lookups."""
    for digits in ACK_CODE_DIGITS:
        if in_use < 10**digits // 2:
            return digits
    raise ValueError(f"{in_use} codes in use: more than 8-digit codes can hold")


def draw_ack_code(digits: int, is_taken: Callable[[str], bool]) -> str:
    """A uniformly random code of `digits` digits for which `is_taken` (one lookup each, e.g.
    an indexed query) says no. Raises ValueError after 200 misses in a row."""
    # With at most half taken (ack_code_digits), 200 misses in a row: about 6e-61.
    for _ in range(200):
        code = random_ack_code(digits)
        if not is_taken(code):
            return code
    raise ValueError(f"no free code of {digits} digits found in 200 tries: use more digits")


def random_ack_code(digits: int) -> str:
    """A uniformly random code of `digits` digits, taken or not."""
    _check_digits(digits)
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def _check_digits(digits: int) -> None:
    if digits not in ACK_CODE_DIGITS:
        raise ValueError(f"ack codes have 4 to 8 digits, not {digits}")


def same_code(a: str, b: str) -> bool:
    """Whether two codes are equal, compared in constant time."""
    # surrogatepass: any str encodes, so a malformed reply can't raise here.
    return hmac.compare_digest(_bytes(a), _bytes(b))


def _bytes(code: str) -> bytes:
    return code.encode("utf-8", "surrogatepass")
