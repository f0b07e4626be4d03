"""The device's three-way merge against a reference model, field by field, and the
promises of ADR/0024: no local change is lost silently, a field changed on one side
only ends equal on both, and every conflict resolved leaves both sides equal."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.domain.errors import InvalidValue
from calldesk.domain.replica_merge import (
    Choice,
    FieldConflict,
    Resolution,
    merged,
    resolved,
)

FIELDS = ("first_name", "last_name", "title", "email", "full_name")
VALUES = st.sampled_from(["A", "B", "C", 1, True, None])
ROWS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=len(FIELDS))


def reference(was, mine, theirs) -> str:
    """What the seed's resolveThreeWayDiff does with one field (L90), as a table."""
    if mine == was and theirs == was:
        return "unchanged"
    if mine != was and theirs == was:
        return "send"
    if mine == was and theirs != was:
        return "take"
    if mine == theirs:
        return "agreed"
    return "conflict"


def present(row):
    return {field: value for field, value in row.items() if value is not None}


@given(base=ROWS, local=ROWS, server=ROWS)
def test_every_field_is_merged_as_the_reference_model_says(base, local, server):
    merge = merged(base, local, server)
    conflicting = {conflict.field for conflict in merge.conflicts}
    for field in FIELDS:
        was, mine, theirs = base.get(field), local.get(field), server.get(field)
        expected = reference(was, mine, theirs)
        assert (field in merge.to_server) == (expected == "send")
        assert (field in merge.to_device) == (expected == "take")
        assert (field in conflicting) == (expected == "conflict")
        if expected == "send":
            assert merge.to_server[field] == mine
        if expected == "take":
            assert merge.to_device[field] == theirs


@given(base=ROWS, local=ROWS, server=ROWS)
def test_no_local_change_is_lost_silently(base, local, server):
    """Each field the device changed is sent, is already the server's, or is asked."""
    merge = merged(base, local, server)
    conflicting = {conflict.field for conflict in merge.conflicts}
    for field in {*base, *local}:
        if local.get(field) != base.get(field):
            assert (
                field in merge.to_server
                or field in conflicting
                or server.get(field) == local.get(field)
            )
            assert merge.local_after.get(field) == local.get(field)


@given(base=ROWS, local=ROWS, server=ROWS)
def test_every_field_but_the_conflicts_ends_equal_on_both_sides(base, local, server):
    merge = merged(base, local, server)
    server_after = present({**server, **merge.to_server})
    conflicting = {conflict.field for conflict in merge.conflicts}
    for field in set(FIELDS) - conflicting:
        assert server_after.get(field) == merge.local_after.get(field)


@given(base=ROWS, local=ROWS, server=ROWS, data=st.data())
def test_resolving_every_conflict_leaves_both_sides_equal(base, local, server, data):
    merge = merged(base, local, server)
    server_after = {**server, **merge.to_server}
    local_after = dict(merge.local_after)
    for conflict in merge.conflicts:
        choice = data.draw(st.sampled_from(Choice))
        value = data.draw(VALUES) if choice is Choice.NEW_VALUE else None
        field = resolved(conflict, Resolution(choice, value))
        local_after[field.field] = field.value
        if field.send:
            server_after[field.field] = field.value
    assert present(server_after) == present(local_after)


@given(base=ROWS, server=ROWS)
def test_a_row_unchanged_on_the_device_takes_the_servers_and_sends_nothing(base, server):
    merge = merged(base, base, server)
    assert merge.settled
    assert merge.local_after == present(server)


@given(base=ROWS, local=ROWS)
def test_a_row_unchanged_on_the_server_sends_the_devices_changes(base, local):
    merge = merged(base, local, base)
    assert not merge.conflicts
    assert not merge.to_device
    assert present({**base, **merge.to_server}) == present(local)


@given(base=ROWS, local=ROWS, server=ROWS)
def test_swapping_the_sides_swaps_what_goes_where(base, local, server):
    there, back = merged(base, local, server), merged(base, server, local)
    assert there.to_server == back.to_device
    assert there.to_device == back.to_server
    assert [(c.field, c.local, c.server) for c in there.conflicts] == [
        (c.field, c.server, c.local) for c in back.conflicts
    ]


@given(base=ROWS, local=ROWS, server=ROWS)
def test_the_servers_own_fields_are_never_sent_nor_asked(base, local, server):
    merge = merged(base, local, server, read_only=("full_name",))
    assert "full_name" not in merge.to_server
    assert "full_name" not in {conflict.field for conflict in merge.conflicts}
    assert merge.local_after.get("full_name") == server.get("full_name")


def test_fields_changed_on_different_sides_both_survive():
    base = {"last_name": "Lovelace", "title": "Analyst", "email": "ada@example.com"}
    local = {**base, "title": "Countess"}
    server = {**base, "email": "ada@lovelace.org"}
    merge = merged(base, local, server)
    assert merge.to_server == {"title": "Countess"}
    assert merge.to_device == {"email": "ada@lovelace.org"}
    assert merge.local_after == {**base, "title": "Countess", "email": "ada@lovelace.org"}


def test_the_same_field_changed_to_the_same_value_is_no_conflict():
    merge = merged({"title": "Analyst"}, {"title": "Countess"}, {"title": "Countess"})
    assert merge.settled
    assert not merge.to_device


def test_the_same_field_changed_to_different_values_is_asked_with_its_three_values():
    merge = merged({"title": "Analyst"}, {"title": "Countess"}, {"title": "Engineer"})
    assert merge.conflicts == (FieldConflict("title", "Analyst", "Countess", "Engineer"),)
    assert merge.local_after == {"title": "Countess"}  # the person's own, until chosen
    assert not merge.settled


def test_a_field_cleared_on_the_device_is_sent_as_no_value():
    merge = merged({"title": "Analyst"}, {}, {"title": "Analyst"})
    assert merge.to_server == {"title": None}
    assert merge.local_after == {}


@pytest.mark.parametrize(
    ("resolution", "value", "send"),
    [
        (Resolution(Choice.KEEP_LOCAL), "Countess", True),
        (Resolution(Choice.KEEP_SERVER), "Engineer", False),
        (Resolution(Choice.NEW_VALUE, "Ada"), "Ada", True),
        (Resolution(Choice.NEW_VALUE, "Engineer"), "Engineer", False),
    ],
)
def test_a_conflict_is_resolved_by_keeping_either_side_or_a_new_value(
    resolution, value, send
):
    conflict = FieldConflict("title", "Analyst", "Countess", "Engineer")
    field = resolved(conflict, resolution)
    assert (field.field, field.value, field.send) == ("title", value, send)


def test_only_a_new_value_carries_a_value():
    with pytest.raises(InvalidValue, match="only a new value carries a value"):
        Resolution(Choice.KEEP_LOCAL, "Countess")
