"""CRM records through the application, on SQLite and PostgreSQL: created once per
client operation, checked field by field before anything is recorded, changed by a
three-way merge, deleted and restored, with a history of who changed what."""

from itertools import count

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from support.clock import Clock
from support.desk_driver import tenant_with_agent
from support.record_model import Conflicted, Gone, ReferenceRecord, Values
from support.telephony import ADA as STATIC_ADA
from support.telephony import StaticDirectory

from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.records import (
    AddField,
    ChangeRecord,
    CreateRecord,
    DeleteRecord,
    ImportRecords,
    ImportRow,
    ImportSummary,
    RecordView,
    RestoreRecord,
    RetireField,
    RowRefused,
)
from calldesk.apps.tenancy import SetDefaultRegion
from calldesk.apps.workspaces import OpenRecord
from calldesk.domain.crm_records import Author, DeleteConflict, EditConflict, FieldConflict
from calldesk.domain.errors import AlreadyExists, NotFound, Refused
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.record_schemas import FieldProblem, RecordRefused
from calldesk.domain.records import RecordKind

ADA = Author("agent", "a-17")
TABLET = Author.of_device("a-17", "tablet-1")
CONTACT, ACCOUNT = RecordKind.CONTACT, RecordKind.ACCOUNT


@pytest.fixture
def acme(desk: Desk, clock: Clock) -> Desk:
    tenant_with_agent(desk, clock())
    return desk


def create(
    desk: Desk, clock: Clock, kind: RecordKind, operation: str, **values: object
) -> RecordView:
    return desk.create_record(
        CreateRecord(
            "acme",
            kind=kind,
            values=values,  # type: ignore[arg-type]
            operation_id=operation,
            by=ADA,
            at=clock.advance(),
        )
    )


def change(
    desk: Desk,
    clock: Clock,
    view: RecordView,
    base: int,
    by: Author = ADA,
    **values: FieldValue,
) -> RecordView:
    return changed(desk, clock, view, base, values, by)


def changed(
    desk: Desk, clock: Clock, view: RecordView, base: int, values: Values, by: Author
) -> RecordView:
    command = ChangeRecord(
        "acme",
        kind=view.kind,
        record_id=view.record_id,
        base_version=base,
        values=values,
        by=by,
        at=clock.advance(),
    )
    return desk.change_record(command)


def test_a_record_is_created_once_per_client_operation(acme: Desk, clock: Clock) -> None:
    first = create(acme, clock, CONTACT, "op-1", first_name="Ada", last_name="Lovelace")
    assert first.record_id.startswith("003-")
    assert first.values["full_name"] == "Ada Lovelace"
    assert first.version == 1
    change(acme, clock, first, 1, title="Countess")
    head = acme.head()

    retried = create(acme, clock, CONTACT, "op-1", first_name="Ada", last_name="Lovelace")

    assert retried == first  # the first answer, not a second record
    assert acme.head() == head
    other = create(acme, clock, CONTACT, "op-2", first_name="Ada", last_name="Lovelace")
    assert other.record_id != first.record_id


def test_an_imported_id_that_exists_is_refused(acme: Desk, clock: Clock) -> None:
    command = CreateRecord(
        "acme",
        kind=ACCOUNT,
        values={"name": "Analytical Engines"},
        operation_id="import-1",
        by=Author("import", "csv"),
        record_id="001-ae",
        at=clock(),
    )
    acme.create_record(command)
    with pytest.raises(AlreadyExists, match="account 001-ae already exists"):
        acme.create_record(
            CreateRecord(
                "acme",
                kind=ACCOUNT,
                values={"name": "Other"},
                operation_id="import-2",
                by=Author("import", "csv"),
                record_id="001-ae",
                at=clock(),
            )
        )


def test_phone_numbers_are_read_in_the_tenants_region(acme: Desk, clock: Clock) -> None:
    us = create(acme, clock, CONTACT, "op-1", last_name="Byron", phone="(650) 555-0142")
    assert us.values["phone"] == "+16505550142"
    acme.set_default_region(SetDefaultRegion("acme", region="GB", at=clock()))
    gb = create(acme, clock, CONTACT, "op-2", last_name="Babbage", phone="020 7946 0958")
    assert gb.values["phone"] == "+442079460958"


def test_every_broken_rule_is_named_at_its_field_and_nothing_is_recorded(
    acme: Desk, clock: Clock
) -> None:
    head = acme.head()
    with pytest.raises(RecordRefused) as refused:
        create(
            acme,
            clock,
            CONTACT,
            "op-1",
            phone="555",
            email="ada@",
            account="001-nowhere",
            full_name="Ada",
            shoe_size=38,
        )
    assert [problem.field for problem in refused.value.problems] == [
        "phone",
        "email",
        "account",
        "full_name",
        "shoe_size",
        "last_name",
    ]
    assert FieldProblem("account", "no account 001-nowhere in this tenant") in (
        refused.value.problems
    )
    assert acme.head() == head


