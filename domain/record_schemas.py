"""A tenant's schema of one kind of record: its standard fields and its own, in the log.

Adding, changing or retiring a field is an event, so every client (the console, a
device replica) learns of it in the same log as the records. The standard fields are
the ones every CRM has; a tenant adds its own beside them, changes their labels, limits
and picklists, and retires its own fields (a retired name is never used again, so an old
value never reads as a new field's).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import InvalidValue, NotFound, Refused
from calldesk.domain.identity import checked_slug, stable_id
from calldesk.domain.record_fields import (
    FieldDefinition,
    FieldType,
    FieldValue,
    checked_field_name,
)
from calldesk.domain.records import RecordKind

MAX_FIELDS = 500

#: The fields the server sets: a client that sends one is refused.
CREATED_AT = FieldDefinition("created_at", "Created", FieldType.DATETIME, read_only=True)
LAST_MODIFIED = FieldDefinition(
    "last_modified", "Last modified", FieldType.DATETIME, read_only=True
)
FULL_NAME = FieldDefinition("full_name", "Name", FieldType.TEXT, read_only=True)
_STAMPS = (CREATED_AT, LAST_MODIFIED)
INDUSTRIES = (
    *("Banking", "Education", "Energy", "Healthcare"),
    *("Manufacturing", "Retail", "Technology", "Other"),
)
_PERSON = (
    FieldDefinition("first_name", "First name", FieldType.TEXT, max_length=40),
    FieldDefinition("last_name", "Last name", FieldType.TEXT, required=True, max_length=80),
    FULL_NAME,
)
_REACHED_AT = (
    FieldDefinition("phone", "Phone", FieldType.PHONE),
    FieldDefinition("mobile", "Mobile", FieldType.PHONE),
    FieldDefinition("email", "Email", FieldType.EMAIL),
)

STANDARD_FIELDS: Mapping[RecordKind, tuple[FieldDefinition, ...]] = {
    RecordKind.CONTACT: (
        *_PERSON,
        FieldDefinition(
            "account", "Account", FieldType.REFERENCE, reference_kind=RecordKind.ACCOUNT
        ),
        FieldDefinition("title", "Title", FieldType.TEXT, max_length=128),
        *_REACHED_AT,
        *_STAMPS,
    ),
    RecordKind.ACCOUNT: (
        FieldDefinition("name", "Account name", FieldType.TEXT, required=True),
        FieldDefinition("phone", "Phone", FieldType.PHONE),
        FieldDefinition("website", "Website", FieldType.TEXT),
        FieldDefinition(
            "industry",
            "Industry",
            FieldType.PICKLIST,
            picklist=INDUSTRIES,
        ),
        *_STAMPS,
    ),
    RecordKind.LEAD: (
        *_PERSON,
        FieldDefinition("company", "Company", FieldType.TEXT),
        *_REACHED_AT,
        FieldDefinition(
            "status",
            "Lead status",
            FieldType.PICKLIST,
            picklist=("Open", "Contacted", "Qualified", "Unqualified"),
        ),
        *_STAMPS,
    ),
    RecordKind.CASE: (
        FieldDefinition("subject", "Subject", FieldType.TEXT, required=True),
        FieldDefinition("description", "Description", FieldType.LONG_TEXT),
        FieldDefinition(
            "status",
            "Status",
            FieldType.PICKLIST,
            picklist=("New", "Working", "Escalated", "Closed"),
        ),
        FieldDefinition(
            "priority", "Priority", FieldType.PICKLIST, picklist=("Low", "Medium", "High")
        ),
        FieldDefinition(
            "contact", "Contact", FieldType.REFERENCE, reference_kind=RecordKind.CONTACT
        ),
        FieldDefinition(
            "account", "Account", FieldType.REFERENCE, reference_kind=RecordKind.ACCOUNT
        ),
        *_STAMPS,
    ),
}


@attrs.frozen
class FieldProblem:
    """What is wrong with one field of a record a client sent, and what to fix."""

    field: str
    message: str


class RecordRefused(InvalidValue):
    """A record's values break the schema's rules: each field's problem is named."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"field {p.field}: {p.message}" for p in self.problems))


