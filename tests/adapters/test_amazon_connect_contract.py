"""Amazon Connect keeps the adapter contract (calldesk.testing).

Vendor events are EventBridge contact events (tests/fixtures/amazon_connect), posted as
an API destination with API-key authorization posts them; requests are what boto3's
"connect" client sends to a local server serving the API reference's actions.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import boto3
import pytest
from fixtures.amazon_connect.connect_api import ConnectApi, Request, connect_api
from fixtures.amazon_connect.contact_events import (
    AGENT_ARN,
    AGENT_ID,
    INSTANCE_ARN,
    INSTANCE_ID,
    OTHER_AGENT_ARN,
    OTHER_INSTANCE_ARN,
    Contact,
)
from support.clock import Clock

from calldesk.adapters.telephony.amazon_connect import AmazonConnect, AmazonConnectSettings
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import Outcome
from calldesk.domain.signals import SignalKind as Kind
from calldesk.ports.telephony import CallCommand, PlaceCall, VendorDelivery
from calldesk.testing import AdapterContract, AdapterHarness, Story

KEY_HEADER = "X-Calldesk-Key"
KEY = "eventbridge-connection-key"
SESSION = boto3.Session(
    aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy", region_name="us-west-2"
)


def posted(
    event: Any, key: str | None = KEY, content_type: str = "application/json"
) -> Any:
    """The event as the API destination posts it; a ready delivery passes as it is."""
    if isinstance(event, VendorDelivery):
        return event
    headers = {KEY_HEADER.lower(): key} if key is not None else {}
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return VendorDelivery(
        "https://desk.example/webhooks/amazon-connect/contract-kit",
        headers,
        body,
        content_type,
    )


def _inbound_answered() -> Story:
    c = Contact("in-answered")
    events = (
        c.initiated(0),
        c.queued(2),
        c.connected_to_agent(7),
        c.disconnected(67, "AGENT_DISCONNECT"),
        c.completed(80),
    )
    return Story(
        "queued, answered, the agent hung up", events, "in-answered", Outcome.COMPLETED
    )


def _abandoned() -> Story:
    c = Contact("in-abandoned")
    events = (c.initiated(0), c.queued(2), c.disconnected(40, "CUSTOMER_DISCONNECT"))
    return Story(
        "the caller gave up in the queue", events, "in-abandoned", Outcome.ABANDONED
    )


def _outbound() -> Story:
    c = Contact("out-answered", method="OUTBOUND").with_agent()
    events = (
        c.initiated(0),
        c.connected_to_agent(1),
        c.connected_to_system(6),
        c.disconnected(36, "CUSTOMER_DISCONNECT"),
    )
    return Story("an agent's call, answered", events, "out-answered", Outcome.COMPLETED)


def _unanswered() -> Story:
    c = Contact("out-unanswered", method="OUTBOUND").with_agent()
    events = (c.initiated(0), c.disconnected(45, "TELECOM_PROBLEM"))
    return Story(
        "an agent's call nobody answered", events, "out-unanswered", Outcome.FAILED
    )


def _transfer() -> tuple[Story, Story]:
    first = Contact("first")
    second = Contact("second", method="TRANSFER", previous="first")
    events = (
        first.initiated(0),
        first.queued(1),
        first.connected_to_agent(5),
        second.initiated(30),
        first.disconnected(31, "AGENT_DISCONNECT"),
        second.queued(31),
        second.connected_to_agent(40, OTHER_AGENT_ARN),
        second.disconnected(100, "CUSTOMER_DISCONNECT"),
    )
    return (
        Story("transferred away by its agent", events, "first", Outcome.TRANSFERRED_AWAY),
        Story("the transfer, taken over", events, "second", Outcome.COMPLETED),
    )


def _documented() -> dict[str, tuple[Any, tuple[Kind, ...]]]:
    """Each documented event type, and what it is for a customer's voice call."""
    inbound, answered = Contact("doc-in"), Contact("doc-done")
    answered.connected_to_agent(5)
    outbound = Contact("doc-out", method="OUTBOUND").with_agent()
    return {
        "INITIATED": (inbound.initiated(0), (Kind.QUEUED,)),
        "INITIATED by a transfer": (
            Contact("doc-tr", method="TRANSFER", previous="doc-in").initiated(9),
            (Kind.TRANSFERRED, Kind.QUEUED),
        ),
        "INITIATED by an agent's outbound call": (outbound.initiated(0), (Kind.DIALING,)),
        "QUEUED": (inbound.queued(2), (Kind.QUEUED,)),
        "CONNECTED_TO_AGENT": (inbound.connected_to_agent(7), (Kind.CONNECTED,)),
        "CONNECTED_TO_SYSTEM": (outbound.connected_to_system(6), (Kind.CONNECTED,)),
        "DISCONNECTED unanswered": (Contact("doc-ab").disconnected(40), (Kind.ABANDONED,)),
        "DISCONNECTED answered": (answered.disconnected(60), (Kind.CONNECTED, Kind.ENDED)),
        "COMPLETED": (answered.completed(90), (Kind.CONNECTED, Kind.ENDED)),
        "CONTACT_DATA_UPDATED": (
            inbound.event("CONTACT_DATA_UPDATED", updatedProperties=["Tags"]),
            (),
        ),
        "AMD_DISABLED": (outbound.event("AMD_DISABLED"), ()),
        "PAUSED": (inbound.event("PAUSED"), ()),
        "RESUMED": (inbound.event("RESUMED"), ()),
        "WEBRTC_API": (Contact("doc-web", method="WEBRTC_API").event("WEBRTC_API"), ()),
    }


