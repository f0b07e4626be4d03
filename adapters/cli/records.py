"""`calldesk record` and `calldesk schema`: the tenant's CRM records and their fields
from the command line, by an operator (ADR/0020).

Values are given as `--set field=value`; each is read as its field's type says (a
number, true or false, text), and an empty value clears the field.
"""

import uuid
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.table import Table

from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    TenantOption,
    fail,
    now,
    out,
    run,
    show,
)
from calldesk.apps.desk import Desk
from calldesk.apps.records import (
    AddField,
    ChangeRecord,
    CreateRecord,
    DeleteRecord,
    RecordChangeView,
    RecordView,
    RestoreRecord,
    RetireField,
    SchemaView,
)
from calldesk.domain.crm_records import Author
from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import (
    FieldDefinition,
    FieldType,
    FieldValue,
    value_from_text,
)
from calldesk.domain.records import RecordKind

record_app = typer.Typer(help="Show, create, edit, delete and restore CRM records.")
schema_app = typer.Typer(help="Show a kind's fields; add and retire the tenant's own.")

Kind = Annotated[RecordKind, typer.Argument(help="contact, account, lead or case.")]
RecordId = Annotated[str, typer.Argument(help="The record's id, like 003-ada.")]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="A field's value as FIELD=VALUE; repeat for each."),
]
By = Annotated[
    str, typer.Option("--by", help="Who makes the change, as the history names them.")
]
Base = Annotated[
    int | None,
    typer.Option(
        help="The version the change was made from; omitted, the current one (no "
        "conflict can be found)."
    ),
]


def read_values(pairs: Sequence[str], schema: SchemaView) -> dict[str, FieldValue]:
    """FIELD=VALUE pairs, each value read as its field's type; unknown fields pass
    through, for the schema to refuse by name."""
    types = {field.name: field.type for field in schema.fields}
    values: dict[str, FieldValue] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals:
            fail(EXIT_BAD_INPUT, f"--set {pair!r}: give FIELD=VALUE")
        values[name.strip()] = _read(name.strip(), text, types.get(name.strip()))
    return values


def _read(name: str, text: str, kind: FieldType | None) -> FieldValue:
    try:
        return value_from_text(kind, text)
    except InvalidValue as error:
        fail(EXIT_BAD_INPUT, f"field {name}: {error}")


def show_record(context: typer.Context, view: RecordView) -> None:
    def human() -> None:
        state = " (deleted)" if view.deleted else ""
        out.print(f"{view.kind.value} {view.record_id}: {view.title}{state}")
        out.print(f"  version {view.version}, last changed by {_author(view.modified_by)}")
        for name, value in view.values.items():
            out.print(f"  {name} = {value}")

    show(context, view, human)


def _author(author: Author) -> str:
    return f"{author.kind} {author.name}"


def _operator(name: str) -> Author:
    try:
        return Author("operator", name)
    except InvalidValue as error:
        fail(EXIT_BAD_INPUT, f"--by: {error}")


@record_app.command("show")
def record_show(
    context: typer.Context, kind: Kind, record_id: RecordId, tenant: TenantOption
) -> None:
    """A record's fields, the server's own included."""
    show_record(
        context, run(context, lambda desk: desk.crm_record(tenant, kind, record_id))
    )


@record_app.command("create")
def record_create(
    context: typer.Context,
    kind: Kind,
    tenant: TenantOption,
    value: Sets = None,
    record_id: Annotated[
        str | None, typer.Option("--id", help="The record's id; omitted, calldesk's.")
    ] = None,
    by: By = "cli",
) -> None:
    """Create a record; every field that breaks a rule is named."""

    def create(desk: Desk) -> RecordView:
        values = read_values(value or (), desk.record_schema(tenant, kind))
        command = CreateRecord(
            tenant,
            kind=kind,
            values=values,
            operation_id=str(uuid.uuid4()),
            by=_operator(by),
            record_id=record_id,
            at=now(),
        )
        return desk.create_record(command)

    show_record(context, run(context, create))


@record_app.command("edit")
def record_edit(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    tenant: TenantOption,
    value: Sets = None,
    base: Base = None,
    by: By = "cli",
) -> None:
    """Change the fields given; from an older --base, a field someone changed since is
    a conflict, named with its three values."""

    def edit(desk: Desk) -> RecordView:
        values = read_values(value or (), desk.record_schema(tenant, kind))
        current = desk.crm_record(tenant, kind, record_id)
        command = ChangeRecord(
            tenant,
            kind=kind,
            record_id=record_id,
            base_version=current.version if base is None else base,
            values=values,
            by=_operator(by),
            at=now(),
        )
        return desk.change_record(command)

    show_record(context, run(context, edit))


