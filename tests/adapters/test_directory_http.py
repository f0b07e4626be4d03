"""The directory's routes for the agent's desk: a search for the transfer and
conference dialog, and a call's matches described; each within the token's tenant,
each refusing a query that means more than it reads, and recording nothing."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from support.connector import token_for
from support.desk_driver import tenant_with_agent
from support.telephony import ADA, EVE_MOBILE, SHARED, SHARED_NUMBER, StaticDirectory

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.telephony.simulator import Caller, PhoneSimulator
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.domain.access import Role
from calldesk.domain.calls import Call

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
PROBLEM = "application/problem+json"
SEARCH = "/agents/a-17/directory"


@attrs.frozen
class Connector:
    desk: Desk
    phone: PhoneSimulator
    http: TestClient[Litestar]
    ada: dict[str, str]
    hank: dict[str, str]


@pytest.fixture(scope="module")
def connector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connector]:
    """Ada of acme, whose directory knows Ada, Bob and Eve; Hank of globex, whose
    directory (the same one) holds nothing of his tenant's."""
    folder = tmp_path_factory.mktemp("directory-http")
    with Desk.at(f"sqlite:///{folder}/calldesk.db", directory=StaticDirectory()) as desk:
        phone = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        tenant_with_agent(desk, START, "globex", "a-17")
        desk.attach("acme", phone, phone)
        ada = token_for(desk, phone, "a-17")
        secret = "secret-of-hank-of-globex".ljust(40, "x")
        issued = IssueToken(
            "globex", "a-17", Role.AGENT, at=START, expires_at=START + timedelta(days=1)
        )
        desk.issue_token(issued, secret)
        hank = {"Authorization": f"Bearer {secret}"}
        app = create_app(desk, phone, ConnectorConfig())
        with TestClient(app, base_url="http://127.0.0.1:8765") as http:
            http.post("/agents/a-17/login", headers=ada).raise_for_status()
            http.post("/agents/a-17/ready", headers=ada).raise_for_status()
            yield Connector(desk, phone, http, ada, hank)


def problem_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["detail"]
    return body


def test_a_search_finds_the_tenants_people_by_a_word_of_their_name_with_their_numbers(
    connector: Connector,
) -> None:
    found = connector.http.get(SEARCH, params={"q": "jones"}, headers=connector.ada)
    assert found.status_code == 200, found.text
    bob, eve = found.json()
    assert (bob["ref"]["title"], bob["account"]) == (SHARED[0].title, "Jones Freight")
    assert [n["e164"] for n in eve["numbers"]] == [SHARED_NUMBER, EVE_MOBILE]
    assert [case["title"] for case in eve["open_cases"]] == ["Invoice charged twice"]


def test_a_search_by_digits_finds_the_number_that_holds_them(connector: Connector) -> None:
    found = connector.http.get(SEARCH, params={"q": "555-0142"}, headers=connector.ada)
    assert [r["ref"]["title"] for r in found.json()] == [SHARED[1].title]


def test_a_search_stops_at_its_limit(connector: Connector) -> None:
    found = connector.http.get(
        SEARCH, params={"q": "jones", "limit": 1}, headers=connector.ada
    )
    assert [r["ref"]["title"] for r in found.json()] == [SHARED[0].title]


def test_another_tenants_records_are_never_found(connector: Connector) -> None:
    """Hank of globex, whose agent has Ada's handle, finds nothing of acme's."""
    found = connector.http.get(SEARCH, params={"q": "ada"}, headers=connector.hank)
    assert (found.status_code, found.json()) == (200, [])


@pytest.mark.parametrize(
    ("query", "status", "said"),
    [
        ({}, 400, "q"),
        ({"q": "a"}, 400, "q"),
        ({"q": "x" * 65}, 400, "q"),
        ({"q": "  a  "}, 422, "2 to 64 characters"),
        ({"q": "ada", "limit": 0}, 400, "limit"),
        ({"q": "ada", "limit": 21}, 400, "limit"),
        ({"q": "ada", "limit": "ten"}, 400, "limit"),
        ({"q": "ada", "tenant": "globex"}, 400, "'tenant'"),
        ({"q": ["ada", "bob"]}, 400, "twice"),
    ],
    ids=[
        "no text", "too short", "too long", "blank", "no limit", "limit too high",
        "limit not a number", "a tenant named", "the text twice",
    ],
)  # fmt: skip
def test_a_search_that_means_more_or_less_than_it_can_is_refused_and_changes_nothing(
    connector: Connector, query: dict[str, Any], status: int, said: str
) -> None:
    head = connector.desk.head()
    response = connector.http.get(SEARCH, params=query, headers=connector.ada)
    assert response.status_code == status, response.text
    assert said in response.text
    problem_of(response)
    assert connector.desk.head() == head


def test_a_search_for_an_agent_the_token_may_not_watch_is_refused_before_the_lookup(
    connector: Connector,
) -> None:
    other = connector.http.get(
        "/agents/a-99/directory", params={"q": "ada"}, headers=connector.hank
    )
    assert other.status_code == 403
    problem_of(other)


def test_a_calls_matches_are_described_to_its_agent_only(connector: Connector) -> None:
    phone = connector.phone
    vendor_call_id = phone.expect(Caller(SHARED_NUMBER, "a-17", talks_for=60))
    phone.advance(1)
    call = str(Call.create_id("acme", "simulator", vendor_call_id))
    described = connector.http.get(f"/calls/{call}/matches", headers=connector.ada)
    assert described.status_code == 200, described.text
    assert [(r["ref"]["title"], r["account"]) for r in described.json()] == [
        (SHARED[0].title, "Jones Freight"),
        (SHARED[1].title, "Jones Bakery"),
    ]
    for refused in (
        connector.http.get(f"/calls/{call}/matches", headers=connector.hank),
        connector.http.get(f"/calls/{call}/matches?x=1", headers=connector.ada),
    ):
        assert refused.status_code in (400, 404), refused.text
        problem_of(refused)
    assert ADA.title not in described.text


def test_the_openapi_document_states_the_search_limits(connector: Connector) -> None:
    document = connector.http.get("/schema/openapi.json").json()
    parameters = {
        p["name"]: p["schema"]
        for p in document["paths"]["/agents/{agent}/directory"]["get"]["parameters"]
    }
    assert (parameters["q"]["minLength"], parameters["q"]["maxLength"]) == (2, 64)
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 20)