def _malformed() -> dict[str, Any]:
    event = Contact("bad").initiated()
    return {
        "no key": posted(event, key=None),
        "a wrong key": posted(event, key="guess"),
        "form-encoded": posted(event, content_type="application/x-www-form-urlencoded"),
        "not JSON": b"{",
        "another detail-type": {**event, "detail-type": "AWS API Call via CloudTrail"},
        "no detail": {k: v for k, v in event.items() if k != "detail"},
        "an undocumented event type": {
            **event,
            "detail": {**event["detail"], "eventType": "ON_HOLD"},
        },
        "another tenant's instance": Contact(
            "bad", instance_arn=OTHER_INSTANCE_ARN
        ).queued(),
    }


TRANSFERRED, TAKEN_OVER = _transfer()


class ConnectHarness:
    agents = ("a-17", "b-22")
    stories = (
        _inbound_answered(),
        _abandoned(),
        _outbound(),
        _unanswered(),
        TRANSFERRED,
        TAKEN_OVER,
    )

    def __init__(self, api: ConnectApi) -> None:
        self._api, self._first = api, len(api.requests)
        self.documented = _documented()
        self.malformed = _malformed()
        self.adapter = AmazonConnect(
            AmazonConnectSettings(
                instance_arn=INSTANCE_ARN,
                key_header=KEY_HEADER,
                key=KEY,
                agents={AGENT_ARN: "a-17", OTHER_AGENT_ARN: "b-22"},
                contact_flow_id="flow-outbound",
                source_phone_number="+14155550100",
                endpoint_url=api.url,
            ),
            Clock(datetime(2026, 11, 25, 10, tzinfo=UTC)),
            SESSION,
        )

    def deliver(self, event: Any) -> None:
        self.adapter.receive(posted(event))

    def live_call(self, kind: CommandKind) -> str:
        contact = Contact("live")
        self.deliver(contact.initiated(0))
        self.deliver(contact.connected_to_agent(5))
        return "live"

    def requests(self) -> list[Request]:
        return self._api.requests[self._first :]

    def expected_request(self, command: CallCommand | PlaceCall) -> Request:
        if isinstance(command, PlaceCall):
            return Request(
                "StartOutboundVoiceContact",
                {
                    "DestinationPhoneNumber": command.number.e164,
                    "ContactFlowId": "flow-outbound",
                    "InstanceId": INSTANCE_ID,
                    "ClientToken": command.command_id,
                    "SourcePhoneNumber": "+14155550100",
                    "Attributes": {"calldeskAgentId": AGENT_ID},
                },
            )
        return Request(
            "StopContact", {"ContactId": command.vendor_call_id, "InstanceId": INSTANCE_ID}
        )


class TestAmazonConnectContract(AdapterContract):
    api: ClassVar[ConnectApi]

    def make_harness(self) -> AdapterHarness:
        return ConnectHarness(self.api)


@pytest.fixture(scope="module", autouse=True)
def _served() -> Iterator[None]:
    """One Connect API for the whole contract: each harness reads its own requests."""
    with connect_api() as api:
        TestAmazonConnectContract.api = api
        yield
    assert not api.violations, "every request has the documented shape"
