"""The screen-pop directory as a projection of the records, on SQLite and PostgreSQL:
a record created, edited, deleted or restored pops (or stops popping) on the very next
lookup, whichever process wrote it; the directory made again from the log alone answers
as the one kept in step did."""

from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.clock import Clock
from support.desk_driver import tenant_with_agent

from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.desk import Desk
from calldesk.apps.records import (
    AddField,
    ChangeRecord,
    CreateRecord,
    DeleteRecord,
    RecordView,
    RestoreRecord,
)
from calldesk.domain.crm_records import Author
from calldesk.domain.errors import InvalidValue
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory_records import Contact, RecordBatch

ADA = Author("agent", "a-17")
CONTACT, ACCOUNT, CASE = RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.CASE
DESK_PHONE, MOBILE = PhoneNumber("+16505550101"), PhoneNumber("+16505550102")
operations = count()


@pytest.fixture
def directory_path(tmp_path: Path) -> Path:
    return tmp_path / "directory.db"


@pytest.fixture
def acme(database_url: str, directory_path: Path, clock: Clock) -> Iterator[Desk]:
    with (
        SQLiteRecordDirectory(directory_path) as directory,
        Desk.at(database_url, directory) as desk,
    ):
        tenant_with_agent(desk, clock())
        yield desk


def create(
    desk: Desk, clock: Clock, kind: RecordKind, tenant: str = "acme", **values: str
) -> RecordView:
    return desk.create_record(
        CreateRecord(
            tenant,
            kind=kind,
            values=values,
            operation_id=f"op-{next(operations)}",
            by=ADA,
            at=clock.advance(),
        )
    )


def change(desk: Desk, clock: Clock, view: RecordView, **values: FieldValue) -> RecordView:
    return desk.change_record(
        ChangeRecord(
            "acme",
            kind=view.kind,
            record_id=view.record_id,
            base_version=view.version,
            values=values,
            by=ADA,
            at=clock.advance(),
        )
    )


def ref(view: RecordView) -> RecordRef:
    return RecordRef(view.kind, view.record_id, view.title)


def test_a_new_contact_pops_by_its_numbers_with_its_account_and_open_cases(
    acme: Desk, clock: Clock
) -> None:
    account = create(acme, clock, ACCOUNT, name="Analytical Engines", phone="650 555 0100")
    ada = create(
        acme,
        clock,
        CONTACT,
        first_name="Ada",
        last_name="Lovelace",
        phone="(650) 555-0101",
        mobile="+1 650 555 0102",
        account=account.record_id,
    )
    open_case = create(acme, clock, CASE, subject="Jams on carry", contact=ada.record_id)
    create(acme, clock, CASE, subject="Old one", contact=ada.record_id, status="Closed")

    assert acme.screen_pop("acme", "+16505550101") == (
        ref(ada),
        ref(account),
        ref(open_case),
    )
    assert acme.screen_pop("acme", "+16505550102")[0] == ref(ada)
    assert acme.screen_pop("acme", "+16505550100") == (ref(account),)
    described = acme.directory.record("acme", CONTACT, ada.record_id)
    assert described is not None
    assert described.account == "Analytical Engines"
    assert described.open_cases == (ref(open_case),)


def test_an_edited_number_pops_at_once_by_the_new_number_and_no_longer_by_the_old(
    acme: Desk, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, last_name="Lovelace", phone="+16505550101")
    assert acme.screen_pop("acme", "+16505550101") == (ref(ada),)

    edited = change(acme, clock, ada, phone="+16505550177", first_name="Ada")

    assert acme.screen_pop("acme", "+16505550177") == (ref(edited),)
    assert edited.title == "Ada Lovelace"
    assert acme.screen_pop("acme", "+16505550101") == ()
    assert [r.ref for r in acme.search_directory("acme", "ada love")] == [ref(edited)]


def test_a_deleted_record_stops_popping_and_a_restored_one_pops_again(
    acme: Desk, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, last_name="Lovelace", phone="+16505550101")
    acme.delete_record(
        DeleteRecord(
            "acme", CONTACT, ada.record_id, ada.version, by=ADA, at=clock.advance()
        )
    )
    assert acme.screen_pop("acme", "+16505550101") == ()
    assert acme.search_directory("acme", "lovelace") == ()
    assert acme.directory.record("acme", CONTACT, ada.record_id) is None

    acme.restore_record(
        RestoreRecord("acme", CONTACT, ada.record_id, by=ADA, at=clock.advance())
    )
    assert acme.screen_pop("acme", "+16505550101") == (ref(ada),)


def test_a_case_that_loses_its_contact_or_closes_is_no_longer_a_likely_reason(
    acme: Desk, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, last_name="Lovelace", phone="+16505550101")
    case = create(acme, clock, CASE, subject="Jams", contact=ada.record_id)
    closed = change(acme, clock, case, status="Closed")
    assert acme.screen_pop("acme", "+16505550101") == (ref(ada),)
    change(acme, clock, closed, status="Working", contact=None)
    assert acme.screen_pop("acme", "+16505550101") == (ref(ada),)
    assert acme.directory.record("acme", CASE, case.record_id) is None


def test_another_tenants_records_never_pop(acme: Desk, clock: Clock) -> None:
    tenant_with_agent(acme, clock(), tenant="globex")
    create(
        acme, clock, CONTACT, tenant="globex", last_name="Scorpio", phone=str(DESK_PHONE)
    )
    assert acme.screen_pop("acme", str(DESK_PHONE)) == ()
    assert len(acme.screen_pop("globex", str(DESK_PHONE))) == 1


