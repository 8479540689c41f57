"""Ack codes (the short numbers people text back to acknowledge or resolve a page) and
one-time codes (sign-in and proofs: random, kept only as a keyed hash, short-lived)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta

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


# One-time codes (sign-in, number proofs, Verify): the rules every code pager issues keeps.
ONE_TIME_CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)  # the default; `sign_in: code_ttl` sets 5-10 minutes
MAX_WRONG_TRIES = 5  # the fifth wrong try voids the code
CODES_PER_NUMBER = 5  # at most this many codes to one number...
CODES_WINDOW = timedelta(minutes=15)  # ...in any such window
# Failed sign-ins from one address in a window, after which its tries are refused unread.
FAILED_SIGN_INS_PER_ADDRESS = 20
CODES_PER_ADDRESS = 20  # and from one remote address in the window


def one_time_code(digits: int = ONE_TIME_CODE_DIGITS) -> str:
    """A uniformly random code of `digits` digits, from `secrets`."""
    if not 4 <= digits <= 10:
        raise ValueError(f"one-time codes have 4 to 10 digits, not {digits}")
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_digest(key: bytes, purpose: str, subject: str, code: str) -> str:
    """The keyed hash kept instead of a code: HMAC-SHA256 over what it is for, whom, and the
    code, so that a stolen table neither reveals codes nor lets one be tried elsewhere."""
    message = "\x1f".join((purpose, subject, code)).encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(key: bytes, purpose: str, subject: str, code: str, digest: str) -> bool:
    """Whether `code` is the one `digest` was made from, compared in constant time."""
    return hmac.compare_digest(code_digest(key, purpose, subject, code.strip()), digest)


def token_digest(token: str) -> str:
    """What is kept of a random bearer token (a session cookie, a personal API token): its
    SHA-256. The token is 32 random bytes, so no key or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
