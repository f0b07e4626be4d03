"""The replica's server over real HTTP, on SQLite and PostgreSQL: schemas, the change
feed by its cursor, records, batches with a result each; and hostile answers, served by
a mock transport, each refused whole with a message naming what is wrong."""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.connector import serving, token_for
from support.desk_driver import tenant_with_agent

from calldesk.adapters.replica.http_server import HttpReplicaServer
from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.record_batches import MAX_OPERATIONS
from calldesk.domain.record_fields import FieldType
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import FieldConflict
from calldesk.domain.replica_outcomes import OutcomeClass
from calldesk.domain.temporary_ids import temporary_id
from calldesk.ports.replica import (
    BadServerAnswer,
    PulledRecord,
    PulledSchema,
    SendChange,
    SendCreate,
    SendDelete,
    ServerRecord,
    ServerUnreachable,
    SessionExpired,
)

START = datetime(2026, 12, 3, 9, tzinfo=UTC)
CONTACT = RecordKind.CONTACT
ACCOUNT = RecordKind.ACCOUNT


@attrs.frozen
class Server:
    desk: Desk
    replica: HttpReplicaServer
    url: str


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    with Desk.at(database_url) as desk:
        clock = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        secret = token_for(desk, clock, "a-17")["Authorization"].removeprefix("Bearer ")
        with serving(desk, clock) as url, httpx.Client(base_url=url, timeout=10) as http:
            yield Server(desk, HttpReplicaServer(http, lambda: secret), url)


def create(operation_id: str = "op-1", **values: Any) -> SendCreate:
    return SendCreate(CONTACT, operation_id, {"last_name": "Byron", **values})


def made(server: Server, operation: SendCreate) -> ServerRecord:
    (result,) = server.replica.apply([operation])
    assert result.record is not None, result.problem
    return result.record


def test_a_kinds_schema_is_read_with_its_fields(server: Server) -> None:
    schema = server.replica.schema(CONTACT)
    assert schema.kind is CONTACT
    assert schema.version >= 1
    assert schema.field("last_name") is not None
    assert schema.references == {"account": ACCOUNT}
    assert "full_name" in schema.read_only
    account = schema.field("account")
    assert account is not None
    assert account.type is FieldType.REFERENCE


def test_a_created_record_comes_through_the_feed_with_its_cursor(server: Server) -> None:
    record = made(server, create(title="Miss"))
    page = server.replica.changes(after=0, limit=100)
    pulled = [c for c in page.changes if isinstance(c, PulledRecord)]
    assert [p.record for p in pulled] == [record]
    assert page.cursor == page.changes[-1].position
    assert page.more is False
    assert server.replica.changes(after=page.cursor, limit=100).changes == ()


def test_the_feed_pages_by_limit_from_each_cursor(server: Server) -> None:
    ids = [made(server, create(f"op-{n}")).record_id for n in range(3)]
    first = server.replica.changes(after=0, limit=2)
    assert first.more is True
    rest = server.replica.changes(after=first.cursor, limit=2)
    assert rest.more is False
    read = [
        c.record.record_id
        for c in (*first.changes, *rest.changes)
        if isinstance(c, PulledRecord)
    ]
    assert read == ids


def test_a_record_is_read_by_id_and_a_missing_one_is_none(server: Server) -> None:
    record = made(server, create())
    assert server.replica.record(CONTACT, record.record_id) == record
    assert server.replica.record(CONTACT, "003-0000000000000000") is None
    assert server.replica.record(ACCOUNT, record.record_id) is None


def test_a_change_and_a_delete_answer_with_the_record_as_it_now_is(server: Server) -> None:
    record = made(server, create(title="Miss"))
    (changed,) = server.replica.apply(
        [SendChange(CONTACT, record.record_id, 1, {"title": "Countess"})]
    )
    assert changed.outcome is OutcomeClass.APPLIED
    assert changed.record is not None
    assert changed.record.version == 2
    assert changed.record.values["title"] == "Countess"
    (deleted,) = server.replica.apply([SendDelete(CONTACT, record.record_id, 2)])
    assert deleted.record is not None
    assert deleted.record.deleted is True
    gone = server.replica.record(CONTACT, record.record_id)
    assert gone is not None
    assert gone.deleted is True
    page = server.replica.changes(after=0, limit=100)
    (tombstone,) = [c for c in page.changes if isinstance(c, PulledRecord)]
    assert tombstone.record.deleted is True


