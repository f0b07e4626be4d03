"""Amazon Connect: contact events from EventBridge in, Connect's API out, calls right.

Events follow the "Amazon Connect contact events" page (tests/fixtures/amazon_connect);
commands go through boto3's real "connect" client to a local server that serves the
API reference's requests and answers (connect_api.py).
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from fixtures.amazon_connect.connect_api import (
    CALLER,
    Answer,
    ConnectApi,
    Request,
    connect_api,
    error,
)
from fixtures.amazon_connect.contact_events import (
    AGENT_ARN,
    AGENT_ID,
    DOCS_CONNECTED_TO_AGENT,
    DOCS_CONTACT_DATA_UPDATED,
    DOCS_DISCONNECTED,
    INSTANCE_ARN,
    INSTANCE_ID,
    OTHER_AGENT_ARN,
    OTHER_INSTANCE_ARN,
    SYSTEM_ENDPOINT,
    UNMAPPED_AGENT_ARN,
    Contact,
)
from support.clock import Clock

from calldesk.adapters.telephony.amazon_connect import (
    AmazonConnect,
    AmazonConnectSettings,
)
from calldesk.apps.calls import Dial, PhoneSystemRefused
from calldesk.apps.desk import Desk
from calldesk.domain.agents import AgentState
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import CallState, Outcome
from calldesk.domain.calls import Call
from calldesk.domain.errors import InvalidValue
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.signals import (
    RAW_PAYLOAD_MAX_BYTES,
    CallSignal,
    Direction,
    Party,
    SignalKind,
)
from calldesk.ports.telephony import (
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    RejectionReason,
    VendorDelivery,
    VendorEventRejected,
    VendorRefusal,
)
from calldesk.testing.adapter_contract import TENANT, desk_with_agents

KEY_HEADER = "X-Calldesk-Key"
KEY = "eventbridge-connection-key"
#: Dummy credentials: requests are signed, and only the local server reads them.
SESSION = boto3.Session(
    aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy", region_name="us-west-2"
)
CUSTOMER = "+442079460958"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
#: When the stories' contacts begin (the fixtures' 09:00:00): calldesk hears them then.
STORY_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def settings(api_url: str, **changes: Any) -> AmazonConnectSettings:
    values: dict[str, Any] = {
        "instance_arn": INSTANCE_ARN,
        "key_header": KEY_HEADER,
        "key": KEY,
        "agents": {AGENT_ARN: "a-17", OTHER_AGENT_ARN: "b-22"},
        "contact_flow_id": "flow-outbound",
        "queue_id": "queue-outbound",
        "endpoint_url": api_url,
    }
    return AmazonConnectSettings(**{**values, **changes})


def delivery(
    event: Any,
    key: str | None = KEY,
    content_type: str = "application/json; charset=utf-8",
) -> VendorDelivery:
    """A post as an EventBridge API destination with API-key authorization sends it."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {"user-agent": "Amazon/EventBridge/ApiDestinations"}
    if key is not None:
        headers[KEY_HEADER.lower()] = key
    return VendorDelivery(
        url=f"https://desk.example/webhooks/amazon-connect/{TENANT}",
        headers=headers,
        body=body,
        content_type=content_type,
    )


class Heard(list[CallSignal]):
    """A sink that keeps what it is handed."""

    def __call__(self, signal: CallSignal) -> bool:
        self.append(signal)
        return True


@pytest.fixture(scope="module")
def api() -> Iterator[ConnectApi]:
    with connect_api() as served:
        yield served


@pytest.fixture
def connect(api: ConnectApi) -> Iterator[AmazonConnect]:
    api.requests.clear()
    yield AmazonConnect(settings(api.url), Clock(NOW), SESSION)
    assert not api.violations, "every request has the documented shape"


@pytest.fixture
def heard(connect: AmazonConnect) -> Heard:
    sink = Heard()
    connect.listen(sink)
    return sink


@pytest.fixture
def desk(connect: AmazonConnect) -> Desk:
    """A tenant without wrap-up, so each call closes with its outcome; a-17 and b-22."""
    desk = desk_with_agents(("a-17", "b-22"))
    desk.attach(TENANT, connect, Clock(STORY_START))
    return desk


def call_of(desk: Desk, contact_id: str) -> Any:
    return desk.call(TENANT, str(Call.create_id(TENANT, "amazon-connect", contact_id)))


def play(connect: AmazonConnect, *events: dict[str, Any]) -> None:
    for event in events:
        connect.receive(delivery(event))


