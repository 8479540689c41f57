"""The products `pager import` reads: for each, its API's address, how a request carries the
key, and how its answers become a `Plan`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pager.importers import (
    goalert,
    goalert_plan,
    grafana_oncall,
    grafana_oncall_plan,
    opsgenie,
    opsgenie_plan,
    pagerduty,
    pagerduty_plan,
)
from pager.importers.api import Answers
from pager.importers.plan import Options, Plan


@dataclass(frozen=True)
class Vendor:
    name: str  # as people write it
    api_url: str
    headers: Callable[[str], dict[str, str]]  # the key -> the headers of every request
    build: Callable[[Answers, Options], Plan]  # the answers -> the plan


def _pagerduty(answers: Answers, options: Options) -> Plan:
    return pagerduty_plan.plan(pagerduty.read_account(answers, options.now), options)


def _opsgenie(answers: Answers, options: Options) -> Plan:
    return opsgenie_plan.plan(opsgenie.read_account(answers, options.now), options)


def _grafana_oncall(answers: Answers, options: Options) -> Plan:
    return grafana_oncall_plan.plan(grafana_oncall.read_account(answers, options.now), options)


def _goalert(answers: Answers, options: Options) -> Plan:
    return goalert_plan.plan(goalert.read_account(answers, options.now), options)


VENDORS = {
    "pagerduty": Vendor(pagerduty.VENDOR, pagerduty.API_URL, pagerduty.headers, _pagerduty),
    "opsgenie": Vendor(opsgenie.VENDOR, opsgenie.API_URL, opsgenie.headers, _opsgenie),
    "grafana-oncall": Vendor(
        grafana_oncall.VENDOR, grafana_oncall.API_URL, grafana_oncall.headers, _grafana_oncall
    ),
    "goalert": Vendor(goalert.VENDOR, goalert.API_URL, goalert.headers, _goalert),
}
