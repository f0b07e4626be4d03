"""A record field's rules alone: what each type takes, how it keeps it, what it refuses."""

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import (
    LARGEST_EXACT_NUMBER,
    LONG_TEXT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    FieldDefinition,
    FieldType,
)
from calldesk.domain.records import RecordKind


def field(kind: FieldType, **rules: object) -> FieldDefinition:
    return FieldDefinition("a_field", "A field", kind, **rules)  # type: ignore[arg-type]


TIER = field(FieldType.PICKLIST, picklist=("Gold", "Silver"))


@pytest.mark.parametrize(
    ("definition", "given_value", "kept"),
    [
        (field(FieldType.TEXT), "Ada", "Ada"),
        (field(FieldType.LONG_TEXT), "line one\nline two", "line one\nline two"),
        (field(FieldType.NUMBER), 12.5, 12.5),
        (field(FieldType.NUMBER), -3, -3),
        (field(FieldType.BOOLEAN), False, False),
        (field(FieldType.DATE), "2026-12-03", "2026-12-03"),
        (field(FieldType.DATETIME), "2026-12-03T10:30:00+01:00", "2026-12-03T09:30:00Z"),
        (TIER, "Gold", "Gold"),
        (field(FieldType.EMAIL), "ada@example.com", "ada@example.com"),
        (field(FieldType.PHONE), "+16505550142", "+16505550142"),
        (field(FieldType.PHONE), "+16505550100;ext=12", "+16505550100;ext=12"),
        (
            field(FieldType.REFERENCE, reference_kind=RecordKind.ACCOUNT),
            "001-analytical",
            "001-analytical",
        ),
        (field(FieldType.TEXT), "", None),
        (field(FieldType.NUMBER), None, None),
    ],
)
def test_each_type_keeps_its_value_as_json_has_it(
    definition: FieldDefinition, given_value: object, kept: object
) -> None:
    assert definition.checked(given_value) == kept  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("definition", "given_value", "says"),
    [
        (field(FieldType.TEXT, required=True), None, "is required"),
        (field(FieldType.TEXT, required=True), "", "is required"),
        (field(FieldType.TEXT), 12, "is text, not a number"),
        (field(FieldType.TEXT), "two\nlines", "is one line"),
        (field(FieldType.TEXT), "bell\a", "control characters"),
        (field(FieldType.TEXT, max_length=3), "Ada!", "4 characters long; at most 3"),
        (field(FieldType.NUMBER), True, "is a number, not true or false"),
        (field(FieldType.NUMBER), "12", "is a number, not text"),
        (field(FieldType.NUMBER), math.inf, "finite number"),
        (field(FieldType.NUMBER), LARGEST_EXACT_NUMBER + 1, "finite number"),
        (field(FieldType.BOOLEAN), "yes", "is true or false, not text"),
        (field(FieldType.DATE), "03/12/2026", "is a date like 2026-12-03"),
        (field(FieldType.DATETIME), "2026-12-03T09:30:00", "needs its offset from UTC"),
        (field(FieldType.DATETIME), "soon", "is a date and time like"),
        (TIER, "Bronze", "is one of Gold, Silver; not 'Bronze'"),
        (field(FieldType.EMAIL), "ada@", "is an email address"),
        (field(FieldType.EMAIL), "ada lovelace@example.com", "is an email address"),
        (field(FieldType.PHONE), "650 555 0142", "is not an E.164 number"),
        (field(FieldType.PHONE), 6505550142, "is a phone number, not a number"),
        (
            field(FieldType.REFERENCE, reference_kind=RecordKind.ACCOUNT),
            " 001",
            "without outer spaces",
        ),
    ],
)
def test_a_bad_value_is_refused_saying_what_to_fix(
    definition: FieldDefinition, given_value: object, says: str
) -> None:
    with pytest.raises(InvalidValue, match=says):
        definition.checked(given_value)  # type: ignore[arg-type]


@given(st.text(min_size=1, max_size=TEXT_MAX_LENGTH + 10))
def test_text_is_kept_whole_up_to_its_length_and_refused_past_it(text: str) -> None:
    definition = field(FieldType.LONG_TEXT, max_length=TEXT_MAX_LENGTH)
    clean = not any(ord(c) < 32 and c not in "\n\t" for c in text)
    if len(text) <= TEXT_MAX_LENGTH and clean:
        assert definition.checked(text) == text
    else:
        with pytest.raises(InvalidValue):
            definition.checked(text)


@given(st.datetimes(timezones=st.timezones()))
def test_a_date_time_is_kept_as_the_same_instant_in_utc(instant: datetime) -> None:
    kept = field(FieldType.DATETIME).checked(instant.isoformat())
    assert isinstance(kept, str)
    assert kept.endswith("Z")
    assert datetime.fromisoformat(kept) == instant.astimezone(UTC)


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        ({"type": FieldType.NUMBER, "max_length": 10}, "only text has a maximum length"),
        ({"type": FieldType.TEXT, "max_length": TEXT_MAX_LENGTH + 1}, "1 to 255"),
        (
            {"type": FieldType.LONG_TEXT, "max_length": LONG_TEXT_MAX_LENGTH + 1},
            "1 to 32000",
        ),
        ({"type": FieldType.PICKLIST}, "a picklist, and only a picklist"),
        ({"type": FieldType.TEXT, "picklist": ("A",)}, "a picklist, and only"),
        ({"type": FieldType.PICKLIST, "picklist": ("A", "A")}, "listed twice"),
        ({"type": FieldType.REFERENCE}, "a reference, and only a reference"),
        ({"type": FieldType.TEXT, "required": True, "read_only": True}, "read-only"),
    ],
)
def test_a_definition_that_contradicts_itself_is_refused(
    rules: dict[str, object], says: str
) -> None:
    with pytest.raises(InvalidValue, match=says):
        FieldDefinition("a_field", "A field", **rules)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Tier", "1st", "a-b", "", "x" * 41])
def test_a_field_name_is_a_lower_case_identifier(name: str) -> None:
    with pytest.raises(InvalidValue, match="a field name is lower-case letters"):
        FieldDefinition(name, "A field", FieldType.TEXT)