# Authentication and refusals.


def test_a_delivery_with_the_connection_key_is_heard(
    connect: AmazonConnect, heard: Heard
) -> None:
    signals = connect.receive(delivery(Contact("c-1").initiated()))
    assert [s.kind for s in signals] == [SignalKind.QUEUED]
    assert heard == list(signals)


@pytest.mark.parametrize(
    ("key", "why"), [(None, "no X-Calldesk-Key header"), ("guess", "is not this tenant")]
)
def test_a_missing_or_wrong_key_is_refused_unheard(
    connect: AmazonConnect, heard: Heard, key: str | None, why: str
) -> None:
    with pytest.raises(VendorEventRejected, match=why) as refused:
        connect.receive(delivery(Contact("c-1").initiated(), key=key))
    assert refused.value.reason is RejectionReason.UNAUTHENTICATED
    assert heard == []


def _renamed(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, "detail": {**event["detail"], **changes}}


def _without(event: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in event.items() if name != key}


INITIATED = Contact("c-bad").initiated()
REFUSED = {
    "not JSON": (b"{", RejectionReason.MALFORMED, "not JSON"),
    "nested thousands deep": (
        b"[" * 5000 + b"]" * 5000,
        RejectionReason.MALFORMED,
        "deeper",
    ),
    "a key twice": (
        json.dumps(INITIATED)[:-1].encode() + b', "id": "other"}',
        RejectionReason.MALFORMED,
        "'id' appears twice",
    ),
    "a JSON array": (b"[]", RejectionReason.MALFORMED, "JSON object"),
    "another EventBridge event": (
        {**INITIATED, "detail-type": "Amazon Connect Agent Event"},
        RejectionReason.MALFORMED,
        "not an Amazon Connect contact event",
    ),
    "another source": (
        {**INITIATED, "source": "aws.events"},
        RejectionReason.MALFORMED,
        "not an Amazon Connect contact event",
    ),
    "no event id": (_without(INITIATED, "id"), RejectionReason.MALFORMED, r"\$\.id"),
    "a time without its zone": (
        {**INITIATED, "time": "2026-11-25T09:00:00"},
        RejectionReason.MALFORMED,
        r"\$\.time",
    ),
    "no contactId": (
        {**INITIATED, "detail": _without(INITIATED["detail"], "contactId")},
        RejectionReason.MALFORMED,
        r"\$\.detail\.contactId",
    ),
    "a number for a contactId": (
        _renamed(INITIATED, contactId=42),
        RejectionReason.MALFORMED,
        r"expected str at \$\.detail\.contactId",
    ),
    "PascalCase keys": (
        {
            **INITIATED,
            "detail": {
                key[0].upper() + key[1:]: v for key, v in INITIATED["detail"].items()
            },
        },
        RejectionReason.MALFORMED,
        "required field missing",
    ),
    "an undocumented event type": (
        _renamed(INITIATED, eventType="ON_FIRE"),
        RejectionReason.UNKNOWN_STATUS,
        "event type 'ON_FIRE'",
    ),
    "an undocumented channel": (
        _renamed(INITIATED, channel="PIGEON"),
        RejectionReason.UNKNOWN_STATUS,
        "channel 'PIGEON'",
    ),
    "an undocumented initiation method": (
        _renamed(INITIATED, initiationMethod="TELEPATHY"),
        RejectionReason.UNKNOWN_STATUS,
        "initiation method 'TELEPATHY'",
    ),
    "another tenant's instance": (
        Contact("c-bad", instance_arn=OTHER_INSTANCE_ARN).initiated(),
        RejectionReason.FOREIGN_TENANT,
        "not this tenant's",
    ),
}


@pytest.mark.parametrize("problem", REFUSED)
def test_bad_input_is_refused_with_its_reason_and_heard_by_no_one(
    connect: AmazonConnect, heard: Heard, problem: str
) -> None:
    body, reason, why = REFUSED[problem]
    with pytest.raises(VendorEventRejected, match=why) as refused:
        connect.receive(delivery(body))
    assert refused.value.reason is reason
    assert heard == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", ""]
)
def test_a_body_that_is_not_json_by_its_content_type_is_refused(
    connect: AmazonConnect, heard: Heard, content_type: str
) -> None:
    with pytest.raises(VendorEventRejected) as refused:
        connect.receive(delivery(INITIATED, content_type=content_type))
    assert refused.value.reason is RejectionReason.UNSUPPORTED_MEDIA
    assert heard == []


