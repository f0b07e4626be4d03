"""Turning what people and vendors write into the core's E.164 phone numbers.

A CRM export holds "(650) 555-1234", a European caller id "0044 20 7946 0958", a softphone
"+16505551234;ext=12": the same number must come out of all of them, or a screen pop
misses its caller. Google's numbering plans (the phonenumbers library) know every
country's prefixes and lengths; writing that by hand would be wrong for most of the
world (ADR/0007).
"""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_text
from calldesk.domain.phone_numbers import PhoneNumber

#: Longer text is no phone number, whatever it holds; refused before any parsing.
RAW_NUMBER_MAX_LENGTH = 64

_UNPARSABLE = {
    NumberParseException.INVALID_COUNTRY_CODE: "starts with no known country code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after its international prefix",
    NumberParseException.TOO_SHORT_NSN: "is too short to be a phone number",
    NumberParseException.TOO_LONG: "is too long to be a phone number",
}

_IMPOSSIBLE = {
    ValidationResult.INVALID_COUNTRY_CODE: "starts with no known country code",
    ValidationResult.TOO_SHORT: "is too short for a number of country code +{code}",
    ValidationResult.TOO_LONG: "is too long for a number of country code +{code}",
    ValidationResult.INVALID_LENGTH: "has no possible length for country code +{code}",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is a local number; add its area code",
}


def checked_region(code: str) -> str:
    """The ISO 3166 region a national number is read in ("us" or "US" -> "US")."""
    region = code.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValue(
            f"region {code!r} is not an ISO 3166 region code with a numbering plan; "
            "use a code like US, GB or DE"
        )
    return region


def parse_phone_number(raw: str, default_region: str) -> PhoneNumber:
    """The number in `raw`, read as dialled from `default_region` unless it says otherwise.

    Accepts national, international and formatted forms and extensions ("x12", "ext. 12",
    ";ext=12"). A number must have a possible length for its country; a local-only
    number ("555-1234") is refused, since its E.164 form would be wrong, unless the
    numbering plan says it is a complete number.
    """
    region = checked_region(default_region)
    text = checked_text(raw, "a phone number", RAW_NUMBER_MAX_LENGTH)
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException as error:
        raise InvalidValue(f"{text!r} {_UNPARSABLE[error.error_type]}") from None
    possibility = phonenumbers.is_possible_number_with_reason(parsed)
    if possibility != ValidationResult.IS_POSSIBLE and not phonenumbers.is_valid_number(
        parsed
    ):
        problem = _IMPOSSIBLE[possibility].format(code=parsed.country_code)
        raise InvalidValue(f"{text!r} {problem}")
    return PhoneNumber(
        phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
        parsed.extension or None,
    )
