"""How an HTTP answer of a provider is judged: one classifier for every provider."""

from __future__ import annotations

import pytest

from pager.providers.base import Verdict, classify

ACCEPTED, TRANSIENT, PERMANENT, UNKNOWN = (
    Verdict.ACCEPTED,
    Verdict.TRANSIENT,
    Verdict.PERMANENT,
    Verdict.UNKNOWN,
)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, ACCEPTED),
        (201, ACCEPTED),
        (202, ACCEPTED),
        (204, ACCEPTED),
        (400, PERMANENT),  # a bad number
        (401, PERMANENT),  # bad credentials
        (402, PERMANENT),  # no credit
        (403, PERMANENT),
        (404, PERMANENT),
        (405, PERMANENT),
        (409, PERMANENT),
        (413, PERMANENT),
        (422, PERMANENT),
        (408, TRANSIENT),  # the provider timed our request out
        (425, TRANSIENT),  # too early
        (429, TRANSIENT),  # too many, for now
        (500, TRANSIENT),
        (502, TRANSIENT),
        (503, TRANSIENT),
        (504, TRANSIENT),
        (599, TRANSIENT),
        (301, TRANSIENT),  # a redirect the SDK did not follow: nothing says "never"
        (None, UNKNOWN),  # no answer: it may have been taken
        (0, UNKNOWN),  # an answer whose status could not be read
    ],
)
def test_it_judges_each_http_status(status: int | None, verdict: Verdict) -> None:
    assert classify(status) is verdict


def test_it_calls_only_a_permanent_verdict_permanent() -> None:
    assert [v for v in Verdict if v.permanent] == [PERMANENT]


@pytest.mark.parametrize(
    ("status", "code", "verdict"),
    [
        (400, "Throttling", TRANSIENT),  # SNS answers a burst with a 400
        (403, "Throttling", TRANSIENT),
        (None, "Throttling", TRANSIENT),
        (400, "InvalidParameter", PERMANENT),  # a code no table names: the status decides
        (400, None, PERMANENT),
        (503, "InternalError", TRANSIENT),
        (400, 14, TRANSIENT),  # codes compare as text, whatever type the SDK gives
    ],
)
def test_it_lets_a_providers_own_transient_codes_win_over_the_status(
    status: int | None, code: object, verdict: Verdict
) -> None:
    assert classify(status, code, transient_codes={"Throttling", "14"}) is verdict
