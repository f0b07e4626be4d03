"""A field of a CRM record: its type and rules, and what a value must be to fill it.

Values are kept as JSON has them (text, number, true or false, or nothing), so a record
travels to a browser, a device replica or an export unchanged: a date is its ISO text,
a date-time ISO text in UTC, a phone number E.164 (the edge reads what people type, in
the tenant's region, before the value arrives here), a reference the id of a record of
the field's kind (whether that record exists is asked by the application).
"""

import enum
import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_text
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RECORD_ID_MAX_LENGTH, RecordKind

#: What a field holds: text, a number, true or false, or nothing.
FieldValue = str | int | float | bool | None

FIELD_NAME_MAX_LENGTH = 40
LABEL_MAX_LENGTH = 80
TEXT_MAX_LENGTH = 255
LONG_TEXT_MAX_LENGTH = 32_000
MAX_PICKLIST_VALUES = 200
#: Numbers a JavaScript client reads exactly: beyond this, integers lose digits.
LARGEST_EXACT_NUMBER = 2**53 - 1

_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")
# An address as people write it: one @, a dot in the domain, no spaces (not RFC 5322:
# what a CRM's email field takes).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class FieldType(enum.Enum):
    TEXT = "text"
    LONG_TEXT = "long-text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    EMAIL = "email"
    PHONE = "phone"
    REFERENCE = "reference"


#: The types whose value is text with a length to keep within.
_TEXTUAL = frozenset(
    {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.PICKLIST}
)


def checked_field_name(name: str) -> str:
    if not _FIELD_NAME.fullmatch(name) or len(name) > FIELD_NAME_MAX_LENGTH:
        raise InvalidValue(
            f"a field name is lower-case letters, digits and _, starting with a letter, "
            f"at most {FIELD_NAME_MAX_LENGTH} characters: not {name!r}"
        )
    return name


def _name(_: object, __: object, name: str) -> None:
    checked_field_name(name)


def _label(_: object, __: object, label: str) -> None:
    if checked_text(label, "a field label", LABEL_MAX_LENGTH) != label:
        raise InvalidValue("a field label must not start or end with spaces")


@attrs.frozen(slots=False)
class FieldDefinition:
    """One field of a kind of record, as the tenant's schema defines it.

    `read_only` fields are the server's to set (a full name, a last-modified stamp): a
    client that sends one is refused. `max_length` bounds text; `picklist` lists the
    values a picklist takes; `reference_kind` is the kind of record a reference names.
    """

    name: str = attrs.field(validator=_name)
    label: str = attrs.field(validator=_label)
    type: FieldType
    required: bool = False
    max_length: int | None = None
    picklist: tuple[str, ...] = ()
    reference_kind: RecordKind | None = None
    read_only: bool = False

    def __attrs_post_init__(self) -> None:
        limit = self.max_length
        if limit is not None:
            most = (
                LONG_TEXT_MAX_LENGTH
                if self.type is FieldType.LONG_TEXT
                else TEXT_MAX_LENGTH
            )
            if self.type not in _TEXTUAL:
                raise InvalidValue(f"field {self.name}: only text has a maximum length")
            if not 1 <= limit <= most:
                raise InvalidValue(
                    f"field {self.name}: a maximum length is 1 to {most}, not {limit}"
                )
        if (self.type is FieldType.PICKLIST) != bool(self.picklist):
            raise InvalidValue(
                f"field {self.name}: a picklist, and only a picklist, lists its values"
            )
        _checked_picklist(self.name, self.picklist)
        if (self.type is FieldType.REFERENCE) != (self.reference_kind is not None):
            raise InvalidValue(
                f"field {self.name}: a reference, and only a reference, names the kind "
                "of record it points at"
            )
        if self.required and self.read_only:
            raise InvalidValue(
                f"field {self.name}: a read-only field is the server's; it cannot be "
                "required of a client"
            )

    @property
    def longest(self) -> int:
        """The most characters a text value of this field may have."""
        if self.max_length is not None:
            return self.max_length
        if self.type is FieldType.LONG_TEXT:
            return LONG_TEXT_MAX_LENGTH
        return TEXT_MAX_LENGTH

    def checked(self, value: FieldValue) -> FieldValue:
        """The value as the field keeps it; InvalidValue saying what to fix."""
        if value is None or value == "":
            if self.required:
                raise InvalidValue("is required")
            return None
        return _CHECKS[self.type](self, value)


