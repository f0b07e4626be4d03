"""Phone systems posting to the connector: accepted once, refused clearly, counted."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from support.clock import Clock
from support.desk_driver import log_in, ready, tenant_with_agent

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.serving import served_in_thread
from calldesk.adapters.telephony.webhooks import hand_over
from calldesk.apps.desk import Desk
from calldesk.domain.calls import Call
from calldesk.domain.signals import CallSignal, SignalKind
from calldesk.ports.telephony import (
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    RejectionReason,
    SignalSink,
    VendorDelivery,
    VendorEventRejected,
    VendorRefusal,
)

START = datetime(2026, 11, 25, 9, tzinfo=UTC)
KEY = {"X-Key": "s3cret"}


class KeyedVendor:
    """A minimal webhook vendor: JSON events, authenticated by a shared key."""

    vendor = "keyed"
    capabilities: frozenset[Capability] = frozenset()
    needs_acknowledgement = True

    def __init__(self) -> None:
        self._sink: SignalSink = lambda signal: True

    def listen(self, sink: SignalSink) -> None:
        self._sink = sink

    def send(self, command: CallCommand | PlaceCall) -> None:
        raise VendorRefusal("this vendor takes no commands")

    def snapshot(self) -> tuple[LiveCall, ...]:
        return ()

    def receive(self, delivery: VendorDelivery) -> tuple[CallSignal, ...]:
        if delivery.headers.get("x-key") != "s3cret":
            raise VendorEventRejected(RejectionReason.UNAUTHENTICATED, "wrong key")
        if delivery.content_type != "application/json":
            raise VendorEventRejected(RejectionReason.UNSUPPORTED_MEDIA, "JSON only")
        try:
            body = json.loads(delivery.body)
            events = body if isinstance(body, list) else [body]  # one event, or several
            signals = tuple(self._signal(event) for event in events)
        except (ValueError, KeyError, TypeError) as error:
            raise VendorEventRejected(RejectionReason.MALFORMED, str(error)) from None
        return hand_over(self._sink, signals)

    def _signal(self, event: dict[str, str]) -> CallSignal:
        return CallSignal(
            vendor=self.vendor,
            vendor_event_id=event["id"],
            vendor_call_id=event["call"],
            kind=SignalKind(event["kind"]),
            occurred_at=START,
            agent=event.get("agent"),
            vendor_kind=event["kind"],
            raw=event,
        )


@pytest.fixture
def connector() -> Iterator[tuple[Desk, httpx.Client]]:
    with Desk.in_memory() as desk:
        tenant_with_agent(desk, START)
        log_in(desk, START)
        ready(desk, START)
        vendor = KeyedVendor()
        desk.attach("acme", vendor, Clock(START))
        app = create_app(
            desk,
            Clock(START),
            ConnectorConfig(max_body_bytes=1024),
            webhooks={"acme": [vendor]},
        )
        with served_in_thread(app, 0) as url, httpx.Client(base_url=url) as http:
            yield desk, http


def ring(event_id: str = "e-1") -> str:
    return json.dumps({"id": event_id, "call": "c-1", "kind": "offered", "agent": "a-17"})


def counted(http: httpx.Client, result: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(f'calldesk_webhook_deliveries_total{{result="{result}"'):
            return float(line.split()[-1])
    return 0.0


def test_an_event_is_recorded_once_and_counted(
    connector: tuple[Desk, httpx.Client],
) -> None:
    desk, http = connector
    headers = {**KEY, "Content-Type": "application/json"}
    assert (
        http.post("/webhooks/keyed/acme", content=ring(), headers=headers).status_code
        == 200
    )
    call = desk.call("acme", str(Call.create_id("acme", "keyed", "c-1")))
    assert call.state.value == "offered"
    head = desk.head()

    replay = http.post("/webhooks/keyed/acme", content=ring(), headers=headers)

    assert replay.status_code == 409
    assert replay.json()["type"] == "urn:calldesk:problem:replayed"
    assert desk.head() == head
    assert counted(http, "accepted") == 1
    assert counted(http, "replayed") == 1


def test_a_delivery_is_recorded_whole_or_not_at_all(
    connector: tuple[Desk, httpx.Client],
) -> None:
    desk, http = connector
    headers = {**KEY, "Content-Type": "application/json"}
    rings = {"id": "e-1", "call": "c-1", "kind": "offered", "agent": "a-17"}
    answered = {"id": "e-2", "call": "c-1", "kind": "connected", "agent": "a-17"}
    rings_nobody = {"id": "e-3", "call": "c-2", "kind": "offered"}
    head = desk.head()

    refused = http.post(
        "/webhooks/keyed/acme",
        content=json.dumps([rings, answered, rings_nobody]),
        headers=headers,
    )

    assert refused.status_code == 422
    assert "names the agent" in refused.json()["detail"]
    assert desk.head() == head
    assert desk.softphone("acme", "a-17").calls == ()
    whole = http.post(
        "/webhooks/keyed/acme", content=json.dumps([rings, answered]), headers=headers
    )
    assert whole.status_code == 200
    (call,) = desk.softphone("acme", "a-17").calls
    assert call.state.value == "connected"


@pytest.mark.parametrize(
    ("case", "headers", "body", "status", "result"),
    [
        ("no key", {"Content-Type": "application/json"}, ring(), 403, "unauthenticated"),
        (
            "form body",
            {**KEY, "Content-Type": "text/plain"},
            ring(),
            415,
            "unsupported-media",
        ),
        ("not JSON", {**KEY, "Content-Type": "application/json"}, "{", 422, "malformed"),
        (
            "too large",
            {**KEY, "Content-Type": "application/json"},
            "x" * 2048,
            413,
            "too-large",
        ),
    ],
)
def test_bad_deliveries_get_a_problem_record_nothing_and_are_counted(
    connector: tuple[Desk, httpx.Client],
    case: str,
    headers: dict[str, str],
    body: str,
    status: int,
    result: str,
) -> None:
    desk, http = connector
    head = desk.head()

    answer = http.post("/webhooks/keyed/acme", content=body, headers=headers)

    assert answer.status_code == status, case
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"]
    assert desk.head() == head
    assert counted(http, result) == 1


def test_a_vendor_or_tenant_without_a_webhook_is_not_found(
    connector: tuple[Desk, httpx.Client],
) -> None:
    desk, http = connector
    headers = {**KEY, "Content-Type": "application/json"}
    head = desk.head()
    for path in ("/webhooks/keyed/globex", "/webhooks/twilio/acme"):
        answer = http.post(path, content=ring(), headers=headers)
        assert answer.status_code == 404
        assert "no " in answer.json()["detail"]
    assert desk.head() == head


def test_the_webhook_is_documented_without_a_bearer_token(
    connector: tuple[Desk, httpx.Client],
) -> None:
    _, http = connector
    document = http.get("/schema/openapi.json").json()
    operation = document["paths"]["/webhooks/{vendor}/{tenant}"]["post"]
    assert operation["security"] == [{}]  # anonymous: the vendor signs instead
    assert {"200", "403", "409", "415", "422"} <= set(operation["responses"])
