"""Which providers carry a page to a number: the `routing:` section of pager.yaml, applied.

A key is an E.164 prefix (`"+44"`), `default`, or a carrier: `"carrier:Verizon Wireless"`, or
a prefix and a carrier (`"+1 carrier:T-Mobile USA"`). A carrier key takes a number whose
carrier is known (looked up, see `pager.flows.carriers`) and is that carrier, compared without
regard to case; it wins over the prefix keys. A number whose carrier is not known goes by its
prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Routing = Mapping[str, Sequence[str]]  # routing key -> provider names, in failover order
CARRIER = "carrier:"


def carrier_key(key: str) -> tuple[str, str] | None:
    """(prefix, carrier) of a key that names a carrier, the prefix "" when it has none:
    `"+1 carrier:T-Mobile USA"` -> ("+1", "T-Mobile USA"). None for a prefix or `default`."""
    prefix, found, carrier = key.partition(CARRIER)
    if not found:
        return None
    return prefix.strip(), carrier.strip()


def names_carriers(routing: Routing) -> bool:
    """Whether some key routes by carrier: only then are numbers looked up."""
    return any(carrier_key(key) is not None for key in routing)


def route_key(routing: Routing, phone: str, carrier: str | None = None) -> str | None:
    """The routing entry for `phone`: a key naming its `carrier` (the one with the longest
    prefix of the number, when several do), else the longest prefix the number starts with,
    else `default` when there is one, else None (the configured order)."""
    if carrier:
        key = _carrier_route(routing, phone, carrier)
        if key is not None:
            return key
    prefix = max(
        (k for k in routing if k != "default" and carrier_key(k) is None and phone.startswith(k)),
        key=len,
        default=None,
    )
    if prefix is not None:
        return prefix
    return "default" if "default" in routing else None


def _carrier_route(routing: Routing, phone: str, carrier: str) -> str | None:
    wanted = carrier.strip().casefold()
    best: tuple[int, str] | None = None
    for key in routing:
        parts = carrier_key(key)
        if parts is None or parts[1].casefold() != wanted or not phone.startswith(parts[0]):
            continue
        if best is None or len(parts[0]) > best[0]:
            best = (len(parts[0]), key)
    return best[1] if best else None


def route(
    routing: Routing, able: Sequence[str], phone: str, carrier: str | None = None
) -> list[str]:
    """Names of the providers in `able` (those that carry the channel, in configured order) that
    take a page to `phone` on `carrier` (None: not known), in failover order. A carrier route
    none of whose providers can carry the channel gives way to the number's prefix route; a
    route none of whose providers can carry it falls back to all of `able`: a page is never
    left without a way out."""
    key = route_key(routing, phone, carrier)
    order = routing.get(key) if key else None
    if not order:
        return list(able)
    routed = [name for name in order if name in able]
    if not routed and key is not None and carrier_key(key) is not None:
        return route(routing, able, phone)
    return routed or list(able)


def carrier_route(routing: Routing, phone: str, carrier: str | None, provider: str) -> str | None:
    """The carrier key by which a page to `phone` went through `provider` (one of those `route`
    gave), or None when it went by prefix: the carrier not known, not routed, or its route
    can't carry the channel."""
    key = route_key(routing, phone, carrier) if carrier else None
    if key is None or carrier_key(key) is None:
        return None
    return key if provider in routing[key] else None
