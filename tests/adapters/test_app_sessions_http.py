"""The server's half of the cross-domain proxy over real HTTP, on SQLite and PostgreSQL:
a client that skips the proxy frame gains nothing, since every request of an app
session is checked again against the app's registration, its installation and its
rate limit, and every refusal is a security event (docs/proxy.md, ADR/0031)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx
import pytest
from support.client_apps import APP_ORIGIN, installed_app
from support.connector import serving, token_for
from support.desk_driver import log_in, tenant_with_agent

from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.access import RevokeToken
from calldesk.apps.client_apps import InstallApp
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.records import CreateRecord
from calldesk.domain.access import Role
from calldesk.domain.app_paths import Endpoint, Method, Scope
from calldesk.domain.crm_records import Author
from calldesk.domain.records import RecordKind

START = datetime(2026, 12, 4, 9, tzinfo=UTC)
CHATTY_ORIGIN = "http://127.0.0.1:8767"


@attrs.frozen
class Proxied:
    desk: Desk
    clock: PhoneSimulator
    http: httpx.Client
    ada: dict[str, str]
    admin: dict[str, str]
    key: str


@pytest.fixture
def proxied(database_url: str) -> Iterator[Proxied]:
    with Desk.at(database_url) as desk:
        clock = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.register_agent(RegisterAgent("acme", "b-2", name="Bea", at=START))
        desk.register_agent(RegisterAgent("acme", "root", name="Admin", at=START))
        log_in(desk, START)
        desk.create_record(
            CreateRecord(
                "acme",
                kind=RecordKind.CONTACT,
                values={"last_name": "Byron"},
                operation_id="op-ada",
                record_id="003-ada",
                by=Author("import", "test"),
                at=START,
            )
        )
        key = installed_app(desk, START)
        ada = token_for(desk, clock, "a-17")
        admin = token_for(desk, clock, "root", Role.ADMINISTRATOR)
        with serving(desk, clock) as url, httpx.Client(base_url=url, timeout=10) as http:
            yield Proxied(desk, clock, http, ada, admin, key)


def answered(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def opened(
    proxied: Proxied, key: str | None = None, origin: str = APP_ORIGIN
) -> httpx.Response:
    return proxied.http.post(
        "/agents/a-17/apps/order-lookup/sessions",
        json={"key": key or proxied.key, "origin": origin},
        headers=proxied.ada,
    )


def app_session(proxied: Proxied) -> dict[str, str]:
    session = answered(opened(proxied), 201)
    assert session["context"] == {
        "agent": "a-17",
        "app": "order-lookup",
        "parameters": {"shop": "EU"},
    }
    return {"Authorization": f"Bearer {session['secret']}"}


def refusals(proxied: Proxied) -> list[dict[str, Any]]:
    page = answered(proxied.http.get("/apps/refusals", headers=proxied.admin))
    return list(page["refusals"])


def reasons(proxied: Proxied) -> list[str]:
    return [refusal["reason"] for refusal in refusals(proxied)]


def test_an_app_session_reads_what_its_registration_names_and_no_more(
    proxied: Proxied,
) -> None:
    app = app_session(proxied)
    contact = answered(proxied.http.get("/records/contact/003-ada", headers=app))
    assert contact["values"]["last_name"] == "Byron"
    assert answered(proxied.http.get("/agents/a-17/calls", headers=app)) == []
    head = proxied.desk.head()
    for method, path in (
        ("PATCH", "/records/contact/003-ada"),  # a method it did not register
        ("GET", "/records/account/001"),  # a path it did not register
        ("GET", "/agents/a-17/workspace"),
        ("GET", "/agents/a-17/events"),  # a stream, which no app reaches
        ("GET", "/apps"),  # the apps' own routes, which no app reaches
        ("POST", "/agents/a-17/apps/order-lookup/sessions"),
    ):
        denied = answered(proxied.http.request(method, path, headers=app), 403)
        assert denied["type"].endswith("app-denied")
        assert denied["reason"] == "endpoint-not-allowed"
        assert "secret" not in denied["detail"]
    assert proxied.desk.head() > head  # the refusals, and nothing else, were recorded
    server_side = [r for r in refusals(proxied) if r["where"] == "server"]
    assert {r["app"] for r in server_side} == {"order-lookup"}
    assert {r["origin"] for r in server_side} == {APP_ORIGIN}
    assert {r["agent"] for r in server_side} == {"a-17"}


def test_an_app_session_acts_only_for_its_own_agent(proxied: Proxied) -> None:
    """Even where its pattern matches; and asking about another agent is recorded."""
    app = app_session(proxied)
    refused = answered(proxied.http.get("/agents/b-2/calls", headers=app), 403)
    assert refused["reason"] == "endpoint-not-allowed"
    (logged,) = refusals(proxied)
    assert (logged["detail"], logged["agent"]) == ("GET /agents/b-2/calls", "a-17")


@pytest.mark.parametrize(
    "path",
    [
        "/records/contact/%2e%2e",
        "/records/contact/%2E%2e%2fapps",
        "/records/contact/%252e%252e",
        "/records/contact/a%5c..",
        "/records/contact/user@host",
    ],
)
def test_encoded_traversal_never_reaches_a_route(proxied: Proxied, path: str) -> None:
    """Either no route has the decoded path (404), or the raw path is refused."""
    app = app_session(proxied)
    refused = proxied.http.get(path, headers=app)
    assert refused.status_code in (403, 404), refused.text
    if refused.status_code == 403:
        assert refused.json()["reason"] == "bad-path"


def test_a_scope_not_granted_at_the_installation_is_denied(proxied: Proxied) -> None:
    proxied.desk.install_app(
        InstallApp(
            "acme",
            app="order-lookup",
            agent="a-17",
            parameters={"shop": "EU"},
            scopes=(Scope.CALLS_READ,),
            at=START,
        )
    )
    app = app_session(proxied)
    assert proxied.http.get("/agents/a-17/calls", headers=app).status_code == 200
    denied = answered(proxied.http.get("/records/contact/003-ada", headers=app), 403)
    assert denied["reason"] == "scope-not-granted"


def test_a_session_opens_only_with_the_current_key_from_a_registered_origin(
    proxied: Proxied,
) -> None:
    for key, origin, reason in (
        ("not-the-key-of-the-app".ljust(43, "x"), APP_ORIGIN, "bad-key"),
        (None, "http://127.0.0.1:9999", "wrong-origin"),
        (None, "*", "wrong-origin"),
        (None, "http://127.0.0.1:8766/", "wrong-origin"),
    ):
        denied = answered(opened(proxied, key, origin), 403)
        assert denied["reason"] == reason
        assert denied["detail"] == "this app cannot be opened here"
    assert reasons(proxied) == ["bad-key", "wrong-origin", "wrong-origin", "wrong-origin"]


def test_a_frame_that_keeps_opening_sessions_is_slowed_on_the_server(
    proxied: Proxied,
) -> None:
    statuses = [opened(proxied).status_code for _ in range(31)]
    assert statuses == [201] * 30 + [429]
    assert reasons(proxied) == ["rate-limited"]
    proxied.clock.advance(2)
    assert opened(proxied).status_code == 201


def test_another_agent_cannot_open_the_app_as_a_17(proxied: Proxied) -> None:
    bea = token_for(proxied.desk, proxied.clock, "b-2")
    refused = proxied.http.post(
        "/agents/a-17/apps/order-lookup/sessions",
        json={"key": proxied.key, "origin": APP_ORIGIN},
        headers=bea,
    )
    assert refused.status_code == 403
    own = proxied.http.post(
        "/agents/b-2/apps/order-lookup/sessions",
        json={"key": proxied.key, "origin": APP_ORIGIN},
        headers=bea,
    )
    assert answered(own, 403)["reason"] == "not-runnable"  # not installed for b-2


def test_a_suspended_app_is_refused_at_once_and_works_again_once_reinstated(
    proxied: Proxied,
) -> None:
    app = app_session(proxied)
    answered(proxied.http.post("/apps/order-lookup/suspend", headers=proxied.admin))
    assert proxied.http.get("/records/contact/003-ada", headers=app).status_code == 401
    assert answered(opened(proxied), 403)["reason"] == "not-runnable"
    listed = answered(proxied.http.get("/agents/a-17/apps", headers=proxied.ada))
    assert [(a["app"], a["status"]) for a in listed] == [("order-lookup", "suspended")]
    answered(proxied.http.post("/apps/order-lookup/reinstate", headers=proxied.admin))
    again = app_session(proxied)
    assert proxied.http.get("/records/contact/003-ada", headers=again).status_code == 200


def test_a_session_opened_before_a_suspension_stays_ended_after_reinstatement(
    proxied: Proxied,
) -> None:
    app = app_session(proxied)
    answered(proxied.http.post("/apps/order-lookup/suspend", headers=proxied.admin))
    answered(proxied.http.post("/apps/order-lookup/reinstate", headers=proxied.admin))
    assert proxied.http.get("/records/contact/003-ada", headers=app).status_code == 401


def test_a_session_ends_when_the_agents_installation_changes(proxied: Proxied) -> None:
    app = app_session(proxied)
    body = {"parameters": {"shop": "US"}, "scopes": ["records:read"]}
    installed = proxied.http.put(
        "/apps/order-lookup/installations/a-17", json=body, headers=proxied.admin
    )
    answered(installed)
    assert proxied.http.get("/records/contact/003-ada", headers=app).status_code == 401


def test_two_live_apps_never_share_an_origin(proxied: Proxied) -> None:
    """They could script each other's frames and use each other's channels."""
    body = {
        "app": "survey",
        "name": "Survey",
        "origins": [APP_ORIGIN],
        "entry_url": f"{APP_ORIGIN}/survey.html",
        "endpoints": ["GET /records/contact/{id} records:read"],
        "rate_limit": 60,
    }
    refused = proxied.http.post("/apps", json=body, headers=proxied.admin)
    assert refused.status_code == 409
    assert "order-lookup" in refused.json()["detail"]
    answered(proxied.http.post("/apps/order-lookup/revoke", headers=proxied.admin))
    answered(proxied.http.post("/apps", json=body, headers=proxied.admin), 201)


def test_a_revoked_app_is_gone_for_good(proxied: Proxied) -> None:
    app = app_session(proxied)
    answered(proxied.http.post("/apps/order-lookup/revoke", headers=proxied.admin))
    assert proxied.http.get("/records/contact/003-ada", headers=app).status_code == 401
    refused = proxied.http.post("/apps/order-lookup/reinstate", headers=proxied.admin)
    assert refused.status_code == 409
    assert answered(proxied.http.get("/agents/a-17/apps", headers=proxied.ada)) == []
    shown = answered(
        proxied.http.get("/agents/a-17/apps/order-lookup", headers=proxied.ada)
    )
    assert shown["status"] == "revoked"  # an open console says why it stopped


def test_rotating_the_key_ends_the_sessions_it_opened(proxied: Proxied) -> None:
    app = app_session(proxied)
    rotated = answered(
        proxied.http.post("/apps/order-lookup/rotate-key", headers=proxied.admin)
    )
    assert rotated["key"] != proxied.key
    assert proxied.http.get("/records/contact/003-ada", headers=app).status_code == 401
    assert answered(opened(proxied), 403)["reason"] == "bad-key"
    assert answered(opened(proxied, rotated["key"]), 201)["secret"]


def test_an_app_session_ends_with_its_channel_and_with_the_agents_token(
    proxied: Proxied,
) -> None:
    app = app_session(proxied)
    answered(proxied.http.delete("/app-sessions/current", headers=app))
    assert proxied.http.get("/records/contact/003-ada", headers=app).status_code == 401
    other = app_session(proxied)
    secret = proxied.ada["Authorization"].removeprefix("Bearer ")
    proxied.desk.revoke_token(RevokeToken("acme", at=START), secret)
    assert proxied.http.get("/records/contact/003-ada", headers=other).status_code == 401


def test_the_agents_own_token_cannot_end_a_session(proxied: Proxied) -> None:
    assert (
        proxied.http.delete("/app-sessions/current", headers=proxied.ada).status_code == 403
    )


def test_an_app_asking_past_its_rate_limit_waits(proxied: Proxied) -> None:
    key = installed_app(
        proxied.desk,
        START,
        origin=CHATTY_ORIGIN,
        app="chatty",
        rate_limit=3,
        endpoints=(Endpoint(Method.GET, "/records/contact/{id}", Scope.RECORDS_READ),),
    )
    session = proxied.http.post(
        "/agents/a-17/apps/chatty/sessions",
        json={"key": key, "origin": CHATTY_ORIGIN},
        headers=proxied.ada,
    )
    app = {"Authorization": f"Bearer {answered(session, 201)['secret']}"}

    def read() -> httpx.Response:
        return proxied.http.get("/records/contact/003-ada", headers=app)

    assert [read().status_code for _ in range(3)] == [200, 200, 200]
    limited = read()
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "20"
    assert limited.json()["reason"] == "rate-limited"
    assert [read().status_code for _ in range(2)] == [429, 429]
    proxied.clock.advance(20)
    assert read().status_code == 200
    assert read().status_code == 429
    # order-lookup's own budget is untouched by chatty's
    assert (
        proxied.http.get(
            "/records/contact/003-ada", headers=app_session(proxied)
        ).status_code
        == 200
    )
    logged = [r for r in refusals(proxied) if r["reason"] == "rate-limited"]
    # alike refusals within 10 s are counted in the next one, not each logged
    assert [r["repeats"] for r in logged] == [0, 2]


def test_managing_apps_takes_an_administrators_token(proxied: Proxied) -> None:
    for method, path in (
        ("GET", "/apps"),
        ("POST", "/apps/order-lookup/suspend"),
        ("GET", "/apps/refusals"),
        ("POST", "/apps/order-lookup/rotate-key"),
    ):
        refused = proxied.http.request(method, path, headers=proxied.ada)
        assert refused.status_code == 403, path
    assert proxied.desk.app("acme", "order-lookup").status.value == "published"


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("origins", ["http://localhost:99999"]),
        ("origins", ["http://localhost:0"]),
        ("entry_url", "https://[::1/"),
        ("entry_url", "http://127.0.0.1:8766:1/x"),
    ],
)
def test_a_registration_that_is_not_even_a_url_is_refused_as_such(
    proxied: Proxied, member: str, value: object
) -> None:
    body = {
        "app": "broken",
        "name": "Broken",
        "origins": ["http://127.0.0.1:8766"],
        "entry_url": "http://127.0.0.1:8766/index.html",
        "endpoints": ["GET /records/contact/{id} records:read"],
        "rate_limit": 60,
        member: value,
    }
    refused = proxied.http.post("/apps", json=body, headers=proxied.admin)
    assert refused.status_code == 422, refused.text


def test_refusals_after_a_position_past_any_log_are_refused_not_failed(
    proxied: Proxied,
) -> None:
    page = proxied.http.get(f"/apps/refusals?after={2**63}", headers=proxied.admin)
    assert page.status_code == 400, page.text


def test_an_administrator_registers_an_app_over_http_and_sees_its_key_once(
    proxied: Proxied,
) -> None:
    body = {
        "app": "survey",
        "name": "Survey",
        "origins": ["https://survey.example.com"],
        "entry_url": "https://survey.example.com/app",
        "endpoints": ["GET /records/contact/{id} records:read"],
        "rate_limit": 60,
    }
    registered = answered(proxied.http.post("/apps", json=body, headers=proxied.admin), 201)
    assert len(registered["key"]) >= 32
    assert registered["app"]["status"] == "registered"
    shown = answered(proxied.http.get("/apps/survey", headers=proxied.admin))
    assert "key" not in shown
    assert registered["key"] not in str(shown)
    listed = answered(proxied.http.get("/apps", headers=proxied.admin))
    assert [app["app"] for app in listed] == ["order-lookup", "survey"]
    head = proxied.desk.head()
    for broken in (
        {**body, "app": "wild", "origins": ["*"]},
        {**body, "app": "pathy", "origins": ["https://survey.example.com/app"]},
        {**body, "app": "plain", "origins": ["http://survey.example.com"]},
        {**body, "app": "elsewhere", "entry_url": "https://evil.example.com/app"},
        {**body, "app": "wildcard", "endpoints": ["GET /records/* records:read"]},
        {**body, "app": "scopeless", "endpoints": ["GET /records/contact/{id} all"]},
        {**body, "app": "survey"},
    ):
        refused = proxied.http.post("/apps", json=broken, headers=proxied.admin)
        assert refused.status_code in (409, 422), broken
    assert proxied.desk.head() == head
