"""Which providers carry a page to a number, by the `routing:` section."""

from pager.domain.routing import carrier_key, carrier_route, names_carriers, route, route_key

ROUTING = {"+1": ["twilio"], "+44": ["vonage", "twilio"], "+447700": ["sinch"], "default": ["sns"]}
ABLE = ["sns", "twilio", "vonage", "sinch"]


def test_it_takes_the_longest_prefix_the_number_starts_with():
    assert route_key(ROUTING, "+447700900101") == "+447700"
    assert route(ROUTING, ABLE, "+447700900101") == ["sinch"]
    assert route(ROUTING, ABLE, "+447911123456") == ["vonage", "twilio"]


def test_it_takes_default_for_a_number_no_prefix_matches():
    assert route_key(ROUTING, "+919812345678") == "default"
    assert route(ROUTING, ABLE, "+919812345678") == ["sns"]


def test_it_takes_the_configured_order_without_routing():
    assert route_key({}, "+447700900101") is None
    assert route({}, ABLE, "+447700900101") == ABLE


def test_it_keeps_only_the_routed_providers_that_carry_the_channel():
    assert route(ROUTING, ["twilio", "sinch"], "+447911123456") == ["twilio"]


def test_it_falls_back_to_every_able_provider_when_none_routed_can_carry_the_channel():
    assert route(ROUTING, ["twilio", "vonage"], "+919812345678") == ["twilio", "vonage"]


BY_CARRIER = {
    "carrier:Verizon Wireless": ["twilio_vz"],
    "+1 carrier:T-Mobile USA": ["twilio_tmo"],
    "carrier:T-Mobile USA": ["vonage"],
    "+1": ["twilio"],
    "default": ["sns"],
}
ALL = ["sns", "twilio", "twilio_vz", "twilio_tmo", "vonage"]
US = "+12025550123"


def test_it_reads_the_carrier_and_prefix_a_key_names():
    assert carrier_key("carrier:Verizon Wireless") == ("", "Verizon Wireless")
    assert carrier_key("+1 carrier: T-Mobile USA ") == ("+1", "T-Mobile USA")
    assert carrier_key("+44") is None
    assert carrier_key("default") is None
    assert names_carriers(BY_CARRIER)
    assert not names_carriers(ROUTING)


def test_it_takes_the_route_of_the_number_s_carrier_over_its_prefix():
    assert route_key(BY_CARRIER, US, "Verizon Wireless") == "carrier:Verizon Wireless"
    assert route(BY_CARRIER, ALL, US, "Verizon Wireless") == ["twilio_vz"]


def test_it_matches_the_carrier_whatever_its_case():
    assert route(BY_CARRIER, ALL, US, "VERIZON wireless") == ["twilio_vz"]


def test_it_goes_by_prefix_when_the_carrier_is_not_known_or_not_routed():
    assert route(BY_CARRIER, ALL, US) == ["twilio"]
    assert route(BY_CARRIER, ALL, US, "AT&T Wireless") == ["twilio"]
    assert route(BY_CARRIER, ALL, "+447700900101", "Verizon Wireless") == ["twilio_vz"]
    assert route(BY_CARRIER, ALL, "+447700900101", "Vodafone UK") == ["sns"]


def test_it_prefers_a_carrier_key_with_the_number_s_prefix_to_one_without():
    assert route_key(BY_CARRIER, US, "T-Mobile USA") == "+1 carrier:T-Mobile USA"
    assert route(BY_CARRIER, ALL, US, "T-Mobile USA") == ["twilio_tmo"]
    # Elsewhere the carrier's key without a prefix applies.
    assert route(BY_CARRIER, ALL, "+447700900101", "T-Mobile USA") == ["vonage"]


def test_it_goes_by_prefix_when_the_carrier_route_cannot_carry_the_channel():
    assert route(BY_CARRIER, ["sns", "twilio"], US, "Verizon Wireless") == ["twilio"]


def test_it_names_the_carrier_route_a_provider_was_chosen_by():
    assert carrier_route(BY_CARRIER, US, "verizon wireless", "twilio_vz") == (
        "carrier:Verizon Wireless"
    )
    assert carrier_route(BY_CARRIER, US, "Verizon Wireless", "twilio") is None
    assert carrier_route(BY_CARRIER, US, None, "twilio") is None
    assert carrier_route(BY_CARRIER, US, "AT&T Wireless", "twilio") is None