def test_a_schema_change_in_the_feed_moves_the_directory_on_and_changes_no_row(
    acme: Desk, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, last_name="Lovelace", phone=str(DESK_PHONE))
    acme.add_field(
        AddField(
            "acme",
            CONTACT,
            FieldDefinition("vip", "VIP", FieldType.BOOLEAN),
            at=clock.advance(),
        )
    )
    assert acme.catch_up_directory("acme") == 2
    assert acme.catch_up_directory("acme") == 0
    assert acme.screen_pop("acme", str(DESK_PHONE)) == (ref(ada),)


def test_records_written_by_another_process_pop_on_the_next_lookup(
    acme: Desk, database_url: str, clock: Clock
) -> None:
    assert acme.screen_pop("acme", str(DESK_PHONE)) == ()
    with Desk.at(database_url) as other_process:
        ada = create(
            other_process, clock, CONTACT, last_name="Lovelace", phone=str(DESK_PHONE)
        )
    assert acme.screen_pop("acme", str(DESK_PHONE)) == (ref(ada),)


def test_a_lost_directory_is_made_again_from_the_log(
    acme: Desk, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, last_name="Lovelace", phone=str(DESK_PHONE))
    gone = create(acme, clock, CONTACT, last_name="Babbage", mobile=str(MOBILE))
    acme.delete_record(
        DeleteRecord("acme", CONTACT, gone.record_id, 1, by=ADA, at=clock.advance())
    )
    with (
        SQLiteRecordDirectory(tmp_path / "new.db") as fresh,
        Desk.at(database_url, fresh) as desk,
    ):
        assert desk.screen_pop("acme", str(DESK_PHONE)) == (ref(ada),)
        assert desk.screen_pop("acme", str(MOBILE)) == ()


def test_a_rebuild_drops_rows_that_never_came_from_the_log(
    acme: Desk, directory_path: Path, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, last_name="Lovelace", phone=str(DESK_PHONE))
    assert acme.screen_pop("acme", str(DESK_PHONE)) == (ref(ada),)
    with SQLiteRecordDirectory(directory_path) as beside:  # an old directory's row
        beside.add(
            "acme", RecordBatch(contacts=(Contact("CON-9", "Old Row", None, MOBILE),))
        )
    assert len(acme.screen_pop("acme", str(MOBILE))) == 1

    assert acme.rebuild_directory("acme") == 1

    assert acme.screen_pop("acme", str(MOBILE)) == ()
    assert acme.screen_pop("acme", str(DESK_PHONE)) == (ref(ada),)


def test_a_desk_whose_directory_is_not_a_projection_says_so(
    database_url: str, clock: Clock
) -> None:
    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, clock())
        with pytest.raises(InvalidValue, match="not a projection"):
            desk.rebuild_directory("acme")


#: A few numbers, so that edits often move a number from one contact to another.
NUMBERS = tuple(PhoneNumber(f"+1650555010{n}") for n in range(4))
edits = st.lists(
    st.tuples(
        st.sampled_from(("create", "phone", "mobile", "delete", "restore")),
        st.integers(0, 3),  # which contact
        st.sampled_from((*NUMBERS, None)),
    ),
    max_size=12,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=edits)
def test_every_number_pops_exactly_the_live_contacts_that_have_it(
    tmp_path: Path, clock: Clock, steps: list[tuple[str, int, PhoneNumber | None]]
) -> None:
    """After each step, each number finds the contacts a reference model says have it
    now; and a directory rebuilt from the log agrees."""
    here = tmp_path / f"run-{next(operations)}"
    here.mkdir()
    with (
        SQLiteRecordDirectory(here / "directory.db") as directory,
        Desk.at(f"sqlite:///{here}/calldesk.db", directory) as desk,
    ):
        tenant_with_agent(desk, clock())
        views: dict[int, RecordView] = {}
        model: dict[int, dict[str, PhoneNumber | None]] = {}  # live contacts' numbers
        for action, which, number in steps:
            view = views.get(which)
            if action == "create" and view is None:
                views[which] = create(desk, clock, CONTACT, last_name=f"Person {which}")
                model[which] = {"phone": None, "mobile": None}
            elif action in ("phone", "mobile") and which in model and view is not None:
                views[which] = change(
                    desk, clock, view, **{action: str(number) if number else None}
                )
                model[which][action] = number
            elif action == "delete" and which in model and view is not None:
                views[which] = desk.delete_record(
                    DeleteRecord(
                        "acme",
                        CONTACT,
                        view.record_id,
                        view.version,
                        by=ADA,
                        at=clock.advance(),
                    )
                )
                del model[which]
            elif action == "restore" and view is not None and which not in model:
                views[which] = desk.restore_record(
                    RestoreRecord(
                        "acme", CONTACT, view.record_id, by=ADA, at=clock.advance()
                    )
                )
                model[which] = {
                    field: PhoneNumber.read(str(views[which].values[field]))
                    if views[which].values.get(field)
                    else None
                    for field in ("phone", "mobile")
                }
            for phone in NUMBERS:
                expected = {
                    views[w].record_id
                    for w, numbers in model.items()
                    if phone in numbers.values()
                }
                found = {r.record_id for r in desk.screen_pop("acme", str(phone))}
                assert found == expected
        answers = {phone: desk.screen_pop("acme", str(phone)) for phone in NUMBERS}
        desk.rebuild_directory("acme")
        assert {phone: desk.screen_pop("acme", str(phone)) for phone in NUMBERS} == answers
