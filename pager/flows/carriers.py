"""Each on-call number's carrier, for `routing:` keys that name one (`carrier:Verizon Wireless`).

The runner looks up the numbers of the people in the rotations in force that were never looked
up, or not for `REFRESH_AFTER`, through the provider their SMS go through first that offers a
lookup (as `pager check --online` does), and keeps the answers in `number_lookups`. Only when
some routing key names a carrier: each lookup costs money. Sends read the kept carrier and never
look anything up; a number whose carrier is not known (yet, or the lookup failed) goes by its
prefix. A failed lookup is tried again at the next refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pager.config import Settings
from pager.domain.phones import mask
from pager.domain.routing import names_carriers
from pager.flows.context import Pager
from pager.flows.number_check import configured_lookups, lookup_for_number
from pager.providers.base import ProviderError
from pager.providers.lookups import NumberFacts, NumberLookup
from pager.store import number_lookups

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=30)  # numbers move between carriers (porting), rarely
REFRESH_EVERY = timedelta(minutes=10)  # how often the runner looks for numbers to look up


def refresh_carriers(
    pager: Pager, now: datetime, keep_going: Callable[[], bool] = lambda: True
) -> int:
    """Look up every number in the rotations in force that has no lookup younger than
    `REFRESH_AFTER`; the number looked up. Failures are logged and left for the next time."""
    settings = pager.settings
    schedule = pager.rotations.schedule
    if not names_carriers(settings.routing) or schedule is None:
        return 0
    phones = sorted({person.phone for person in schedule.people.values()})
    with pager.db.read() as session:
        fresh = number_lookups.looked_up_since(session, phones, now - REFRESH_AFTER)
    due = [phone for phone in phones if phone not in fresh]
    lookups = configured_lookups(settings) if due else {}
    if due and not lookups:  # `pager check` warns of this too
        log.warning("event=carrier_lookup_impossible reason=no_provider_offers_lookups")
    done = 0
    for phone in due if lookups else ():
        if not keep_going():
            break
        facts = _look_up(lookup_for_number(settings, lookups, phone), phone)
        if facts is not None:
            _keep(pager, facts, now)
            done += 1
    return done


def _look_up(lookup: NumberLookup, phone: str) -> NumberFacts | None:
    """What `lookup` says of `phone`, or None (logged) when it can't say."""
    try:
        return lookup.look_up(phone)
    except ProviderError as error:
        # The provider's message may quote the number: only its code goes to the log.
        log.warning(
            "event=carrier_lookup_failed provider=%s to=%s code=%s permanent=%s",
            lookup.name,
            mask(phone),
            error.code,
            error.permanent,
        )
    except Exception as error:  # a provider bug must not stop the other numbers
        log.warning(
            "event=carrier_lookup_failed provider=%s to=%s error=%s",
            lookup.name,
            mask(phone),
            type(error).__name__,
        )
    return None


def _keep(pager: Pager, facts: NumberFacts, now: datetime) -> None:
    with pager.db.transaction() as session:
        number_lookups.record(
            session,
            facts.number,
            carrier=facts.carrier,
            line_type=facts.line_type,
            valid=facts.valid,
            source=facts.source,
            at=now,
        )
    log.info(
        "event=carrier_looked_up provider=%s to=%s carrier=%s line_type=%s",
        facts.source,
        mask(facts.number),
        facts.carrier or "-",
        facts.line_type,
    )


def known_carrier(session: Session, settings: Settings, phone: str) -> str | None:
    """The carrier a page to `phone` is routed by: the one last looked up, when some routing
    key names a carrier (else nothing is read)."""
    if not names_carriers(settings.routing):
        return None
    return number_lookups.carrier_of(session, phone)