@record_app.command("delete")
def record_delete(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    tenant: TenantOption,
    base: Base = None,
    by: By = "cli",
) -> None:
    """Delete a record (it can be restored)."""

    def delete(desk: Desk) -> RecordView:
        current = desk.crm_record(tenant, kind, record_id)
        command = DeleteRecord(
            tenant,
            kind=kind,
            record_id=record_id,
            base_version=current.version if base is None else base,
            by=_operator(by),
            at=now(),
        )
        return desk.delete_record(command)

    show_record(context, run(context, delete))


@record_app.command("restore")
def record_restore(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    tenant: TenantOption,
    by: By = "cli",
) -> None:
    """Bring a deleted record back, with the values it had."""

    def restore(desk: Desk) -> RecordView:
        command = RestoreRecord(
            tenant, kind=kind, record_id=record_id, by=_operator(by), at=now()
        )
        return desk.restore_record(command)

    show_record(context, run(context, restore))


@record_app.command("history")
def record_history(
    context: typer.Context, kind: Kind, record_id: RecordId, tenant: TenantOption
) -> None:
    """Every change to the record: when, by whom, each field from what to what."""
    history = run(context, lambda desk: desk.record_history(tenant, kind, record_id))
    show(context, history, lambda: out.print(history_table(history)))


def history_table(history: Sequence[RecordChangeView]) -> Table:
    table = Table("#", "at", "by", "what", "field", "from", "to")
    for entry in history:
        changes = entry.changes or ()
        first = True
        for change in changes or (None,):
            table.add_row(
                str(entry.version) if first else "",
                entry.at.strftime("%Y-%m-%d %H:%M:%S") if first else "",
                _author(entry.by) if first else "",
                entry.what if first else "",
                change.field if change else "",
                "" if change is None or change.old is None else str(change.old),
                "" if change is None or change.new is None else str(change.new),
            )
            first = False
    return table


def show_schema(context: typer.Context, view: SchemaView) -> None:
    def human() -> None:
        table = Table("field", "label", "type", "rules")
        for field in view.fields:
            table.add_row(field.name, field.label, field.type.value, _rules(field))
        out.print(f"{view.kind.value} fields of {view.tenant}, version {view.version}")
        out.print(table)
        if view.retired:
            out.print(f"retired: {', '.join(view.retired)}")

    show(context, view, human)


def _rules(field: FieldDefinition) -> str:
    rules = []
    if field.required:
        rules.append("required")
    if field.read_only:
        rules.append("set by the server")
    if field.max_length is not None:
        rules.append(f"at most {field.max_length} characters")
    if field.picklist:
        rules.append("one of " + ", ".join(field.picklist))
    if field.reference_kind is not None:
        rules.append(f"a {field.reference_kind.value}'s id")
    return "; ".join(rules)


@schema_app.command("show")
def schema_show(context: typer.Context, kind: Kind, tenant: TenantOption) -> None:
    """The kind's fields: the standard ones and the tenant's own."""
    show_schema(context, run(context, lambda desk: desk.record_schema(tenant, kind)))


@schema_app.command("add-field")
def schema_add_field(
    context: typer.Context,
    kind: Kind,
    name: Annotated[str, typer.Argument(help="The field's name, like tier.")],
    tenant: TenantOption,
    label: Annotated[str, typer.Option(help="What forms call it.")],
    field_type: Annotated[FieldType, typer.Option("--type", help="What it holds.")],
    required: Annotated[bool, typer.Option(help="A new record must fill it.")] = False,
    max_length: Annotated[
        int | None, typer.Option(help="The most characters a text value has.")
    ] = None,
    choice: Annotated[
        list[str] | None,
        typer.Option(help="A picklist value; repeat for each, in order."),
    ] = None,
    refers_to: Annotated[
        RecordKind | None, typer.Option(help="The kind of record a reference names.")
    ] = None,
) -> None:
    """Add a field of the tenant's own to a kind."""

    def add(desk: Desk) -> SchemaView:
        definition = FieldDefinition(
            name,
            label,
            field_type,
            required=required,
            max_length=max_length,
            picklist=tuple(choice or ()),
            reference_kind=refers_to,
        )
        return desk.add_field(AddField(tenant, kind=kind, definition=definition, at=now()))

    show_schema(context, run(context, add))


@schema_app.command("retire-field")
def schema_retire_field(
    context: typer.Context,
    kind: Kind,
    name: Annotated[str, typer.Argument(help="The tenant's field to retire.")],
    tenant: TenantOption,
) -> None:
    """Retire a field of the tenant's own: gone from forms and feeds, its name taken."""
    show_schema(
        context,
        run(
            context,
            lambda desk: desk.retire_field(
                RetireField(tenant, kind=kind, name=name, at=now())
            ),
        ),
    )
