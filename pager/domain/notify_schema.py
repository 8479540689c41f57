"""A person's `notify:` section as written in a rotation file: one list of rules for both
urgencies, or `high:` and `low:` lists (either may be left out).

Part of `rotation_schema`: takes the section as YAML gave it and returns the `NotifyRules`,
or None with every problem noted in `check`.
"""

from __future__ import annotations

from typing import Any

from pager.domain.notify_rules import URGENCIES, NotifyRule, NotifyRules
from pager.domain.rotation_fields import Checked
from pager.domain.yamldoc import Map, Problem, Seq, Where

_EXPECTED = (
    "notify: expected a list of rules like [sms, voice after 2m], "
    "or a mapping with high: and low: lists of them"
)


def read_notify(person: Map, context: str, check: Checked) -> NotifyRules | None:
    """The rules in `person["notify"]`, of the person named in `context`."""
    value, where = person["notify"], person.at("notify")
    if isinstance(value, Seq):
        both = _rules(person, "notify", check)
        return None if both is None else NotifyRules(high=both, low=both)
    if not isinstance(value, Map) or not value:
        check.problems.append(Problem(where, _EXPECTED))
        return None
    check.keys(value, where, f"notify of {context}", (), URGENCIES)
    high = _rules(value, "high", check) if "high" in value else ()
    low = _rules(value, "low", check) if "low" in value else ()
    if high is None or low is None or any(key not in URGENCIES for key in value):
        return None
    return NotifyRules(high=high, low=low)


def _rules(body: Map, key: str, check: Checked) -> tuple[NotifyRule, ...] | None:
    """The non-empty list of rules `body[key]`, each written once."""
    seen: set[NotifyRule] = set()

    def read(item: Any, where: Where) -> NotifyRule | None:
        try:
            rule = NotifyRule.parse(item)
        except ValueError as error:
            check.problems.append(Problem(where, f"{key}: {error}"))
            return None
        if rule in seen:
            check.problems.append(Problem(where, f"{key}: '{rule}' is listed twice"))
            return None
        seen.add(rule)
        return rule

    return check.items(body, key, read)
