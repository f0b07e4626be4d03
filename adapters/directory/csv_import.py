"""Loading a CRM export, a CSV file, into the tenant's records (docs/directory.md).

The file is UTF-8 (a byte-order mark is fine) with a header row naming its columns in
any order and of any case: ``kind`` and ``id`` (the record's id in the CRM), then any
field of the kind's schema by its name (``last_name``, ``phone``, a tenant's own
``loyalty_tier``). ``name`` is what older exports say: for a contact or a lead its
first and last names together (the last word is the last name), for a case its subject.
A column no field of the row's kind has is ignored, and so are the fields the server
sets (``full_name``, ``created_at``), so a wider export loads as it is.

Each row is checked as a create is (calldesk.apps.records); a bad one is left out and
named in the summary by its line, field and reason, and the others are recorded. A
record already there is left as it is, so the same file imported again adds nothing.
"""

import csv
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import attrs

from calldesk.adapters.directory.record_import import (
    REFERENCES_FIRST,
    ImportTotals,
    import_rows,
)
from calldesk.apps.desk import Desk
from calldesk.apps.records import ImportRow, RowRefused
from calldesk.domain.crm_records import Author
from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import FieldType, FieldValue, value_from_text
from calldesk.domain.records import RecordKind

REQUIRED_COLUMNS = ("kind", "id")
#: The fields a client may set in each kind, with their types.
Fields = Mapping[str, FieldType]
#: The statuses older exports give a case, as the standard case picklist says them.
_CASE_STATUSES = {"open": "New", "closed": "Closed"}


def import_csv(
    desk: Desk,
    path: Path,
    tenant: str,
    *,
    at: Callable[[], datetime],
    region: str | None = None,
    on_imported: Callable[[RecordKind, int], None] = lambda _, __: None,
) -> ImportTotals:
    """Reads the whole file first, so a file that is no CSV records nothing; then
    records its good rows, references first, and names every row refused."""
    fields = {
        kind: {
            field.name: field.type
            for field in desk.record_schema(tenant, kind).fields
            if not field.read_only
        }
        for kind in RecordKind
    }
    rows, refused = read_rows(path, fields)
    imported = import_rows(
        desk,
        tenant,
        [rows],
        operation_id=f"csv-{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}",
        by=Author("import", path.name[:64] or "csv"),
        at=at,
        region=region,
        on_imported=on_imported,
    )
    every_refusal = sorted((*refused, *imported.refused), key=lambda r: r.row)
    return attrs.evolve(imported, refused=tuple(every_refusal))


def read_rows(
    path: Path, fields: Mapping[RecordKind, Fields]
) -> tuple[dict[RecordKind, list[ImportRow]], tuple[RowRefused, ...]]:
    """The file's rows by kind, numbered by line, and those refused before any rule of
    their kind applies (no kind, no id, an id twice); InvalidValue if it is no CSV."""
    rows: dict[RecordKind, list[ImportRow]] = {kind: [] for kind in REFERENCES_FIRST}
    refused: list[RowRefused] = []
    first_seen: dict[tuple[RecordKind, str], int] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            lines = csv.DictReader(file)
            # "Phone" or " kind" in a hand-made header names the column all the same.
            lines.fieldnames = [name.strip().lower() for name in lines.fieldnames or ()]
            missing = [c for c in REQUIRED_COLUMNS if c not in lines.fieldnames]
            if missing:
                raise InvalidValue(
                    f"{path}: line 1 must be a header naming the columns "
                    f"{', '.join(REQUIRED_COLUMNS)}; missing: {', '.join(missing)}"
                )
            for line in lines:
                cells = _cells(line)
                number = lines.line_num
                try:
                    kind = RecordKind(cells.get("kind", "").lower())
                except ValueError:
                    kinds = ", ".join(kind.value for kind in RecordKind)
                    reason = f"{cells.get('kind', '')!r} is not one of {kinds}"
                    refused.append(RowRefused(number, "kind", reason))
                    continue
                record_id = cells.get("id", "")
                if not record_id:
                    refused.append(RowRefused(number, "id", "give the record's id"))
                    continue
                earlier = first_seen.setdefault((kind, record_id), number)
                if earlier != number:
                    reason = f"{kind.value} {record_id} is already on line {earlier}"
                    refused.append(RowRefused(number, "id", reason))
                    continue
                try:
                    values = _values(kind, cells, fields[kind])
                except _FieldUnread as unread:
                    refused.append(RowRefused(number, unread.field, unread.reason))
                    continue
                rows[kind].append(ImportRow(number, values, record_id))
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidValue(f"{path} is not a UTF-8 CSV file: {error}") from None
    return rows, tuple(refused)


def _cells(line: Mapping[str | None, str | list[str] | None]) -> dict[str, str]:
    """The line's named cells, stripped; a short line's missing cells are empty."""
    return {
        column: value.strip()
        for column, value in line.items()
        if column is not None and isinstance(value, str)
    }


class _FieldUnread(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


def _values(
    kind: RecordKind, cells: Mapping[str, str], fields: Fields
) -> dict[str, FieldValue]:
    """The row's non-empty cells that name a field of its kind, each read as the
    field's type; the schema then checks them as it checks every create."""
    values: dict[str, FieldValue] = {}
    for column, text in cells.items():
        if column in fields and text:
            try:
                values[column] = value_from_text(fields[column], text)
            except InvalidValue as error:
                raise _FieldUnread(column, str(error)) from None
    name = cells.get("name", "")
    if name and kind in (RecordKind.CONTACT, RecordKind.LEAD):
        first, _, last = name.rpartition(" ")
        values.setdefault("last_name", last)
        if first:
            values.setdefault("first_name", first)
    elif name and kind is RecordKind.CASE:
        values.setdefault("subject", name)
    status = values.get("status")
    if kind is RecordKind.CASE and isinstance(status, str):
        values["status"] = _CASE_STATUSES.get(status.lower(), status)
    return values
