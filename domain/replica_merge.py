"""The three-way merge of a device's row: what it sends, what it takes, what it asks.

The seed's resolveThreeWayDiff (L76, L90), field by field: the base is the row as the
server had it when the device first changed it (the original, taken once), local is the
device's row now, server is the row the device just pulled. A field changed on one side
only goes to the other side; the same field changed to the same value on both is agreed;
changed to different values it is a conflict, which a person resolves by keeping their
value, keeping the server's, or giving a new one (ADR/0024). Nothing is decided by
timestamps or by who wrote last, so no local change is ever dropped without a trace: it
is sent, it is already the server's, or it is in the inbox.

A field absent from a row has no value (None), as the server keeps it (ADR/0020).
"""

import enum
from collections.abc import Iterable, Mapping

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import FieldValue

Values = Mapping[str, FieldValue]


@attrs.frozen
class FieldConflict:
    """A field both sides changed to different values since the base."""

    field: str
    base: FieldValue
    local: FieldValue
    server: FieldValue


@attrs.frozen
class RowMerge:
    """What the merge of one row decides.

    `to_server`: the fields the device sends (a change from the server's version);
    `to_device`: the server's values the device's row takes; `conflicts`: the fields a
    person must choose; `local_after`: the device's row once merged (a conflicting
    field keeps the person's own value until they choose)."""

    to_server: dict[str, FieldValue]
    to_device: dict[str, FieldValue]
    conflicts: tuple[FieldConflict, ...]
    local_after: dict[str, FieldValue]

    @property
    def settled(self) -> bool:
        """Nothing left to send or to ask: the row equals the server's."""
        return not self.to_server and not self.conflicts


def merged(
    base: Values, local: Values, server: Values, read_only: Iterable[str] = ()
) -> RowMerge:
    """Merge a row field by field. `read_only` fields are the server's to set (a full
    name, a last-modified stamp): the device never sends them and always takes them."""
    servers_own = frozenset(read_only)
    to_server: dict[str, FieldValue] = {}
    to_device: dict[str, FieldValue] = {}
    conflicts: list[FieldConflict] = []
    for field in sorted({*base, *local, *server}):
        was, mine, theirs = base.get(field), local.get(field), server.get(field)
        if field in servers_own or mine == was:
            if mine != theirs:
                to_device[field] = theirs
        elif theirs == was:
            to_server[field] = mine
        elif mine != theirs:
            conflicts.append(FieldConflict(field, was, mine, theirs))
    local_after = {**local, **to_device}
    return RowMerge(
        to_server,
        to_device,
        tuple(conflicts),
        {field: value for field, value in local_after.items() if value is not None},
    )


class Choice(enum.Enum):
    """How a person resolves a conflicting field."""

    KEEP_LOCAL = "keep-local"
    KEEP_SERVER = "keep-server"
    NEW_VALUE = "new-value"


@attrs.frozen
class Resolution:
    """A person's choice for one conflicting field; `value` only with a new value."""

    choice: Choice
    value: FieldValue = None

    def __attrs_post_init__(self) -> None:
        if self.choice is not Choice.NEW_VALUE and self.value is not None:
            raise InvalidValue(
                f"only a new value carries a value; {self.choice.value} takes one side's"
            )


@attrs.frozen
class ResolvedField:
    """A resolved conflict: the value both sides end with, and whether the device must
    send it (when it is not already the server's)."""

    field: str
    value: FieldValue
    send: bool


def resolved(conflict: FieldConflict, resolution: Resolution) -> ResolvedField:
    """The field as the person chose it. The value is checked against the field's
    type by the application, as every value a person types is."""
    if resolution.choice is Choice.KEEP_SERVER:
        value = conflict.server
    elif resolution.choice is Choice.KEEP_LOCAL:
        value = conflict.local
    else:
        value = resolution.value
    return ResolvedField(conflict.field, value, send=value != conflict.server)
