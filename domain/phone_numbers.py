"""A phone number as the core keeps it: E.164, plus an extension when there is one.

Parsing what people and vendors write ("(650) 555-1234 ext. 12", "0044 20 7946 0958")
needs a numbering plan and a default region; that happens at the edges
(calldesk.apps.phone_numbers, with the phonenumbers library). The core only checks the
normalized form, so every number it stores compares equal to the same number written
any other way.
"""

import re

import attrs

from calldesk.domain.errors import InvalidValue

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_EXTENSION = re.compile(r"[0-9]{1,10}")


def _e164(_: object, __: object, value: str) -> None:
    if not _E164.fullmatch(value):
        raise InvalidValue(f"{value!r} is not an E.164 number like +16505551234")


def _extension(_: object, __: object, value: str | None) -> None:
    if value is not None and not _EXTENSION.fullmatch(value):
        raise InvalidValue(f"extension {value!r} must be 1 to 10 digits")


@attrs.frozen(slots=False)
class PhoneNumber:
    e164: str = attrs.field(validator=_e164)
    extension: str | None = attrs.field(default=None, validator=_extension)

    def __str__(self) -> str:
        return self.e164 if self.extension is None else f"{self.e164};ext={self.extension}"

    @classmethod
    def read(cls, text: str) -> "PhoneNumber":
        """The number as str() wrote it: E.164, then `;ext=` and the extension if any."""
        e164, _, extension = text.partition(";ext=")
        return cls(e164, extension or None)
