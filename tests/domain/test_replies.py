import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.domain.replies import Reply, parse_reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACK 4821", Reply("ack", "4821")),
        ("ack4821", Reply("ack", "4821")),
        (" Ack  #4821 ", Reply("ack", "4821")),
        ("ack: 4821!!", Reply("ack", "4821")),
        ("ACK", Reply("ack")),
        ("acknowledge 4821", Reply("ack", "4821")),
        ("ACKNOWLEDGED", Reply("ack")),
        ("Acked 12345678", Reply("ack", "12345678")),
        ("RES 4821", Reply("resolve", "4821")),
        ("resolve 4821", Reply("resolve", "4821")),
        ("RESOLVED 4821", Reply("resolve", "4821")),
        ("res", Reply("resolve")),
        ("4821", Reply("ack", "4821")),
        ("#4821.", Reply("ack", "4821")),
        ("ACK 4821 👍🏽", Reply("ack", "4821")),
        ("ACK 4821\nSent from my iPhone", Reply("ack", "4821")),
        ("\r\n  \nres 4821\r\n--\nAlice", Reply("resolve", "4821")),
    ],
)
def test_it_understands_ack_and_resolve(text, expected):
    assert parse_reply(text) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("STOP", "stop"),
        ("stop.", "stop"),
        ("StopAll", "stop"),
        ("UNSUBSCRIBE", "stop"),
        ("cancel", "stop"),
        ("END", "stop"),
        ("quit!", "stop"),
        ("START", "start"),
        ("yes", "start"),
        ("unstop", "start"),
        ("HELP", "help"),
        ("help?", "help"),
        ("Info", "help"),
    ],
)
def test_it_understands_carrier_keywords(text, kind):
    assert parse_reply(text) == Reply(kind)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "👍",
        "a 4821",
        "ok",
        "ACK 123",
        "ACK 123456789",
        "123",
        "ACK 4821 5678",
        "ACK 4821 thanks",
        "STOP 4821",
        "please stop",
        "ACK ４８２１",  # full-width digits
        "ACK ٤٨٢١",  # Arabic-Indic digits
        "ＡＣＫ 4821",
        "\u212aACK 4821",  # Kelvin sign: uppercases like K, is not one
        "ACK 4821\u0663",
    ],
)
def test_it_does_not_guess(text):
    assert parse_reply(text) == Reply("unknown")


@given(st.text())
def test_it_never_raises(text):
    assert isinstance(parse_reply(text), Reply)


def _random_case(word, flips):
    return "".join(ch.upper() if flip else ch.lower() for ch, flip in zip(word, flips, strict=True))


@given(
    code=st.from_regex(r"[0-9]{4,8}", fullmatch=True),
    flips=st.lists(st.booleans(), min_size=3, max_size=3),
    before=st.text(" \t", max_size=3),
    between=st.sampled_from(["", " ", "  ", " #", "#", "\t"]),
    after=st.text(" \t.!", max_size=3),
)
def test_it_round_trips_any_ack(code, flips, before, between, after):
    text = f"{before}{_random_case('ACK', flips)}{between}{code}{after}"
    assert parse_reply(text) == Reply("ack", code)
