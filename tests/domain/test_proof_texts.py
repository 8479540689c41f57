"""The texts of number proofs, and which replies may carry a proving code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.domain.messages import is_gsm7, segments, verify_text
from pager.domain.replies import bare_digits, parse_reply
from pager.domain.reply_texts import reply_text


def test_the_code_sms_is_one_gsm7_segment_with_the_code_first() -> None:
    text = verify_text("482193", 10)
    assert text == (
        "482193 is your pager code to prove this number. Reply with just the code, or enter "
        "it on the dashboard. It expires in 10 min."
    )
    assert is_gsm7(text) and segments(text) == 1


@pytest.mark.parametrize("kind", ["number_verified", "verify_refused"])
def test_the_proof_replies_are_one_segment(kind: str) -> None:
    assert segments(reply_text(kind)) == 1
    assert segments(reply_text("test_acknowledged", number=10**9)) == 1


@pytest.mark.parametrize(
    ("body", "digits"),
    [
        ("482193", "482193"),
        (" 482193. ", "482193"),
        ("482193\nSent from my iPhone", "482193"),
        ("ACK 482193", None),
        ("482 193", None),
        ("４８２１９３", None),  # full-width digits are no code
        ("", None),
    ],
)
def test_it_tells_a_reply_of_digits_only(body: str, digits: str | None) -> None:
    assert bare_digits(body) == digits


@given(st.text())
def test_bare_digits_are_always_also_an_ack_reply_or_not_a_code(text: str) -> None:
    digits = bare_digits(text)
    if digits is not None and 4 <= len(digits) <= 8:
        assert parse_reply(text).code == digits  # the ambiguity flows.verify resolves
