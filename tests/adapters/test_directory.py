"""The SQLite record directory answers a screen pop as the RecordDirectory port promises."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.telephony import StaticDirectory

from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.phone_numbers import parse_phone_number
from calldesk.domain.errors import InvalidValue
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory import KnownRecord, RecordDirectory
from calldesk.ports.directory_records import (
    Account,
    Case,
    CaseStatus,
    Contact,
    Lead,
    RecordBatch,
)

SWITCHBOARD = PhoneNumber("+16505550100")
ADA_DESK = PhoneNumber("+16505551234")
ADA_MOBILE = PhoneNumber("+14155550123")
GRACE_MOBILE = PhoneNumber("+14155550188")
LEAD_PHONE = PhoneNumber("+12125550147")
UNKNOWN = PhoneNumber("+13125550999")

ACME_RECORDS = RecordBatch(
    accounts=(Account("ACC-1", "Analytical Engines Ltd", SWITCHBOARD),),
    contacts=(
        Contact("CON-1", "Ada Lovelace", "ACC-1", ADA_DESK, ADA_MOBILE, "ada@ae.example"),
        Contact("CON-2", "Charles Babbage", "ACC-1", PhoneNumber(SWITCHBOARD.e164, "12")),
        Contact("CON-3", "Grace Hopper", None, SWITCHBOARD, GRACE_MOBILE),
    ),
    leads=(
        Lead("LEAD-1", "Alan Turing", phone=LEAD_PHONE),
        Lead("LEAD-2", "Joan Clarke", mobile=SWITCHBOARD),
    ),
    cases=(
        Case("CASE-1", "Invoice shows the wrong amount", "CON-1"),
        Case("CASE-2", "Cannot log in", "CON-1", CaseStatus.CLOSED),
        Case("CASE-3", "Engine jams on the third card", "CON-2"),
    ),
)


def ref(kind: RecordKind, record_id: str, title: str) -> RecordRef:
    return RecordRef(kind, record_id, title)


ADA = ref(RecordKind.CONTACT, "CON-1", "Ada Lovelace")
ENGINES = ref(RecordKind.ACCOUNT, "ACC-1", "Analytical Engines Ltd")
WRONG_INVOICE = ref(RecordKind.CASE, "CASE-1", "Invoice shows the wrong amount")


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[SQLiteRecordDirectory]:
    with SQLiteRecordDirectory(tmp_path / "directory.db") as opened:
        opened.add("acme", ACME_RECORDS)
        yield opened


def test_a_record_is_found_by_id_with_its_status_in_its_tenant_only(
    directory: SQLiteRecordDirectory,
) -> None:
    case = directory.record("acme", RecordKind.CASE, "CASE-2")
    assert case == KnownRecord(
        ref(RecordKind.CASE, "CASE-2", "Cannot log in"),
        "closed",
        account="Analytical Engines Ltd",
    )
    assert directory.record("acme", RecordKind.CONTACT, "CON-1") == KnownRecord(
        ADA,
        account="Analytical Engines Ltd",
        numbers=(ADA_DESK, ADA_MOBILE),
        open_cases=(WRONG_INVOICE,),
    )
    assert directory.record("acme", RecordKind.LEAD, "CON-1") is None  # not a lead
    assert directory.record("globex", RecordKind.CONTACT, "CON-1") is None


def test_a_record_is_described_by_what_tells_it_apart(
    directory: SQLiteRecordDirectory,
) -> None:
    """An account and a lead have no account of their own; a contact without an account
    has none; an extension stays beside its number."""
    assert directory.record("acme", RecordKind.ACCOUNT, "ACC-1") == KnownRecord(
        ENGINES, numbers=(SWITCHBOARD,)
    )
    assert directory.record("acme", RecordKind.LEAD, "LEAD-2") == KnownRecord(
        ref(RecordKind.LEAD, "LEAD-2", "Joan Clarke"), numbers=(SWITCHBOARD,)
    )
    babbage = directory.record("acme", RecordKind.CONTACT, "CON-2")
    assert babbage is not None
    assert babbage.numbers == (PhoneNumber(SWITCHBOARD.e164, "12"),)
    grace = directory.record("acme", RecordKind.CONTACT, "CON-3")
    assert grace is not None
    assert (grace.account, grace.open_cases) == (None, ())


def titles(found: tuple[KnownRecord, ...]) -> list[str]:
    return [record.ref.title for record in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ada", ["Ada Lovelace"]),
        ("LOVE", ["Ada Lovelace"]),
        ("a", ["Ada Lovelace", "Alan Turing", "Analytical Engines Ltd"]),
        ("engines", ["Analytical Engines Ltd"]),
        (
            "555-0100",
            ["Charles Babbage", "Grace Hopper", "Joan Clarke", "Analytical Engines Ltd"],
        ),
        ("415", ["Ada Lovelace", "Grace Hopper"]),
        ("+1 415", ["Ada Lovelace", "Grace Hopper"]),
        ("0123", ["Ada Lovelace"]),
        ("ada love", ["Ada Lovelace"]),
        ("love ada", ["Ada Lovelace"]),
        ("ada hopper", []),
        ("41", []),
        ("ovelace", []),
        ("%", []),
        ("_", []),
    ],
)
def test_a_search_finds_the_records_with_numbers_a_name_or_number_names(
    directory: SQLiteRecordDirectory, text: str, expected: list[str]
) -> None:
    """A word of the name starts with the text; a number contains its digits; contacts,
    then leads, then accounts; cases never; LIKE's wildcards match only themselves."""
    assert titles(directory.search("acme", text, 20)) == expected


