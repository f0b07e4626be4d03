"""The device replica's table group in one SQLite file, laid out as the seed lays it
out (ADR/0024): per synced kind a main table named after the kind, its originals, its
pulled rows and its server deletes; shared create and delete queues, the conflict
inbox, notices, the id map and properties.

Every identifier that reaches DDL is a `RecordKind` value (an enum, so a whitelist) or
a field name `checked_field_name` took (`[a-z][a-z0-9_]*`), and is quoted as well: a
schema from the server can never become SQL. Bookkeeping columns and tables start with
`_cd_`, which no field name can, so they never collide with a field and never leave
the device.
"""

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import quote_identifier as quoted

from calldesk.apps.conversion import converter
from calldesk.domain.record_fields import FieldType, checked_field_name
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import FieldConflict
from calldesk.ports.replica import (
    InboxConflict,
    KindSchema,
    LocalRow,
    Notice,
    QueuedCreate,
    QueuedDelete,
    ServerRecord,
    Values,
)

BOOKKEEPING = "_cd_"
_MAIN_COLUMNS = {
    "_cd_id": str,
    "_cd_version": int,
    "_cd_revision": int,
    "_cd_created": int,
    "_cd_updated": int,
    "_cd_changed_at": str,
    "_cd_error": str,
}
#: Ids bound in one query: far under SQLite's limit on a statement's variables.
_IDS_A_QUERY = 500
_SERVER_ROW_COLUMNS = {"_cd_id": str, "_cd_version": int, "_cd_deleted": int}
_COLUMN_TYPES = {FieldType.NUMBER: "NUMERIC", FieldType.BOOLEAN: "INTEGER"}

_SHARED_TABLES: dict[str, tuple[dict[str, type], str | tuple[str, ...]]] = {
    "_cd_properties": ({"name": str, "value": str}, "name"),
    "_cd_create_queue": (
        {
            "position": int,
            "operation_id": str,
            "kind": str,
            "temporary_id": str,
            "sent": int,
            "attempts": int,
            "next_attempt_at": str,
            "error": str,
            "queued_at": str,
        },
        "position",
    ),
    "_cd_delete_queue": (
        {
            "kind": str,
            "record_id": str,
            "base_version": int,
            "attempts": int,
            "next_attempt_at": str,
            "error": str,
            "confirmed_version": int,
            "queued_at": str,
        },
        ("kind", "record_id"),
    ),
    "_cd_conflicts": (
        {
            "kind": str,
            "record_id": str,
            "field": str,
            "base": str,
            "local": str,
            "server": str,
            "server_version": int,
        },
        ("kind", "record_id", "field"),
    ),
    "_cd_notices": (
        {
            "notice_id": int,
            "kind": str,
            "record_id": str,
            "message": str,
            "lost_values": str,
            "at": str,
        },
        "notice_id",
    ),
    "_cd_id_map": ({"temporary_id": str, "kind": str, "server_id": str}, "temporary_id"),
}


def _orig(kind: RecordKind) -> str:
    return f"{BOOKKEEPING}{kind.value}_orig"


def _pulled(kind: RecordKind) -> str:
    return f"{BOOKKEEPING}{kind.value}_pulled"


def _server_deletes(kind: RecordKind) -> str:
    return f"{BOOKKEEPING}{kind.value}_server_deletes"


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class SQLiteReplicaTables:
    """A ReplicaTables in a SQLite file (WAL), its shared tables made on first use and
    a kind's tables when its schema is first stored. One connection, taken in turn by
    the threads of one process (the local page, the live follower); other processes
    open their own, and SQLite serialises the transactions."""

    def __init__(self, path: str | Path) -> None:
        self._turn = threading.RLock()
        connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db = Database(connection)
        if str(path) != ":memory:":
            self._db.enable_wal()
        with self._db.atomic():
            for name, (columns, pk) in _SHARED_TABLES.items():
                self._db.table(name).create(columns, pk=pk, if_not_exists=True)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator["SQLiteTableGroup"]:
        with self._turn, self._db.atomic():
            yield SQLiteTableGroup(self._db)


