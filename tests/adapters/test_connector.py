"""The browser connector over real HTTP, on SQLite and on a real PostgreSQL."""

import gc
import json
from collections.abc import Generator, Iterator
from datetime import UTC, datetime

import attrs
import httpx
import pytest
from support.connector import serving, sse_messages, token_for
from support.desk_driver import tenant_with_agent
from support.telephony import ADA, ADA_NUMBER, StaticDirectory

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.telephony.simulator import Caller, PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.access import Role

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@attrs.frozen
class Connector:
    desk: Desk
    phone: PhoneSimulator
    http: httpx.Client
    ada: dict[str, str]
    alan: dict[str, str]
    boss: dict[str, str]


def connector_on(
    database_url: str, config: ConnectorConfig | None = None
) -> Generator[Connector, None, None]:
    with Desk.at(database_url, directory=StaticDirectory()) as desk:
        phone = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=START))
        desk.attach("acme", phone, phone)
        tokens = (
            token_for(desk, phone, "a-17"),
            token_for(desk, phone, "a-18"),
            token_for(desk, phone, "a-18", Role.SUPERVISOR, supervises=("a-17",)),
        )
        with (
            serving(desk, phone, config) as url,
            httpx.Client(base_url=url, timeout=10) as http,
        ):
            yield Connector(desk, phone, http, *tokens)


@pytest.fixture
def connector(database_url: str) -> Iterator[Connector]:
    yield from connector_on(database_url)


def test_an_agent_works_a_call_through_the_connector(connector: Connector) -> None:
    http, ada = connector.http, connector.ada
    assert http.post("/agents/a-17/login", headers=ada).json()["state"] == "not-ready"
    assert http.post("/agents/a-17/ready", headers=ada).json()["state"] == "available"
    vendor_call = connector.phone.expect(Caller(ADA_NUMBER, "a-17", talks_for=30))
    connector.phone.advance(1)
    (ringing,) = http.get("/agents/a-17/calls", headers=ada).json()
    assert ringing["state"] == "offered"
    assert ringing["screen_pop"][0]["record_id"] == ADA.record_id
    answer = {"kind": "accept", "command_id": "c-1"}
    accepted = http.post(f"/calls/{ringing['call']}/commands", headers=ada, json=answer)
    assert (accepted.status_code, accepted.json()["pending"]) == (202, ["accept"])
    connector.phone.advance(31)
    ended = http.get(f"/calls/{ringing['call']}", headers=ada).json()
    assert ended["state"] == "wrap-up", vendor_call
    wrap = {"disposition": "resolved", "command_id": "w-1", "notes": "all good"}
    closed = http.post(f"/calls/{ringing['call']}/wrap-up", headers=ada, json=wrap).json()
    assert closed["outcome"] == "completed"
    (entry,) = http.get("/agents/a-17/call-log", headers=ada).json()
    assert (entry["disposition"], entry["record"]["title"]) == ("resolved", ADA.title)
    assert (
        http.get("/screen-pop", headers=ada, params={"number": "+44 20 7946 0958"}).json()[
            0
        ]["title"]
        == ADA.title
    )


def test_the_openapi_document_describes_every_route(connector: Connector) -> None:
    document = connector.http.get("/schema/openapi.json").json()
    assert {
        "/agents/{agent}/events",
        "/calls/{call}/commands",
        "/agents/{agent}/dial",
    } <= set(document["paths"])


