from __future__ import annotations

import ast
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import pytest

from pager.domain.states import (
    ATTEMPT_FINAL,
    ATTEMPT_MOVES,
    INCIDENT_MOVES,
    INITIAL,
    PAGE_MOVES,
    AttemptState,
    ForbiddenMove,
    IncidentState,
    PageState,
    allows,
    check,
    terminal,
)

PAGER = Path(__file__).resolve().parents[2] / "pager"
TABLES: dict[type[StrEnum], dict[StrEnum, frozenset[StrEnum]]] = {
    IncidentState: INCIDENT_MOVES,  # type: ignore[dict-item]
    PageState: PAGE_MOVES,  # type: ignore[dict-item]
    AttemptState: ATTEMPT_MOVES,  # type: ignore[dict-item]
}
# What the code calls a row of each kind where it reads or sets its status.
KIND_OF = {
    "incident": IncidentState,
    "Incident": IncidentState,
    "n": PageState,
    "sms": PageState,
    "other": PageState,
    "Notification": PageState,
    "attempt": AttemptState,
    "Attempt": AttemptState,
    "latest": AttemptState,
}


def _owner(node: ast.expr) -> str | None:
    """`incident` of `incident.status`, `incident` of `c.incident.status`; else None."""
    if isinstance(node, ast.Attribute) and node.attr == "status":
        inner = node.value
        if isinstance(inner, ast.Name):
            return inner.id
        if isinstance(inner, ast.Attribute):
            return inner.attr
    return None


def _values(node: ast.expr) -> Iterator[ast.expr]:
    """The values an expression may give: both arms of `a if c else b`, the new state of
    `check(old, new)`, and the expression itself otherwise."""
    if isinstance(node, ast.IfExp):
        yield from _values(node.body)
        yield from _values(node.orelse)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check":
        yield from _values(node.args[1])
    else:
        yield node