def test_a_repeated_event_is_refused_as_a_replay(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-1")
    initiated = contact.initiated()
    play(connect, initiated)
    with pytest.raises(VendorEventRejected) as refused:
        play(connect, initiated)
    assert refused.value.reason is RejectionReason.REPLAYED


# The documentation's samples.


def test_the_docs_connected_to_agent_sample_connects_the_mapped_agent(
    connect: AmazonConnect, heard: Heard
) -> None:
    (signal,) = connect.receive(delivery(DOCS_CONNECTED_TO_AGENT))
    assert signal.kind is SignalKind.CONNECTED
    assert signal.vendor_event_id == DOCS_CONNECTED_TO_AGENT["id"]
    assert signal.vendor_call_id == "11111111-1111-1111-1111-111111111111"
    assert signal.agent == "a-17"
    assert signal.direction is Direction.INBOUND
    assert signal.dialed_number == SYSTEM_ENDPOINT
    # The detail's own instant, to the millisecond, not the event's whole second.
    assert signal.occurred_at == datetime(2021, 8, 4, 17, 29, 9, tzinfo=UTC)
    assert signal.vendor_kind == "CONNECTED_TO_AGENT"
    assert signal.raw == DOCS_CONNECTED_TO_AGENT


def test_the_docs_disconnected_sample_is_an_answered_outbound_call_that_ended(
    connect: AmazonConnect, heard: Heard
) -> None:
    connected, ended = connect.receive(delivery(DOCS_DISCONNECTED))
    assert connected.kind is SignalKind.CONNECTED
    assert connected.occurred_at == datetime(2021, 8, 4, 17, 17, 55, tzinfo=UTC)
    assert ended.kind is SignalKind.ENDED
    assert ended.occurred_at == datetime(2021, 8, 4, 17, 18, 37, tzinfo=UTC)
    assert {connected.direction, ended.direction} == {Direction.OUTBOUND}
    assert connected.vendor_event_id != ended.vendor_event_id


def test_the_docs_contact_data_updated_sample_is_accepted_as_no_call_news(
    connect: AmazonConnect, heard: Heard
) -> None:
    assert connect.receive(delivery(DOCS_CONTACT_DATA_UPDATED)) == ()
    assert heard == []


@pytest.mark.parametrize(
    "event",
    [
        _renamed(Contact("chat-1").initiated(), channel="CHAT"),
        _renamed(Contact("task-1").queued(), channel="TASK"),
        Contact("monitor-1", method="MONITOR").connected_to_agent(),
        Contact("leg-1", method="EXTERNAL_OUTBOUND").initiated(),
        Contact("c-1").event("CONTACT_DATA_UPDATED", updatedProperties=["Tags"]),
        Contact("c-1").event("AMD_DISABLED"),
    ],
    ids=["chat", "task", "supervisor", "third-party leg", "data updated", "amd off"],
)
def test_contacts_and_events_that_are_no_call_are_accepted_unheard(
    connect: AmazonConnect, heard: Heard, event: dict[str, Any]
) -> None:
    assert connect.receive(delivery(event)) == ()
    assert heard == []


def test_an_event_too_large_to_keep_whole_keeps_what_calldesk_read(
    connect: AmazonConnect, heard: Heard
) -> None:
    contact = Contact("c-big")
    contact.detail["tags"] = {f"tag-{n}": "x" * 100 for n in range(200)}
    event = contact.queued()
    (signal,) = connect.receive(delivery(event))
    assert len(json.dumps(signal.raw)) <= RAW_PAYLOAD_MAX_BYTES
    assert signal.raw["id"] == event["id"]
    assert signal.raw["detail"]["queueInfo"] == event["detail"]["queueInfo"]
    assert "tags" not in signal.raw["detail"]


# Whole calls, through calldesk.


def test_inbound_queued_answered_then_the_agent_hangs_up(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-1")
    play(connect, contact.initiated(0), contact.queued(2), contact.connected_to_agent(7))
    assert call_of(desk, "c-1").state is CallState.CONNECTED
    assert desk.agent(TENANT, "a-17").state is AgentState.ON_CALL
    play(connect, contact.disconnected(67, "AGENT_DISCONNECT"), contact.completed(67))
    call = call_of(desk, "c-1")
    assert call.outcome is Outcome.COMPLETED
    assert (call.agent, call.ended_by, call.end_reason) == (
        "a-17",
        Party.AGENT,
        "AGENT_DISCONNECT",
    )
    assert call.talk_seconds == 60
    assert call.direction is Direction.INBOUND


def test_an_inbound_call_comes_from_the_number_describe_contact_tells_asked_once(
    connect: AmazonConnect, desk: Desk, api: ConnectApi
) -> None:
    contact = Contact("c-10")
    play(connect, contact.initiated(0), contact.queued(2), contact.connected_to_agent(7))
    assert call_of(desk, "c-10").customer_number == CALLER
    assert api.requests == [
        Request("DescribeContact", {"InstanceId": INSTANCE_ID, "ContactId": "c-10"})
    ]


@pytest.mark.parametrize(
    "answer",
    [
        error("ThrottlingException", 429, "Rate exceeded"),
        Answer({"Contact": {"CustomerEndpoint": {"Type": "VOIP", "Address": "sip:x@y"}}}),
        Answer({"Contact": {}}),
    ],
    ids=["Connect refuses", "a VoIP caller", "no customer endpoint"],
)
def test_a_caller_connect_does_not_name_by_number_is_heard_as_unknown(
    connect: AmazonConnect, desk: Desk, api: ConnectApi, answer: Answer
) -> None:
    api.answer("DescribeContact", answer)
    contact = Contact("c-11")
    play(connect, contact.initiated(0))
    call = call_of(desk, "c-11")
    assert (call.state, call.customer_number) == (CallState.QUEUED, None)


def test_a_caller_who_hangs_up_in_the_queue_abandoned(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-2")
    play(connect, contact.initiated(0), contact.queued(3), contact.disconnected(40))
    call = call_of(desk, "c-2")
    assert (call.outcome, call.ended_by) == (Outcome.ABANDONED, Party.CUSTOMER)


def test_a_call_the_flow_hangs_up_is_missed_not_abandoned(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-3")
    play(
        connect,
        contact.initiated(0),
        contact.queued(3),
        contact.disconnected(40, "CONTACT_FLOW_DISCONNECT"),
    )
    call = call_of(desk, "c-3")
    assert (call.outcome, call.ended_by) == (Outcome.MISSED, Party.SYSTEM)


def test_a_lost_connected_to_agent_event_still_ends_a_conversation_completed(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-4")
    play(connect, contact.initiated(0), contact.queued(2))
    contact.connected_to_agent(7)  # published, never delivered
    play(connect, contact.disconnected(67, "CUSTOMER_DISCONNECT"))
    call = call_of(desk, "c-4")
    assert (call.outcome, call.agent, call.talk_seconds) == (Outcome.COMPLETED, "a-17", 60)


def test_an_agents_outbound_call_answered_then_hung_up_by_the_customer(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-out", method="OUTBOUND").with_agent()
    play(connect, contact.initiated(0))
    assert call_of(desk, "c-out").state is CallState.DIALING
    play(
        connect,
        contact.connected_to_agent(1),
        contact.connected_to_system(6),
        contact.disconnected(36, "CUSTOMER_DISCONNECT"),
    )
    call = call_of(desk, "c-out")
    assert (call.direction, call.outcome, call.agent) == (
        Direction.OUTBOUND,
        Outcome.COMPLETED,
        "a-17",
    )
    assert call.talk_seconds == 30


def test_an_agents_outbound_call_nobody_answers_failed(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-no-answer", method="OUTBOUND").with_agent()
    play(
        connect,
        contact.initiated(0),
        contact.connected_to_agent(1),
        contact.disconnected(45, "TELECOM_PROBLEM"),
    )
    call = call_of(desk, "c-no-answer")
    assert (call.outcome, call.ended_by, call.end_reason) == (
        Outcome.FAILED,
        Party.SYSTEM,
        "TELECOM_PROBLEM",
    )


def test_a_transfer_hands_the_customer_to_a_contact_of_its_own(
    connect: AmazonConnect, desk: Desk
) -> None:
    first = Contact("c-first")
    play(connect, first.initiated(0), first.queued(1), first.connected_to_agent(5))
    second = Contact("c-second", method="TRANSFER", previous="c-first")
    play(connect, second.initiated(30), first.disconnected(31, "AGENT_DISCONNECT"))
    transferred = call_of(desk, "c-first")
    assert (transferred.outcome, transferred.agent) == (Outcome.TRANSFERRED_AWAY, "a-17")
    assert desk.agent(TENANT, "a-17").calls == ()
    play(
        connect,
        second.queued(31),
        second.connected_to_agent(40, OTHER_AGENT_ARN),
        second.disconnected(100, "CUSTOMER_DISCONNECT"),
    )
    taken_over = call_of(desk, "c-second")
    assert (taken_over.outcome, taken_over.agent) == (Outcome.COMPLETED, "b-22")
    assert taken_over.direction is Direction.INBOUND


def test_an_agent_connect_knows_but_calldesk_does_not_is_left_unnamed(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-stranger")
    play(connect, contact.initiated(0), contact.connected_to_agent(4, UNMAPPED_AGENT_ARN))
    call = call_of(desk, "c-stranger")
    assert (call.state, call.agent) == (CallState.CONNECTED, None)


def test_a_click_to_dial_places_the_call_and_its_events_name_the_agent(
    connect: AmazonConnect, desk: Desk, api: ConnectApi
) -> None:
    api.answer("StartOutboundVoiceContact", Answer({"ContactId": "c-dialed"}))
    desk.dial(Dial(TENANT, "a-17", CUSTOMER, "dial-1", "amazon-connect", at=STORY_START))
    assert api.requests == [
        Request(
            "StartOutboundVoiceContact",
            {
                "DestinationPhoneNumber": CUSTOMER,
                "ContactFlowId": "flow-outbound",
                "InstanceId": INSTANCE_ID,
                "ClientToken": "dial-1",
                "QueueId": "queue-outbound",
                "Attributes": {"calldeskAgentId": AGENT_ID},
            },
        )
    ]
    contact = Contact("c-dialed", method="API")
    play(connect, contact.initiated(0))
    dialing = call_of(desk, "c-dialed")
    assert (dialing.state, dialing.agent, dialing.customer_number) == (
        CallState.DIALING,
        "a-17",
        CUSTOMER,
    )
    # The customer answers the flow, which queues the call for the agent.
    play(
        connect,
        contact.connected_to_system(8),
        contact.queued(9),
        contact.connected_to_agent(12),
        contact.disconnected(72, "AGENT_DISCONNECT"),
    )
    call = call_of(desk, "c-dialed")
    assert (call.outcome, call.agent, call.talk_seconds) == (Outcome.COMPLETED, "a-17", 60)


# Commands.


def test_hanging_up_is_stop_contact(connect: AmazonConnect, api: ConnectApi) -> None:
    connect.send(CallCommand("hang-1", CommandKind.HANG_UP, "c-1", "a-17"))
    assert api.requests == [
        Request("StopContact", {"ContactId": "c-1", "InstanceId": INSTANCE_ID})
    ]


def test_a_contact_connect_does_not_know_is_refused_with_connects_reason(
    connect: AmazonConnect, api: ConnectApi
) -> None:
    api.answer(
        "StopContact",
        error(
            "ContactNotFoundException",
            410,
            "The contact with the specified ID is not active",
        ),
    )
    with pytest.raises(VendorRefusal, match="ContactNotFoundException: The contact"):
        connect.send(CallCommand("hang-1", CommandKind.HANG_UP, "c-gone", "a-17"))


def test_an_unreachable_connect_is_a_refusal() -> None:
    unreachable = AmazonConnect(settings("http://127.0.0.1:9"), Clock(NOW), SESSION)
    with pytest.raises(VendorRefusal, match="could not hang up"):
        unreachable.send(CallCommand("hang-1", CommandKind.HANG_UP, "c-1", "a-17"))


@pytest.mark.parametrize(
    "kind", [k for k in CommandKind if k is not CommandKind.HANG_UP], ids=lambda k: k.value
)
def test_commands_only_the_ccp_takes_are_refused_unsent(
    connect: AmazonConnect, api: ConnectApi, kind: CommandKind
) -> None:
    assert connect.capabilities == frozenset({Capability.DIAL})
    with pytest.raises(VendorRefusal, match="Contact Control Panel"):
        connect.send(CallCommand("c", kind, "c-1", "a-17", "12#"))
    assert api.requests == []


def test_dialing_for_an_agent_without_a_connect_user_is_refused_unsent(
    connect: AmazonConnect, api: ConnectApi
) -> None:
    with pytest.raises(VendorRefusal, match="no Amazon Connect user"):
        connect.send(PlaceCall("dial-1", "z-99", PhoneNumber(CUSTOMER)))
    assert api.requests == []


def test_without_a_contact_flow_calldesk_does_not_dial(api: ConnectApi) -> None:
    no_flow = AmazonConnect(settings(api.url, contact_flow_id=None), Clock(NOW), SESSION)
    assert no_flow.capabilities == frozenset()
    with pytest.raises(VendorRefusal, match="no contact flow"):
        no_flow.send(PlaceCall("dial-1", "a-17", PhoneNumber(CUSTOMER)))


def test_a_refused_dial_is_the_desks_failure_to_show(
    connect: AmazonConnect, desk: Desk, api: ConnectApi
) -> None:
    api.answer(
        "StartOutboundVoiceContact",
        error(
            "DestinationNotAllowedException",
            403,
            "Outbound calls to this number are not allowed",
        ),
    )
    with pytest.raises(PhoneSystemRefused, match="DestinationNotAllowedException"):
        desk.dial(
            Dial(TENANT, "a-17", CUSTOMER, "dial-2", "amazon-connect", at=STORY_START)
        )


# Reconciliation.


def _summary(contact_id: str, method: str, **fields: Any) -> dict[str, Any]:
    """A ContactSearchSummary as SearchContacts documents it."""
    return {
        "Arn": f"{INSTANCE_ARN}/contact/{contact_id}",
        "Id": contact_id,
        "InitialContactId": contact_id,
        "InitiationMethod": method,
        "Channel": "VOICE",
        "InitiationTimestamp": NOW.timestamp() - 300,
        **fields,
    }


def test_the_snapshot_searches_the_voice_contacts_not_yet_disconnected(
    connect: AmazonConnect, api: ConnectApi
) -> None:
    agent = {"Id": AGENT_ID, "ConnectedToAgentTimestamp": NOW.timestamp() - 200}
    queue = {"Id": "queue-1", "EnqueueTimestamp": NOW.timestamp() - 250}
    api.answer(
        "SearchContacts",
        Answer(
            {
                "Contacts": [
                    _summary("in-talking", "INBOUND", QueueInfo=queue, AgentInfo=agent),
                    _summary("in-waiting", "TRANSFER", QueueInfo=queue),
                ],
                "NextToken": "page-2",
                "TotalCount": 4,
            }
        ),
        Answer(
            {
                "Contacts": [
                    _summary("out-ringing", "OUTBOUND", AgentInfo=agent),
                    _summary("supervisor", "MONITOR", AgentInfo=agent),
                ],
                "TotalCount": 4,
            }
        ),
    )
    live = connect.snapshot()
    assert live == (
        LiveCall("in-talking", SignalKind.CONNECTED, "a-17", Direction.INBOUND),
        LiveCall("in-waiting", SignalKind.QUEUED, None, Direction.INBOUND),
        LiveCall("out-ringing", SignalKind.DIALING, "a-17", Direction.OUTBOUND),
    )
    first, second = api.requests
    assert first.body == {
        "InstanceId": INSTANCE_ID,
        "TimeRange": {
            "Type": "INITIATION_TIMESTAMP",
            "StartTime": (NOW - timedelta(days=1)).timestamp(),
            "EndTime": NOW.timestamp(),
        },
        "SearchCriteria": {
            "Channels": ["VOICE"],
            "AdditionalTimeRange": {
                "Criteria": [
                    {
                        "TimestampCondition": {
                            "Type": "DISCONNECT_TIMESTAMP",
                            "ConditionType": "NOT_EXISTS",
                        }
                    }
                ],
                "MatchType": "MATCH_ALL",
            },
        },
        "MaxResults": 100,
    }
    assert second.body == {**first.body, "NextToken": "page-2"}


def test_reconciling_ends_a_call_connect_no_longer_lists(
    connect: AmazonConnect, desk: Desk
) -> None:
    contact = Contact("c-vanished")
    play(connect, contact.initiated(0), contact.queued(2))
    assert desk.reconcile(TENANT, "amazon-connect", NOW) == (1, 0)
    assert call_of(desk, "c-vanished").outcome is Outcome.MISSED


# Settings.


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"instance_arn": "arn:aws:s3:::bucket"}, "not an Amazon Connect instance ARN"),
        ({"agents": {f"{OTHER_INSTANCE_ARN}/agent/x": "a-17"}}, "is not of instance"),
        ({"agents": {AGENT_ARN: "Not A Handle"}}, "agent handle"),
        ({"queue_id": None}, "needs a queue or a source phone number"),
        ({"key": ""}, "API key"),
    ],
)
def test_settings_that_cannot_work_are_refused(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(InvalidValue, match=why):
        settings("http://127.0.0.1:9", **changes)


def test_the_region_is_the_instances() -> None:
    assert settings("http://x").region == "us-west-2"
