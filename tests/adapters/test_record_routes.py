"""CRM records over real HTTP, on SQLite and PostgreSQL: created once per operation id,
changed from a base version with conflicts named field by field, the change feed paged
by its cursor, batches with a result each; every refusal a problem document that
changes nothing."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx
import pytest
from support.connector import serving, token_for
from support.desk_driver import tenant_with_agent

from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.desk import Desk

START = datetime(2026, 12, 3, 9, tzinfo=UTC)


@attrs.frozen
class Api:
    desk: Desk
    http: httpx.Client
    ada: dict[str, str]
    globex: dict[str, str]


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    with Desk.at(database_url) as desk:
        clock = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        tenant_with_agent(desk, START, tenant="globex", agent="g-1")
        ada = token_for(desk, clock, "a-17")
        globex = token_for(desk, clock, "g-1", tenant="globex")
        with serving(desk, clock) as url, httpx.Client(base_url=url, timeout=10) as http:
            yield Api(desk, http, ada, globex)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def created(api: Api, operation: str = "op-1", **values: Any) -> dict[str, Any]:
    body = {"operation_id": operation, "values": {"last_name": "Byron", **values}}
    response = api.http.post("/records/contact", headers=api.ada, json=body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def test_a_record_is_created_once_per_operation_and_read_back(api: Api) -> None:
    record = created(api, phone="(650) 555-0142")
    assert record["values"]["phone"] == "+16505550142"
    assert record["modified_by"] == {"kind": "agent", "name": "a-17"}
    again = created(api, phone="(650) 555-0142")
    assert again == record
    shown = api.http.get(f"/records/contact/{record['record_id']}", headers=api.ada)
    assert shown.json() == record


def test_a_conflict_names_each_field_with_its_three_values(api: Api) -> None:
    record = created(api, title="Miss")
    path = f"/records/contact/{record['record_id']}"
    first = {"base_version": 1, "values": {"title": "Countess"}}
    assert api.http.patch(path, headers=api.ada, json=first).json()["version"] == 2
    head = api.desk.head()
    clash = api.http.patch(
        path, headers=api.ada, json={"base_version": 1, "values": {"title": "Lady"}}
    )
    body = problem(clash, 409)
    assert body["type"] == "urn:calldesk:problem:edit-conflict"
    assert body["conflicts"] == [
        {"field": "title", "base": "Miss", "current": "Countess", "proposed": "Lady"}
    ]
    assert api.desk.head() == head


def test_broken_rules_are_named_at_their_fields(api: Api) -> None:
    head = api.desk.head()
    body = {"operation_id": "op-1", "values": {"email": "ada@", "full_name": "Ada"}}
    refused = problem(api.http.post("/records/contact", headers=api.ada, json=body), 422)
    assert refused["type"] == "urn:calldesk:problem:record-refused"
    assert [e["member"] for e in refused["errors"]] == ["email", "full_name", "last_name"]
    assert api.desk.head() == head


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"operation_id": "op", "values": {"tags": ["a"]}}, "values"),
        ({"operation_id": "op", "values": {"last_name": {"a": 1}}}, "values"),
        ({"operation_id": "op", "values": []}, "expected an object"),
        ({"operation_id": "o" * 65, "values": {}}, "at most 64 characters"),
        ({"operation_id": "op", "values": {}, "owner": "me"}, "not a member"),
        ({"values": {}}, "required"),
    ],
)
def test_a_malformed_body_is_refused_naming_its_member(
    api: Api, body: dict[str, Any], says: str
) -> None:
    head = api.desk.head()
    refused = problem(api.http.post("/records/contact", headers=api.ada, json=body), 400)
    assert says in refused["detail"]
    assert api.desk.head() == head


def test_another_tenants_record_looks_missing(api: Api) -> None:
    record = created(api)
    path = f"/records/contact/{record['record_id']}"
    problem(api.http.get(path, headers=api.globex), 404)
    change = {"base_version": 1, "values": {"title": "Countess"}}
    problem(api.http.patch(path, headers=api.globex, json=change), 404)
    assert api.http.get("/record-changes", headers=api.globex).json()["changes"] == []


def test_the_change_feed_pages_by_cursor_and_refuses_one_it_never_gave(api: Api) -> None:
    ids = [created(api, f"op-{n}")["record_id"] for n in range(3)]
    first = api.http.get("/record-changes", headers=api.ada, params={"limit": 2}).json()
    assert [c["record_id"] for c in first["changes"]] == ids[:2]
    assert first["more"] is True
    rest = api.http.get(
        "/record-changes", headers=api.ada, params={"after": first["cursor"]}
    ).json()
    assert [c["record_id"] for c in rest["changes"]] == ids[2:]
    assert rest["more"] is False
    for params in ({"after": 10**9}, {"after": -1}, {"after": "x"}, {"limit": 5000}):
        refused = api.http.get("/record-changes", headers=api.ada, params=params)
        assert refused.status_code in (400, 422), refused.text


def test_a_batch_answers_each_operation_and_all_or_none_records_nothing(api: Api) -> None:
    operations: list[dict[str, Any]] = [
        {
            "op": "create",
            "kind": "account",
            "operation_id": "a",
            "ref": "acme",
            "values": {"name": "Acme"},
        },
        {
            "op": "create",
            "kind": "contact",
            "operation_id": "c",
            "values": {"last_name": "Byron", "account": "@acme"},
        },
        {"op": "create", "kind": "contact", "operation_id": "bad", "values": {}},
    ]
    answer = api.http.post(
        "/record-batches", headers=api.ada, json={"operations": operations}
    ).json()
    assert [r["outcome"] for r in answer["results"]] == ["applied", "applied", "refused"]
    assert answer["results"][2]["problem"]["errors"] == [
        {"member": "last_name", "message": "is required"}
    ]
    head = api.desk.head()
    retried = [{**op, "operation_id": op["operation_id"] + "-2"} for op in operations]
    whole = api.http.post(
        "/record-batches",
        headers=api.ada,
        json={"operations": retried, "all_or_none": True},
    ).json()
    assert [r["outcome"] for r in whole["results"]] == [
        "rolled-back",
        "rolled-back",
        "refused",
    ]
    assert api.desk.head() == head


def test_a_deleted_record_is_restored_and_its_history_is_shown(api: Api) -> None:
    record = created(api)
    path = f"/records/contact/{record['record_id']}"
    gone = api.http.delete(path, headers=api.ada, params={"base_version": 1})
    assert gone.json()["deleted"] is True
    back = api.http.post(path + "/restore", headers=api.ada, json={})
    assert back.json()["deleted"] is False
    history = api.http.get(path + "/history", headers=api.ada).json()
    assert [h["what"] for h in history] == ["created", "deleted", "restored"]
    schema = api.http.get("/schemas/contact", headers=api.ada).json()
    assert schema["fields"][1]["name"] == "last_name"


def test_a_hostile_device_push_is_refused_operation_by_operation_and_records_nothing(
    api: Api,
) -> None:
    ours = created(api)
    theirs_body = {"operation_id": "g-op", "values": {"last_name": "Gauss"}}
    theirs = api.http.post("/records/contact", headers=api.globex, json=theirs_body)
    temporary = "~" + "ab" * 32
    operations: list[dict[str, Any]] = [
        {"op": "change", "kind": "contact", "record_id": ours["record_id"]}
        | {"base_version": 1, "values": {"shoe_size": 44}},
        {"op": "change", "kind": "contact", "record_id": theirs.json()["record_id"]}
        | {"base_version": 1, "values": {"title": "Countess"}},
        {"op": "change", "kind": "contact", "record_id": ours["record_id"]}
        | {"base_version": 7, "values": {"title": "Countess"}},
        {"op": "delete", "kind": "contact", "record_id": ours["record_id"]}
        | {"base_version": 9},
        {"op": "create", "kind": "case", "operation_id": "tmp"}
        | {"values": {"subject": "Billing", "contact": temporary}},
    ]
    head = api.desk.head()
    answer = api.http.post(
        "/record-batches", headers=api.ada, json={"operations": operations}
    )
    results = answer.json()["results"]
    assert [r["outcome"] for r in results] == ["refused"] * len(operations), results
    assert "shoe_size" in str(results[0]["problem"])
    assert results[1]["problem"]["status"] == 404
    assert "version" in str(results[2]["problem"]).lower()
    assert "version" in str(results[3]["problem"]).lower()
    assert results[4]["problem"]["errors"][0]["member"] == "contact"
    assert api.desk.head() == head
    shown = api.http.get(f"/records/contact/{ours['record_id']}", headers=api.ada)
    assert shown.json() == ours


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "change", "kind": "contact", "record_id": "003-x", "values": {}},
        {"op": "create", "kind": "contact", "operation_id": "o", "values": {}, "x": 1},
        {"op": "launch", "kind": "contact", "record_id": "003-x"},
        {"op": "create", "kind": "'; DROP TABLE x; --", "operation_id": "o", "values": {}},
    ],
)
def test_a_malformed_operation_refuses_its_whole_batch(
    api: Api, operation: dict[str, Any]
) -> None:
    head = api.desk.head()
    good = {"op": "create", "kind": "contact", "operation_id": "ok"}
    body = {"operations": [good | {"values": {"last_name": "Byron"}}, operation]}
    refused = api.http.post("/record-batches", headers=api.ada, json=body)
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.desk.head() == head