def problem_of(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == response.status_code
    assert body["detail"]
    return body


BAD_REQUESTS = {
    "no token": (401, lambda c: c.http.post("/agents/a-17/login")),
    "unknown token": (
        401,
        lambda c: c.http.post(
            "/agents/a-17/login", headers={"Authorization": "Bearer " + "z" * 40}
        ),
    ),
    "another agent's token": (
        403,
        lambda c: c.http.post("/agents/a-17/login", headers=c.alan),
    ),
    "a supervisor acting": (
        403,
        lambda c: c.http.post("/agents/a-17/login", headers=c.boss),
    ),
    "foreign host": (
        421,
        lambda c: c.http.post(
            "/agents/a-17/login", headers={**c.ada, "Host": "evil.example"}
        ),
    ),
    "foreign origin": (
        403,
        lambda c: c.http.post(
            "/agents/a-17/login", headers={**c.ada, "Origin": "https://evil.example"}
        ),
    ),
    "malformed json": (
        400,
        lambda c: c.http.post(
            "/agents/a-17/not-ready",
            headers={**c.ada, "Content-Type": "application/json"},
            content=b"{not json",
        ),
    ),
    "wrong type": (
        400,
        lambda c: c.http.post("/agents/a-17/not-ready", headers=c.ada, json={"reason": 5}),
    ),
    "unknown reason": (
        404,
        lambda c: c.http.post(
            "/agents/a-17/not-ready", headers=c.ada, json={"reason": "nap"}
        ),
    ),
    "huge body": (
        413,
        lambda c: c.http.post(
            "/agents/a-17/not-ready", headers=c.ada, json={"reason": "x" * 100_000}
        ),
    ),
    "unknown call": (
        404,
        lambda c: c.http.post(
            "/calls/00000000-0000-0000-0000-000000000000/commands",
            headers=c.ada,
            json={"kind": "hold", "command_id": "c-1"},
        ),
    ),
    "not a call id": (422, lambda c: c.http.get("/calls/c-1", headers=c.ada)),
    "not a phone number": (
        422,
        lambda c: c.http.post(
            "/agents/a-17/dial",
            headers=c.ada,
            json={"number": "call me", "command_id": "d"},
        ),
    ),
    "bad last-event-id": (
        422,
        lambda c: c.http.get(
            "/agents/a-17/events", headers={**c.ada, "Last-Event-ID": "x"}
        ),
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=str)
def test_bad_requests_get_a_problem_document_and_change_nothing(
    connector: Connector, case: str
) -> None:
    status, send = BAD_REQUESTS[case]
    head = connector.desk.head()
    response = send(connector)
    assert response.status_code == status, response.text
    problem_of(response)
    assert connector.desk.head() == head


def events_after(c: Connector, last_seen: int | None, count: int) -> list[dict[str, str]]:
    headers = {**c.ada} if last_seen is None else {**c.ada, "Last-Event-ID": str(last_seen)}
    received = []
    with c.http.stream("GET", "/agents/a-17/events", headers=headers) as response:
        for message in sse_messages(response):
            received.append(message)
            if len(received) == count:
                break
    return received


def test_a_new_stream_starts_with_the_softphone_state(connector: Connector) -> None:
    connector.http.post("/agents/a-17/login", headers=connector.ada)
    (first,) = events_after(connector, None, 1)
    assert first["event"] == "snapshot"
    assert json.loads(first["data"])["state"]["agent"]["state"] == "not-ready"
    assert int(first["id"]) == connector.desk.head()


def test_a_stream_resumed_by_id_gets_exactly_what_it_missed_in_order(
    connector: Connector,
) -> None:
    http, ada = connector.http, connector.ada
    http.post("/agents/a-17/login", headers=ada)
    (seen,) = events_after(connector, None, 1)
    http.post("/agents/a-17/ready", headers=ada)
    http.post("/agents/a-17/not-ready", headers=ada, json={"reason": "lunch"})
    http.post("/agents/a-18/login", headers=connector.alan)  # not Ada's: never sent to her
    http.post("/agents/a-17/ready", headers=ada)
    missed = events_after(connector, int(seen["id"]), 3)
    ids = [int(m["id"]) for m in missed]
    assert ids == sorted(set(ids))
    assert ids[0] > int(seen["id"])
    states = [json.loads(m["data"])["state"]["agent"]["state"] for m in missed]
    assert [m["event"] for m in missed] == ["calldesk.agent.StatusPicked"] * 3
    assert states[-1] == "available"
    again = events_after(connector, ids[0], 2)
    assert [int(m["id"]) for m in again] == ids[1:]


def test_a_supervisor_watches_the_agents_they_supervise_only(connector: Connector) -> None:
    connector.http.post("/agents/a-17/login", headers=connector.ada)
    with connector.http.stream("GET", "/agents/a-17/events", headers=connector.boss) as ok:
        assert ok.status_code == 200
    denied = connector.http.get("/agents/a-18/calls", headers={**connector.ada})
    assert denied.status_code == 403


def test_a_stream_resumes_across_a_restart_of_the_connector(database_url: str) -> None:
    first = connector_on(database_url)
    c = next(first)
    c.http.post("/agents/a-17/login", headers=c.ada)
    (seen,) = events_after(c, None, 1)
    c.http.post("/agents/a-17/ready", headers=c.ada)
    first.close()
    headers = {**c.ada, "Last-Event-ID": seen["id"]}
    with (
        Desk.at(database_url) as desk,
        serving(desk, c.phone) as url,
        httpx.Client(base_url=url, timeout=10) as http,
        http.stream("GET", "/agents/a-17/events", headers=headers) as response,
    ):
        resumed = next(sse_messages(response))
    assert int(resumed["id"]) > int(seen["id"])
    assert json.loads(resumed["data"])["state"]["agent"]["state"] == "available"


def test_serving_leaves_what_was_built_before_out_of_full_collections(
    database_url: str,
) -> None:
    """A full garbage collection of the startup heap paused pushes for 50-70 ms."""
    gc.unfreeze()
    for _ in connector_on(database_url):  # while it serves
        assert gc.get_freeze_count() > 0