class SQLiteTableGroup:
    """The tables inside one transaction (see SQLiteReplicaTables)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Each kind's schema as read in this transaction: a sync asks for it for every
        # row it writes, and reading it again from JSON took most of a first sync.
        self._schemas: dict[RecordKind, KindSchema | None] = {}

    def _rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._db.execute(sql, list(parameters))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # Properties.

    def property(self, name: str) -> Any:
        found = self._rows("SELECT value FROM _cd_properties WHERE name = ?", [name])
        return json.loads(found[0]["value"]) if found else None

    def set_property(self, name: str, value: Any) -> None:
        if value is None:
            self._db.execute("DELETE FROM _cd_properties WHERE name = ?", [name])
            return
        self._db.execute(
            "INSERT OR REPLACE INTO _cd_properties (name, value) VALUES (?, ?)",
            [name, json.dumps(value)],
        )

    # Kinds and their columns.

    def kind_schema(self, kind: RecordKind) -> KindSchema | None:
        if kind not in self._schemas:
            stored = self.property(f"schema:{kind.value}")
            self._schemas[kind] = (
                None if stored is None else converter.structure(stored, KindSchema)
            )
        return self._schemas[kind]

    def store_schema(self, schema: KindSchema) -> None:
        """Store the schema and give the kind's main, originals and pulled tables a
        column for each of its fields; a retired field's column stays, with its values."""
        kind = schema.kind
        # A retired field keeps a column (untyped) even on a device that never had it,
        # so every name the schema holds is one; the names are DDL: only what may be.
        columns = dict.fromkeys(schema.retired, "") | {
            field.name: _COLUMN_TYPES.get(field.type, "TEXT") for field in schema.fields
        }
        for name in columns:
            checked_field_name(name)
        self.set_property(f"schema:{kind.value}", converter.unstructure(schema))
        self._schemas[kind] = schema
        for table, bookkeeping in (
            (kind.value, _MAIN_COLUMNS),
            (_orig(kind), _SERVER_ROW_COLUMNS),
            (_pulled(kind), _SERVER_ROW_COLUMNS),
        ):
            self._with_columns(table, bookkeeping, columns)
        self._db.table(_server_deletes(kind)).create(
            {"_cd_id": str, "_cd_version": int}, pk="_cd_id", if_not_exists=True
        )
        # The few refused rows, found by the status without a scan of the table.
        self._db.execute(
            f"CREATE INDEX IF NOT EXISTS {quoted('_cd_refused_' + kind.value)} "
            f"ON {quoted(kind.value)} (_cd_id) WHERE _cd_error IS NOT NULL"
        )

    def _with_columns(
        self,
        table: str,
        bookkeeping: Mapping[str, type],
        columns: Mapping[str, str],
    ) -> None:
        rows = self._db.table(table)
        if not rows.exists():
            rows.create(dict(bookkeeping), pk="_cd_id")
        present = set(rows.columns_dict)
        for name, column_type in columns.items():
            if name not in present:
                self._db.execute(
                    f"ALTER TABLE {quoted(table)} ADD COLUMN {quoted(name)} {column_type}"
                )

    def kinds(self) -> tuple[RecordKind, ...]:
        return tuple(kind for kind in RecordKind if self.kind_schema(kind) is not None)

    def _field_types(self, kind: RecordKind) -> dict[str, FieldType]:
        schema = self.kind_schema(kind)
        assert schema is not None, f"{kind.value} is not synced here"
        return {field.name: field.type for field in schema.fields}

    def _values(self, kind: RecordKind, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row's field values as the server has them: booleans as booleans, and
        no value as no field."""
        types = self._field_types(kind)
        values = {}
        for column, value in row.items():
            if column.startswith(BOOKKEEPING) or value is None:
                continue
            values[column] = (
                bool(value) if types.get(column) is FieldType.BOOLEAN else value
            )
        return values

    def _field_columns(self, kind: RecordKind, values: Values) -> dict[str, Any]:
        """The values as columns, every stored field included (absent ones empty)."""
        schema = self.kind_schema(kind)
        assert schema is not None, f"{kind.value} is not synced here"
        known = {field.name for field in schema.fields} | set(schema.retired)
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"no field {', '.join(sorted(unknown))} in {kind.value}")
        return {name: values.get(name) for name in sorted(known)}

    def _put(self, table: str, row: Mapping[str, Any]) -> None:
        self._put_all(table, [row])

    def _put_all(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """The rows, in order, one statement for all that have the same columns (the
        rows of a kind do): a page of a first sync is written at once."""
        by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
        for row in rows:
            by_columns.setdefault(tuple(row), []).append(list(row.values()))
        for names, values in by_columns.items():
            columns = ", ".join(quoted(name) for name in names)
            marks = ", ".join("?" for _ in names)
            self._db.conn.executemany(
                f"INSERT OR REPLACE INTO {quoted(table)} ({columns}) VALUES ({marks})",
                values,
            )

    # Main.

    def _local_row(self, kind: RecordKind, row: Mapping[str, Any]) -> LocalRow:
        return LocalRow(
            row["_cd_id"],
            row["_cd_version"],
            row["_cd_revision"],
            self._values(kind, row),
            created=bool(row["_cd_created"]),
            updated=bool(row["_cd_updated"]),
            changed_at=_instant(row["_cd_changed_at"]),
            error=row["_cd_error"],
        )

    def row(self, kind: RecordKind, record_id: str) -> LocalRow | None:
        if self.kind_schema(kind) is None:
            return None  # not synced here (yet): no table, no row
        found = self._rows(
            f"SELECT * FROM {quoted(kind.value)} WHERE _cd_id = ?", [record_id]
        )
        return self._local_row(kind, found[0]) if found else None

    def rows(self, kind: RecordKind) -> Iterator[LocalRow]:
        if self.kind_schema(kind) is None:
            return  # not synced here (yet): no rows
        for found in self._rows(f"SELECT * FROM {quoted(kind.value)} ORDER BY rowid"):
            yield self._local_row(kind, found)

    def rows_of(self, kind: RecordKind, record_ids: Sequence[str]) -> dict[str, LocalRow]:
        if self.kind_schema(kind) is None or not record_ids:
            return {}
        found: dict[str, LocalRow] = {}
        for start in range(0, len(record_ids), _IDS_A_QUERY):
            some = record_ids[start : start + _IDS_A_QUERY]
            marks = ", ".join("?" for _ in some)
            for row in self._rows(
                f"SELECT * FROM {quoted(kind.value)} WHERE _cd_id IN ({marks})", some
            ):
                found[row["_cd_id"]] = self._local_row(kind, row)
        return found

    def refused_rows(self, kind: RecordKind) -> Iterator[LocalRow]:
        if self.kind_schema(kind) is None:
            return
        table = quoted(kind.value)
        for found in self._rows(
            f"SELECT * FROM {table} WHERE _cd_error IS NOT NULL ORDER BY _cd_id"
        ):
            yield self._local_row(kind, found)

    def put_row(self, kind: RecordKind, row: LocalRow) -> None:
        self.put_rows(kind, [row])

    def put_rows(self, kind: RecordKind, rows: Sequence[LocalRow]) -> None:
        self._put_all(
            kind.value,
            [
                {
                    "_cd_id": row.record_id,
                    "_cd_version": row.version,
                    "_cd_revision": row.revision,
                    "_cd_created": int(row.created),
                    "_cd_updated": int(row.updated),
                    "_cd_changed_at": _time(row.changed_at),
                    "_cd_error": row.error,
                    **self._field_columns(kind, row.values),
                }
                for row in rows
            ],
        )

    def remove_row(self, kind: RecordKind, record_id: str) -> None:
        self._db.execute(f"DELETE FROM {quoted(kind.value)} WHERE _cd_id = ?", [record_id])

    # Server rows: originals and pulled.

    def _server_record(self, kind: RecordKind, row: Mapping[str, Any]) -> ServerRecord:
        return ServerRecord(
            kind,
            row["_cd_id"],
            row["_cd_version"],
            self._values(kind, row),
            deleted=bool(row["_cd_deleted"]),
        )

    def _server_row(
        self, table: str, kind: RecordKind, record_id: str
    ) -> ServerRecord | None:
        found = self._rows(f"SELECT * FROM {quoted(table)} WHERE _cd_id = ?", [record_id])
        return self._server_record(kind, found[0]) if found else None

    def _server_rows(self, table: str, kind: RecordKind) -> Iterator[ServerRecord]:
        for found in self._rows(f"SELECT * FROM {quoted(table)} ORDER BY rowid"):
            yield self._server_record(kind, found)

    def _put_server_row(self, table: str, record: ServerRecord) -> None:
        self._put(
            table,
            {
                "_cd_id": record.record_id,
                "_cd_version": record.version,
                "_cd_deleted": int(record.deleted),
                **self._field_columns(record.kind, record.values),
            },
        )

    def original(self, kind: RecordKind, record_id: str) -> ServerRecord | None:
        return self._server_row(_orig(kind), kind, record_id)

    def originals(self, kind: RecordKind) -> Iterator[ServerRecord]:
        return self._server_rows(_orig(kind), kind)

    def put_original(self, original: ServerRecord) -> None:
        self._put_server_row(_orig(original.kind), original)

    def remove_original(self, kind: RecordKind, record_id: str) -> None:
        self._db.execute(f"DELETE FROM {quoted(_orig(kind))} WHERE _cd_id = ?", [record_id])

    def pulled(self, kind: RecordKind, record_id: str) -> ServerRecord | None:
        return self._server_row(_pulled(kind), kind, record_id)

    def all_pulled(self, kind: RecordKind) -> Iterator[ServerRecord]:
        return self._server_rows(_pulled(kind), kind)

    def put_pulled(self, records: Sequence[ServerRecord]) -> None:
        for record in records:
            self._put_server_row(_pulled(record.kind), record)

    def remove_pulled(self, kind: RecordKind, record_id: str) -> None:
        self._db.execute(
            f"DELETE FROM {quoted(_pulled(kind))} WHERE _cd_id = ?", [record_id]
        )

    def server_deletes(self, kind: RecordKind) -> Iterator[ServerRecord]:
        table = quoted(_server_deletes(kind))
        for found in self._rows(f"SELECT * FROM {table} ORDER BY rowid"):
            yield ServerRecord(kind, found["_cd_id"], found["_cd_version"], {}, True)

    def put_server_deletes(self, records: Sequence[ServerRecord]) -> None:
        for record in records:
            self._put(
                _server_deletes(record.kind),
                {"_cd_id": record.record_id, "_cd_version": record.version},
            )

    def remove_server_delete(self, kind: RecordKind, record_id: str) -> None:
        self._db.execute(
            f"DELETE FROM {quoted(_server_deletes(kind))} WHERE _cd_id = ?", [record_id]
        )

    # Queues.

    def creates(self) -> tuple[QueuedCreate, ...]:
        return tuple(
            QueuedCreate(
                row["position"],
                row["operation_id"],
                RecordKind(row["kind"]),
                row["temporary_id"],
                sent=bool(row["sent"]),
                attempts=row["attempts"],
                next_attempt_at=_instant(row["next_attempt_at"]),
                error=row["error"],
                queued_at=_instant(row["queued_at"]),
            )
            for row in self._rows("SELECT * FROM _cd_create_queue ORDER BY position")
        )

    def enqueue_create(self, create: QueuedCreate) -> QueuedCreate:
        """The create at the end of the queue, its position given here."""
        last = self._rows("SELECT max(position) AS last FROM _cd_create_queue")[0]["last"]
        queued = QueuedCreate(
            (last or 0) + 1,
            create.operation_id,
            create.kind,
            create.temporary_id,
            queued_at=create.queued_at,
        )
        self.update_create(queued)
        return queued

    def update_create(self, create: QueuedCreate) -> None:
        self._put(
            "_cd_create_queue",
            {
                "position": create.position,
                "operation_id": create.operation_id,
                "kind": create.kind.value,
                "temporary_id": create.temporary_id,
                "sent": int(create.sent),
                "attempts": create.attempts,
                "next_attempt_at": _time(create.next_attempt_at),
                "error": create.error,
                "queued_at": _time(create.queued_at),
            },
        )

    def remove_create(self, operation_id: str) -> None:
        self._db.execute(
            "DELETE FROM _cd_create_queue WHERE operation_id = ?", [operation_id]
        )

    def deletes(self) -> tuple[QueuedDelete, ...]:
        return tuple(
            QueuedDelete(
                RecordKind(row["kind"]),
                row["record_id"],
                row["base_version"],
                attempts=row["attempts"],
                next_attempt_at=_instant(row["next_attempt_at"]),
                error=row["error"],
                confirmed_version=row["confirmed_version"],
                queued_at=_instant(row["queued_at"]),
            )
            for row in self._rows("SELECT * FROM _cd_delete_queue ORDER BY rowid")
        )

    def put_delete(self, delete: QueuedDelete) -> None:
        self._put(
            "_cd_delete_queue",
            {
                "kind": delete.kind.value,
                "record_id": delete.record_id,
                "base_version": delete.base_version,
                "attempts": delete.attempts,
                "next_attempt_at": _time(delete.next_attempt_at),
                "error": delete.error,
                "confirmed_version": delete.confirmed_version,
                "queued_at": _time(delete.queued_at),
            },
        )

    def remove_delete(self, kind: RecordKind, record_id: str) -> None:
        self._db.execute(
            "DELETE FROM _cd_delete_queue WHERE kind = ? AND record_id = ?",
            [kind.value, record_id],
        )

    # The inbox and notices.

    def conflicts(self) -> tuple[InboxConflict, ...]:
        return tuple(
            InboxConflict(
                RecordKind(row["kind"]),
                row["record_id"],
                FieldConflict(
                    row["field"],
                    json.loads(row["base"]),
                    json.loads(row["local"]),
                    json.loads(row["server"]),
                ),
                row["server_version"],
            )
            for row in self._rows("SELECT * FROM _cd_conflicts ORDER BY rowid")
        )

    def put_conflict(self, conflict: InboxConflict) -> None:
        clash = conflict.conflict
        self._put(
            "_cd_conflicts",
            {
                "kind": conflict.kind.value,
                "record_id": conflict.record_id,
                "field": clash.field,
                "base": json.dumps(clash.base),
                "local": json.dumps(clash.local),
                "server": json.dumps(clash.server),
                "server_version": conflict.server_version,
            },
        )

    def remove_conflict(self, kind: RecordKind, record_id: str, field: str) -> None:
        self._db.execute(
            "DELETE FROM _cd_conflicts WHERE kind = ? AND record_id = ? AND field = ?",
            [kind.value, record_id, field],
        )

    def notices(self) -> tuple[Notice, ...]:
        return tuple(
            Notice(
                row["notice_id"],
                RecordKind(row["kind"]),
                row["record_id"],
                row["message"],
                json.loads(row["lost_values"]),
                datetime.fromisoformat(row["at"]),
            )
            for row in self._rows("SELECT * FROM _cd_notices ORDER BY notice_id")
        )

    def add_notice(
        self, kind: RecordKind, record_id: str, message: str, values: Values, at: datetime
    ) -> None:
        self._db.execute(
            "INSERT INTO _cd_notices (kind, record_id, message, lost_values, at) "
            "VALUES (?, ?, ?, ?, ?)",
            [kind.value, record_id, message, json.dumps(dict(values)), at.isoformat()],
        )

    def remove_notice(self, notice_id: int) -> None:
        self._db.execute("DELETE FROM _cd_notices WHERE notice_id = ?", [notice_id])

    # Ids.

    def map_id(
        self,
        kind: RecordKind,
        temporary_id: str,
        server_id: str,
        references: Mapping[RecordKind, Mapping[str, RecordKind]],
    ) -> None:
        """The server's id in place of the temporary one: the row's, every reference
        to it in every kind's rows and in the inbox, the delete queue's."""
        self._db.execute(
            f"UPDATE {quoted(kind.value)} SET _cd_id = ? WHERE _cd_id = ?",
            [server_id, temporary_id],
        )
        for referring, fields in references.items():
            for field, referenced in fields.items():
                if referenced is not kind:
                    continue
                column = quoted(checked_field_name(field))
                self._db.execute(
                    f"UPDATE {quoted(referring.value)} SET {column} = ? WHERE {column} = ?",
                    [server_id, temporary_id],
                )
                self._db.execute(
                    "UPDATE _cd_conflicts SET local = ? "
                    "WHERE kind = ? AND field = ? AND local = ?",
                    [
                        json.dumps(server_id),
                        referring.value,
                        field,
                        json.dumps(temporary_id),
                    ],
                )
        for table in ("_cd_delete_queue", "_cd_conflicts", "_cd_notices"):
            self._db.execute(
                f"UPDATE {table} SET record_id = ? WHERE kind = ? AND record_id = ?",
                [server_id, kind.value, temporary_id],
            )
        self._put(
            "_cd_id_map",
            {"temporary_id": temporary_id, "kind": kind.value, "server_id": server_id},
        )

    def mapped_id(self, temporary_id: str) -> str | None:
        found = self._rows(
            "SELECT server_id FROM _cd_id_map WHERE temporary_id = ?", [temporary_id]
        )
        return found[0]["server_id"] if found else None
