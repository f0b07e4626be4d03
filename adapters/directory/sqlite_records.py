"""The record directory in one SQLite file, through sqlite-utils.

Numbers are stored as E.164 text beside their extension, and every number column has an
index that starts with the tenant, so a screen pop is a handful of index probes whatever
the directory's size (ADR/0007, figures in docs/benchmarks.md). The rows are a
projection of the tenant's records in the log, kept with the position they are current
as of (ADR/0023).
"""

import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlite_utils import Database

from calldesk.adapters.directory.search_terms import search_for, terms_of
from calldesk.domain.identity import checked_slug
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory import KnownRecord
from calldesk.ports.directory_records import (
    Account,
    Case,
    CaseStatus,
    Contact,
    Lead,
    RecordBatch,
)

Row = dict[str, str | None]

#: Columns of a person's record, a contact's or a lead's.
_PERSON: Mapping[str, type] = {
    "tenant": str,
    "id": str,
    "name": str,
    "phone": str,
    "phone_ext": str,
    "mobile": str,
    "mobile_ext": str,
    "email": str,
}
#: Columns of each table; every table is keyed by (tenant, id).
_TABLES: Mapping[str, Mapping[str, type]] = {
    "accounts": {"tenant": str, "id": str, "name": str, "phone": str, "phone_ext": str},
    "contacts": {**_PERSON, "account_id": str},
    "leads": _PERSON,
    "cases": {"tenant": str, "id": str, "subject": str, "status": str, "contact_id": str},
}
_REQUIRED = {"tenant", "id", "name", "subject", "status", "contact_id"}
_TABLE_OF_KIND: Mapping[RecordKind, str] = {
    RecordKind.ACCOUNT: "accounts",
    RecordKind.CONTACT: "contacts",
    RecordKind.LEAD: "leads",
    RecordKind.CASE: "cases",
}

#: The lookups a screen pop makes; the tenant leads so no tenant's rows are ever scanned.
_INDEXES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "accounts": (("tenant", "phone"),),
    "contacts": (("tenant", "phone"), ("tenant", "mobile")),
    "leads": (("tenant", "phone"), ("tenant", "mobile")),
    "cases": (("tenant", "contact_id"),),
}

# UNION, not UNION ALL: a contact reached by both its numbers, or an account reached
# through two of its contacts and its own phone, is listed once. Accounts and cases are
# reached with IN, not a join: with a join, SQLite's planner scanned the tenant's cases.
_FIND_BY_NUMBER = """
WITH matched_contacts AS MATERIALIZED (
    SELECT id, name, account_id FROM contacts WHERE tenant = :tenant AND phone = :number
    UNION
    SELECT id, name, account_id FROM contacts WHERE tenant = :tenant AND mobile = :number
)
SELECT 0 AS rank, 'contact' AS kind, id, name AS title FROM matched_contacts
UNION
SELECT 1, 'lead', id, name FROM leads WHERE tenant = :tenant AND phone = :number
UNION
SELECT 1, 'lead', id, name FROM leads WHERE tenant = :tenant AND mobile = :number
UNION
SELECT 2, 'account', id, name FROM accounts WHERE tenant = :tenant AND phone = :number
UNION
SELECT 2, 'account', id, name FROM accounts
    WHERE tenant = :tenant AND id IN (SELECT account_id FROM matched_contacts)
UNION
SELECT 3, 'case', id, subject FROM cases
    WHERE tenant = :tenant AND contact_id IN (SELECT id FROM matched_contacts)
    AND status = :open
ORDER BY rank, title, id
"""


#: A record as KnownRecord describes it: title, status, account's name, then each
#: number and its extension (phone, then mobile).
_DESCRIBE: Mapping[RecordKind, str] = {
    RecordKind.CONTACT: """
        SELECT c.name, NULL, a.name, c.phone, c.phone_ext, c.mobile, c.mobile_ext
        FROM contacts c LEFT JOIN accounts a ON a.tenant = c.tenant AND a.id = c.account_id
        WHERE c.tenant = ? AND c.id = ?""",
    RecordKind.LEAD: """
        SELECT name, NULL, NULL, phone, phone_ext, mobile, mobile_ext
        FROM leads WHERE tenant = ? AND id = ?""",
    RecordKind.ACCOUNT: """
        SELECT name, NULL, NULL, phone, phone_ext FROM accounts
        WHERE tenant = ? AND id = ?""",
    RecordKind.CASE: """
        SELECT s.subject, s.status, a.name FROM cases s
        LEFT JOIN contacts c ON c.tenant = s.tenant AND c.id = s.contact_id
        LEFT JOIN accounts a ON a.tenant = c.tenant AND a.id = c.account_id
        WHERE s.tenant = ? AND s.id = ?""",
}
_OPEN_CASES = """
SELECT id, subject FROM cases WHERE tenant = ? AND contact_id = ? AND status = ?
ORDER BY subject, id
"""