def test_a_search_finds_the_tenants_records_with_a_number_up_to_its_limit(
    directory: SQLiteRecordDirectory,
) -> None:
    directory.add("acme", RecordBatch(contacts=(Contact("CON-8", "Ada Nonumber", None),)))
    directory.add(
        "globex", RecordBatch(contacts=(Contact("CON-1", "Ada Scorpio", None, UNKNOWN),))
    )
    assert titles(directory.search("acme", "ada", 20)) == ["Ada Lovelace"]
    assert titles(directory.search("globex", "ada", 20)) == ["Ada Scorpio"]
    assert titles(directory.search("globex", "lovelace", 20)) == []
    assert len(directory.search("acme", "a", 2)) == 2
    (found,) = directory.search("acme", "ada", 20)
    assert found == directory.record("acme", RecordKind.CONTACT, "CON-1")


def test_a_record_written_again_is_found_by_what_it_has_now(
    directory: SQLiteRecordDirectory,
) -> None:
    directory.add(
        "acme",
        RecordBatch(
            contacts=(
                Contact("CON-1", "Ada King", None, UNKNOWN),
                Contact("CON-3", "Grace Hopper", None),  # no number any more
            )
        ),
    )
    assert titles(directory.search("acme", "lovelace", 20)) == []
    assert titles(directory.search("acme", "king", 20)) == ["Ada King"]
    assert titles(directory.search("acme", "415", 20)) == []
    assert titles(directory.search("acme", "grace", 20)) == []


def test_a_directory_from_before_searches_files_its_records_when_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "directory.db"
    with SQLiteRecordDirectory(path) as directory:
        directory.add("acme", ACME_RECORDS)
    with closing(sqlite3.connect(path)) as older:
        older.execute("DROP TABLE search_terms")
        older.commit()
    with SQLiteRecordDirectory(path) as directory:
        assert titles(directory.search("acme", "ada", 20)) == ["Ada Lovelace"]
        assert titles(directory.search("acme", "2125550147", 20)) == ["Alan Turing"]


def test_the_static_test_directory_searches_as_the_port_says() -> None:
    """The browser tests' directory keeps the port's contract on its three people."""
    static: RecordDirectory = StaticDirectory()
    assert [r.ref.title for r in static.search("acme", "jones", 20)] == [
        "Bob Jones",
        "Eve Jones",
    ]
    assert [r.ref.title for r in static.search("acme", "eve jo", 20)] == ["Eve Jones"]
    assert [r.ref.title for r in static.search("acme", "555-0142", 20)] == ["Eve Jones"]
    assert [r.ref.title for r in static.search("acme", "650 555 0142", 20)] == ["Eve Jones"]
    assert static.search("acme", "invoice", 20) == ()  # a case has no number
    assert static.search("globex", "jones", 20) == ()
    assert len(static.search("acme", "jones", 1)) == 1


def test_it_is_a_record_directory(directory: SQLiteRecordDirectory) -> None:
    port: RecordDirectory = directory
    assert port.find_by_number("acme", ADA_MOBILE) == (ADA, ENGINES, WRONG_INVOICE)


def test_an_unknown_number_reaches_no_record(directory: SQLiteRecordDirectory) -> None:
    assert directory.find_by_number("acme", UNKNOWN) == ()


def test_a_contacts_number_reaches_the_contact_its_account_and_its_open_cases_only(
    directory: SQLiteRecordDirectory,
) -> None:
    assert directory.find_by_number("acme", ADA_DESK) == (ADA, ENGINES, WRONG_INVOICE)


def test_a_lead_is_found_by_its_number(directory: SQLiteRecordDirectory) -> None:
    assert directory.find_by_number("acme", LEAD_PHONE) == (
        ref(RecordKind.LEAD, "LEAD-1", "Alan Turing"),
    )