class RecordSchema(Aggregate):
    """The fields of one kind of record in one tenant, standard and the tenant's own."""

    TOPIC = "calldesk.record_schema.RecordSchema"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.record_schema.Event"

    @staticmethod
    def create_id(tenant: str, kind: RecordKind) -> UUID:
        return stable_id("record-schema", tenant, kind.value)

    @classmethod
    def create(cls, tenant: str, kind: RecordKind, at: datetime) -> "RecordSchema":
        """A kind's schema as every tenant starts with it: the standard fields."""
        return cls(
            tenant=checked_slug(tenant, "a tenant"),
            kind=kind,
            fields=STANDARD_FIELDS[kind],
            timestamp=at,
        )

    @event("Created", topic="calldesk.record_schema.Created")
    def __init__(
        self,
        tenant: str,
        kind: RecordKind,
        fields: tuple[FieldDefinition, ...],
        timestamp: datetime,
    ) -> None:
        self.tenant, self.kind = tenant, kind
        self.fields = {field.name: field for field in fields}
        self.retired: tuple[str, ...] = ()

    @property
    def standard(self) -> frozenset[str]:
        return frozenset(field.name for field in STANDARD_FIELDS[self.kind])

    def field(self, name: str) -> FieldDefinition:
        """The live field of this name, or a refusal naming the fields there are."""
        found = self.fields.get(name)
        if found is None:
            raise NotFound(
                f"{self.kind.value} has no field {name!r}"
                + (" (it was retired)" if name in self.retired else "")
            )
        return found

    def add_field(self, definition: FieldDefinition, at: datetime) -> None:
        """A field of the tenant's own; its name is new, never one retired."""
        name = definition.name
        if name in self.fields or name in self.retired:
            raise Refused(
                f"{self.kind.value} already has or had a field {name}; choose another name"
            )
        if definition.read_only:
            raise InvalidValue(
                f"field {name}: only the server's own fields are read-only; the tenant's "
                "fields are filled by people"
            )
        if len(self.fields) >= MAX_FIELDS:
            raise Refused(f"{self.kind.value} has {MAX_FIELDS} fields, the most it may")
        self._field_added(definition=definition, timestamp=at)

    def change_field(self, definition: FieldDefinition, at: datetime) -> None:
        """Relabel a field, or change its limits and picklist; its type stays, and a
        standard field's rules (required, read-only) stay too."""
        current = self.field(definition.name)
        if definition.type is not current.type:
            raise Refused(
                f"field {current.name} is {current.type.value}; a field keeps its type "
                "(add a new field instead)"
            )
        if definition.reference_kind is not current.reference_kind:
            raise Refused(f"field {current.name} keeps the kind of record it names")
        fixed = (current.required, current.read_only)
        if current.name in self.standard and (
            (definition.required, definition.read_only) != fixed
        ):
            raise Refused(f"field {current.name} is standard: whether it is required stays")
        if definition.read_only and not current.read_only:
            raise InvalidValue(
                f"field {current.name}: the tenant's fields are not read-only"
            )
        if definition != current:
            self._field_changed(definition=definition, timestamp=at)

    def retire_field(self, name: str, at: datetime) -> None:
        """The tenant's own field is gone from forms and feeds; its name stays taken."""
        checked_field_name(name)
        self.field(name)
        if name in self.standard:
            raise Refused(f"field {name} is standard; only the tenant's own are retired")
        self._field_retired(name=name, timestamp=at)

    def checked(
        self, values: Mapping[str, FieldValue], *, creating: bool
    ) -> dict[str, FieldValue]:
        """The values as the record keeps them, or RecordRefused naming every field
        that breaks a rule (see checked_values)."""
        return checked_values(
            self.kind, self.fields, self.retired, values, creating=creating
        )

    @event("FieldAdded", topic="calldesk.record_schema.FieldAdded")
    def _field_added(self, definition: FieldDefinition, timestamp: datetime) -> None:
        self.fields[definition.name] = definition

    @event("FieldChanged", topic="calldesk.record_schema.FieldChanged")
    def _field_changed(self, definition: FieldDefinition, timestamp: datetime) -> None:
        self.fields[definition.name] = definition

    @event("FieldRetired", topic="calldesk.record_schema.FieldRetired")
    def _field_retired(self, name: str, timestamp: datetime) -> None:
        del self.fields[name]
        self.retired = (*self.retired, name)


def checked_values(
    kind: RecordKind,
    fields: Mapping[str, FieldDefinition],
    retired: Iterable[str],
    values: Mapping[str, FieldValue],
    *,
    creating: bool,
    unchecked: Iterable[str] = (),
) -> dict[str, FieldValue]:
    """The values as a record of these fields keeps them, or RecordRefused naming every
    field that breaks a rule: unknown, retired, the server's, or a bad value. A new
    record needs every required field; a change only keeps them filled. `unchecked`
    fields are taken as given (a device's reference to a record it created offline,
    whose id only the device knows yet)."""
    problems: list[FieldProblem] = []
    kept: dict[str, FieldValue] = {}
    taken_as_given = frozenset(unchecked)
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            why = "was retired" if name in retired else f"is no field of {kind.value}"
            problems.append(FieldProblem(name, why))
        elif field.read_only:
            problems.append(FieldProblem(name, "is set by the server, never sent"))
        elif name in taken_as_given:
            kept[name] = value
        else:
            try:
                kept[name] = field.checked(value)
            except InvalidValue as error:
                problems.append(FieldProblem(name, str(error)))
    if creating:
        problems += [
            FieldProblem(field.name, "is required")
            for field in fields.values()
            if field.required and field.name not in values
        ]
    if problems:
        raise RecordRefused(problems)
    return kept
