"""Loading a CRM export, a CSV file, into the directory: every row of it, or nothing.

The file is UTF-8 (a byte-order mark is fine) with a header row. Columns, in any order
and of any case:

- ``kind`` (required): ``contact``, ``account``, ``lead`` or ``case``.
- ``id`` (required): the record's id in the CRM, unique per kind within the file.
- ``name`` (required): the person's or the company's name; for a case, its subject.
- ``phone``, ``mobile``: numbers in any form people write ("(650) 555-1234 ext. 12",
  "+44 20 7946 0958"), read as dialled from the import's region unless they carry a
  country code. Accounts have no mobile; cases have no numbers.
- ``account``: for a contact, the id of its account.
- ``email``: for a contact or a lead.
- ``contact`` (required for a case): the id of the case's contact.
- ``status``: for a case, ``open`` or ``closed``; open when empty.

Other columns are ignored, so a wider export loads as it is; a value in a column that
does not apply to the row's kind is ignored too. Ids an earlier import wrote are
replaced. A row with a bad number or a missing required value refuses the whole file,
and the refusal names every such row by its line, so one pass fixes them all.
"""

import csv
from collections.abc import Mapping
from pathlib import Path

from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.phone_numbers import checked_region, parse_phone_number
from calldesk.domain.errors import InvalidValue
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory_records import (
    Account,
    Case,
    CaseStatus,
    Contact,
    Lead,
    RecordBatch,
    RecordCounts,
)

REQUIRED_COLUMNS = ("kind", "id", "name")

Record = Account | Contact | Lead | Case


def import_csv(
    directory: SQLiteRecordDirectory, path: Path, tenant: str, region: str
) -> RecordCounts:
    """Reads every row first and writes only when all are good, in one transaction."""
    batch = read_records(path, checked_region(region))
    directory.add(tenant, batch)
    return batch.counts


def read_records(path: Path, region: str) -> RecordBatch:
    """The file's records, or InvalidValue naming each bad line."""
    records: list[Record] = []
    first_seen: dict[tuple[type, str], int] = {}
    problems: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            rows = csv.DictReader(file)
            # "Phone" or " kind" in a hand-made header names the column all the same.
            rows.fieldnames = [name.strip().lower() for name in rows.fieldnames or ()]
            missing = [
                column for column in REQUIRED_COLUMNS if column not in rows.fieldnames
            ]
            if missing:
                raise InvalidValue(
                    f"{path}: line 1 must be a header naming the columns "
                    f"{', '.join(REQUIRED_COLUMNS)}; missing: {', '.join(missing)}"
                )
            for row in rows:
                try:
                    record = _record(_cells(row), region)
                except InvalidValue as error:
                    problems.append(f"line {rows.line_num}: {error}")
                    continue
                key = (type(record), record.record_id)
                if key in first_seen:
                    problems.append(
                        f"line {rows.line_num}: {type(record).__name__.lower()} "
                        f"{record.record_id} is already on line {first_seen[key]}"
                    )
                first_seen.setdefault(key, rows.line_num)
                records.append(record)
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidValue(f"{path} is not a UTF-8 CSV file: {error}") from None
    if problems:
        raise InvalidValue(
            f"{path}: {len(problems)} bad row(s), nothing imported\n" + "\n".join(problems)
        )
    return RecordBatch(
        accounts=tuple(r for r in records if isinstance(r, Account)),
        contacts=tuple(r for r in records if isinstance(r, Contact)),
        leads=tuple(r for r in records if isinstance(r, Lead)),
        cases=tuple(r for r in records if isinstance(r, Case)),
    )


def _cells(row: Mapping[str | None, str | list[str] | None]) -> dict[str, str]:
    """The row's named cells, stripped; a short row's missing cells are empty."""
    return {
        column: value.strip()
        for column, value in row.items()
        if column is not None and isinstance(value, str)
    }


def _record(cells: Mapping[str, str], region: str) -> Record:
    try:
        kind = RecordKind(cells.get("kind", "").lower())
    except ValueError:
        kinds = ", ".join(kind.value for kind in RecordKind)
        raise InvalidValue(
            f"kind {cells.get('kind', '')!r} must be one of {kinds}"
        ) from None
    # The same rules as every record the core shows: an id and a title a person reads.
    ref = RecordRef(kind, cells.get("id", ""), cells.get("name", ""))
    match kind:
        case RecordKind.ACCOUNT:
            return Account(ref.record_id, ref.title, _number(cells, "phone", region))
        case RecordKind.CONTACT:
            return Contact(
                ref.record_id,
                ref.title,
                account_id=cells.get("account") or None,
                phone=_number(cells, "phone", region),
                mobile=_number(cells, "mobile", region),
                email=cells.get("email") or None,
            )
        case RecordKind.LEAD:
            return Lead(
                ref.record_id,
                ref.title,
                phone=_number(cells, "phone", region),
                mobile=_number(cells, "mobile", region),
                email=cells.get("email") or None,
            )
        case RecordKind.CASE:
            return Case(ref.record_id, ref.title, _case_contact(cells), _status(cells))


def _number(cells: Mapping[str, str], column: str, region: str) -> PhoneNumber | None:
    raw = cells.get(column, "")
    if not raw:
        return None
    try:
        return parse_phone_number(raw, region)
    except InvalidValue as error:
        raise InvalidValue(f"{column}: {error}") from None


def _case_contact(cells: Mapping[str, str]) -> str:
    contact = cells.get("contact", "")
    if not contact:
        raise InvalidValue("a case needs the id of its contact in the contact column")
    return contact


def _status(cells: Mapping[str, str]) -> CaseStatus:
    try:
        return CaseStatus(cells.get("status", "").lower() or CaseStatus.OPEN.value)
    except ValueError:
        raise InvalidValue(f"status {cells['status']!r} must be open or closed") from None
