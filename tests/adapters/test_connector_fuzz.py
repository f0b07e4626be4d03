"""Bad input, found by property: the connector's own OpenAPI document drives the requests.

Schemathesis generates requests for every operation the connector describes (valid and
invalid bodies, paths, queries, and methods the document does not list) and sends them
to the ASGI application in-process, with a valid token for a-17 and an allowed Host.
Whatever it sends, the connector must not fail (no 5xx), must refuse with a problem
document (RFC 9457), and must record nothing for a refused request. The streaming
endpoints are left out: a stream never ends.

Random strings almost never name a-17 or a call that exists, so the generated path and
query values are mixed with known ones: the commands then reach the domain and the phone
simulator, not only the guards. What it found is kept at the end as expected failures.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
import schemathesis
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from support.connector import event_stream_paths, token_for
from support.telephony import ADA, ADA_NUMBER, SHARED_NUMBER, desktop

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.telephony.simulator import Caller, PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.app_refusals import SecurityLog
from calldesk.domain.records import RecordKind

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
HOST = "127.0.0.1"
PROBLEM = "application/problem+json"


@attrs.frozen
class Fuzzed:
    desk: Desk
    app: Any
    headers: dict[str, str]
    ringing: str
    known: dict[str, dict[str, list[str]]]


@pytest.fixture
def fuzzed(database_url: str) -> Iterator[Fuzzed]:
    """The `connector` fixture's desk, in-process: one call in wrap-up, one ringing."""
    with desktop(database_url, START) as at_desk:
        desk, phone = at_desk.desk, at_desk.simulator
        desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=START))
        ada = token_for(desk, phone, "a-17")
        token_for(desk, phone, "a-18")
        ended = at_desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=5), talk_first=6)
        ringing = phone.expect(
            Caller(SHARED_NUMBER, "a-17", direct=True, patience=3600, ring_timeout=3600)
        )
        phone.advance(1)
        offered = at_desk.call(ringing).call
        calls = [at_desk.call(ended).call, offered]
        numbers = [ADA_NUMBER, SHARED_NUMBER, "+44 20 7946 0958"]
        known = {
            "path": {
                "agent": ["a-17", "a-18"],
                "call": calls,
                "kind": [kind.value for kind in RecordKind],
                "record_id": [ADA.record_id],
                "app": ["order-lookup", "unknown-app"],
                "agent_handle": ["a-17", "a-18"],
            },
            "query": {"number": numbers},
            "body": {
                "number": numbers,
                "reason": ["lunch", "break"],
                "disposition": ["resolved"],
                "command_id": ["c-1", "c-2"],
            },
        }
        app = create_app(desk, phone, ConnectorConfig(heartbeat_seconds=0.5))
        yield Fuzzed(desk, app, {**ada, "Host": HOST}, offered, known)


def _or_known(known: dict[str, list[str]], values: Any) -> Any:
    """The generated values, each one sometimes swapped for a known good one."""
    if not isinstance(values, dict) or not values:
        return st.just(values)

    def either(name: str, value: Any) -> Any:
        return st.sampled_from([value, *known[name]]) if name in known else st.just(value)

    return st.fixed_dictionaries({name: either(name, v) for name, v in values.items()})


@pytest.fixture
def connector_schema(fuzzed: Fuzzed) -> Any:
    loaded = schemathesis.openapi.from_asgi(
        "/schema/openapi.json", fuzzed.app, headers={"Host": HOST}
    )

    @loaded.hook
    def flatmap_path_parameters(_: Any, path_parameters: Any) -> Any:
        return _or_known(fuzzed.known["path"], path_parameters)

    @loaded.hook
    def flatmap_query(_: Any, query: Any) -> Any:
        return _or_known(fuzzed.known["query"], query)

    @loaded.hook
    def flatmap_body(_: Any, body: Any) -> Any:
        return _or_known(fuzzed.known["body"], body)

    return loaded


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32's fixture loader reads `node._nodeid`, which pytest 9.2 dropped."""
    request.node._nodeid = request.node.nodeid


#: What a refusal may record: the security event of an app's refused handshake.
SECURITY_EVENTS = {"calldesk.app_refusals.Started", SecurityLog.Refused.TOPIC}

#: The routes that answer with a stream of events, left out: a stream never ends.
STREAMS = sorted(event_stream_paths(create_app(Desk.in_memory(), PhoneSimulator(START))))

schema = schemathesis.pytest.from_fixture("connector_schema").exclude(path=STREAMS)


@schema.parametrize()
def test_no_input_makes_the_connector_fail_and_a_refusal_records_nothing(
    case: Any, fuzzed: Fuzzed
) -> None:
    head = fuzzed.desk.head()
    response = case.call(headers=fuzzed.headers)
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500:
        _problem(response)
        recorded = {logged.topic for logged in fuzzed.desk.log.read_after(head, 100)}
        # A refused app's handshake is a security event (ADR/0031), and only that.
        assert recorded <= SECURITY_EVENTS, f"a {response.status_code} recorded {recorded}"


def _problem(response: Any) -> dict[str, Any]:
    """The body of a problem document (RFC 9457), after checking that it is one."""
    content_type = response.headers.get("content-type") or ""
    if isinstance(content_type, list):  # schemathesis keeps every value of a header
        content_type = content_type[0]
    assert content_type.startswith(PROBLEM), (response.status_code, response.text)
    body: dict[str, Any] = json.loads(response.text)
    assert body["status"] == response.status_code, body
    assert body["detail"], body
    return body


# What the property found. Each is left as it is, for whoever owns the connector.


def test_a_second_accept_of_a_ringing_call_is_not_a_server_error(fuzzed: Fuzzed) -> None:
    with TestClient(fuzzed.app, base_url=f"http://{HOST}") as http:

        def accept(command_id: str) -> Any:
            body = {"kind": "accept", "command_id": command_id}
            path = f"/calls/{fuzzed.ringing}/commands"
            return http.post(path, headers=fuzzed.headers, json=body)

        first = accept("c-1")
        assert first.status_code == 202, first.text
        second = accept("c-2")  # before the switch confirms the first
    assert second.status_code < 500, second.text


def test_a_method_not_allowed_says_which_are(fuzzed: Fuzzed) -> None:
    with TestClient(fuzzed.app, base_url=f"http://{HOST}") as http:
        response = http.put("/agents/a-17/login", headers=fuzzed.headers)
    assert response.status_code == 405
    _problem(response)
    assert "POST" in response.headers.get("allow", "").split(", ")
