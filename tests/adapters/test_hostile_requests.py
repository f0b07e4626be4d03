"""Hostile requests, on every route: each gets a 4xx problem document, checked before
anything else, and records nothing; no input makes the connector answer 5xx.

The routes are read from the application itself, so a route added later is covered by
the same checks (ADR/0015)."""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from support.connector import event_stream_paths, token_for
from support.desk_driver import tenant_with_agent

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.auth import ASKING
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
PROBLEM = "application/problem+json"
ALLOWED_ORIGIN = "https://crm.example"

#: What each path parameter is filled with: names that exist or could, of agent a-17.
PATH_VALUES = {
    "agent": "a-17",
    "call": "00000000-0000-0000-0000-000000000001",
    "kind": "contact",
    "record_id": "r-1",
    "draft": "d-1",
    "tab": "t-1",
    "app": "order-lookup",
    "agent_handle": "a-17",
}

HOSTILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@attrs.frozen
class Console:
    desk: Desk
    app: Litestar
    http: TestClient[Litestar]
    ada: dict[str, str]
    alan: dict[str, str]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """One connector for the module, in process: hypothesis sends it many requests."""
    folder = tmp_path_factory.mktemp("hostile")
    with Desk.at(f"sqlite:///{folder}/calldesk.db") as desk:
        phone = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=START))
        desk.attach("acme", phone, phone)
        ada, alan = token_for(desk, phone, "a-17"), token_for(desk, phone, "a-18")
        config = ConnectorConfig(allowed_origins=(ALLOWED_ORIGIN,))
        app = create_app(desk, phone, config)
        with TestClient(app, base_url="http://127.0.0.1:8765") as http:
            http.post("/agents/a-17/login", headers=ada).raise_for_status()
            yield Console(desk, app, http, ada, alan)


