"""Run due escalation steps: work out who is on call now and put their pages in the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from pager.domain.escalation import (
    StepToRun,
    in_turn,
    people_paged,
    quiet_until,
    step_to_run,
    total_steps,
)
from pager.domain.notify_rules import PlannedPage, describe, plan_pages
from pager.domain.phones import mask_numbers_in
from pager.domain.rotations import Person, Policy, Target
from pager.domain.states import IncidentState, PageState
from pager.flows.batches import each_in_one_transaction
from pager.flows.context import Pager
from pager.flows.incidents import expire_acknowledgements
from pager.flows.page_texts import page_text
from pager.flows.silences import covering
from pager.store import audit, incidents
from pager.store.models import Incident, Notification

log = logging.getLogger(__name__)


def escalate_due(pager: Pager, now: datetime, limit: int = 100, rounds: int = 10) -> int:
    """Run the escalation steps due at `now`, up to `rounds` batches of `limit`; returns how
    many steps ran, and wakes the runner when any did (their pages are to send, and more steps
    may be due: the runner sends between batches, so a backlog never holds pages back).

    A step with nobody to page makes the next one due at once, so look again (a few times at
    most: a policy has few steps, and the runner comes back anyway).
    """
    expire_acknowledgements(pager, now)
    ran = 0
    for _ in range(rounds):
        with pager.db.read() as session:
            due = incidents.due_for_escalation(session, now, limit)
        ran_now = escalate_batch(pager, due, now)
        ran += ran_now
        if ran_now < len(due) or not ran_now:
            break
    if ran:
        pager.wake()
    return ran


def escalate(pager: Pager, incident_id: int, now: datetime) -> bool:
    """Run the incident's due step in one transaction; False when it was not due or was taken."""
    with pager.db.transaction() as session:
        ran, after = _run_step(session, pager, incident_id, now)
    if after is not None:
        after()
    return ran


def escalate_batch(pager: Pager, incident_ids: Sequence[int], now: datetime) -> int:
    """Run the due steps of `incident_ids` in one transaction (each alone if that fails:
    `flows.batches`): a storm's hundreds of new incidents cost a few commits, not one each.
    Returns how many steps ran."""

    def run(session: Session, incident_id: int) -> tuple[bool, Callable[[], None] | None]:
        return _run_step(session, pager, incident_id, now)

    ran = 0
    for outcome in each_in_one_transaction(pager, incident_ids, run, "escalate"):
        if outcome is None:
            continue
        step_ran, after = outcome
        ran += step_ran
        if after is not None:
            after()
    return ran


def _run_step(
    session: Session, pager: Pager, incident_id: int, now: datetime
) -> tuple[bool, Callable[[], None] | None]:
    """The incident's due step, in the caller's transaction: whether it ran, and what to do
    once that transaction is committed."""
    incident = incidents.get(session, incident_id, skip_locked=True)
    if (
        incident is None
        or incident.status != IncidentState.TRIGGERED
        or incident.escalation_due_at is None
        or incident.escalation_due_at > now
    ):
        return False, None
    if incident.silenced_until is not None and not _leave_window(pager, session, incident, now):
        return False, None
    if incident.policy is None:
        return _stop(session, incident, now, "no escalation policy: nobody paged"), None
    policy = Policy.from_snapshot(incident.policy)
    run = step_to_run(policy, incident.escalation_step, now)
    if run is None:
        stopped = _stop(
            session,
            incident,
            now,
            f"escalation ended after {total_steps(policy)} steps with no acknowledgement",
        )
        return stopped, None
    targets = run.step.targets
    if run.step.round_robin:
        targets = _in_turn(pager, targets, incident.id, now)
    people = _targets(pager, session, incident.id, targets, now)
    if incident.urgency == "low" and _wait_for_morning(session, incident, people, now):
        return True, None
    # A step with nobody to page must not hold up the next one.
    next_due = run.next_due if people else now
    if not incidents.claim_step(session, incident.id, run.index, run.index + 1, next_due):
        return False, None
    label = f"step {run.number}" + (
        f" (repeat {run.pass_number - 1})" if run.pass_number > 1 else ""
    )
    if not people:
        named = ", ".join(str(t) for t in run.step.targets)
        incidents.add_timeline(
            session, incident.id, now, "escalation", f"{label}: no one on call for {named}"
        )
        return True, None
    paging = _page_people(session, incident, run, people, now)
    incidents.add_timeline(session, incident.id, now, "escalation", f"{label}: {paging}")
    audit.record(
        session,
        now,
        "pager",
        "pager",
        "incident_escalated",
        f"incident #{incident.id}",
        mask_numbers_in(f"{label}: {paging}"),
    )
    step, paged = run.index, len(people)

    def after() -> None:
        log.info("event=escalation_step incident=%d step=%d people=%d", incident_id, step, paged)

    return True, after