def test_a_reference_names_a_record_of_the_same_tenant(acme: Desk, clock: Clock) -> None:
    tenant_with_agent(acme, clock(), tenant="globex", agent="g-1")
    theirs = acme.create_record(
        CreateRecord(
            "globex",
            kind=ACCOUNT,
            values={"name": "Globex"},
            operation_id="op-1",
            by=Author("agent", "g-1"),
            at=clock(),
        )
    )
    ours = create(acme, clock, ACCOUNT, "op-1", name="Analytical Engines")
    ada = create(acme, clock, CONTACT, "op-2", last_name="Byron", account=ours.record_id)
    assert ada.values["account"] == ours.record_id
    with pytest.raises(RecordRefused, match=f"no account {theirs.record_id} in this"):
        create(acme, clock, CONTACT, "op-3", last_name="Byron", account=theirs.record_id)
    with pytest.raises(NotFound, match=f"no account {theirs.record_id} in tenant acme"):
        acme.crm_record("acme", ACCOUNT, theirs.record_id)


def test_a_clash_names_base_current_and_proposed_and_other_fields_merge(
    acme: Desk, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, "op-1", last_name="Byron", title="Miss")
    change(acme, clock, ada, 1, by=TABLET, title="Countess")
    merged = change(acme, clock, ada, 1, email="ada@ae.org")
    assert (merged.version, merged.values["title"], merged.values["email"]) == (
        3,
        "Countess",
        "ada@ae.org",
    )
    head = acme.head()
    with pytest.raises(EditConflict) as clash:
        change(acme, clock, ada, 1, title="Lady")
    assert clash.value.conflicts == (FieldConflict("title", "Miss", "Countess", "Lady"),)
    assert acme.head() == head
    assert acme.crm_record("acme", CONTACT, ada.record_id) == merged


def test_a_record_is_deleted_from_what_was_seen_and_restored(
    acme: Desk, clock: Clock
) -> None:
    ada = create(acme, clock, CONTACT, "op-1", last_name="Byron")
    change(acme, clock, ada, 1, title="Countess")
    stale = DeleteRecord(
        "acme", kind=CONTACT, record_id=ada.record_id, base_version=1, by=ADA, at=clock()
    )
    with pytest.raises(DeleteConflict, match="title changed since"):
        acme.delete_record(stale)
    deleted = acme.delete_record(
        DeleteRecord(
            "acme",
            kind=CONTACT,
            record_id=ada.record_id,
            base_version=2,
            by=ADA,
            at=clock(),
        )
    )
    assert deleted.deleted
    with pytest.raises(Refused, match="is deleted; restore it first"):
        change(acme, clock, ada, 3, title="Lady")
    restored = acme.restore_record(
        RestoreRecord("acme", kind=CONTACT, record_id=ada.record_id, by=ADA, at=clock())
    )
    assert (restored.deleted, restored.values["title"]) == (False, "Countess")


def test_the_history_says_who_changed_which_field_when(acme: Desk, clock: Clock) -> None:
    ada = create(acme, clock, CONTACT, "op-1", last_name="Byron")
    changed_at = clock.advance(60)
    acme.change_record(
        ChangeRecord(
            "acme",
            kind=CONTACT,
            record_id=ada.record_id,
            base_version=1,
            values={"last_name": "Lovelace", "title": "Countess"},
            by=TABLET,
            at=changed_at,
        )
    )
    created, edited = acme.record_history("acme", CONTACT, ada.record_id)
    assert (created.what, created.by, created.version) == ("created", ADA, 1)
    assert [(c.field, c.old, c.new) for c in created.changes] == [
        ("last_name", None, "Byron")
    ]
    assert (edited.what, edited.by, edited.at) == ("changed", TABLET, changed_at)
    assert [(c.field, c.old, c.new) for c in edited.changes] == [
        ("last_name", "Byron", "Lovelace"),
        ("title", None, "Countess"),
    ]


def test_a_tenants_own_field_takes_values_and_a_retired_one_shows_none(
    acme: Desk, clock: Clock
) -> None:
    tier = FieldDefinition("tier", "Tier", FieldType.PICKLIST, picklist=("Gold", "Silver"))
    schema = acme.add_field(AddField("acme", kind=CONTACT, definition=tier, at=clock()))
    assert schema.fields[-1] == tier
    gold = create(acme, clock, CONTACT, "op-1", last_name="Byron", tier="Gold")
    assert gold.values["tier"] == "Gold"
    with pytest.raises(RecordRefused, match="field tier: is one of Gold, Silver"):
        create(acme, clock, CONTACT, "op-2", last_name="Byron", tier="Bronze")
    acme.retire_field(RetireField("acme", kind=CONTACT, name="tier", at=clock()))
    assert "tier" not in acme.crm_record("acme", CONTACT, gold.record_id).values
    assert acme.record_schema("acme", CONTACT).retired == ("tier",)


#: Changes the schema takes: the last name is required, an email is an address.
PROPOSED = st.fixed_dictionaries(
    {},
    optional={
        "last_name": st.sampled_from(["Byron", "Lovelace"]),
        "first_name": st.sampled_from(["Ada", "Augusta", None]),
        "title": st.sampled_from(["Countess", "Lady", None]),
        "email": st.sampled_from(["ada@ae.org", "ada@example.com", None]),
    },
)
FIELDS = ("last_name", "first_name", "title", "email")


