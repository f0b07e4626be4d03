"""Batches of record operations through the application, on SQLite and PostgreSQL: a
result for each, later operations naming records earlier ones made, and all or none."""

from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.clock import Clock
from support.desk_driver import tenant_with_agent

from calldesk.apps.desk import Desk
from calldesk.apps.record_batches import (
    MAX_OPERATIONS,
    ApplyBatch,
    ChangeOperation,
    CreateOperation,
    DeleteOperation,
    Operation,
)
from calldesk.domain.crm_records import Author, EditConflict
from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_schemas import RecordRefused
from calldesk.domain.records import RecordKind

ADA = Author("agent", "a-17")
CONTACT, ACCOUNT = RecordKind.CONTACT, RecordKind.ACCOUNT
ACME_ACCOUNT = CreateOperation(ACCOUNT, {"name": "Acme"}, "op-acct", ref="acct")


@pytest.fixture
def acme(desk: Desk, clock: Clock) -> Desk:
    tenant_with_agent(desk, clock())
    return desk


def batch(
    *operations: Operation, all_or_none: bool = False, tenant: str = "acme"
) -> ApplyBatch:
    return ApplyBatch(
        tenant, operations=operations, by=ADA, all_or_none=all_or_none, at=Clock()()
    )


def test_each_operation_has_its_result_and_names_what_earlier_ones_made(
    acme: Desk,
) -> None:
    result = acme.apply_record_batch(
        batch(
            ACME_ACCOUNT,
            CreateOperation(
                CONTACT, {"last_name": "Byron", "account": "@acct"}, "op-ada", ref="ada"
            ),
            CreateOperation(CONTACT, {"email": "nobody@"}, "op-bad"),
            ChangeOperation(CONTACT, "@ada", 1, {"title": "Countess"}),
            DeleteOperation(ACCOUNT, "@acct", 1),
        )
    )
    outcomes = [r.outcome for r in result.results]
    assert outcomes == ["applied", "applied", "refused", "applied", "applied"]
    account, ada, refused, changed, deleted = result.results
    assert ada.record is not None
    assert account.record is not None
    assert ada.record.values["account"] == account.record.record_id
    assert isinstance(refused.refusal, RecordRefused)
    assert [p.field for p in refused.refusal.problems] == ["email", "last_name"]
    assert changed.record is not None
    assert changed.record.version == 2
    assert deleted.record is not None
    assert deleted.record.deleted
    assert not result.applied


def test_all_or_none_records_nothing_when_one_is_refused(acme: Desk) -> None:
    head = acme.head()
    result = acme.apply_record_batch(
        batch(
            ACME_ACCOUNT,
            CreateOperation(CONTACT, {"last_name": "Byron"}, "op-ada", ref="ada"),
            ChangeOperation(CONTACT, "@ada", 2, {"title": "Countess"}),
            CreateOperation(CONTACT, {"last_name": "King"}, "op-king"),
            all_or_none=True,
        )
    )
    assert [r.outcome for r in result.results] == [
        "rolled-back",
        "rolled-back",
        "refused",
        "not-run",
    ]
    assert isinstance(result.results[2].refusal, InvalidValue)
    assert acme.head() == head
    assert acme.record_changes("acme").changes == ()
    # Not even the desk's cache kept the account: made again, it is recorded anew.
    (again,) = acme.apply_record_batch(batch(ACME_ACCOUNT)).results
    assert again.record is not None
    assert again.record.version == 1
    assert acme.head() > head


def test_all_or_none_records_every_operation_together(acme: Desk) -> None:
    head = acme.head()
    result = acme.apply_record_batch(
        batch(
            ACME_ACCOUNT,
            CreateOperation(CONTACT, {"last_name": "Byron", "account": "@acct"}, "op-1"),
            all_or_none=True,
        )
    )
    assert result.applied
    account = result.results[0].record
    assert account is not None
    assert acme.crm_record("acme", ACCOUNT, account.record_id).values["name"] == "Acme"
    assert acme.head() > head


def test_a_conflict_in_a_batch_is_its_operations_result(acme: Desk) -> None:
    made = acme.apply_record_batch(
        batch(CreateOperation(CONTACT, {"last_name": "Byron", "title": "Miss"}, "op-1"))
    )
    (created,) = made.results
    assert created.record is not None
    record_id = created.record.record_id
    result = acme.apply_record_batch(
        batch(
            ChangeOperation(CONTACT, record_id, 1, {"title": "Countess"}),
            ChangeOperation(CONTACT, record_id, 1, {"title": "Lady"}),
        )
    )
    first, clash = result.results
    assert first.outcome == "applied"
    assert isinstance(clash.refusal, EditConflict)
    assert clash.refusal.conflicts[0].current == "Countess"


@pytest.mark.parametrize(
    ("operations", "says"),
    [
        ((), "a batch holds 1 to 200 operations: 0"),
        ((ACME_ACCOUNT,) * (MAX_OPERATIONS + 1), "a batch holds 1 to 200 operations: 201"),
        ((ACME_ACCOUNT, ACME_ACCOUNT), "a ref is used twice"),
    ],
)
def test_a_batch_too_big_or_naming_a_ref_twice_is_refused_whole(
    acme: Desk, operations: tuple[Operation, ...], says: str
) -> None:
    head = acme.head()
    with pytest.raises(InvalidValue, match=says):
        acme.apply_record_batch(batch(*operations))
    assert acme.head() == head


tenants = count()
operations = st.lists(
    st.one_of(
        st.builds(
            CreateOperation,
            kind=st.just(CONTACT),
            values=st.fixed_dictionaries(
                {"last_name": st.sampled_from(["Byron", "", "King"])}
            ),
            operation_id=st.uuids().map(str),
        ),
        st.builds(
            ChangeOperation,
            kind=st.just(CONTACT),
            record_id=st.sampled_from(["003-a", "003-b"]),
            base_version=st.integers(1, 2),
            values=st.just({"title": "Countess"}),
        ),
    ),
    min_size=1,
    max_size=6,
)


# One store for every example, a tenant of its own for each: nothing is shared.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_an_all_or_none_batch_records_all_its_operations_or_none(
    desk: Desk, operations: list[Operation]
) -> None:
    acme = desk
    tenant = f"t{next(tenants)}"
    tenant_with_agent(acme, Clock()(), tenant=tenant)
    head = acme.head()
    result = acme.apply_record_batch(batch(*operations, all_or_none=True, tenant=tenant))
    changes = acme.record_changes(tenant).changes
    if result.applied:
        created = sum(isinstance(op, CreateOperation) for op in operations)
        assert len(changes) == created
        assert acme.head() > head
    else:
        assert (changes, acme.head()) == ((), head)
        assert [r.outcome for r in result.results].count("refused") == 1