def test_a_switchboard_reaches_everyone_on_it_best_first_each_once(
    directory: SQLiteRecordDirectory,
) -> None:
    assert directory.find_by_number("acme", SWITCHBOARD) == (
        ref(RecordKind.CONTACT, "CON-2", "Charles Babbage"),
        ref(RecordKind.CONTACT, "CON-3", "Grace Hopper"),
        ref(RecordKind.LEAD, "LEAD-2", "Joan Clarke"),
        ENGINES,
        ref(RecordKind.CASE, "CASE-3", "Engine jams on the third card"),
    )


def test_a_contact_reached_by_both_its_numbers_is_listed_once(
    directory: SQLiteRecordDirectory,
) -> None:
    directory.add(
        "acme", RecordBatch(contacts=(Contact("CON-9", "Ed", None, UNKNOWN, UNKNOWN),))
    )
    assert directory.find_by_number("acme", UNKNOWN) == (
        ref(RecordKind.CONTACT, "CON-9", "Ed"),
    )


@pytest.mark.parametrize(
    "written",
    [
        "(650) 555-0100",
        "650.555.0100",
        "1-650-555-0100",
        "+1 650 555 0100",
        "001 650 555 0100",
        "+16505550100",
        "650-555-0100 ext. 12",
        "650 555 0100 x 7",
        "+16505550100;ext=12",
    ],
)
def test_every_way_of_writing_a_number_finds_the_same_records(
    directory: SQLiteRecordDirectory, written: str
) -> None:
    region = "DE" if written.startswith("00") else "US"
    found = directory.find_by_number("acme", parse_phone_number(written, region))
    assert found == directory.find_by_number("acme", SWITCHBOARD)
    assert len(found) == 5


def test_another_tenants_records_never_match(directory: SQLiteRecordDirectory) -> None:
    directory.add(
        "globex", RecordBatch(contacts=(Contact("CON-1", "Hank Scorpio", None, UNKNOWN),))
    )
    assert directory.find_by_number("globex", ADA_DESK) == ()
    assert directory.find_by_number("acme", UNKNOWN) == ()
    assert directory.find_by_number("globex", UNKNOWN) == (
        ref(RecordKind.CONTACT, "CON-1", "Hank Scorpio"),
    )
    assert directory.find_by_number("acme", ADA_DESK) == (ADA, ENGINES, WRONG_INVOICE)


def test_a_record_added_again_is_replaced_not_doubled(
    directory: SQLiteRecordDirectory,
) -> None:
    directory.add(
        "acme", RecordBatch(contacts=(Contact("CON-1", "Ada King", None, ADA_DESK),))
    )
    assert directory.find_by_number("acme", ADA_DESK) == (
        ref(RecordKind.CONTACT, "CON-1", "Ada King"),
        WRONG_INVOICE,
    )
    assert directory.find_by_number("acme", ADA_MOBILE) == ()


def test_a_batch_that_fails_part_way_leaves_nothing_behind(
    directory: SQLiteRecordDirectory,
) -> None:
    broken = RecordBatch(
        contacts=(Contact("CON-9", "Ed", None, UNKNOWN),),
        cases=(Case("CASE-9", "No contact", None),),  # type: ignore[arg-type]
    )
    with pytest.raises(sqlite3.IntegrityError):
        directory.add("acme", broken)
    assert directory.find_by_number("acme", UNKNOWN) == ()


def test_records_are_added_only_to_a_well_named_tenant(tmp_path: Path) -> None:
    with SQLiteRecordDirectory(tmp_path / "directory.db") as directory:
        with pytest.raises(InvalidValue, match="a tenant"):
            directory.add("Acme Inc", ACME_RECORDS)
        assert directory.find_by_number("Acme Inc", ADA_DESK) == ()


numbers = st.sampled_from([ADA_DESK, ADA_MOBILE, SWITCHBOARD, UNKNOWN])
people = st.lists(
    st.tuples(
        st.sampled_from(["acme", "globex"]), st.none() | numbers, st.none() | numbers
    ),
    max_size=12,
)


@given(people, numbers)
def test_a_number_finds_exactly_the_tenants_contacts_that_have_it(
    listed: list[tuple[str, PhoneNumber | None, PhoneNumber | None]], number: PhoneNumber
) -> None:
    with SQLiteRecordDirectory(":memory:") as directory:
        for serial, (tenant, phone, mobile) in enumerate(listed):
            contact = Contact(
                f"CON-{serial:02d}", f"Person {serial:02d}", None, phone, mobile
            )
            directory.add(tenant, RecordBatch(contacts=(contact,)))
        expected = tuple(
            ref(RecordKind.CONTACT, f"CON-{serial:02d}", f"Person {serial:02d}")
            for serial, (tenant, phone, mobile) in enumerate(listed)
            if tenant == "acme" and number in (phone, mobile)
        )
        assert directory.find_by_number("acme", number) == expected
