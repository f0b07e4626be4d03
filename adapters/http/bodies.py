"""The shapes of request bodies: structure only; the commands they become check values."""

import attrs

from calldesk.domain.call_commands import CommandKind
from calldesk.domain.records import RecordKind


@attrs.frozen
class NotReadyBody:
    reason: str


@attrs.frozen
class CallCommandBody:
    kind: CommandKind
    command_id: str
    argument: str | None = None


@attrs.frozen
class WrapUpBody:
    disposition: str
    command_id: str
    notes: str = ""


@attrs.frozen
class RecordBody:
    kind: RecordKind
    record_id: str
    title: str


@attrs.frozen
class DialBody:
    number: str
    command_id: str
    record: RecordBody | None = None
