"""A tenant's schema of a kind of record: standard fields, its own, and the values it
takes, every broken rule named at its field."""

from datetime import UTC, datetime

import pytest
from eventsourcing.domain import CanMutateAggregate

from calldesk.domain.errors import InvalidValue, NotFound, Refused
from calldesk.domain.record_fields import FieldDefinition, FieldType
from calldesk.domain.record_schemas import (
    STANDARD_FIELDS,
    FieldProblem,
    RecordRefused,
    RecordSchema,
)
from calldesk.domain.records import RecordKind

AT = datetime(2026, 12, 3, 9, tzinfo=UTC)
TIER = FieldDefinition("tier", "Tier", FieldType.PICKLIST, picklist=("Gold", "Silver"))


def contacts() -> RecordSchema:
    return RecordSchema.create("acme", RecordKind.CONTACT, AT)


def test_every_kind_starts_with_its_standard_fields() -> None:
    for kind, fields in STANDARD_FIELDS.items():
        schema = RecordSchema.create("acme", kind, AT)
        assert list(schema.fields.values()) == list(fields)
    assert contacts().field("last_name").required


def test_a_tenants_field_is_added_changed_and_retired_and_its_name_stays_taken() -> None:
    schema = contacts()
    schema.add_field(TIER, AT)
    relabelled = FieldDefinition(
        "tier", "Service tier", FieldType.PICKLIST, picklist=("Gold", "Silver", "Bronze")
    )
    schema.change_field(relabelled, AT)
    assert schema.field("tier") == relabelled
    schema.retire_field("tier", AT)
    with pytest.raises(NotFound, match="no field 'tier' \\(it was retired\\)"):
        schema.field("tier")
    with pytest.raises(Refused, match="already has or had a field tier"):
        schema.add_field(TIER, AT)
    names = [type(e).__name__ for e in schema.collect_events()]
    assert names == ["Created", "FieldAdded", "FieldChanged", "FieldRetired"]


def test_the_schema_replays_from_its_events_to_the_same_fields() -> None:
    schema = contacts()
    schema.add_field(TIER, AT)
    schema.retire_field("tier", AT)
    replayed = None
    for recorded in schema.collect_events():
        assert isinstance(recorded, CanMutateAggregate)
        replayed = recorded.mutate(replayed)
    assert isinstance(replayed, RecordSchema)
    assert (replayed.fields, replayed.retired) == (schema.fields, ("tier",))


@pytest.mark.parametrize(
    ("change", "refusal", "says"),
    [
        (
            FieldDefinition("last_name", "Surname", FieldType.TEXT),
            Refused,
            "is standard: whether it is required stays",
        ),
        (FieldDefinition("email", "Email", FieldType.TEXT), Refused, "keeps its type"),
        (FieldDefinition("nickname", "Nickname", FieldType.TEXT), NotFound, "no field"),
    ],
)
def test_a_field_keeps_its_type_and_a_standard_one_its_rules(
    change: FieldDefinition, refusal: type[Exception], says: str
) -> None:
    with pytest.raises(refusal, match=says):
        contacts().change_field(change, AT)


def test_only_a_tenants_own_field_is_retired_and_none_is_read_only() -> None:
    schema = contacts()
    with pytest.raises(Refused, match="field email is standard"):
        schema.retire_field("email", AT)
    computed = FieldDefinition("score", "Score", FieldType.NUMBER, read_only=True)
    with pytest.raises(InvalidValue, match="only the server's own fields are read-only"):
        schema.add_field(computed, AT)


def test_values_are_kept_as_their_fields_have_them() -> None:
    kept = contacts().checked(
        {"last_name": "Lovelace", "email": "ada@example.com", "account": "001-ae"},
        creating=True,
    )
    assert kept == {
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "account": "001-ae",
    }


def test_every_broken_rule_is_named_at_its_field_and_nothing_is_kept() -> None:
    schema = contacts()
    schema.add_field(TIER, AT)
    schema.retire_field("tier", AT)
    with pytest.raises(RecordRefused) as refused:
        schema.checked(
            {
                "email": "ada@",
                "full_name": "Ada Lovelace",
                "colour": "blue",
                "tier": "Gold",
            },
            creating=True,
        )
    assert refused.value.problems == (
        FieldProblem("email", "is an email address like ada@example.com, not 'ada@'"),
        FieldProblem("full_name", "is set by the server, never sent"),
        FieldProblem("colour", "is no field of contact"),
        FieldProblem("tier", "was retired"),
        FieldProblem("last_name", "is required"),
    )
    assert str(refused.value).startswith("field email: is an email address")


def test_a_change_need_not_repeat_the_required_fields_but_may_not_empty_them() -> None:
    schema = contacts()
    assert schema.checked({"title": "Countess"}, creating=False) == {"title": "Countess"}
    with pytest.raises(RecordRefused, match="field last_name: is required"):
        schema.checked({"last_name": ""}, creating=False)
