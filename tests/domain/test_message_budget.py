"""Every page fits 2 SMS segments with its ACK code, every call text its limit, for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pager.domain import messages
from pager.domain.messages import VOICE_MAX, page_text, segments, voice_text

# GSM 03.38 basic set and the extension table, written out here so the count is independent.
BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = set("^{}\\[~]|€\f")

text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.sampled_from(sorted(EXTENSION)), max_size=400),
    st.text(alphabet=st.characters(min_codepoint=0x1F600, max_codepoint=0x1F64F), max_size=300),
    st.from_regex(r"https://[a-z]{1,300}/[A-Za-z0-9/._-]{0,300}", fullmatch=True),
    st.integers(0, 700).map(lambda length: "s" * length),
)


def independent_segments(message: str) -> int:
    if all(ch in BASIC or ch in EXTENSION for ch in message):
        units = sum(2 if ch in EXTENSION else 1 for ch in message)
        return 1 if units <= 160 else -(-units // 153)
    units = len(message.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


@settings(max_examples=300, deadline=None)
@given(service=text, title=text, summary=st.none() | text, number=st.integers(1, 10**9))
def test_it_keeps_every_page_within_two_segments_with_its_ack_code(
    service: str, title: str, summary: str | None, number: int
) -> None:
    sent = page_text(
        number=number, service=service, title=title, firing=3, summary=summary, code="4821"
    )
    assert segments(sent) <= 2
    assert independent_segments(sent) <= 2
    assert "Reply ACK 4821 to acknowledge, RES 4821 to resolve." in sent


@settings(max_examples=300, deadline=None)
@given(service=text, title=text, summary=st.none() | text)
def test_it_keeps_every_call_text_within_its_limit(
    service: str, title: str, summary: str | None
) -> None:
    said = voice_text(number=7, service=service, title=title, firing=1, summary=summary)
    assert len(said) <= VOICE_MAX
    assert "Press 1 to acknowledge" in said


@settings(max_examples=200, deadline=None)
@given(pages=st.lists(st.tuples(st.integers(1, 10**6), text, text, st.just("4821")), min_size=1))
def test_it_keeps_every_digest_within_two_segments(pages: list[tuple[int, str, str, str]]) -> None:
    sent = messages.digest_text(pages)
    assert independent_segments(sent) <= 2
    assert "Reply ACK ALL" in sent
