"""A CRM record calldesk keeps: a contact, account, lead or case that agents and devices
edit, every change an event, its version growing with each.

A change names the version it was made from (its base) and only the fields it changes:
a three-way merge of the base, the current record and the change. A field the change
sets is applied when its current value is still the base's; when it now holds another
value (someone changed it since) and the change proposes a third, that is a conflict,
reported with the base, current and proposed values so the person can choose, and
nothing applies. Changes to other fields since the base are kept.

The values arrive checked against the kind's schema (record_schemas); the fields the
server sets (a person's full name, when the record was created and last modified) are
computed here, from the values and the events' time.
"""

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.identity import checked_slug, checked_text, stable_id
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RecordKind, RecordRef, checked_record_id

#: An agent at the console, a device replica, an import, an operator at the command line.
AUTHOR_KINDS = ("agent", "device", "import", "operator")
OPERATION_ID_MAX_LENGTH = 64


def _author_kind(_: object, __: object, kind: str) -> None:
    if kind not in AUTHOR_KINDS:
        raise InvalidValue(f"an author is one of {', '.join(AUTHOR_KINDS)}, not {kind!r}")


def _author_name(author: "Author", _: object, name: str) -> None:
    if author.kind != "device":
        checked_slug(name, "an author")
        return
    agent, slash, device = name.partition("/")
    if not slash:
        raise InvalidValue(
            f"a device author is named by its agent and itself, like a-17/laptop-3, "
            f"not {name!r}"
        )
    checked_slug(agent, "a device's agent")
    checked_slug(device, "a device name")


@attrs.frozen(slots=False)
class Author:
    """Who made a change, by kind (AUTHOR_KINDS) and name; a device is named
    agent/device (a-17/laptop-3), so its history says whose device it was (ADR/0025)."""

    kind: str = attrs.field(validator=_author_kind)
    name: str = attrs.field(validator=_author_name)

    @classmethod
    def of_device(cls, agent: str, device: str) -> "Author":
        """A device acting for its agent, as its device token authenticates it."""
        return cls("device", f"{agent}/{device}")


@attrs.frozen(slots=False)
class FieldChange:
    """One field of one change: its value before and after."""

    field: str
    old: FieldValue
    new: FieldValue


@attrs.frozen
class FieldConflict:
    """A field the change would set that someone changed since its base."""

    field: str
    base: FieldValue
    current: FieldValue
    proposed: FieldValue


class DeleteConflict(Refused):
    """The record changed since the version the delete was made from: nothing deleted."""

    def __init__(self, record: str, changed: tuple[str, ...]) -> None:
        self.changed = changed
        super().__init__(
            f"{record}: {', '.join(changed)} changed since the version this "
            "delete was made from; look at it again before deleting it"
        )


class EditConflict(Refused):
    """Fields changed since the change's base: nothing applied; each is named."""

    def __init__(self, record: str, conflicts: tuple[FieldConflict, ...]) -> None:
        self.conflicts = conflicts
        fields = ", ".join(conflict.field for conflict in conflicts)
        super().__init__(
            f"{record}: {fields} changed since the version this change was made from; "
            "choose each value and send the change again from the current version"
        )


#: The fields whose values make a person's full name, in order.
_NAME_PARTS = ("first_name", "last_name")
_PEOPLE = (RecordKind.CONTACT, RecordKind.LEAD)
_TITLE_FIELD = {
    RecordKind.CONTACT: "full_name",
    RecordKind.LEAD: "full_name",
    RecordKind.ACCOUNT: "name",
    RecordKind.CASE: "subject",
}