def _leave_window(pager: Pager, session: Session, incident: Incident, now: datetime) -> bool:
    """At the end of the incident's maintenance window: take it out (True: page now, from step
    1), or hold it while another window still covers the service (False, as when another runner
    took it out first)."""
    was = incident.silenced_until
    assert was is not None
    still = covering(pager, session, incident.service, now).end
    if still is not None:
        incidents.hold_in_window(session, incident.id, was, still)
        return False
    if not incidents.leave_window(session, incident.id, was):
        return False
    incidents.add_timeline(
        session, incident.id, now, "escalation", "maintenance window ended: paging"
    )
    log.info(
        "event=maintenance_window_ended incident=%d service=%s window_end=%s",
        incident.id,
        incident.service,
        was.isoformat(),
    )
    return True


def _targets(
    pager: Pager, session: Session, incident_id: int, targets: tuple[Target, ...], now: datetime
) -> list[Person]:
    schedule = pager.rotations.schedule
    if schedule is None:
        return []
    for target in targets:
        if not schedule.knows(target):
            # An edit removed it since the incident opened: say so rather than page nobody quietly.
            incidents.add_timeline(
                session, incident_id, now, "warning", f"{target} is no longer in the rotations"
            )
    return people_paged(schedule, targets, now)


def _page_people(
    session: Session, incident: Incident, run: StepToRun, people: list[Person], now: datetime
) -> str:
    """Put the step's pages of `people` in the outbox, each due when the step's channels or the
    person's rules say; returns what was scheduled, for the timeline."""
    firing = incidents.firing_count(session, incident.id)
    # One text per channel for the whole step: a failing template is noted once, not per person.
    bodies: dict[str, str] = {}
    said: dict[str, list[str]] = {}
    for person in people:
        pages = plan_pages(run.step.channels, person.notify, person.timezone, incident.urgency, now)
        for page in pages:
            if page.channel not in bodies:
                bodies[page.channel] = page_text(session, incident, page.channel, firing, now)
            _page(session, incident, person, page, run.index, bodies[page.channel], now)
        said.setdefault(describe(pages, now), []).append(person.name)
    # People paged the same way share a clause: "paging Alice, Bob by sms".
    return "paging " + "; ".join(f"{', '.join(names)} by {how}" for how, names in said.items())


def _page(
    session: Session,
    incident: Incident,
    person: Person,
    page: PlannedPage,
    step: int,
    body: str,
    now: datetime,
) -> None:
    """One outbox row, due at `page.at`: a later one is cancelled if the incident is
    acknowledged or resolved before then (`incidents.acknowledge_in`, `dispatch.still_wanted`)."""
    session.add(
        page_row(
            incident, person.id, person.name, person.phone, page.channel, step, body, page.at, now
        )
    )


def page_row(
    incident: Incident,
    person: str,
    person_name: str,
    phone: str,
    channel: str,
    step: int,
    body: str,
    at: datetime,
    now: datetime,
) -> Notification:
    """The outbox row that pages `person` about `incident` on `channel` with `body` (see
    `page_texts.page_text`), due at `at`."""
    return Notification(
        incident_id=incident.id,
        step=step,
        person=person,
        person_name=person_name,
        phone=phone,
        channel=channel,
        body=body,
        status=PageState.PENDING,
        provider_index=0,
        round=0,
        next_attempt_at=at,
        created_at=now,
        updated_at=now,
    )


def _stop(session: Session, incident: Incident, now: datetime, why: str) -> bool:
    if not incidents.claim_step(
        session, incident.id, incident.escalation_step, incident.escalation_step, None
    ):
        return False
    incidents.add_timeline(session, incident.id, now, "escalation", why)
    return True


def _wait_for_morning(
    session: Session, incident: Incident, people: list[Person], now: datetime
) -> bool:
    """Low urgency never wakes anyone: if it is night for someone this step pages, the step
    waits until it is morning for all of them."""
    quiet = quiet_until(people, now)
    if quiet is None:
        return False
    until, person = quiet
    if not incidents.postpone_step(session, incident.id, incident.escalation_step, until):
        return False
    incidents.add_timeline(
        session,
        incident.id,
        now,
        "escalation",
        f"low urgency: waiting until 08:00 {person.timezone} ({until:%Y-%m-%d %H:%M} UTC) "
        f"so as not to wake {person.name}",
    )
    return True


def _in_turn(
    pager: Pager, targets: tuple[Target, ...], incident_id: int, now: datetime
) -> tuple[Target, ...]:
    """Round robin: one target per incident, taking turns by incident number; a target with
    nobody on call passes the turn to the next."""
    schedule = pager.rotations.schedule
    return targets if schedule is None else in_turn(schedule, targets, incident_id, now)