class RecordThroughTheStore(RuleBasedStateMachine):
    """Changes from any version, through the application and its store, against the
    reference model; a refusal records nothing."""

    desk: Desk
    operations = count()

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.model = ReferenceRecord.created({"last_name": "Byron"})
        operation = f"op-{next(self.operations)}"
        self.view = create(self.desk, self.clock, CONTACT, operation, last_name="Byron")

    @rule(data=st.data(), proposed=PROPOSED)
    def change(self, data: st.DataObject, proposed: Values) -> None:
        base = data.draw(st.integers(1, self.model.version), label="base")
        expected = self.model.change(base, proposed)
        head = self.desk.head()
        if isinstance(expected, Gone):
            with pytest.raises(Refused):
                changed(self.desk, self.clock, self.view, base, proposed, ADA)
        elif isinstance(expected, Conflicted):
            with pytest.raises(EditConflict) as clash:
                changed(self.desk, self.clock, self.view, base, proposed, ADA)
            assert clash.value.conflicts == expected.conflicts
        else:
            changed(self.desk, self.clock, self.view, base, proposed, ADA)
            assert (self.desk.head() > head) == bool(expected.fields)
            return
        assert self.desk.head() == head

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        base = data.draw(st.integers(1, self.model.version), label="base")
        expected = self.model.delete(base)
        command = DeleteRecord(
            "acme",
            kind=CONTACT,
            record_id=self.view.record_id,
            base_version=base,
            by=ADA,
            at=self.clock.advance(),
        )
        if isinstance(expected, tuple):
            with pytest.raises(DeleteConflict):
                self.desk.delete_record(command)
        else:
            assert self.desk.delete_record(command).deleted

    @rule()
    def restore(self) -> None:
        self.model.restore()
        command = RestoreRecord(
            "acme", kind=CONTACT, record_id=self.view.record_id, by=ADA, at=self.clock()
        )
        assert not self.desk.restore_record(command).deleted

    @invariant()
    def the_stored_record_is_the_models(self) -> None:
        stored = self.desk.crm_record("acme", CONTACT, self.view.record_id)
        shown = {k: v for k, v in stored.values.items() if k in FIELDS}
        assert (stored.version, shown, stored.deleted) == (
            self.model.version,
            self.model.values,
            self.model.deleted,
        )


def test_a_record_follows_the_reference_model_through_the_store(acme: Desk) -> None:
    machine = type("Machine", (RecordThroughTheStore,), {"desk": acme})
    run_state_machine_as_test(machine)


def test_an_import_records_the_good_rows_and_names_each_refused_one(
    acme: Desk, clock: Clock
) -> None:
    importer = Author("import", "crm-export")

    def imported(*rows: ImportRow) -> ImportSummary:
        command = ImportRecords(
            "acme",
            kind=CONTACT,
            rows=rows,
            operation_id="export-7",
            by=importer,
            at=clock(),
        )
        return acme.import_records(command)

    rows = (
        ImportRow(2, {"last_name": "Byron", "phone": "650-555-0142"}, record_id="003-ada"),
        ImportRow(3, {"first_name": "Charles"}),
        ImportRow(4, {"last_name": "Somerville", "email": "mary@"}),
        ImportRow(5, {"last_name": "Babbage"}, record_id="003-ada"),
        ImportRow(6, {"last_name": "Babbage"}),
    )
    summary = imported(*rows)
    assert (summary.created, summary.already_there) == (2, 0)
    assert summary.refused == (
        RowRefused(3, "last_name", "is required"),
        RowRefused(4, "email", "is an email address like ada@example.com, not 'mary@'"),
        RowRefused(5, "id", "an earlier row has id 003-ada too"),
    )
    assert acme.crm_record("acme", CONTACT, "003-ada").values["phone"] == "+16505550142"
    head = acme.head()
    again = imported(*rows)
    assert (again.created, again.already_there) == (0, 3)
    assert acme.head() == head


def test_an_edit_concerns_every_agent_with_the_record_open(
    database_url: str, clock: Clock
) -> None:
    """What the console's record page hears on its stream, to show the edit at once."""
    with Desk.at(database_url, directory=StaticDirectory()) as desk:
        tenant_with_agent(desk, clock())
        desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=clock()))
        ada = desk.create_record(
            CreateRecord(
                "acme",
                kind=CONTACT,
                values={"last_name": "Byron"},
                operation_id="op-1",
                by=ADA,
                record_id=STATIC_ADA.record_id,
                at=clock(),
            )
        )
        desk.open_record(OpenRecord("acme", "a-17", record=STATIC_ADA, at=clock()))
        head = desk.head()
        change(desk, clock, ada, 1, by=Author("agent", "a-18"), title="Countess")
        (heard,) = desk.log.read_concerning("acme", "a-17", head, 10)
        assert heard.topic == "calldesk.crm_record.FieldsChanged"
        assert desk.log.read_concerning("acme", "a-18", head, 10) == []
