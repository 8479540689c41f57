"""Which escalation step runs next, and when the one after is due. Pure: takes `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pager.domain.rotations import Policy, Step


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