def test_a_conflict_is_a_problem_naming_each_field_with_its_three_values(
    server: Server,
) -> None:
    record = made(server, create(title="Miss"))
    server.replica.apply([SendChange(CONTACT, record.record_id, 1, {"title": "Countess"})])
    (clash,) = server.replica.apply(
        [SendChange(CONTACT, record.record_id, 1, {"title": "Lady"})]
    )
    assert clash.outcome is OutcomeClass.CONFLICT
    assert clash.problem is not None
    assert clash.problem.status == 409
    assert clash.problem.type == "edit-conflict"
    assert clash.problem.conflicts == (
        FieldConflict("title", base="Miss", local="Lady", server="Countess"),
    )


def test_a_refused_create_is_permanent_with_the_servers_message(server: Server) -> None:
    refused, applied = server.replica.apply(
        [SendCreate(CONTACT, "op-bad", {}), create("op-good")]
    )
    assert refused.outcome is OutcomeClass.PERMANENT
    assert refused.problem is not None
    assert refused.problem.type == "record-refused"
    assert "last_name" in refused.problem.detail
    assert applied.outcome is OutcomeClass.APPLIED


def test_a_create_sent_again_with_its_operation_id_answers_the_same_record(
    server: Server,
) -> None:
    first = made(server, create("op-7"))
    assert made(server, create("op-7")) == first


def test_a_ref_names_an_earlier_create_across_the_batches_a_long_sequence_takes(
    server: Server,
) -> None:
    accounts = [
        SendCreate(ACCOUNT, f"a-{n}", {"name": f"Acme {n}"}) for n in range(MAX_OPERATIONS)
    ]
    accounts[-1] = attrs.evolve(accounts[-1], ref="acme")
    contact = create("c-1", account="@acme")
    results = server.replica.apply([*accounts, contact])
    assert len(results) == MAX_OPERATIONS + 1
    assert all(r.outcome is OutcomeClass.APPLIED for r in results)
    account, person = results[-2].record, results[-1].record
    assert account is not None
    assert person is not None
    assert person.values["account"] == account.record_id


def test_a_refused_request_is_a_bad_answer_with_the_servers_detail(
    server: Server,
) -> None:
    with pytest.raises(BadServerAnswer, match="was never given"):
        server.replica.changes(after=10**9, limit=10)


def test_a_stopped_server_is_unreachable(server: Server) -> None:
    with serving(server.desk, PhoneSimulator(START)) as url:
        pass
    with httpx.Client(base_url=url, timeout=2) as http:
        replica = HttpReplicaServer(http, lambda: "whatever")
        with pytest.raises(ServerUnreachable, match="no answer"):
            replica.schema(CONTACT)


def test_a_token_the_server_does_not_take_is_an_expired_session(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        replica = HttpReplicaServer(http, lambda: "not-a-token-of-anyone".ljust(40, "x"))
        with pytest.raises(SessionExpired):
            replica.changes(after=0, limit=10)


# Hostile answers, through a mock transport.

Handler = Callable[[httpx.Request], httpx.Response]


def mocked(handler: Handler, **options: Any) -> HttpReplicaServer:
    http = httpx.Client(
        base_url="http://calldesk.test", transport=httpx.MockTransport(handler)
    )
    return HttpReplicaServer(http, lambda: "secret", **options)


def answering(body: Any, status: int = 200) -> HttpReplicaServer:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return mocked(lambda _: httpx.Response(status, content=content))


def entry(position: int, record_id: str = "003-a", **changed: Any) -> dict[str, Any]:
    return {
        "position": position,
        "kind": "contact",
        "record_id": record_id,
        "version": 1,
        "deleted": False,
        "values": {"last_name": "Byron"},
        **changed,
    }


def schema_entry(position: int, **changed: Any) -> dict[str, Any]:
    return {
        "position": position,
        "kind": "contact",
        "version": 2,
        "fields": [],
        "retired": ["pager"],
        **changed,
    }


def page(*changes: dict[str, Any], more: bool = False, **changed: Any) -> dict[str, Any]:
    cursor = changes[-1]["position"] if changes else 10
    return {"changes": list(changes), "cursor": cursor, "more": more, **changed}


TEMPORARY = temporary_id(CONTACT, "op-1")
WITHOUT_ID = {k: v for k, v in entry(11).items() if k != "record_id"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (page(WITHOUT_ID), r"required field missing @ \$.changes\[0\]"),
        (page(entry(11, "")), "entry 0 .* has no usable id"),
        (page(entry(11), entry(12)), "entry 1 .* is in the page twice"),
        (page(entry(11, TEMPORARY)), "entry 0 .* which is a device's id"),
        (
            page(entry(11, values={"account": temporary_id(ACCOUNT, "op-2")})),
            "entry 0 .* holds a device's temporary id in account",
        ),
        (page(entry(11, values={"tags": ["a"]})), r"values\['tags'\]"),
        (page(entry(11, values=[["last_name", "B"]])), "expected a dict"),
        (page(entry(11, version=0)), "entry 0 .* at version 0"),
        (
            page(entry(11, version=True)),
            r"expected int, got bool @ \$.changes\[0\].version",
        ),
        (page({**entry(11), "position": "11"}, cursor=11), r"changes\[0\].position"),
        (page(entry(11, kind="invoice")), "'invoice' is not a valid RecordKind"),
        (page(entry(11, owner="me")), r"extra fields found \(owner\)"),
        (
            page(schema_entry(11, retired="pager")),
            r"expected a list, not .pager. @ \$.changes\[0\].retired",
        ),
        (page(entry(12), entry(11, "003-b")), "entry 1 .* position 11, not after 12"),
        (page(entry(10)), "entry 0 .* position 10, not after 10"),
        (page(cursor=9), "cursor 9 goes back from 10"),
        (page(entry(11), cursor=12), "cursor 12 is not its last entry's position 11"),
        (page(more=True), "more follows but holds no change"),
        (
            page(*(entry(11 + n, f"003-{n}") for n in range(1001))),
            "1001 changes, more than the 1000 asked for",
        ),
        (b"<html>Welcome</html>", "not JSON"),
        (b'{"changes": [], "cursor": NaN, "more": false}', "NaN is not a JSON number"),
        (b'{"changes": [], "changes": [], "cursor": 10, "more": false}', "twice"),
        ([], "not a JSON object"),
        (
            {"changes": {}, "cursor": 10, "more": False},
            r"expected a list, not {} @ \$.changes",
        ),
    ],
)
def test_a_hostile_page_is_refused_whole_saying_why(body: Any, says: str) -> None:
    with pytest.raises(BadServerAnswer, match=says):
        answering(body).changes(after=10, limit=1000)


