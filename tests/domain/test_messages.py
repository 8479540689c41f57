import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.domain.messages import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    is_gsm7,
    page_text,
    segments,
    septets,
    to_gsm7,
    voice_text,
)


def _page(
    summary: str | None,
    title: str = "HighErrorRate",
    service: str = "payments",
    max_segments: int = 2,
) -> str:
    return page_text(
        number=12,
        service=service,
        title=title,
        firing=3,
        summary=summary,
        code="4821",
        max_segments=max_segments,
    )


REPLY_SENTENCE = "Reply ACK 4821 to acknowledge, RES 4821 to resolve."


def test_it_holds_the_whole_gsm7_alphabet():
    assert len(GSM7_BASIC) == len(set(GSM7_BASIC)) == 127  # 128 less the escape
    assert set(GSM7_EXTENSION) == set("^{}\\[]~|€")
    assert is_gsm7(GSM7_BASIC + GSM7_EXTENSION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“Disk” ‘full’", "\"Disk\" 'full'"),
        ("p95 – p99 — max", "p95 - p99 - max"),
        ("waiting…", "waiting..."),
        ("a\u00a0b\u2003c\u202fd", "a b c d"),
        ("a\tb    c", "a b c"),
        ("line one\nline  two", "line one\nline two"),
        ("crlf\r\nend", "crlf\nend"),
        ("café Ñandú Ångström", "café Ñandu Ångström"),
        ("naïve façade Łódź", "naive facade ?odz"),
        ("e\u0301", "é"),
        ("bell\x07null\x00zero\u200bwidth", "bellnullzerowidth"),
        ("fire 🔥 日本 한", "fire ? ?? ?"),
        ("½ ™ ﬁ Ｆｕｌｌ", "1/2 TM fi Full"),
        ("{json: [1]} ~ | ^ € \\", "{json: [1]} ~ | ^ € \\"),
    ],
)
def test_it_transliterates_to_gsm7(text, expected):
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


def test_it_tells_gsm7_from_ucs2():
    assert is_gsm7("Résumé: 5€ [ok]")
    assert not is_gsm7("naïve")
    assert not is_gsm7("🔥")


def test_it_counts_extension_chars_as_two_septets():
    assert septets("abc") == 3
    assert septets("{x}") == 5
    assert septets("€") == 2


def test_it_refuses_to_count_septets_of_ucs2_text():
    with pytest.raises(ValueError, match="not GSM-7"):
        septets("naïve")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("a" * 159 + "€", 2),
        # 306 septets, but the € can't straddle the first two parts.
        ("a" * 152 + "€" + "a" * 152, 3),
    ],
)
def test_it_counts_gsm7_segments(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("a" * 69 + "ï", 1),
        ("🔥" * 35, 1),  # each emoji is two UTF-16 code units
        ("🔥" * 36, 2),
        # 134 code units, but the surrogate pair can't straddle the first two parts.
        ("a" * 66 + "🔥" + "a" * 66, 3),
    ],
)
def test_it_counts_ucs2_segments_in_utf16_code_units(text, expected):
    assert segments(text) == expected


def test_it_builds_the_page_sms():
    text = _page("5xx rate above 5% for 10 minutes on checkout-api")
    assert text == (
        "[pager] #12 payments: HighErrorRate (3 firing): 5xx rate above 5% for 10 minutes on "
        "checkout-api. Reply ACK 4821 to acknowledge, RES 4821 to resolve."
    )
    assert septets(text) == 151  # [ and ] cost 2 septets each
    assert segments(text) == 1


def test_it_leaves_out_a_missing_summary():
    expected = (
        "[pager] #12 payments: HighErrorRate (3 firing). "
        "Reply ACK 4821 to acknowledge, RES 4821 to resolve."
    )
    assert _page(None) == expected
    assert _page("  \n ") == expected
    assert segments(expected) == 1


