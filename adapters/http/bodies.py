"""The shapes of request bodies: their structure and the limits the domain sets, so that
the strict reading (strict_bodies.py) and the OpenAPI document say the same; the
commands they become check every other rule."""

from typing import Annotated

import attrs
from annotated_types import Ge, MaxLen

from calldesk.domain.call_commands import CommandKind
from calldesk.domain.calls import DISPOSITION_MAX_LENGTH, NOTES_MAX_LENGTH
from calldesk.domain.identity import CODE_MAX_LENGTH, NAME_MAX_LENGTH
from calldesk.domain.records import RECORD_ID_MAX_LENGTH, RecordKind, RecordRef

#: A code chosen from a configured list (a not-ready reason).
Code = Annotated[str, MaxLen(CODE_MAX_LENGTH)]
#: Text a person reads, and the ids clients choose (command ids).
Text = Annotated[str, MaxLen(NAME_MAX_LENGTH)]
#: A place in an order.
Position = Annotated[int, Ge(0)]


@attrs.frozen
class NotReadyBody:
    reason: Code


@attrs.frozen
class CallCommandBody:
    kind: CommandKind
    command_id: Text
    argument: Text | None = None


@attrs.frozen
class WrapUpBody:
    disposition: Annotated[str, MaxLen(DISPOSITION_MAX_LENGTH)]
    command_id: Text
    notes: Annotated[str, MaxLen(NOTES_MAX_LENGTH)] = ""


@attrs.frozen
class RecordBody:
    kind: RecordKind
    record_id: Annotated[str, MaxLen(RECORD_ID_MAX_LENGTH)]
    title: Text

    def ref(self) -> RecordRef:
        return RecordRef(self.kind, self.record_id, self.title)


@attrs.frozen
class DialBody:
    number: Text
    command_id: Text
    record: RecordBody | None = None


@attrs.frozen
class ChooseRecordBody:
    record: RecordBody
