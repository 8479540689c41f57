"""Phone numbers inside free text are masked wherever they are written."""

import pytest

from pager.domain.phones import mask_numbers_in
from pager.providers.base import ProviderError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # requests' message after a dropped connection quotes the form it sent
        (
            "POST /Messages.json body To=%2B447700900101&From=%2B15017122661",
            "POST /Messages.json body To=+44******0101&From=+15*****2661",
        ),
        (
            "The 'To' number +447700900101 is not valid",
            "The 'To' number +44******0101 is not valid",
        ),
        ("recipient 447700900101 refused", "recipient +44******0101 refused"),
        ("dial 00447700900101", "dial +44******0101"),
        (
            "rotations/a.yaml:3: '+4477009001019' is not valid",
            "rotations/a.yaml:3: '+44*******1019' is not valid",
        ),
        ("error 21211 after 3 tries on port 8080", "error 21211 after 3 tries on port 8080"),
        ("id SM0123456789abcdef0123456789abcdef", "id SM0123456789abcdef0123456789abcdef"),
    ],
)
def test_it_masks_every_number_written_in_a_text(text: str, expected: str) -> None:
    assert mask_numbers_in(text) == expected


def test_it_masks_the_number_in_every_provider_error() -> None:
    error = ProviderError("Connection aborted sending To=%2B447700900101", permanent=False)
    assert str(error) == "Connection aborted sending To=+44******0101"
