"""An agent's console tabs over real HTTP."""

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from support.connector import serving, token_for
from support.desk_driver import tenant_with_agent
from support.telephony import ADA, CASE, StaticDirectory

from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.desk import Desk

START = datetime(2026, 11, 25, 9, tzinfo=UTC)
WORKSPACE = "/agents/a-17/workspace"


def body(record: object) -> dict[str, str]:
    return {"kind": record.kind.value, "record_id": record.record_id, "title": record.title}  # type: ignore[attr-defined]


@pytest.fixture
def http(database_url: str) -> Iterator[tuple[Desk, httpx.Client, dict[str, str]]]:
    with Desk.at(database_url, directory=StaticDirectory()) as desk:
        clock = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        ada = token_for(desk, clock, "a-17")
        with serving(desk, clock) as url, httpx.Client(base_url=url, timeout=10) as client:
            yield desk, client, ada


def test_tabs_open_arrange_and_read_back(
    http: tuple[Desk, httpx.Client, dict[str, str]],
) -> None:
    _, client, ada = http
    opened = client.post(f"{WORKSPACE}/records", json={"record": body(ADA)}, headers=ada)
    assert opened.status_code == 200, opened.text
    child = client.post(
        f"{WORKSPACE}/children",
        json={"record": body(CASE), "parent": body(ADA)},
        headers=ada,
    ).json()
    [tab] = child["tabs"]
    assert [s["record"]["record_id"] for s in tab["subtabs"]] == [
        ADA.record_id,
        CASE.record_id,
    ]
    pinned = client.post(
        f"{WORKSPACE}/tabs/{tab['tab_id']}/actions", json={"action": "pin"}, headers=ada
    ).json()
    assert pinned["tabs"][0]["pinned"] is True
    assert client.get(WORKSPACE, headers=ada).json() == pinned


@pytest.mark.parametrize(
    ("case", "path", "payload", "status"),
    [
        ("an unknown tab", "/tabs/t99/actions", {"action": "focus"}, 404),
        ("an unknown action", "/tabs/t1/actions", {"action": "explode"}, 400),
        ("a limit of zero", "/limit", {"limit": 0}, 422),
        ("not a page address", "/pages", {"url": "javascript:alert(1)"}, 422),
    ],
)
def test_bad_requests_get_a_problem_and_change_nothing(
    http: tuple[Desk, httpx.Client, dict[str, str]],
    case: str,
    path: str,
    payload: dict[str, object],
    status: int,
) -> None:
    desk, client, ada = http
    client.post(f"{WORKSPACE}/records", json={"record": body(ADA)}, headers=ada)
    head = desk.head()
    method = "PUT" if path == "/limit" else "POST"
    answer = client.request(method, f"{WORKSPACE}{path}", json=payload, headers=ada)
    assert answer.status_code == status, (case, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    assert desk.head() == head
