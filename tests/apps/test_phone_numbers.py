"""Whatever way a number is written, the core gets the same E.164 number, or a clear no."""

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from calldesk.apps.phone_numbers import checked_region, parse_phone_number
from calldesk.domain.errors import InvalidValue
from calldesk.domain.phone_numbers import PhoneNumber

LONDON = PhoneNumber("+442079460958")
MOUNTAIN_VIEW = PhoneNumber("+16505551234")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(650) 555-1234", "US", MOUNTAIN_VIEW),
        ("650.555.1234", "US", MOUNTAIN_VIEW),
        ("650 555 1234", "us", MOUNTAIN_VIEW),
        ("1-650-555-1234", "US", MOUNTAIN_VIEW),
        ("+1 650-555-1234", "GB", MOUNTAIN_VIEW),
        ("+16505551234", "DE", MOUNTAIN_VIEW),
        ("  +1 (650) 555 1234  ", "US", MOUNTAIN_VIEW),
        ("+44 20 7946 0958", "US", LONDON),
        ("0044 20 7946 0958", "DE", LONDON),
        ("0044 20 7946 0958", "FR", LONDON),
        ("011 44 20 7946 0958", "US", LONDON),
        ("020 7946 0958", "GB", LONDON),
        ("020-7946-0958", "GB", LONDON),
        ("650-555-1234 ext. 12", "US", PhoneNumber("+16505551234", "12")),
        ("650-555-1234 x12", "US", PhoneNumber("+16505551234", "12")),
        ("+16505551234;ext=12", "US", PhoneNumber("+16505551234", "12")),
        ("tel:+1-650-555-1234;ext=12", "US", PhoneNumber("+16505551234", "12")),
        ("+44 20 7946 0958 extension 7", "US", PhoneNumber("+442079460958", "7")),
    ],
)
def test_every_way_of_writing_a_number_gives_its_e164_form(
    raw: str, region: str, expected: PhoneNumber
) -> None:
    assert parse_phone_number(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("anonymous", "'anonymous' is not a phone number"),
        ("abc", "is not a phone number"),
        ("12", "too short"),
        ("555-1234", "is a local number; add its area code"),
        ("+999 1234 5678", "no known country code"),
        ("+1 650 555 1234 5678 9999 0000", "too long"),
        ("650-555-1234 ext. 12345678901", "extension '12345678901' must be 1 to 10 digits"),
        ("6" * 65, "65 characters long; at most 64"),
    ],
)
def test_text_that_is_no_possible_number_is_refused_with_the_reason(
    raw: str, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        parse_phone_number(raw, "US")


def test_a_region_is_an_iso_code_with_a_numbering_plan() -> None:
    assert [checked_region(code) for code in ("US", "gb", " de ")] == ["US", "GB", "DE"]
    for code in ("", "XX", "USA", "001", "EU"):
        with pytest.raises(InvalidValue, match="ISO 3166"):
            checked_region(code)
    with pytest.raises(InvalidValue, match="ISO 3166"):
        parse_phone_number("+16505551234", "ZZ")


#: Every (region, example number) the numbering plans hold, of every type.
EXAMPLES = [
    (region, number)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in vars(PhoneNumberType).values()
    if isinstance(kind, int)
    and (number := phonenumbers.example_number_for_type(region, kind)) is not None
]


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """Any valid number: an example number of a region with its last digits redrawn."""
    region, example = draw(st.sampled_from(EXAMPLES))
    digits = str(example.national_number)
    changed = draw(st.integers(0, min(4, len(digits) - 1)))
    tail = draw(st.text("0123456789", min_size=changed, max_size=changed))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int(digits[: len(digits) - changed] + tail),
        italian_leading_zero=example.italian_leading_zero,
        number_of_leading_zeros=example.number_of_leading_zeros,
    )
    assume(phonenumbers.is_valid_number_for_region(number, region))
    return region, number


@given(
    valid_numbers(),
    st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
)
def test_a_valid_number_formatted_any_way_parses_back_to_the_same_number(
    region_and_number: tuple[str, phonenumbers.PhoneNumber], elsewhere: str
) -> None:
    region, number = region_and_number
    expected = PhoneNumber(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    assert parse_phone_number(national, region) == expected
    assert parse_phone_number(international, elsewhere) == expected
    assert parse_phone_number(expected.e164, elsewhere) == expected
