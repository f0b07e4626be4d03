"""The device's table group in SQLite: laid out as the seed lays it out, migrated
without losing unsynced values, every name from the server kept out of SQL, one
transaction all or nothing."""

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from calldesk.adapters.replica.sqlite_tables import SQLiteReplicaTables
from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import FieldDefinition, FieldType
from calldesk.domain.records import RecordKind
from calldesk.ports.replica import KindSchema, LocalRow, ServerRecord

CONTACT, ACCOUNT = RecordKind.CONTACT, RecordKind.ACCOUNT
NAME = FieldDefinition("last_name", "Last name", FieldType.TEXT)
ID = FieldDefinition("id", "A tenant's own id", FieldType.TEXT)
VIP = FieldDefinition("vip", "VIP", FieldType.BOOLEAN)
SCORE = FieldDefinition("score", "Score", FieldType.NUMBER)
ACCOUNT_REF = FieldDefinition(
    "account", "Account", FieldType.REFERENCE, reference_kind=ACCOUNT
)


def tables(tmp_path: Path, *fields: FieldDefinition) -> SQLiteReplicaTables:
    made = SQLiteReplicaTables(tmp_path / "replica.sqlite")
    with made.transaction() as group:
        group.store_schema(KindSchema(CONTACT, 1, (NAME, *fields)))
        group.store_schema(KindSchema(ACCOUNT, 1, (NAME,)))
    return made


def test_each_kind_has_the_seeds_tables_and_bookkeeping_that_cannot_collide(
    tmp_path: Path,
) -> None:
    made = tables(tmp_path, ID)
    with made.transaction() as group:
        group.put_row(CONTACT, LocalRow("C-1", 1, 1, {"last_name": "Byron", "id": "42"}))
        assert group.row(CONTACT, "C-1") == LocalRow(
            "C-1", 1, 1, {"last_name": "Byron", "id": "42"}
        )
    names = set(Database(tmp_path / "replica.sqlite").table_names())
    assert {
        "contact",
        "_cd_contact_orig",
        "_cd_contact_pulled",
        "_cd_contact_server_deletes",
        "_cd_create_queue",
        "_cd_delete_queue",
        "_cd_conflicts",
        "_cd_properties",
        "_cd_id_map",
    } <= names


@pytest.mark.parametrize(
    "name",
    ['x" TEXT); DROP TABLE contact; --', "Robert'); DROP TABLE", "_cd_id", "a b", "ÿ"],
)
def test_a_field_name_from_the_server_never_reaches_sql(name: str) -> None:
    with pytest.raises(InvalidValue):
        FieldDefinition(name, "Injected", FieldType.TEXT)


def test_a_new_field_adds_a_column_and_keeps_the_unsynced_values(tmp_path: Path) -> None:
    made = tables(tmp_path)
    edited = LocalRow("C-1", 1, 2, {"last_name": "Lovelace"}, updated=True)
    with made.transaction() as group:
        group.put_row(CONTACT, edited)
        group.put_original(ServerRecord(CONTACT, "C-1", 1, {"last_name": "Byron"}))
    with made.transaction() as group:
        group.store_schema(KindSchema(CONTACT, 2, (NAME, VIP, SCORE)))
        group.put_row(CONTACT, LocalRow("C-2", 1, 1, {"vip": True, "score": 2.5}))
    with made.transaction() as group:
        assert group.row(CONTACT, "C-1") == edited
        assert group.original(CONTACT, "C-1") == ServerRecord(
            CONTACT, "C-1", 1, {"last_name": "Byron"}
        )
        assert group.row(CONTACT, "C-2") == LocalRow(
            "C-2", 1, 1, {"vip": True, "score": 2.5}
        )


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    made = tables(tmp_path)

    def dying() -> None:
        with made.transaction() as group:
            group.put_row(CONTACT, LocalRow("C-1", 1, 1, {"last_name": "Byron"}))
            group.set_property("cursor", 17)
            raise RuntimeError("the device died")

    with pytest.raises(RuntimeError):
        dying()
    with made.transaction() as group:
        assert group.row(CONTACT, "C-1") is None
        assert group.property("cursor") is None


def test_a_server_id_replaces_a_temporary_one_in_every_reference(tmp_path: Path) -> None:
    made = tables(tmp_path, ACCOUNT_REF)
    temporary = "~" + "a" * 64
    with made.transaction() as group:
        group.put_row(ACCOUNT, LocalRow(temporary, 0, 1, {"last_name": "E"}, created=True))
        group.put_row(CONTACT, LocalRow("C-1", 1, 1, {"account": temporary}))
        group.map_id(ACCOUNT, temporary, "A-9", {CONTACT: {"account": ACCOUNT}})
    with made.transaction() as group:
        assert group.row(ACCOUNT, temporary) is None
        assert group.row(ACCOUNT, "A-9") is not None
        row = group.row(CONTACT, "C-1")
        assert row is not None
        assert row.values == {"account": "A-9"}
        assert group.mapped_id(temporary) == "A-9"


def test_another_process_sees_a_transaction_only_once_it_commits(tmp_path: Path) -> None:
    made = tables(tmp_path)
    other = sqlite3.connect(tmp_path / "replica.sqlite")
    with made.transaction() as group:
        group.put_row(CONTACT, LocalRow("C-1", 1, 1, {"last_name": "Byron"}))
        assert other.execute("SELECT count(*) FROM contact").fetchone() == (0,)
    assert other.execute("SELECT count(*) FROM contact").fetchone() == (1,)


def test_the_refused_rows_are_found_by_an_index_not_a_scan(tmp_path: Path) -> None:
    made = tables(tmp_path)
    refused = LocalRow("C-2", 1, 2, {"last_name": "Lovelace"}, error="too long")
    asked: list[str] = []
    with made.transaction() as group:
        group.put_rows(
            CONTACT,
            [LocalRow(f"C-{n}", 1, 1, {"last_name": f"Byron {n}"}) for n in range(5)],
        )
        group.put_row(CONTACT, refused)
        made._db.conn.set_trace_callback(asked.append)
        assert list(group.refused_rows(CONTACT)) == [refused]
        made._db.conn.set_trace_callback(None)
        assert list(group.refused_rows(ACCOUNT)) == []
    (query,) = [sql for sql in asked if sql.startswith("SELECT")]
    plan = sqlite3.connect(tmp_path / "replica.sqlite").execute(
        f"EXPLAIN QUERY PLAN {query}"
    )
    steps = [str(step[3]) for step in plan.fetchall()]
    # Only the partial index of refused rows is read: never every row of the table.
    assert steps == ["SCAN contact USING INDEX _cd_refused_contact"], steps


def test_rows_are_read_by_their_ids_many_at_once(tmp_path: Path) -> None:
    made = tables(tmp_path)
    rows = [LocalRow(f"C-{n}", 1, 1, {"last_name": f"Byron {n}"}) for n in range(1200)]
    with made.transaction() as group:
        group.put_rows(CONTACT, rows)
        wanted = [f"C-{n}" for n in range(0, 1200, 2)] + ["C-none"]
        found = group.rows_of(CONTACT, wanted)
        assert found == {row.record_id: row for row in rows[::2]}
        assert group.rows_of(CONTACT, []) == {}
        assert group.rows_of(ACCOUNT, ["C-1"]) == {}