def _state_of(kind: type[StrEnum], node: ast.expr) -> str | None:
    """The stored string a literal or an enum member (`PageState.SENT`) stands for."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == kind.__name__
    ):
        return str(kind[node.attr])
    return None


def _status_uses() -> Iterator[tuple[str, str, type[StrEnum], str]]:
    """(place, how, kind, state) for every status the code under pager/ sets, creates a row
    with, or compares with: how is "set", "new" or "compared"."""
    for path in sorted(PAGER.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            place = f"{path.relative_to(PAGER.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    kind = KIND_OF.get(_owner(target) or "")
                    for value in _values(node.value) if kind else ():
                        state = _state_of(kind, value)  # type: ignore[arg-type]
                        if state is not None:
                            yield place, "set", kind, state  # type: ignore[misc]
            elif isinstance(node, ast.Compare):
                kind = KIND_OF.get(_owner(node.left) or "")
                for value in node.comparators if kind else ():
                    items = value.elts if isinstance(value, ast.Tuple) else [value]
                    for item in items:
                        state = _state_of(kind, item)  # type: ignore[arg-type]
                        if state is not None:
                            yield place, "compared", kind, state  # type: ignore[misc]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                kind = KIND_OF.get(node.func.id)
                for keyword in node.keywords if kind else ():
                    if keyword.arg == "status":
                        state = _state_of(kind, keyword.value)  # type: ignore[arg-type]
                        if state is not None:
                            yield place, "new", kind, state  # type: ignore[misc]


def _reachable(kind: type[StrEnum], start: StrEnum) -> set[StrEnum]:
    seen, todo = {start}, [start]
    while todo:
        for state in TABLES[kind][todo.pop()]:
            if state not in seen:
                seen.add(state)
                todo.append(state)
    return seen


def test_it_keeps_each_state_as_the_string_stored_today() -> None:
    assert set(IncidentState) == {"triggered", "acknowledged", "resolved"}
    assert PageState.NO_ANSWER == "no_answer" and f"{PageState.NO_ANSWER}" == "no_answer"
    assert set(AttemptState) - set(PageState) == {"queued", "unknown"}


@pytest.mark.parametrize("kind", list(TABLES), ids=lambda kind: kind.__name__)
def test_it_has_one_row_of_moves_for_every_state_and_only_states(kind: type[StrEnum]) -> None:
    table = TABLES[kind]
    assert set(table) == set(kind)
    assert all(isinstance(state, kind) for moves in table.values() for state in moves)
    assert all(state not in table[state] for state in kind), "staying put is no move"


def test_it_finds_status_uses_in_the_code() -> None:
    uses = {(how, kind, state) for _, how, kind, state in _status_uses()}
    # the scanner itself: it must see these, or the tests below check nothing
    assert ("set", IncidentState, "acknowledged") in uses  # flows.incidents, a check()
    assert ("set", PageState, "skipped") in uses  # flows.dispatch, a literal
    assert ("set", AttemptState, "unknown") in uses  # flows.send_answers
    assert ("new", PageState, "pending") in uses  # flows.escalate's Notification(...)
    assert ("compared", PageState, "cancelled") in uses


def test_it_knows_every_status_the_code_sets_creates_or_compares() -> None:
    strays = [
        f"{place}: {how} {state!r}, no {kind.__name__}"
        for place, how, kind, state in _status_uses()
        if state not in set(kind)
    ]
    assert strays == []


def test_it_allows_a_move_into_every_status_the_code_sets() -> None:
    targets = {
        kind: {state for moves in TABLES[kind].values() for state in moves} for kind in TABLES
    }
    unreachable = [
        f"{place}: sets {state!r}, which no {kind.__name__} moves to"
        for place, how, kind, state in _status_uses()
        if how == "set" and state not in targets[kind]
    ]
    assert unreachable == []


def test_it_creates_rows_only_in_their_first_state() -> None:
    wrong = [
        f"{place}: a new row in {state!r}"
        for place, how, kind, state in _status_uses()
        if how == "new" and state != INITIAL[kind]
    ]
    assert wrong == []


@pytest.mark.parametrize("kind", list(TABLES), ids=lambda kind: kind.__name__)
def test_it_reaches_every_state_from_the_first(kind: type[StrEnum]) -> None:
    assert _reachable(kind, INITIAL[kind]) == set(kind)


def test_it_ends_pages_in_delivered_answered_or_no_answer() -> None:
    assert terminal(PageState) == {PageState.DELIVERED, PageState.ANSWERED, PageState.NO_ANSWER}
    assert all(PAGE_MOVES[state] == frozenset() for state in terminal(PageState))
    for state in PageState:  # no page can be stuck in a loop with no way out
        assert _reachable(PageState, state) & terminal(PageState), state


def test_it_ends_no_incident_for_good_as_a_flapping_alert_reopens_it() -> None:
    assert terminal(IncidentState) == frozenset()
    assert INCIDENT_MOVES[IncidentState.RESOLVED] == {IncidentState.TRIGGERED}


def test_it_moves_a_final_attempt_only_to_another_final_word() -> None:
    assert terminal(AttemptState) == frozenset()
    for state in ATTEMPT_FINAL:
        assert ATTEMPT_MOVES[state] == ATTEMPT_FINAL - {state}


def test_it_allows_what_the_table_says_from_a_stored_string() -> None:
    assert allows("triggered", IncidentState.ACKNOWLEDGED)
    assert allows("sent", PageState.PENDING)  # failed over after a delivery failure
    assert not allows("resolved", IncidentState.ACKNOWLEDGED)
    assert not allows("pending", AttemptState.SENT)  # a page's word, not an attempt's
    assert check("acknowledged", IncidentState.TRIGGERED) is IncidentState.TRIGGERED


def test_it_lets_a_state_stay_as_it_is() -> None:
    assert check("delivered", PageState.DELIVERED) is PageState.DELIVERED


def test_it_refuses_a_forbidden_move() -> None:
    with pytest.raises(ForbiddenMove, match="PageState: no move from 'delivered' to 'pending'"):
        check("delivered", PageState.PENDING)
    with pytest.raises(ForbiddenMove):
        check(IncidentState.RESOLVED, IncidentState.ACKNOWLEDGED)


def test_it_refuses_a_move_from_a_status_that_is_no_state() -> None:
    with pytest.raises(ForbiddenMove, match="'firing'"):
        check("firing", IncidentState.RESOLVED)
