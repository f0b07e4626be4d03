"""CRM exports and seeded data become the tenant's records through the same rules as
every create: the good rows recorded, each bad one named by its line, field and reason,
and the directory following the records for the screen pop."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import phonenumbers
import pytest
from support.clock import Clock
from support.desk_driver import tenant_with_agent

from calldesk.adapters.directory.csv_import import import_csv
from calldesk.adapters.directory.seeding import seed_records
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.desk import Desk
from calldesk.apps.records import AddField, RowRefused
from calldesk.domain.errors import InvalidValue, NotFound
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_fields import FieldDefinition, FieldType
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory_records import RecordCounts

CONTACT = RecordKind.CONTACT


@pytest.fixture
def acme(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Desk]:
    with (
        SQLiteRecordDirectory(tmp_path / "directory.db") as directory,
        Desk.at(database_url, directory) as desk,
    ):
        tenant_with_agent(desk, clock())
        yield desk


def write_csv(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ref(kind: RecordKind, record_id: str, title: str) -> RecordRef:
    return RecordRef(kind, record_id, title)


def test_an_export_becomes_records_that_pop_by_their_normalized_numbers(
    acme: Desk, tmp_path: Path, clock: Clock
) -> None:
    export = write_csv(
        tmp_path,
        "\ufeffKind,ID,Name,Phone,Mobile,Account,Email,Contact,Status,Owner",
        'account,ACC-7,"Initech, Inc.",(512) 555-0110,,,,,,Bill',
        "contact,CON-7,Peter Gibbons,512.555.0111 x4,+1 512 555 0199,ACC-7,pg@it.test,,,",
        "lead,LEAD-7,Joanna,,011 44 20 7946 0958,,,,,",
        "case,CASE-7,TPS report cover sheet,,,,,CON-7,open,",
        "case,CASE-8,Stapler missing,,,,,CON-7,closed,",
    )
    totals = import_csv(acme, export, "acme", at=clock.advance)

    assert totals.created == RecordCounts(accounts=1, contacts=1, leads=1, cases=2)
    assert totals.refused == ()
    peter = acme.crm_record("acme", CONTACT, "CON-7")
    assert (peter.values["first_name"], peter.values["last_name"]) == ("Peter", "Gibbons")
    assert peter.values["phone"] == "+15125550111;ext=4"
    assert peter.modified_by.kind == "import"
    assert acme.crm_record("acme", RecordKind.CASE, "CASE-8").values["status"] == "Closed"
    pops = acme.directory.find_by_number
    assert pops("acme", PhoneNumber("+15125550111")) == (
        ref(CONTACT, "CON-7", "Peter Gibbons"),
        ref(RecordKind.ACCOUNT, "ACC-7", "Initech, Inc."),
        ref(RecordKind.CASE, "CASE-7", "TPS report cover sheet"),
    )
    assert pops("acme", PhoneNumber("+442079460958")) == (
        ref(RecordKind.LEAD, "LEAD-7", "Joanna"),
    )


def test_bad_rows_are_left_out_each_named_by_line_field_and_reason(
    acme: Desk, tmp_path: Path, clock: Clock
) -> None:
    export = write_csv(
        tmp_path,
        "kind,id,name,phone,contact,status,email",
        "contact,CON-1,Ada Lovelace,(650) 555-1234,,,",
        "contact,CON-2,Charles Babbage,555-12,,,",
        "contact,CON-3,,(650) 555-1299,,,",
        "case,CASE-1,Engine jams,,CON-404,,",
        "robot,R-1,Marvin,,,,",
        "contact,CON-1,Ada again,,,,",
        "case,CASE-2,Carry fails,,CON-1,Pending,",
        "contact,,Nobody,,,,",
        "lead,LEAD-1,Alan Turing,,,,alan-at-example",
    )
    totals = import_csv(acme, export, "acme", at=clock.advance)

    assert totals.created == RecordCounts(contacts=1)
    refused = {(r.row, r.field): r.reason for r in totals.refused}
    assert sorted(refused) == [
        (3, "phone"),
        (4, "last_name"),
        (5, "contact"),
        (6, "kind"),
        (7, "id"),
        (8, "status"),
        (9, "id"),
        (10, "email"),
    ]
    assert "555-12" in refused[3, "phone"]
    assert refused[5, "contact"] == "no contact CON-404 in this tenant"
    assert refused[7, "id"] == "contact CON-1 is already on line 2"
    assert "New" in refused[8, "status"]  # says which values the picklist has
    assert [r.row for r in totals.refused] == sorted(r.row for r in totals.refused)
    for missing in ("CON-2", "CON-3"):
        with pytest.raises(NotFound):
            acme.crm_record("acme", CONTACT, missing)


def test_the_same_export_again_records_nothing_new(
    acme: Desk, tmp_path: Path, clock: Clock
) -> None:
    export = write_csv(
        tmp_path,
        "kind,id,name,phone,account",
        "account,ACC-1,Analytical Engines,(650) 555-0100,",
        "contact,CON-1,Ada Lovelace,(650) 555-0101,ACC-1",
    )
    import_csv(acme, export, "acme", at=clock.advance)
    head = acme.head()

    again = import_csv(acme, export, "acme", at=clock.advance)

    assert (again.created, again.already_there, again.refused) == (RecordCounts(), 2, ())
    assert acme.head() == head


def test_a_tenants_own_field_is_a_column_read_as_its_type(
    acme: Desk, tmp_path: Path, clock: Clock
) -> None:
    acme.add_field(
        AddField(
            "acme",
            CONTACT,
            FieldDefinition("score", "Score", FieldType.NUMBER),
            at=clock.advance(),
        )
    )
    export = write_csv(
        tmp_path,
        "kind,id,last_name,score,full_name,created_at",
        "contact,CON-1,Lovelace,42,Ignored Name,2001-01-01T00:00:00Z",
        "contact,CON-2,Babbage,lots,,",
    )
    totals = import_csv(acme, export, "acme", at=clock.advance)

    assert totals.refused == (RowRefused(3, "score", "is a number, not 'lots'"),)
    ada = acme.crm_record("acme", CONTACT, "CON-1")
    assert ada.values["score"] == 42
    assert ada.values["full_name"] == "Lovelace"  # the server's, never the file's


def test_the_files_region_reads_its_national_numbers(
    acme: Desk, tmp_path: Path, clock: Clock
) -> None:
    export = write_csv(tmp_path, "kind,id,name,phone", "contact,CON-1,Ada,020 7946 0958")
    in_the_us = import_csv(acme, export, "acme", at=clock.advance)
    assert [r.field for r in in_the_us.refused] == ["phone"]

    in_britain = import_csv(acme, export, "acme", at=clock.advance, region="GB")

    assert in_britain.created.contacts == 1
    assert acme.crm_record("acme", CONTACT, "CON-1").values["phone"] == "+442079460958"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"type,id,full name\ncontact,CON-1,Ada\n", r"line 1 .* missing: kind"),
        (b"kind,id,name\ncontact,CON-1,Ad\xe9\n", "not a UTF-8 CSV file"),
    ],
)
def test_a_file_that_is_no_export_records_nothing(
    acme: Desk, tmp_path: Path, clock: Clock, content: bytes, message: str
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(content)
    head = acme.head()
    with pytest.raises(InvalidValue, match=message):
        import_csv(acme, export, "acme", at=clock.advance)
    assert acme.head() == head


def stored_contacts(path: Path) -> list[tuple[str | None, ...]]:
    """The directory's contacts as another program would read the file."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(
            "SELECT id, name, phone, phone_ext, mobile, account_id FROM contacts "
            "ORDER BY id"
        ).fetchall()


