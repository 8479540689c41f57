"""Which escalation step runs next, and when the one after is due. Pure: takes `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pager.domain.rotations import Person, Policy, Schedule, Step, Target
from pager.domain.urgency import morning_after


@dataclass(frozen=True)
class StepToRun:
    index: int  # position in the flattened policy (all repeats), 0-based
    number: int  # step number within its pass, 1-based, as people read the policy file
    pass_number: int  # 1 for the first run through the list, 2 for the first repeat...
    step: Step
    next_due: datetime  # when the next step (or the end of escalation) is due


def total_steps(policy: Policy) -> int:
    return len(policy.steps) * (policy.repeat + 1)


def step_to_run(policy: Policy, index: int, now: datetime) -> StepToRun | None:
    """The step at `index` of the repeated policy, or None when escalation has run out."""
    if not policy.steps or index >= total_steps(policy):
        return None
    count = len(policy.steps)
    step = policy.steps[index % count]
    return StepToRun(
        index=index,
        number=index % count + 1,
        pass_number=index // count + 1,
        step=step,
        next_due=now + step.wait,
    )


def people_paged(schedule: Schedule, targets: tuple[Target, ...], at: datetime) -> list[Person]:
    """Who a step with `targets` pages at `at`: each person once, in order; targets this set
    no longer knows page nobody."""
    people: dict[str, Person] = {}
    for target in targets:
        if schedule.knows(target):
            for person in schedule.resolve(target, at):
                people.setdefault(person.id, person)
    return list(people.values())


def in_turn(
    schedule: Schedule, targets: tuple[Target, ...], number: int, at: datetime
) -> tuple[Target, ...]:
    """Round robin: one target per incident, taking turns by incident `number`; a target with
    nobody on call passes the turn to the next (all of them when none has anyone)."""
    count = len(targets)
    for offset in range(count):
        target = targets[(number + offset) % count]
        if schedule.knows(target) and schedule.resolve(target, at):
            return (target,)
    return targets


def quiet_until(people: list[Person], at: datetime) -> tuple[datetime, Person] | None:
    """Low urgency never wakes anyone: when a step that would page `people` at `at` may run
    (the latest end of their nights) and whose night that is; None when it is day for all."""
    mornings = [(m, p) for p in people if (m := morning_after(p.timezone, at)) is not None]
    return max(mornings, key=lambda pair: pair[0]) if mornings else None