def test_it_does_not_double_the_full_stop_of_a_summary():
    text = _page("Error rate is 7.2% (threshold 5%).")
    assert text == (
        "[pager] #12 payments: HighErrorRate (3 firing): Error rate is 7.2% (threshold 5%). "
        + REPLY_SENTENCE
    )


def test_it_puts_title_and_summary_on_one_line_in_gsm7():
    text = _page("Errors – 7%\n\non checkout…", title="High\nError “Rate”", service="pay\tments")
    assert text == (
        '[pager] #12 pay ments: High Error "Rate" (3 firing): Errors - 7% on checkout... '
        + REPLY_SENTENCE
    )


def test_it_shortens_a_long_summary_and_keeps_the_reply_sentence():
    text = _page("x" * 2000)
    assert text.startswith("[pager] #12 payments: HighErrorRate (3 firing): xxx")
    assert text.endswith("x... " + REPLY_SENTENCE)
    assert segments(text) == 2
    assert septets(text) == 306


def test_it_shortens_a_summary_at_a_word():
    text = _page("disk almost full " * 100, max_segments=1)
    assert text == (
        "[pager] #12 payments: HighErrorRate (3 firing): disk almost full disk almost full "
        "disk almost full disk... " + REPLY_SENTENCE
    )
    assert septets(text) == 160


def test_it_shortens_the_title_once_the_summary_is_gone():
    text = _page("s" * 1000, title="T" * 1000)
    assert text.startswith("[pager] #12 payments: TTT")
    assert text.endswith("T... (3 firing). " + REPLY_SENTENCE)
    assert segments(text) == 2


@given(
    service=st.text(max_size=40),
    title=st.text(),
    summary=st.none() | st.text(),
    number=st.integers(min_value=1, max_value=10**9),
    firing=st.integers(min_value=0, max_value=10**4),
    max_segments=st.integers(min_value=2, max_value=4),
)
def test_it_always_sends_gsm7_within_the_segment_budget(
    service, title, summary, number, firing, max_segments
):
    text = page_text(
        number=number,
        service=service,
        title=title,
        firing=firing,
        summary=summary,
        code="48213579",
        max_segments=max_segments,
    )
    assert is_gsm7(text)
    assert segments(text) <= max_segments
    assert f"[pager] #{number} " in text
    assert text.endswith(" Reply ACK 48213579 to acknowledge, RES 48213579 to resolve.")


def test_it_reads_a_page_aloud():
    text = voice_text(
        number=12, service="payments", title="HighErrorRate", firing=3, summary="Error rate 7%."
    )
    assert text == (
        "This is pager. Incident 12 for payments: HighErrorRate, 3 firing. Error rate 7%. "
        "Press 1 to acknowledge, 2 to resolve, 3 to escalate now."
    )


def test_it_reads_a_page_without_summary_aloud():
    text = voice_text(number=12, service="payments", title="HighErrorRate", firing=3, summary=None)
    assert text == (
        "This is pager. Incident 12 for payments: HighErrorRate, 3 firing. "
        "Press 1 to acknowledge, 2 to resolve, 3 to escalate now."
    )


def test_it_keeps_a_call_short():
    text = voice_text(
        number=12, service="payments", title="HighErrorRate", firing=3, summary="slow " * 300
    )
    assert len(text) <= 400
    assert text.endswith("slow... Press 1 to acknowledge, 2 to resolve, 3 to escalate now.")


# A summary without a space near its end (a URL, a stack trace) was kept whole before
# (`rfind` found no space and returned -1), and a page with a 200-character title grew to 22
# segments, which Twilio refuses for good (21617). Properties: tests/domain/test_message_budget.py.
def test_it_shortens_a_summary_with_no_space_to_the_budget():
    url = "https://grafana.example.com/d/abc?" + "&var-instance=db-1" * 180
    text = _page(url, title="T" * 200)
    assert segments(text) <= 2
    assert text.endswith(" " + REPLY_SENTENCE)
