import pytest

from pager.domain.codes import ack_code_digits, draw_ack_code, same_code
from pager.domain.replies import Reply, parse_reply


def free(code: str) -> bool:
    return False


def test_it_makes_a_four_digit_code():
    code = draw_ack_code(4, free)
    assert len(code) == 4
    assert code.isascii()
    assert code.isdigit()


@pytest.mark.parametrize("digits", [4, 5, 8])
def test_it_makes_codes_a_reply_can_name(digits):
    code = draw_ack_code(digits, free)
    assert len(code) == digits
    assert parse_reply(f"ACK {code}") == Reply("ack", code)


def test_it_keeps_leading_zeros():
    codes = [draw_ack_code(4, free) for _ in range(300)]
    assert {len(code) for code in codes} == {4}
    assert any(code.startswith("0") for code in codes)  # a miss: 0.9**300, nil


def test_it_avoids_codes_taken():
    taken = {f"{n:04d}" for n in range(8000)}
    codes = {draw_ack_code(4, taken.__contains__) for _ in range(200)}
    assert codes.isdisjoint(taken)


def test_it_gives_up_when_every_code_is_taken():
    looked_up: list[str] = []

    def taken(code: str) -> bool:
        looked_up.append(code)
        return True

    with pytest.raises(ValueError, match="no free code of 4 digits found in 200 tries"):
        draw_ack_code(4, taken)
    assert len(looked_up) == 200


@pytest.mark.parametrize(
    ("in_use", "digits"),
    [(0, 4), (4999, 4), (5000, 5), (49_999, 5), (50_000, 6), (49_999_999, 8)],
)
def test_codes_get_longer_only_when_half_of_them_are_in_use(in_use, digits):
    assert ack_code_digits(in_use) == digits


def test_it_refuses_more_open_incidents_than_eight_digits_hold():
    with pytest.raises(ValueError, match="more than 8-digit codes can hold"):
        ack_code_digits(50_000_000)


@pytest.mark.parametrize("digits", [3, 9, 0])
def test_it_refuses_lengths_a_reply_cannot_name(digits):
    with pytest.raises(ValueError, match="4 to 8 digits"):
        draw_ack_code(digits, free)


def test_it_spreads_codes_over_the_whole_range():
    firsts = {draw_ack_code(4, free)[0] for _ in range(500)}
    assert len(firsts) == 10  # chance all 500 miss one digit: about 10 * 0.9**500, nil


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("4821", "4821", True),
        ("4821", "4812", False),
        ("4821", "48210", False),
        ("", "", True),
        ("4821", "", False),
        ("é", "é", True),
        ("\ud800", "\ud800", True),  # a lone surrogate must not raise
    ],
)
def test_it_compares_codes(a, b, same):
    assert same_code(a, b) is same