def asking_routes(app: Litestar) -> list[tuple[str, str, bool]]:
    """(method, path, takes a body) of every route that takes a token, from the app."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if ASKING & handler.parsed_fn_signature.parameters.keys():
                path = route.path_format.format(**PATH_VALUES)
                for method in sorted(handler.http_methods):
                    found.append((str(method), path, handler.parsed_data_field is not None))
    return found


def problem_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["detail"]
    return body


def as_bytes(headers: dict[str, str], encoding: str) -> dict[bytes, bytes]:
    """Headers as sent on the wire: httpx takes text headers in ASCII only."""
    return {name.encode(): value.encode(encoding) for name, value in headers.items()}


def json_headers(token: dict[str, str]) -> dict[str, str]:
    return {**token, "Content-Type": "application/json"}


def test_every_route_that_takes_a_token_is_covered(console: Console) -> None:
    routes = asking_routes(console.app)
    assert ("POST", "/agents/a-17/dial", True) in routes
    assert ("GET", "/agents/a-17/events", False) in routes
    assert ("GET", "/agents/a-17/directory", False) in routes
    assert ("GET", f"/calls/{PATH_VALUES['call']}/matches", False) in routes
    assert len(routes) >= 35
    # Sent bodies too, but for the two streams, which never end by themselves.
    streams = {"/agents/{agent}/events", "/record-changes/stream"}
    assert event_stream_paths(console.app) == streams


def test_no_token_is_refused_before_the_body_is_read(console: Console) -> None:
    head = console.desk.head()
    for method, path, _ in asking_routes(console.app):
        response = console.http.request(
            method, path, content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401, (method, path, response.text)
        problem_of(response)
    assert console.desk.head() == head


def test_another_agents_token_is_refused_before_the_body_is_read(
    console: Console,
) -> None:
    """Alan may neither act as Ada nor watch her: 403 on each route of her path, whatever
    the body, before the tenant's phone systems or Ada's state are looked at."""
    head = console.desk.head()
    for method, path, _ in asking_routes(console.app):
        if "/agents/a-17" not in path:
            continue
        response = console.http.request(
            method, path, content=b"[[[", headers=json_headers(console.alan)
        )
        assert response.status_code == 403, (method, path, response.text)
        assert "a-17" in problem_of(response)["detail"]
    assert console.desk.head() == head


@pytest.mark.parametrize(
    ("body", "kind", "said"),
    [
        (b"[" * 5000 + b"]" * 5000, "malformed-body", "deeper than"),
        (b'{"a": ' * 3000 + b"1" + b"}" * 3000, "malformed-body", "deeper than"),
        (
            b'{"reason": "lunch", "reason": "nap"}',
            "malformed-body",
            "'reason' appears twice",
        ),
        (b'{"position": NaN}', "malformed-body", "NaN is not a JSON number"),
        (b"\xff\xfe", "malformed-body", "not JSON"),
    ],
    ids=["deep arrays", "deep objects", "a key twice", "NaN", "not UTF-8"],
)
def test_a_body_that_is_not_json_meaning_one_thing_is_refused_on_every_route(
    console: Console, body: bytes, kind: str, said: str
) -> None:
    head = console.desk.head()
    for method, path, _ in asking_routes(console.app):
        response = console.http.request(
            method, path, content=body, headers=json_headers(console.ada)
        )
        assert response.status_code == 400, (method, path, response.text)
        problem = problem_of(response)
        assert problem["type"].endswith(kind), problem
        assert said in problem["detail"], problem
    assert console.desk.head() == head


def test_a_member_no_body_declares_is_refused_naming_it_on_every_route(
    console: Console,
) -> None:
    """A body naming another tenant (or anything it does not declare) means no command."""
    head = console.desk.head()
    for method, path, takes_body in asking_routes(console.app):
        response = console.http.request(
            method, path, json={"tenant": "globex"}, headers=console.ada
        )
        assert response.status_code == 400, (method, path, response.text)
        members = {fault["member"] for fault in problem_of(response)["errors"]}
        assert ("$.tenant" in members) if takes_body else (members == {"$"})
    assert console.desk.head() == head


@pytest.mark.parametrize(
    ("body", "member", "said"),
    [
        ({"reason": 5}, "$.reason", "expected a string, got a number"),
        ({"reason": ["lunch"]}, "$.reason", "expected a string, got an array"),
        ({}, "$.reason", "required"),
        ([], "$", "expected an object"),
    ],
)
def test_a_member_of_the_wrong_type_is_not_converted_but_refused(
    console: Console, body: object, member: str, said: str
) -> None:
    response = console.http.post("/agents/a-17/not-ready", json=body, headers=console.ada)
    assert response.status_code == 400
    (fault,) = problem_of(response)["errors"]
    assert fault["member"] == member
    assert said in fault["message"]


def test_a_list_of_drafts_is_an_array_not_a_string_of_letters(console: Console) -> None:
    response = console.http.post(
        "/agents/a-17/records/contact/r-1/publisher/publish",
        json={"key": "k-1", "drafts": "d-1", "atomic": 1},
        headers=console.ada,
    )
    assert response.status_code == 400
    faults = {f["member"]: f["message"] for f in problem_of(response)["errors"]}
    assert faults == {
        "$.drafts": "expected an array, got a string",
        "$.atomic": "expected true or false, got a number",
    }


@HOSTILE
@given(
    query=st.dictionaries(
        st.sampled_from(["q", "limit", "tenant", "agent", ""]) | st.text(max_size=8),
        st.text(max_size=80) | st.integers().map(str),
        max_size=4,
    )
)
def test_no_query_makes_the_directory_search_fail_and_a_refused_one_is_a_problem(
    console: Console, query: dict[str, str]
) -> None:
    head = console.desk.head()
    response = console.http.get("/agents/a-17/directory", params=query, headers=console.ada)
    assert response.status_code < 500, (query, response.text)
    if response.status_code >= 400:
        problem_of(response)
    else:
        assert set(query) <= {"q", "limit"}
    assert console.desk.head() == head


def test_an_empty_body_or_an_empty_object_is_what_a_command_without_one_sends(
    console: Console,
) -> None:
    for body in (b"", b"{}", b" {} "):
        response = console.http.post(
            "/agents/a-17/ready", content=body, headers=json_headers(console.ada)
        )
        assert response.status_code == 200, response.text
    console.http.post(
        "/agents/a-17/not-ready", json={"reason": "lunch"}, headers=console.ada
    )


names = st.sampled_from(["127.0.0.1", "localhost", "LocalHost", "[::1]", "evil.example"])
ports = st.one_of(
    st.none(), st.integers(0, 65535).map(str), st.integers(65536, 10**6).map(str)
)
#: Ports that are no port: empty, text, two, followed by more, fullwidth digits.
malformed_ports = st.sampled_from(
    ["", "abc", "80:81", "80x", "80/x", " 80", "\uff18\uff10"]
)


@st.composite
def host_headers(draw: st.DrawFn) -> tuple[str, bool]:
    """A Host header, and whether it names an allowed host with at most a valid port."""
    name, port = draw(names), draw(ports)
    userinfo = draw(st.sampled_from(["", "name@", "a:b@"]))
    malformed = draw(st.one_of(st.none(), malformed_ports))
    header = userinfo + name
    if malformed is not None:
        header += ":" + malformed
    elif port is not None:
        header += ":" + port
    valid_port = malformed is None and (port is None or int(port) <= 65535)
    allowed = name != "evil.example"
    return header, not userinfo and valid_port and allowed


@HOSTILE
@given(host_headers())
def test_a_command_is_served_only_under_a_host_that_is_one_of_the_connectors(
    console: Console, case: tuple[str, bool]
) -> None:
    header, served = case
    head = console.desk.head()
    response = console.http.post(
        "/agents/a-17/ready", headers=as_bytes({**console.ada, "Host": header}, "utf-8")
    )
    if served:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code in (400, 421), (header, response.text)
        problem_of(response)
        assert console.desk.head() == head


@HOSTILE
@given(st.text(st.characters(codec="latin-1"), max_size=40))
def test_no_host_header_makes_the_connector_fail(console: Console, header: str) -> None:
    head = console.desk.head()
    response = console.http.post(
        "/agents/a-17/ready", headers=as_bytes({**console.ada, "Host": header}, "latin-1")
    )
    assert response.status_code < 500, (header, response.text)
    if response.status_code >= 400:
        problem_of(response)
        assert console.desk.head() == head


def test_an_unknown_path_under_a_foreign_host_is_refused_for_the_host(
    console: Console,
) -> None:
    response = console.http.get("/no/such/route", headers={"Host": "evil.example"})
    assert response.status_code == 421
    problem_of(response)


path_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)


@HOSTILE
@given(st.sampled_from(["/pages/", "/", "/schema/", "/agents/"]), path_text)
def test_a_path_that_names_no_file_or_route_answers_404(
    console: Console, prefix: str, rest: str
) -> None:
    path = prefix + "".join(
        c if re.fullmatch(r"[A-Za-z0-9._~-]", c) else f"%{b:02X}"
        for c in rest
        for b in c.encode()
    )
    response = console.http.get(path, headers=console.ada)
    assert response.status_code < 500, (path, response.text)
    if response.status_code >= 400:
        problem_of(response)


@pytest.mark.parametrize(
    "path", ["/pages/a%00b.js", "/pages/" + "a" * 300, "/pages/%0a", "/pages/..%2F..%2Fetc"]
)
def test_odd_page_paths_answer_404(console: Console, path: str) -> None:
    response = console.http.get(path)
    assert response.status_code == 404, response.text
    problem_of(response)


def test_a_cors_preflight_from_a_foreign_origin_gets_a_problem_document(
    console: Console,
) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    foreign = console.http.options(
        "/agents/a-17/ready", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert "evil.example" in problem_of(foreign)["detail"]
    allowed = console.http.options(
        "/agents/a-17/ready", headers={**preflight, "Origin": ALLOWED_ORIGIN}
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_an_unexpected_fault_is_a_logged_500_without_its_traceback_and_is_counted(
    console: Console, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("the secret internals of a fault")

    monkeypatch.setattr(console.desk, "agent_call_log", broken)
    response = console.http.get("/agents/a-17/call-log", headers=console.ada)
    assert response.status_code == 500
    problem = problem_of(response)
    assert problem["type"].endswith("internal-error")
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "the secret internals of a fault" in caplog.text  # the operator sees it
    metrics = console.http.get("/metrics").text
    counted = 'calldesk_http_unexpected_errors_total{route="/agents/{agent:str}/call-log"}'
    assert f"{counted} 1.0" in metrics


def test_the_events_of_an_agent_outside_the_tokens_rights_are_refused_before_a_stream(
    console: Console,
) -> None:
    for agent in ("a-17", "a-99"):
        response = console.http.get(f"/agents/{agent}/events", headers=console.alan)
        assert response.status_code == 403
        assert json.loads(response.text)["status"] == 403


def test_the_openapi_document_allows_no_member_a_body_does_not_declare(
    console: Console,
) -> None:
    document = console.http.get("/schema/openapi.json").json()
    schemas = document["components"]["schemas"]
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for operations in document["paths"].values()
        for operation in operations.values()
        if "requestBody" in operation
    ]
    taking_bodies = [route for route in asking_routes(console.app) if route[2]]
    assert len(bodies) == len(taking_bodies)
    for reference in bodies:
        schema = schemas[reference.rpartition("/")[2]]
        assert schema["additionalProperties"] is False, reference


#: Member names the bodies use, so that generated bodies reach past the first check.
MEMBERS = [
    "reason", "kind", "command_id", "argument", "disposition", "notes", "number",
    "record", "record_id", "title", "item_type", "visibility", "text", "key", "drafts",
    "atomic", "then_next", "position", "label", "url", "limit", "highlighted", "action",
    "answer", "records", "parent", "allow_duplicate", "tenant",
]  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["contact", "hold", "lunch", "post", "confirm", "+16505550123"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(MEMBERS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=12,
)


@HOSTILE
@given(data=st.data(), body=json_values)
def test_no_body_makes_a_route_fail_and_a_refused_one_records_nothing(
    console: Console, data: st.DataObject, body: object
) -> None:
    streams = {path.format(**PATH_VALUES) for path in event_stream_paths(console.app)}
    ended = [route for route in asking_routes(console.app) if route[1] not in streams]
    method, path, _ = data.draw(st.sampled_from(ended))
    head = console.desk.head()
    response = console.http.request(method, path, json=body, headers=console.ada)
    assert response.status_code < 500, (method, path, body, response.text)
    if response.status_code >= 400:
        problem_of(response)
        assert console.desk.head() == head


def test_a_limit_the_openapi_document_states_is_the_one_a_body_is_refused_by(
    console: Console,
) -> None:
    document = console.http.get("/schema/openapi.json").json()
    limit = document["components"]["schemas"]["NotReadyBody"]["properties"]["reason"]
    longest = limit["maxLength"]
    response = console.http.post(
        "/agents/a-17/not-ready", json={"reason": "x" * (longest + 1)}, headers=console.ada
    )
    assert response.status_code == 400
    (fault,) = problem_of(response)["errors"]
    assert fault == {
        "member": "$.reason",
        "message": f"at most {longest} characters, not {longest + 1}",
    }
