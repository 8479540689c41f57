"""Grafana OnCall's escalation chains as pager's policies, and its integrations (their
default routes) as services; part of `grafana_oncall_plan`.

A chain's escalation policies run in order; a `wait` ends a pager step, so the notifications
between two waits are one step, and `notify_person_next_each_time` (one person per alert
group, in turn) a round-robin step of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from pager.importers import grafana_oncall as go
from pager.importers.plan import (
    Ids,
    Note,
    PlannedPerson,
    PlannedPolicy,
    PlannedRotation,
    PlannedService,
    PlannedStep,
)


@dataclass
class ChainPlanner:
    """Reads chains and integrations against the people and rotations already planned (by
    OnCall user and schedule id), noting what it leaves out in `notes`."""

    people: Mapping[str, PlannedPerson]
    rotations: Mapping[str, PlannedRotation]
    names: Mapping[str, str]
    ids: Ids
    notes: list[Note]
    policies: dict[str, PlannedPolicy] = field(default_factory=dict)  # by chain id

    def note(self, subject: str, text: str) -> None:
        self.notes.append(Note(subject, text))

    def policy(self, chain: go.Chain) -> None:
        subject = f"escalation chain '{chain.name}'"
        steps: list[PlannedStep] = []
        current: list[str] = []
        round_robin, repeat = False, 0

        def close(wait: timedelta) -> None:
            nonlocal current, round_robin
            if current:
                steps.append(PlannedStep(tuple(dict.fromkeys(current)), wait, round_robin))
            elif steps:  # a wait after a wait: the previous step waits longer
                last = steps[-1]
                steps[-1] = PlannedStep(last.targets, last.wait + wait, last.round_robin)
            current, round_robin = [], False

        for number, step in enumerate(chain.steps, start=1):
            if step.type == "wait":
                if not current and not steps:
                    self.note(
                        subject,
                        f"step {number} waits {step.wait} before anyone is "
                        "notified; pager's first step pages at once",
                    )
                close(step.wait)
                continue
            targets = self.targets(step, subject, number)
            if step.important and targets:
                self.note(
                    subject,
                    f"step {number} is marked important, which pager has not: "
                    "each person's usual rules page them",
                )
            next_each_time = step.type == "notify_person_next_each_time"
            if targets and (next_each_time or round_robin):
                close(timedelta(0))  # a step of its own: one of its people per incident
            current.extend(targets)
            round_robin = round_robin or (next_each_time and bool(targets))
            if step.type == "repeat_escalation":
                repeat = 5
                self.note(subject, "OnCall repeats the chain up to 5 times: repeat 5")
        close(timedelta(0))
        if not steps:
            self.note(subject, "no step left: left out, with the integrations routed to it")
            return
        policy_id = self.ids.make("policy", chain.name)
        self.policies[chain.id] = PlannedPolicy(policy_id, repeat, tuple(steps), chain.name)

    def targets(self, step: go.Step, subject: str, number: int) -> list[str]:
        if step.type in ("notify_persons", "notify_person_next_each_time"):
            left_out = [self.names.get(p, p) for p in step.persons if p not in self.people]
            if left_out:
                self.note(subject, f"step {number}: {', '.join(left_out)} left out (not imported)")
            return [f"person:{self.people[p].id}" for p in step.persons if p in self.people]
        if step.type == "notify_on_call_from_schedule":
            rotation = self.rotations.get(step.schedule or "")
            if rotation is None:
                self.note(
                    subject,
                    f"step {number}: the schedule {step.schedule} is left out (not imported)",
                )
                return []
            return [f"rotation:{rotation.id}"]
        if step.type != "repeat_escalation":
            why = _NOT_CARRIED.get(step.type, "pager has no such step")
            self.note(subject, f"step {number} ({step.type}) is not carried over: {why}")
        return []

    def service(self, integration: go.Integration) -> PlannedService | None:
        subject = f"integration '{integration.name}'"
        if integration.routes:
            self.note(
                subject,
                f"{integration.routes} route(s) on templates or regular "
                "expressions are not carried over: a pager service pages one policy",
            )
        policy = self.policies.get(integration.chain or "")
        if policy is None:
            self.note(subject, "its default route has no imported escalation chain: left out")
            return None
        return PlannedService(
            self.ids.make("service", integration.name), policy.id, integration.name
        )


_NOT_CARRIED = {
    "notify_user_group": "pager has no user groups",
    "notify_team_members": "pager has no teams",
    "trigger_webhook": "set up outgoing webhooks in pager.yaml",
    "resolve": "pager does not resolve incidents in a policy",
    "notify_whole_channel": "pager pages people, not chat channels",
    "notify_if_time_from_to": "pager's steps have no time conditions: the steps after it "
    "always run",
    "notify_if_num_alerts_in_window": "pager's steps have no conditions on alert counts",
    "declare_incident": "pager does not declare incidents",
}