#: Where the terms of a search are kept, each a range of one index (search_terms.py).
_SEARCH_TERMS = """
CREATE TABLE IF NOT EXISTS search_terms (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, term TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, term, id)
) STRICT, WITHOUT ROWID
"""
_SEARCH_TERMS_OF_RECORD = """
CREATE INDEX IF NOT EXISTS search_terms_of_record ON search_terms (tenant, kind, id)
"""
#: The log position each tenant's rows are current as of.
_POSITIONS = """
CREATE TABLE IF NOT EXISTS projected_positions (
    tenant TEXT PRIMARY KEY, position INTEGER NOT NULL
) STRICT
"""
_REMEMBER_POSITION = """
INSERT INTO projected_positions VALUES (?, ?)
ON CONFLICT (tenant) DO UPDATE SET position = excluded.position
"""
#: The kinds a search finds, best first, each with its table and the columns of its
#: numbers.
_SEARCHED: tuple[tuple[RecordKind, str, tuple[str, ...]], ...] = (
    (RecordKind.CONTACT, "contacts", ("phone", "mobile")),
    (RecordKind.LEAD, "leads", ("phone", "mobile")),
    (RecordKind.ACCOUNT, "accounts", ("phone",)),
)

Filed = tuple[RecordKind, str, str, tuple[PhoneNumber | None, ...]]


def _candidates(table: str, ranges: int) -> str:
    """The tenant's records of one kind that any of `ranges` term ranges reach, by
    name: IN, so the planner probes the terms' index, then the table's key."""
    reach = " UNION ".join(
        "SELECT id FROM search_terms WHERE tenant = :tenant AND kind = :kind "
        f"AND term >= :low{n} AND term < :high{n}"
        for n in range(ranges)
    )
    return (
        f"SELECT id, name FROM {table} "
        f"WHERE tenant = :tenant AND id IN ({reach}) ORDER BY name, id"
    )


def _number(column: str, number: PhoneNumber | None) -> Row:
    if number is None:
        return {column: None, f"{column}_ext": None}
    return {column: number.e164, f"{column}_ext": number.extension}


def _account_row(tenant: str, account: Account) -> Row:
    return {
        "tenant": tenant,
        "id": account.record_id,
        "name": account.name,
        **_number("phone", account.phone),
    }


def _person_row(tenant: str, person: Contact | Lead) -> Row:
    return {
        "tenant": tenant,
        "id": person.record_id,
        "name": person.name,
        **_number("phone", person.phone),
        **_number("mobile", person.mobile),
        "email": person.email,
    }


def _contact_row(tenant: str, contact: Contact) -> Row:
    return {**_person_row(tenant, contact), "account_id": contact.account_id}


def _case_row(tenant: str, case: Case) -> Row:
    return {
        "tenant": tenant,
        "id": case.record_id,
        "subject": case.subject,
        "status": case.status.value,
        "contact_id": case.contact_id,
    }