def test_a_page_with_more_entries_than_asked_for_is_refused() -> None:
    body = page(entry(11, "003-a"), entry(12, "003-b"), entry(13, "003-c"))
    with pytest.raises(BadServerAnswer, match="3 changes, more than the 2 asked for"):
        answering(body).changes(after=10, limit=2)


def test_an_answer_larger_than_allowed_is_refused_unread() -> None:
    body = page(*(entry(11 + n, f"003-{n}") for n in range(50)))
    replica = mocked(lambda _: httpx.Response(200, json=body), max_body_bytes=1000)
    with pytest.raises(BadServerAnswer, match="larger than 1000 bytes"):
        replica.changes(after=10, limit=100)
    streamed = mocked(
        lambda _: httpx.Response(200, content=iter([b"[" + b" " * 600] * 3)),
        max_body_bytes=1000,
    )
    with pytest.raises(BadServerAnswer, match="larger than 1000 bytes"):
        streamed.changes(after=10, limit=100)


@pytest.mark.parametrize(
    ("answer", "raised", "says"),
    [
        (httpx.Response(503, text="<html>down</html>"), ServerUnreachable, "503"),
        (httpx.Response(429), ServerUnreachable, "429"),
        (httpx.Response(408), ServerUnreachable, "408"),
        (httpx.Response(401, json={"detail": "token expired"}), SessionExpired, "expired"),
        (httpx.Response(403, json={"detail": "not yours"}), BadServerAnswer, "not yours"),
        (httpx.Response(302, headers={"Location": "/x"}), BadServerAnswer, "302"),
    ],
)
def test_a_whole_request_refused_is_classed_by_its_status(
    answer: httpx.Response, raised: type[Exception], says: str
) -> None:
    with pytest.raises(raised, match=says):
        mocked(lambda _: answer).schema(CONTACT)


def test_a_timeout_is_unreachable() -> None:
    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ServerUnreachable, match="ReadTimeout"):
        mocked(timing_out).apply([create()])


def test_every_request_carries_the_token_as_it_is_now() -> None:
    seen: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json=page())

    tokens = iter(["first", "renewed"])
    http = httpx.Client(
        base_url="http://calldesk.test", transport=httpx.MockTransport(recording)
    )
    replica = HttpReplicaServer(http, lambda: next(tokens))
    replica.changes(after=10, limit=10)
    replica.changes(after=10, limit=10)
    assert seen == ["Bearer first", "Bearer renewed"]


def record_view(record_id: str = "003-a", **changed: Any) -> dict[str, Any]:
    return {
        "tenant": "acme",
        "kind": "contact",
        "record_id": record_id,
        "title": "Byron",
        "version": 1,
        "values": {"last_name": "Byron"},
        "deleted": False,
        "modified_by": {"kind": "agent", "name": "a-17"},
        **changed,
    }


def applied(index: int, **changed: Any) -> dict[str, Any]:
    return {
        "index": index,
        "outcome": "applied",
        "record": record_view(**changed),
        "problem": None,
    }


