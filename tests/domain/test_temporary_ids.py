"""Temporary ids can never be server ids, and their mapping reaches every reference."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.domain.errors import InvalidValue
from calldesk.domain.records import RecordKind, checked_record_id
from calldesk.domain.temporary_ids import (
    CreatedId,
    IdMapping,
    checked_server_id,
    is_temporary_id,
    temporary_id,
    waiting_for,
)

KINDS = st.sampled_from(RecordKind)
OPERATION_IDS = st.text(min_size=1, max_size=64)
CONTACT_REFERENCES = {"account": RecordKind.ACCOUNT}
CASE_REFERENCES = {"contact": RecordKind.CONTACT, "account": RecordKind.ACCOUNT}


def server_accepts(record_id: str) -> bool:
    try:
        checked_record_id(record_id)
    except InvalidValue:
        return False
    return True


@given(kind=KINDS, operation_id=OPERATION_IDS)
def test_the_server_refuses_every_temporary_id_as_a_record_id(kind, operation_id):
    made = temporary_id(kind, operation_id)
    assert is_temporary_id(made)
    assert not server_accepts(made)


@given(record_id=st.text(min_size=1, max_size=80))
def test_no_id_the_server_accepts_looks_temporary(record_id):
    if server_accepts(record_id):
        assert not is_temporary_id(record_id)
        assert checked_server_id(record_id) == record_id


@given(kind=KINDS, operation_id=OPERATION_IDS)
def test_a_temporary_id_is_the_same_for_the_same_operation(kind, operation_id):
    assert temporary_id(kind, operation_id) == temporary_id(kind, operation_id)


@given(kind=KINDS, operations=st.lists(OPERATION_IDS, min_size=2, max_size=20, unique=True))
def test_different_operations_have_different_temporary_ids(kind, operations):
    made = {temporary_id(kind, operation) for operation in operations}
    assert len(made) == len(operations)


def test_the_same_operation_in_two_kinds_has_two_temporary_ids():
    assert temporary_id(RecordKind.CONTACT, "op-1") != temporary_id(
        RecordKind.ACCOUNT, "op-1"
    )


def test_a_temporary_id_starts_with_neither_a_digit_nor_the_batches_reference_mark():
    made = temporary_id(RecordKind.CONTACT, "op-1")
    assert made.startswith("~")
    assert not made[0].isdigit()


@pytest.mark.parametrize("value", ["~abc", "~" + "g" * 64, "003-" + "a" * 61, 7, None])
def test_what_the_device_never_made_is_no_temporary_id(value):
    assert not is_temporary_id(value)


def test_a_server_that_names_a_record_with_a_temporary_id_is_refused():
    with pytest.raises(InvalidValue, match="which is a device's id"):
        checked_server_id(temporary_id(RecordKind.CONTACT, "op-1"))


def test_a_mapping_holds_a_temporary_id_and_a_server_id_only():
    account = temporary_id(RecordKind.ACCOUNT, "op-1")
    with pytest.raises(InvalidValue, match="is no temporary id"):
        CreatedId(RecordKind.ACCOUNT, "001-abc", "001-def")
    with pytest.raises(InvalidValue, match="which is a device's id"):
        CreatedId(RecordKind.ACCOUNT, account, account)


def test_a_created_parent_is_named_in_its_children_and_queued_deletes():
    """A child created offline under a parent created offline (MobileSync iOS #3275)."""
    account = temporary_id(RecordKind.ACCOUNT, "op-1")
    contact = temporary_id(RecordKind.CONTACT, "op-2")
    mapping = IdMapping.of(
        CreatedId(RecordKind.ACCOUNT, account, "001-0123456789abcdef"),
        CreatedId(RecordKind.CONTACT, contact, "003-0123456789abcdef"),
    )
    case = {"subject": "Broken", "contact": contact, "account": account}
    assert mapping.values(case, CASE_REFERENCES) == {
        "subject": "Broken",
        "contact": "003-0123456789abcdef",
        "account": "001-0123456789abcdef",
    }
    assert mapping.record_id(RecordKind.CONTACT, contact) == "003-0123456789abcdef"
    assert mapping.record_id(RecordKind.CONTACT, "003-known") == "003-known"


def test_only_reference_fields_of_the_mapped_kind_are_rewritten():
    account = temporary_id(RecordKind.ACCOUNT, "op-1")
    mapping = IdMapping.of(CreatedId(RecordKind.ACCOUNT, account, "001-0123456789abcdef"))
    row = {"account": account, "title": account}
    assert mapping.values(row, {"account": RecordKind.ACCOUNT})["title"] == account
    assert mapping.values(row, {"account": RecordKind.CONTACT}) == row
    assert mapping.record_id(RecordKind.CONTACT, account) == account


@given(
    operations=st.lists(OPERATION_IDS, min_size=1, max_size=5, unique=True),
    data=st.data(),
)
def test_after_every_parent_is_mapped_no_child_waits(operations, data):
    parents = [temporary_id(RecordKind.ACCOUNT, operation) for operation in operations]
    child = {"last_name": "Lovelace", "account": data.draw(st.sampled_from(parents))}
    assert waiting_for(child, CONTACT_REFERENCES) == {"account": child["account"]}
    mapping = IdMapping.of(
        *(
            CreatedId(RecordKind.ACCOUNT, parent, f"001-{index:016x}")
            for index, parent in enumerate(parents)
        )
    )
    rewritten = mapping.values(child, CONTACT_REFERENCES)
    assert waiting_for(rewritten, CONTACT_REFERENCES) == {}
    assert not any(is_temporary_id(value) for value in rewritten.values())


def test_a_create_without_temporary_references_waits_for_nothing():
    assert waiting_for({"account": "001-known", "title": "~x"}, CONTACT_REFERENCES) == {}