class SQLiteRecordDirectory:
    """A RecordDirectory in a SQLite file (WAL), created with its tables on first use."""

    def __init__(self, path: str | Path) -> None:
        # One connection, shared by the threads of a server (request handlers, the phone
        # driver) and taken in turn: sqlite3 would otherwise refuse a second thread.
        self._turn = threading.Lock()
        self._db = Database(sqlite3.connect(path, check_same_thread=False))
        self._db.enable_wal()
        with self._db.atomic():
            for name, columns in _TABLES.items():
                table = self._db.table(name)
                table.create(
                    dict(columns),
                    pk=("tenant", "id"),
                    not_null=_REQUIRED & columns.keys(),
                    if_not_exists=True,
                    strict=True,
                )
                for index in _INDEXES[name]:
                    table.create_index(index, if_not_exists=True)
            missing = "search_terms" not in self._db.table_names()
            self._db.execute(_SEARCH_TERMS)
            self._db.execute(_SEARCH_TERMS_OF_RECORD)
            self._db.execute(_POSITIONS)
            if missing:  # a directory from before searches: its records' terms, once
                self._file_all_terms()

    def __enter__(self) -> "SQLiteRecordDirectory":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def add(self, tenant: str, batch: RecordBatch) -> None:
        """Writes the batch in one transaction: every record of it, or none.

        A record whose id the tenant already has replaces it. Rows added this way are
        not in the log: the next `forget` drops them, and a projection replaces them.
        """
        checked_slug(tenant, "a tenant")
        with self._turn, self._db.atomic():
            self._write_batch(tenant, batch)

    def position(self, tenant: str) -> int:
        with self._turn:
            row = self._db.execute(
                "SELECT position FROM projected_positions WHERE tenant = ?", (tenant,)
            ).fetchone()
        return int(row[0]) if row else 0

    def project(
        self,
        tenant: str,
        written: RecordBatch,
        removed: Sequence[tuple[RecordKind, str]],
        position: int,
    ) -> None:
        checked_slug(tenant, "a tenant")
        with self._turn, self._db.atomic():
            self._write_batch(tenant, written)
            for kind, record_id in removed:
                self._db.execute(
                    f"DELETE FROM {_TABLE_OF_KIND[kind]} WHERE tenant = ? AND id = ?",
                    (tenant, record_id),
                )
            self._db.conn.executemany(
                "DELETE FROM search_terms WHERE tenant = ? AND kind = ? AND id = ?",
                ((tenant, kind.value, record_id) for kind, record_id in removed),
            )
            self._db.execute(_REMEMBER_POSITION, (tenant, position))

    def forget(self, tenant: str) -> None:
        with self._turn, self._db.atomic():
            for table in (*_TABLES, "search_terms", "projected_positions"):
                self._db.execute(f"DELETE FROM {table} WHERE tenant = ?", (tenant,))

    def _write_batch(self, tenant: str, batch: RecordBatch) -> None:
        """Every record of the batch, under the terms it has now; the caller holds the
        turn and the transaction."""
        self._write("accounts", (_account_row(tenant, a) for a in batch.accounts))
        self._write("contacts", (_contact_row(tenant, c) for c in batch.contacts))
        self._write("leads", (_person_row(tenant, lead) for lead in batch.leads))
        self._write("cases", (_case_row(tenant, case) for case in batch.cases))
        filed: list[Filed] = [
            (RecordKind.ACCOUNT, a.record_id, a.name, (a.phone,)) for a in batch.accounts
        ]
        filed += [
            (RecordKind.CONTACT, c.record_id, c.name, (c.phone, c.mobile))
            for c in batch.contacts
        ]
        filed += [
            (RecordKind.LEAD, lead.record_id, lead.name, (lead.phone, lead.mobile))
            for lead in batch.leads
        ]
        self._file_terms(tenant, filed)

    def _file_terms(self, tenant: str, records: list[Filed]) -> None:
        """Each record under the terms it has now, and no other (a record written
        again may have lost a number, or changed its name)."""
        self._db.conn.executemany(
            "DELETE FROM search_terms WHERE tenant = ? AND kind = ? AND id = ?",
            ((tenant, kind.value, id_) for kind, id_, _, _ in records),
        )
        self._db.conn.executemany(
            "INSERT OR IGNORE INTO search_terms VALUES (?, ?, ?, ?)",
            (
                (tenant, kind.value, term, id_)
                for kind, id_, name, numbers in records
                for term in terms_of(name, numbers)
            ),
        )

    def _file_all_terms(self) -> None:
        for kind, table, columns in _SEARCHED:
            numbers = ", ".join(f"{c}, {c}_ext" for c in columns)
            rows = self._db.execute(f"SELECT tenant, id, name, {numbers} FROM {table}")
            by_tenant: dict[str, list[Filed]] = {}
            for tenant, id_, name, *parts in rows.fetchall():
                found = tuple(
                    PhoneNumber(e164, ext) if e164 is not None else None
                    for e164, ext in zip(parts[::2], parts[1::2], strict=True)
                )
                by_tenant.setdefault(tenant, []).append((kind, id_, name, found))
            for tenant, records in by_tenant.items():
                self._file_terms(tenant, records)

    def _write(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        self._db.table(table).insert_all(rows, replace=True, batch_size=1000)

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord | None:
        with self._turn:
            return self._described(tenant, kind, record_id)

    def _described(
        self, tenant: str, kind: RecordKind, record_id: str
    ) -> KnownRecord | None:
        """The record as KnownRecord describes it; the caller holds the turn."""
        row = self._db.execute(_DESCRIBE[kind], (tenant, record_id)).fetchone()
        if row is None:
            return None
        title, status, account, *numbers = row
        open_cases: tuple[RecordRef, ...] = ()
        if kind is RecordKind.CONTACT:
            cases = self._db.execute(
                _OPEN_CASES, (tenant, record_id, CaseStatus.OPEN.value)
            ).fetchall()
            open_cases = tuple(RecordRef(RecordKind.CASE, id_, s) for id_, s in cases)
        pairs = zip(numbers[::2], numbers[1::2], strict=True)
        return KnownRecord(
            RecordRef(kind, record_id, title),
            status,
            account,
            tuple(PhoneNumber(e164, ext) for e164, ext in pairs if e164 is not None),
            open_cases,
        )

    def search(self, tenant: str, text: str, limit: int) -> tuple[KnownRecord, ...]:
        asked = search_for(text)
        if asked is None:
            return ()
        ranges = {"tenant": tenant}
        for n, (low, high) in enumerate(asked.ranges()):
            ranges |= {f"low{n}": low, f"high{n}": high}
        found: list[KnownRecord] = []
        with self._turn:
            for kind, table, _ in _SEARCHED:
                if len(found) == limit:
                    break
                query = _candidates(table, len(asked.prefixes))
                rows = self._db.execute(query, {**ranges, "kind": kind.value})
                for id_, name in rows:
                    if len(found) == limit:
                        break
                    if asked.admits(name):
                        record = self._described(tenant, kind, id_)
                        if record is not None:
                            found.append(record)
        return tuple(found)

    def find_by_number(self, tenant: str, number: PhoneNumber) -> tuple[RecordRef, ...]:
        with self._turn:
            rows = self._db.execute(
                _FIND_BY_NUMBER,
                {"tenant": tenant, "number": number.e164, "open": CaseStatus.OPEN.value},
            ).fetchall()
        return tuple(
            RecordRef(RecordKind(kind), id_, title) for _, kind, id_, title in rows
        )