@pytest.mark.parametrize(
    ("results", "says"),
    [
        ([], "a batch of 1 operations was answered with 0 results"),
        ([applied(0), applied(1)], "answered with 2 results"),
        ([applied(3)], "result 0 of the batch answers operation 3"),
        ([applied(0, record_id=TEMPORARY)], "operation 0 has no usable id"),
        ([applied(0, kind="lead")], "operation 0 came as a lead"),
        (
            [{"index": 0, "outcome": "applied", "record": None, "problem": None}],
            "answered 'applied', with no record and no problem",
        ),
        (
            [
                {
                    "index": 0,
                    "outcome": "refused",
                    "record": None,
                    "problem": {"type": "x", "status": 200, "detail": "?"},
                }
            ],
            "refused with status 200",
        ),
    ],
)
def test_a_batch_answer_that_does_not_answer_each_operation_is_refused(
    results: list[dict[str, Any]], says: str
) -> None:
    body = {"applied": True, "results": results}
    with pytest.raises(BadServerAnswer, match=says):
        answering(body).apply([create()])


def test_a_record_read_by_id_must_be_the_one_asked_for() -> None:
    with pytest.raises(BadServerAnswer, match="came as the record '003-b'"):
        answering(record_view("003-b")).record(CONTACT, "003-a")


# Any page of valid entries passes; any one corruption of an entry is refused, naming it.

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
record_entries = st.builds(
    lambda kind, hexes, version, deleted, values: {
        "kind": kind.value,
        "record_id": f"x-{hexes}",
        "version": version,
        "deleted": deleted,
        "values": values,
    },
    st.sampled_from(RecordKind),
    st.text("0123456789abcdef", min_size=1, max_size=16),
    st.integers(1, 10**6),
    st.booleans(),
    st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), scalars),
)


@st.composite
def valid_pages(draw: st.DrawFn) -> tuple[int, dict[str, Any]]:
    after = draw(st.integers(0, 10**6))
    records = draw(
        st.lists(
            record_entries,
            max_size=20,
            unique_by=lambda each: (each["kind"], each["record_id"]),
        )
    )
    position = after
    changes = []
    for each in records:
        position += draw(st.integers(1, 1000))
        changes.append({"position": position, **each})
    more = draw(st.booleans()) and bool(changes)
    return after, {"changes": changes, "cursor": position, "more": more}


@given(valid_pages())
def test_any_page_of_valid_entries_is_taken_as_it_is(
    drawn: tuple[int, dict[str, Any]],
) -> None:
    after, body = drawn
    taken = answering(body).changes(after=after, limit=1000)
    assert taken.cursor == body["cursor"]
    assert taken.more == body["more"]
    pulled = [c for c in taken.changes if isinstance(c, PulledRecord)]
    assert [(c.position, c.record.record_id, c.record.values) for c in pulled] == [
        (e["position"], e["record_id"], e["values"]) for e in body["changes"]
    ]


CORRUPTIONS: dict[str, Callable[[dict[str, Any], int], None]] = {
    "no id": lambda e, _: e.pop("record_id"),
    "temporary id": lambda e, _: e.update(record_id=TEMPORARY),
    "temporary value": lambda e, _: e["values"].update(ref=TEMPORARY),
    "list value": lambda e, _: e["values"].update(tags=[1]),
    "version 0": lambda e, _: e.update(version=0),
    "position not after the one before": lambda e, before: e.update(position=before),
}


@given(valid_pages(), st.sampled_from(sorted(CORRUPTIONS)), st.data())
def test_any_one_corrupted_entry_refuses_the_page_naming_it(
    drawn: tuple[int, dict[str, Any]], corruption: str, data: st.DataObject
) -> None:
    after, body = drawn
    if not body["changes"]:
        body["changes"].append({"position": after + 1, **data.draw(record_entries)})
        body["cursor"] = after + 1
    index = data.draw(st.integers(0, len(body["changes"]) - 1))
    before = body["changes"][index - 1]["position"] if index else after
    CORRUPTIONS[corruption](body["changes"][index], before)
    with pytest.raises(BadServerAnswer) as refused:
        answering(body).changes(after=after, limit=1000)
    assert f"entry {index} " in str(refused.value) or f"changes[{index}]" in str(
        refused.value
    )


def test_a_schema_change_in_the_feed_is_taken_with_its_fields() -> None:
    field = {
        "name": "fax",
        "label": "Fax",
        "type": "phone",
        "required": False,
        "max_length": None,
        "picklist": [],
        "reference_kind": None,
        "read_only": False,
    }
    body = page(schema_entry(11, fields=[field]), entry(12))
    taken = answering(body).changes(after=10, limit=10)
    schema, record = taken.changes
    assert isinstance(schema, PulledSchema)
    assert schema.schema.field("fax") is not None
    assert schema.schema.retired == ("pager",)
    assert isinstance(record, PulledRecord)