def test_a_seed_records_the_same_realistic_data_every_time(
    tmp_path: Path, clock: Clock
) -> None:
    def seeded(name: str, seed: int) -> list[tuple[str | None, ...]]:
        path = tmp_path / f"{name}.db"
        with (
            SQLiteRecordDirectory(path) as directory,
            Desk.at(f"sqlite:///{tmp_path}/{name}-events.db", directory) as desk,
        ):
            tenant_with_agent(desk, clock())
            totals = seed_records(
                desk, "acme", contacts=300, at=clock.advance, region="GB", seed=seed
            )
            assert totals.created.contacts == 300
            assert 0 < totals.created.leads < totals.created.accounts < 300
            assert totals.refused == ()
            again = seed_records(
                desk, "acme", contacts=300, at=clock.advance, region="GB", seed=seed
            )
            assert again.created == RecordCounts()
        return stored_contacts(path)

    first, again, other = seeded("a", 7), seeded("b", 7), seeded("c", 8)
    assert first == again
    assert first != other
    numbers = [n for row in first for n in (row[2], row[4]) if isinstance(n, str)]
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(n)) for n in numbers)
    assert all(n.startswith("+44") for n in numbers)
    assert len(set(numbers)) < len(numbers), "some people share their company's switchboard"


def test_progress_hears_of_every_row(acme: Desk, tmp_path: Path, clock: Clock) -> None:
    heard: list[tuple[RecordKind, int]] = []
    totals = seed_records(
        acme,
        "acme",
        contacts=40,
        at=clock.advance,
        on_imported=lambda kind, rows: heard.append((kind, rows)),
    )
    assert sum(rows for kind, rows in heard if kind is CONTACT) == 40
    created = totals.created
    assert sum(rows for _, rows in heard) == (
        created.accounts + created.contacts + created.leads + created.cases
    )
