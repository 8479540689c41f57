import pytest

from pager.domain.codes import new_ack_code, same_code
from pager.domain.replies import Reply, parse_reply


def test_it_makes_a_four_digit_code():
    code = new_ack_code()
    assert len(code) == 4
    assert code.isascii()
    assert code.isdigit()


@pytest.mark.parametrize("digits", [4, 5, 8])
def test_it_makes_codes_a_reply_can_name(digits):
    code = new_ack_code(digits=digits)
    assert len(code) == digits
    assert parse_reply(f"ACK {code}") == Reply("ack", code)


def test_it_keeps_leading_zeros():
    codes = [new_ack_code() for _ in range(300)]
    assert {len(code) for code in codes} == {4}
    assert any(code.startswith("0") for code in codes)  # a miss: 0.9**300, nil


def test_it_avoids_codes_taken():
    taken = {f"{n:04d}" for n in range(8000)}
    codes = {new_ack_code(taken) for _ in range(200)}
    assert codes.isdisjoint(taken)


def test_it_refuses_when_nearly_every_code_is_taken():
    with pytest.raises(ValueError, match="9000 of the 10000 codes of 4 digits are taken"):
        new_ack_code([f"{n:04d}" for n in range(9000)])
    with pytest.raises(ValueError, match="use more digits"):
        new_ack_code({f"{n:04d}" for n in range(10000)} - {"0042"})


def test_it_ignores_taken_codes_of_another_length():
    assert len(new_ack_code([f"{n:05d}" for n in range(100000)])) == 4


@pytest.mark.parametrize("digits", [3, 9, 0])
def test_it_refuses_lengths_a_reply_cannot_name(digits):
    with pytest.raises(ValueError, match="4 to 8 digits"):
        new_ack_code(digits=digits)


def test_it_spreads_codes_over_the_whole_range():
    firsts = {new_ack_code()[0] for _ in range(500)}
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