def _checked_picklist(field: str, values: Sequence[str]) -> None:
    if len(values) > MAX_PICKLIST_VALUES:
        raise InvalidValue(
            f"field {field}: {len(values)} picklist values; at most {MAX_PICKLIST_VALUES}"
        )
    for value in values:
        if checked_text(value, f"a picklist value of {field}", LABEL_MAX_LENGTH) != value:
            raise InvalidValue(f"field {field}: picklist value {value!r} has outer spaces")
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise InvalidValue(f"field {field}: picklist values listed twice: {repeated}")


def _text(field: FieldDefinition, value: FieldValue) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"is text, not {_described(value)}")
    if len(value) > field.longest:
        raise InvalidValue(
            f"is {len(value)} characters long; at most {field.longest} are allowed"
        )
    if any(ord(char) < 32 and char not in "\n\t" for char in value):
        raise InvalidValue("must not contain control characters")
    if field.type is not FieldType.LONG_TEXT and "\n" in value:
        raise InvalidValue("is one line; use a long-text field for several")
    return value


def _number(_: FieldDefinition, value: FieldValue) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(f"is a number, not {_described(value)}")
    if not math.isfinite(value) or abs(value) > LARGEST_EXACT_NUMBER:
        raise InvalidValue(f"is a finite number within ±{LARGEST_EXACT_NUMBER}")
    return value


def _boolean(_: FieldDefinition, value: FieldValue) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"is true or false, not {_described(value)}")
    return value


def _date(_: FieldDefinition, value: FieldValue) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"is a date like 2026-12-03, not {_described(value)}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidValue(f"is a date like 2026-12-03, not {value!r}") from None


def _datetime(_: FieldDefinition, value: FieldValue) -> str:
    example = "2026-12-03T09:30:00Z"
    if not isinstance(value, str):
        raise InvalidValue(f"is a date and time like {example}, not {_described(value)}")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(f"is a date and time like {example}, not {value!r}") from None
    if instant.tzinfo is None:
        raise InvalidValue(f"needs its offset from UTC, like {example}: {value!r}")
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _picklist(field: FieldDefinition, value: FieldValue) -> str:
    if value not in field.picklist:
        raise InvalidValue(f"is one of {', '.join(field.picklist)}; not {value!r}")
    assert isinstance(value, str)
    return value


def _email(field: FieldDefinition, value: FieldValue) -> str:
    text = _text(field, value)
    if not _EMAIL.fullmatch(text):
        raise InvalidValue(f"is an email address like ada@example.com, not {text!r}")
    return text


def _phone(_: FieldDefinition, value: FieldValue) -> str:
    """E.164, with an extension as PhoneNumber writes one (+16505550100;ext=12)."""
    if not isinstance(value, str):
        raise InvalidValue(f"is a phone number, not {_described(value)}")
    number, _ext, extension = value.partition(";ext=")
    return str(PhoneNumber(number, extension or None))


def _reference(_: FieldDefinition, value: FieldValue) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"is a record id, not {_described(value)}")
    if checked_text(value, "a record id", RECORD_ID_MAX_LENGTH) != value:
        raise InvalidValue("is a record id, without outer spaces")
    return value


def _described(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


_CHECKS = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.PICKLIST: _picklist,
    FieldType.EMAIL: _email,
    FieldType.PHONE: _phone,
    FieldType.REFERENCE: _reference,
}


_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def value_from_text(field_type: FieldType | None, text: str) -> FieldValue:
    """A value as a person or a CSV file writes it, read as its field's type: empty is
    no value, numbers and booleans are read, everything else stays text for the field's
    own check. InvalidValue says what the field takes."""
    if text == "":
        return None
    if field_type is FieldType.NUMBER:
        try:
            return int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            raise InvalidValue(f"is a number, not {text!r}") from None
    if field_type is FieldType.BOOLEAN:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise InvalidValue(f"is true or false, not {text!r}")
    return text