class CrmRecord(Aggregate):
    """One record of a tenant, known by its kind and id."""

    TOPIC = "calldesk.crm_record.CrmRecord"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.crm_record.Event"

    @staticmethod
    def create_id(tenant: str, kind: RecordKind, record_id: str) -> UUID:
        return stable_id("crm-record", tenant, kind.value, record_id)

    @classmethod
    def create(
        cls,
        tenant: str,
        kind: RecordKind,
        record_id: str,
        values: Mapping[str, FieldValue],
        operation_id: str,
        by: Author,
        at: datetime,
    ) -> "CrmRecord":
        """A new record with these (checked) values, made by the client's operation of
        this id: a retry of the operation is known by it."""
        checked_record_id(record_id)
        return cls(
            tenant=checked_slug(tenant, "a tenant"),
            kind=kind,
            record_id=record_id,
            values={name: value for name, value in values.items() if value is not None},
            operation_id=checked_text(
                operation_id, "an operation id", OPERATION_ID_MAX_LENGTH
            ),
            by=by,
            timestamp=at,
        )

    @event("Created", topic="calldesk.crm_record.Created")
    def __init__(
        self,
        tenant: str,
        kind: RecordKind,
        record_id: str,
        values: dict[str, FieldValue],
        operation_id: str,
        by: Author,
        timestamp: datetime,
    ) -> None:
        self.tenant, self.kind, self.record_id = tenant, kind, record_id
        self.operation_id = operation_id
        self.values: dict[str, FieldValue] = dict(values)
        self.deleted = False
        self.modified_by = by

    @property
    def ref(self) -> RecordRef:
        """The record as screen pops and call logs name it."""
        return RecordRef(self.kind, self.record_id, self.title)

    @property
    def title(self) -> str:
        title = self.shown.get(_TITLE_FIELD[self.kind])
        return str(title) if title else self.record_id

    @property
    def shown(self) -> dict[str, FieldValue]:
        """Every field with a value, the server's own included."""
        computed: dict[str, FieldValue] = {
            "created_at": _stamp(self.created_on),
            "last_modified": _stamp(self.modified_on),
        }
        if self.kind in _PEOPLE:
            parts = [str(self.values[p]) for p in _NAME_PARTS if self.values.get(p)]
            computed["full_name"] = " ".join(parts) or None
        return {**self.values, **{k: v for k, v in computed.items() if v is not None}}

    def change(
        self,
        base_version: int,
        base_values: Mapping[str, FieldValue],
        proposed: Mapping[str, FieldValue],
        by: Author,
        at: datetime,
    ) -> tuple[FieldChange, ...]:
        """Apply the fields that differ; EditConflict when one changed since the base.

        `base_values` are the record's values at `base_version`, which the application
        reads from the record's history."""
        self._check_base(base_version)
        changes = tuple(
            FieldChange(name, self.values.get(name), value)
            for name, value in proposed.items()
            if self.values.get(name) != value
        )
        conflicts = tuple(
            FieldConflict(c.field, base_values.get(c.field), c.old, c.new)
            for c in changes
            if base_values.get(c.field) != c.old
        )
        if conflicts:
            raise EditConflict(self._named, conflicts)
        if changes:
            self._fields_changed(changes=changes, by=by, timestamp=at)
        return changes

    def delete(
        self,
        base_version: int,
        base_values: Mapping[str, FieldValue],
        by: Author,
        at: datetime,
    ) -> bool:
        """A tombstone; refused when a field changed since the base (the person deletes
        what they saw). Whether it was deleted now (a repeat is no change)."""
        if self.deleted:
            return False
        self._check_base(base_version)
        names = sorted({*base_values, *self.values})
        changed = tuple(n for n in names if base_values.get(n) != self.values.get(n))
        if changed:
            raise DeleteConflict(self._named, changed)
        self._deleted(by=by, timestamp=at)
        return True

    def restore(self, by: Author, at: datetime) -> bool:
        """Back from the tombstone, with the values it had; whether it was deleted."""
        if not self.deleted:
            return False
        self._restored(by=by, timestamp=at)
        return True

    def _check_base(self, base_version: int) -> None:
        if self.deleted:
            raise Refused(f"{self._named} is deleted; restore it first")
        if not 1 <= base_version <= self.version:
            raise InvalidValue(
                f"{self._named} has version {self.version}; a change made from version "
                f"{base_version} cannot be (versions start at 1 and only grow)"
            )

    @property
    def _named(self) -> str:
        return f"{self.kind.value} {self.record_id}"

    @event("FieldsChanged", topic="calldesk.crm_record.FieldsChanged")
    def _fields_changed(
        self, changes: tuple[FieldChange, ...], by: Author, timestamp: datetime
    ) -> None:
        for change in changes:
            if change.new is None:
                self.values.pop(change.field, None)
            else:
                self.values[change.field] = change.new
        self.modified_by = by

    @event("Deleted", topic="calldesk.crm_record.Deleted")
    def _deleted(self, by: Author, timestamp: datetime) -> None:
        self.deleted, self.modified_by = True, by

    @event("Restored", topic="calldesk.crm_record.Restored")
    def _restored(self, by: Author, timestamp: datetime) -> None:
        self.deleted, self.modified_by = False, by


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
