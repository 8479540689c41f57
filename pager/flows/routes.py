"""Which providers carry a notification, in failover order: one decision, kept on the
notification, that the claim, the send and failover all take from here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pager.flows.canaries import avoided_route
from pager.flows.context import Pager
from pager.providers.base import Provider
from pager.store import canaries, incidents
from pager.store.models import Notification


def route_of(
    pager: Pager, session: Session, n: Notification, carrier: str | None
) -> list[Provider]:
    """The providers for `n`, in failover order: decided once, at its first claim of a round,
    and kept on it (`Notification.route`), so the claim, the send and every failover walk the
    same list whatever changes meanwhile (a carrier lookup, a canary's verdict). A provider
    since taken out of the settings is skipped."""
    if n.route is None:
        n.route = [p.name for p in decide(pager, session, n, carrier)]
    by_name = {p.name: p for p in pager.providers if n.channel in p.channels}
    return [by_name[name] for name in n.route if name in by_name]


def decide(pager: Pager, session: Session, n: Notification, carrier: str | None) -> list[Provider]:
    """The route for `n` now: for a canary's SMS, only the route it tests (no failover: that
    would prove another route); for a page of an incident a failing canary opened, the other
    routes first and the failing one last; else the routing's order for the number."""
    if n.kind == "canary":
        run = canaries.by_notification(session, n.id)
        wanted = run.route if run is not None else None
        return [p for p in pager.providers if p.name == wanted and n.channel in p.channels]
    providers = pager.providers_for(n.channel, n.phone, carrier)
    incident = incidents.get(session, n.incident_id) if n.incident_id is not None else None
    broken = avoided_route(incident.integration) if incident is not None else None
    if broken is None:
        return providers
    return [p for p in providers if p.name != broken] + [p for p in providers if p.name == broken]
