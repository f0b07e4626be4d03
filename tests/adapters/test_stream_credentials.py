"""A stream's bearer token is checked again while the stream is served (ADR/0030), over
real loopback HTTP on SQLite and PostgreSQL: once revoked or expired, the record feed's
stream and the agent's events stream end with a session-ended event within the next
heartbeat, send nothing recorded after, and reconnecting is refused with a 401; a
stream whose token still lets it in goes on past heartbeats and other tokens'
revocations."""

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import attrs
import httpx
import pytest
from support.clock import Clock
from support.connector import serving
from support.desk_driver import log_in, not_ready, tenant_with_agent

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.apps.access import IssueToken, RevokeToken
from calldesk.apps.desk import Desk
from calldesk.apps.records import CreateRecord
from calldesk.domain.crm_records import Author
from calldesk.domain.records import RecordKind

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
LIFETIME = timedelta(days=1)
HEARTBEAT = 0.5
#: A stream that never ends fails its read after a few heartbeats instead of hanging.
READ_TIMEOUT = 10 * HEARTBEAT
AGENT_SECRET = "secret-of-ada-the-agent-streaming".ljust(40, "x")
DEVICE_SECRET = "secret-of-adas-laptop-streaming".ljust(40, "x")


@attrs.frozen
class Served:
    desk: Desk
    clock: Clock
    http: httpx.Client


@attrs.frozen
class Route:
    """A streaming route, the token it is opened with, and what its stream carries."""

    path: str
    secret: str
    record: Callable[[Served, int], object]  # the nth thing the stream would send

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def a_record(served: Served, n: int) -> object:
    command = CreateRecord(
        "acme",
        kind=RecordKind.CONTACT,
        values={"last_name": "Byron"},
        operation_id=f"op-{n}",
        by=Author("agent", "a-17"),
        at=served.clock.advance(),
    )
    return served.desk.create_record(command)


def a_status(served: Served, n: int) -> object:
    reason = ("lunch", "break", "training")[n]
    return not_ready(served.desk, reason, served.clock.advance())


ROUTES = {
    "record feed": Route("/record-changes/stream", DEVICE_SECRET, a_record),
    "agent events": Route("/agents/a-17/events", AGENT_SECRET, a_status),
}


def revoked(served: Served, route: Route) -> None:
    served.desk.revoke_token(RevokeToken("acme", at=served.clock.advance()), route.secret)


def expired(served: Served, route: Route) -> None:
    served.clock.advance((LIFETIME + timedelta(seconds=1)).total_seconds())


ENDINGS: dict[str, Callable[[Served, Route], None]] = {
    "revoked": revoked,
    "expired": expired,
}


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    with Desk.at(database_url) as desk:
        clock = Clock(START)
        tenant_with_agent(desk, START)
        log_in(desk, START)
        for secret, device in ((AGENT_SECRET, None), (DEVICE_SECRET, "laptop-1")):
            command = IssueToken(
                "acme", "a-17", at=START, expires_at=START + LIFETIME, device=device
            )
            desk.issue_token(command, secret)
        config = ConnectorConfig(heartbeat_seconds=HEARTBEAT)
        timeout = httpx.Timeout(10, read=READ_TIMEOUT)
        with (
            serving(desk, clock, config) as url,
            httpx.Client(base_url=url, timeout=timeout) as http,
        ):
            served = Served(desk, clock, http)
            a_record(served, 0)  # the feed's stream opens with a page
            yield served


def sse_events(response: httpx.Response) -> Iterator[dict[str, str]]:
    """Each event of a streaming response as its fields, heartbeats too ("comment")."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if fields:
                yield fields
            fields = {}
        else:
            name, _, value = line.partition(":")
            fields[name or "comment"] = value.removeprefix(" ")


@contextmanager
def opened(served: Served, route: Route) -> Iterator[Iterator[dict[str, str]]]:
    """The stream's events, its first one (a page, a snapshot) read already."""
    with served.http.stream("GET", route.path, headers=route.headers) as response:
        assert response.status_code == 200, response.read()
        events = sse_events(response)
        assert next(events)["event"] in ("changes", "snapshot")
        yield events


def until_the_end(events: Iterator[dict[str, str]]) -> list[dict[str, str]]:
    """The events up to the server's end of the stream: three at most, so a stream
    that goes on (heartbeat after heartbeat) fails the test instead of hanging it."""
    return list(itertools.islice(events, 3))


def assert_ended_within_a_heartbeat(rest: list[dict[str, str]]) -> None:
    """A heartbeat under way as the token stopped may still come, then only the end."""
    *before, last = rest
    assert last["event"] == "session-ended", rest
    assert "revoked" in json.loads(last["data"])["detail"]
    assert "id" not in last  # a client reconnecting resumes after what it got
    assert before in ([], [{"comment": "heartbeat"}]), rest


def other_route(route: Route) -> Route:
    return next(other for other in ROUTES.values() if other is not route)


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("route_name", ROUTES)
def test_a_stream_ends_once_its_token_stops_and_sends_nothing_recorded_after(
    served: Served, route_name: str, ending: str
) -> None:
    route = ROUTES[route_name]
    with opened(served, route) as events:
        revoked(served, other_route(route))  # another token's revocation ends nothing
        route.record(served, 1)
        arrived = next(event for event in events if "comment" not in event)
        assert arrived["event"] in ("changes", "calldesk.agent.StatusPicked"), arrived
        ENDINGS[ending](served, route)
        route.record(served, 2)  # woken, the stream checks its token first
        assert_ended_within_a_heartbeat(until_the_end(events))
    again = served.http.get(route.path, headers=route.headers)
    assert again.status_code == 401, again.text


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("route_name", ROUTES)
def test_an_idle_stream_ends_at_its_next_heartbeat_once_its_token_stops(
    served: Served, route_name: str, ending: str
) -> None:
    route = ROUTES[route_name]
    with opened(served, route) as events:
        assert [next(events), next(events)] == [{"comment": "heartbeat"}] * 2
        ENDINGS[ending](served, route)
        assert_ended_within_a_heartbeat(until_the_end(events))
    assert served.http.get(route.path, headers=route.headers).status_code == 401


def test_the_agents_stream_sends_nothing_recorded_past_its_tokens_expiry(
    served: Served,
) -> None:
    route = ROUTES["agent events"]
    with opened(served, route) as events:
        served.clock.current = START + LIFETIME - timedelta(seconds=0.1)
        # The second heartbeat's check is surely as of then, the token still good.
        assert [next(events), next(events)] == [{"comment": "heartbeat"}] * 2
        served.clock.advance(0.2)  # expired, well within a heartbeat of that check
        not_ready(served.desk, "break", served.clock())
        assert_ended_within_a_heartbeat(until_the_end(events))
