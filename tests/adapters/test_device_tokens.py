"""A device's token over real HTTP, on SQLite and PostgreSQL: its record writes are
authored as the device, and every route beyond the records refuses it, recording
nothing (ADR/0025)."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import httpx
import pytest
from litestar.routes import HTTPRoute
from support.connector import serving, token_for
from support.desk_driver import log_in, tenant_with_agent

from calldesk.adapters.http.app import create_app
from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.domain.access import Area

START = datetime(2026, 12, 3, 9, tzinfo=UTC)
LAPTOP = "secret-of-the-laptop-of-a-17".ljust(43, "x")
LAPTOP_AUTHOR = {"kind": "device", "name": "a-17/laptop-3"}


@attrs.frozen
class Api:
    desk: Desk
    http: httpx.Client
    ada: dict[str, str]
    laptop: dict[str, str]


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    with Desk.at(database_url) as desk:
        clock = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        log_in(desk, START)
        ada = token_for(desk, clock, "a-17")
        command = IssueToken(
            "acme", "a-17", device="laptop-3", at=START, expires_at=START + timedelta(1)
        )
        desk.issue_token(command, LAPTOP)
        laptop = {"Authorization": f"Bearer {LAPTOP}"}
        with serving(desk, clock) as url, httpx.Client(base_url=url, timeout=10) as http:
            yield Api(desk, http, ada, laptop)


def answered(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_devices_writes_are_authored_as_the_device_and_the_agents_as_the_agent(
    api: Api,
) -> None:
    body = {"operation_id": "op-1", "values": {"last_name": "Byron"}}
    record = answered(api.http.post("/records/contact", headers=api.laptop, json=body), 201)
    assert record["modified_by"] == LAPTOP_AUTHOR
    path = f"/records/contact/{record['record_id']}"
    change = {"base_version": 1, "values": {"title": "Countess"}}
    assert answered(api.http.patch(path, headers=api.ada, json=change))["modified_by"] == {
        "kind": "agent",
        "name": "a-17",
    }
    answered(api.http.delete(path, headers=api.laptop, params={"base_version": 2}))
    restored = answered(api.http.post(path + "/restore", headers=api.laptop, json={}))
    assert restored["modified_by"] == LAPTOP_AUTHOR
    batch = {
        "operations": [
            {"op": "change", "kind": "contact", "record_id": record["record_id"]}
            | {"base_version": 4, "values": {"title": "Lady"}}
        ]
    }
    [result] = answered(api.http.post("/record-batches", headers=api.laptop, json=batch))[
        "results"
    ]
    assert result["record"]["modified_by"] == LAPTOP_AUTHOR
    history = answered(api.http.get(path + "/history", headers=api.laptop))
    assert [(h["what"], h["by"]) for h in history] == [
        ("created", LAPTOP_AUTHOR),
        ("changed", {"kind": "agent", "name": "a-17"}),
        ("deleted", LAPTOP_AUTHOR),
        ("restored", LAPTOP_AUTHOR),
        ("changed", LAPTOP_AUTHOR),
    ]
    feed = answered(api.http.get("/record-changes", headers=api.laptop))
    assert [(c["record_id"], c["version"]) for c in feed["changes"]] == [
        (record["record_id"], 5)
    ]
    assert feed["changes"][0]["values"]["title"] == "Lady"


def _filled(path: str) -> str:
    """A path with a value in each parameter: a device is refused before any is read."""
    return re.sub(r"\{(\w+):\w+\}", lambda m: "contact" if m[1] == "kind" else "a-17", path)


def _token_routes(area: Area) -> list[tuple[str, str]]:
    """Every (method, path) taking a token whose route reaches this area."""
    app = create_app(Desk.in_memory(), PhoneSimulator(START))
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if {"who", "acting", "about"} & handler.parsed_fn_signature.parameters.keys()
        and handler.opt.get("area", Area.DESK) is area
        for method in handler.http_methods
    )


def test_a_device_reaches_the_record_api_and_nothing_else() -> None:
    assert {path for _, path in _token_routes(Area.RECORDS)} == {
        "/schemas/{kind:str}",
        "/records/{kind:str}",
        "/records/{kind:str}/{record_id:str}",
        "/records/{kind:str}/{record_id:str}/restore",
        "/records/{kind:str}/{record_id:str}/history",
        "/record-changes",
        "/record-changes/stream",
        "/record-batches",
    }


@pytest.mark.parametrize(("method", "path"), _token_routes(Area.DESK), ids=str)
def test_every_other_route_refuses_a_device_and_records_nothing(
    api: Api, method: str, path: str
) -> None:
    head = api.desk.head()
    refused = api.http.request(method, _filled(path), headers=api.laptop, json={})
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "urn:calldesk:problem:forbidden"
    assert "device laptop-3's of agent a-17" in problem["detail"]
    assert "syncs records only" in problem["detail"]
    assert api.desk.head() == head


def test_a_device_may_not_dial_answer_or_follow_the_agents_calls(api: Api) -> None:
    head = api.desk.head()
    dial = {"number": "+16505550142", "command_id": "c-1"}
    refusals = [
        api.http.post("/agents/a-17/dial", headers=api.laptop, json=dial),
        api.http.post(
            f"/calls/{'0' * 32}/commands", headers=api.laptop, json={"command": "answer"}
        ),
        api.http.get("/agents/a-17/events", headers=api.laptop),
        api.http.get("/agents/a-17/call-log", headers=api.laptop),
    ]
    assert [r.status_code for r in refusals] == [403] * 4
    assert api.desk.head() == head
    agent = api.http.post("/agents/a-17/dial", headers=api.ada, json=dial)
    assert agent.status_code != 403, agent.text
