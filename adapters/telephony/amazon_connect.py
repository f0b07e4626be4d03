"""Amazon Connect for one tenant: contact events in through EventBridge, commands out.

Connect publishes contact events to EventBridge; a rule sends them to calldesk's webhook
through an API destination, whose connection (API-key authorization) adds a header
with the tenant's key. Commands go through Connect's API with boto3: StopContact hangs
up, StartOutboundVoiceContact places a call, and DescribeContact tells an inbound
call's number (contact events do not carry it) before the call can pop a record.
Answering, holding, muting, digits and
transfers exist only in the agent's Contact Control Panel (Amazon Connect Streams), so
they are not among the capabilities. After a reconnect, SearchContacts lists the voice
contacts not yet disconnected.
"""

import hmac
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

import attrs
import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from calldesk.adapters.telephony.amazon_connect_events import (
    CHANNELS,
    EVENT_TYPES,
    INITIATION_METHODS,
    ContactDetail,
    parse,
)
from calldesk.adapters.telephony.amazon_connect_signals import (
    INBOUND,
    OUTBOUND,
    VENDOR,
    Dial,
    is_call,
    signals_of,
)
from calldesk.adapters.telephony.webhooks import hand_over
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_slug
from calldesk.domain.signals import CallSignal, Direction, SignalKind
from calldesk.ports.clock import Clock
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

__all__ = ["VENDOR", "AmazonConnect", "AmazonConnectSettings"]

_INSTANCE_ARN = re.compile(r"arn:aws[a-z-]*:connect:([a-z0-9-]+):\d{12}:instance/[\w-]+")
#: Calls calldesk placed, remembered until contact events name their agent.
_DIALS_REMEMBERED = 1024
#: Callers' numbers asked of DescribeContact, remembered for the contact's next events.
_CALLERS_REMEMBERED = 1024
#: The events that can be the first calldesk hears of an inbound call, which pops.
_FIRST_HEARD = frozenset(
    {"INITIATED", "QUEUED", "CONNECTED_TO_AGENT", "CONNECTED_TO_SYSTEM"}
)

logger = logging.getLogger(__name__)


def _instance_arn(_: object, __: object, value: str) -> None:
    if not _INSTANCE_ARN.fullmatch(value):
        raise InvalidValue(
            f"{value!r} is not an Amazon Connect instance ARN "
            "(arn:aws:connect:<region>:<account>:instance/<id>)"
        )


@attrs.frozen
class AmazonConnectSettings:
    """One tenant's Connect instance: how its events are authenticated, who its agents
    are, and how calldesk places calls through it."""

    instance_arn: str = attrs.field(validator=_instance_arn)
    #: The API key name and value of the EventBridge connection: a header on every post.
    key_header: str
    key: str = attrs.field(repr=False)
    #: Connect agent ARN -> calldesk agent handle.
    agents: Mapping[str, str] = attrs.field(factory=dict)
    #: The flow StartOutboundVoiceContact runs; without it calldesk does not dial.
    contact_flow_id: str | None = None
    #: The queue (its caller id) or the number calls are placed from: one is needed.
    queue_id: str | None = None
    source_phone_number: str | None = None
    #: Another endpoint for Connect's API (a VPC endpoint, a test server).
    endpoint_url: str | None = None
    #: How far back SearchContacts looks for contacts still open.
    live_window: timedelta = timedelta(days=1)

    def __attrs_post_init__(self) -> None:
        for arn, handle in self.agents.items():
            if not arn.startswith(f"{self.instance_arn}/agent/"):
                raise InvalidValue(f"agent {arn!r} is not of instance {self.instance_arn}")
            checked_slug(handle, "an agent handle")
        if not self.key_header or not self.key:
            raise InvalidValue(
                "the EventBridge connection's API key name and value are needed"
            )
        if self.contact_flow_id and not (self.queue_id or self.source_phone_number):
            raise InvalidValue(
                "StartOutboundVoiceContact needs a queue or a source phone number "
                "besides the contact flow"
            )

    @property
    def region(self) -> str:
        match = _INSTANCE_ARN.fullmatch(self.instance_arn)
        assert match is not None
        return match.group(1)

    @property
    def instance_id(self) -> str:
        return self.instance_arn.rsplit("/", 1)[1]


class ConnectClient(Protocol):
    """The operations of boto3's "connect" client that calldesk uses."""

    def stop_contact(self, **request: Any) -> dict[str, Any]: ...

    def start_outbound_voice_contact(self, **request: Any) -> dict[str, Any]: ...

    def search_contacts(self, **request: Any) -> dict[str, Any]: ...

    def describe_contact(self, **request: Any) -> dict[str, Any]: ...


class AmazonConnect:
    """One tenant's Amazon Connect instance, as a webhook phone system."""

    needs_acknowledgement = True  # EventBridge retries a delivery that failed

    def __init__(
        self,
        settings: AmazonConnectSettings,
        clock: Clock,
        session: boto3.Session | None = None,
    ) -> None:
        """``session`` holds the AWS credentials; by default, boto3's usual chain."""
        self._settings = settings
        self._clock = clock
        session = session or boto3.Session()
        self._client: ConnectClient = session.client(
            "connect",
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            config=Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard"}),
        )
        # The caller's number is looked up while EventBridge waits for the webhook's
        # answer (at most 5 s): one short try, and the call is heard without it.
        self._lookups: ConnectClient = session.client(
            "connect",
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            config=Config(
                connect_timeout=1,
                read_timeout=2,
                retries={"mode": "standard", "total_max_attempts": 1},
            ),
        )
        self._agents_by_id = {
            arn.rsplit("/", 1)[1]: handle for arn, handle in settings.agents.items()
        }
        self._agent_ids = {handle: id_ for id_, handle in self._agents_by_id.items()}
        self._sink: SignalSink = lambda signal: True
        self._dials: OrderedDict[str, Dial] = OrderedDict()
        self._dials_lock = threading.Lock()
        self._callers: OrderedDict[str, str | None] = OrderedDict()
        self._callers_lock = threading.Lock()

    # The port.

    @property
    def vendor(self) -> str:
        return VENDOR

    @property
    def capabilities(self) -> frozenset[Capability]:
        dials = self._settings.contact_flow_id is not None
        return frozenset({Capability.DIAL}) if dials else frozenset()

    def listen(self, sink: SignalSink) -> None:
        self._sink = sink

    def receive(self, delivery: VendorDelivery) -> tuple[CallSignal, ...]:
        """Check one EventBridge delivery and hand its signals over.

        Contacts that are not a customer's voice call (chat, task, email, monitoring and
        third-party legs) and events that change no call are accepted with no signal:
        they are Connect's documented traffic, only none of calldesk's business.
        """
        self._check_key(delivery)
        media_type = delivery.content_type.split(";")[0].strip().lower()
        if media_type != "application/json":
            raise VendorEventRejected(
                RejectionReason.UNSUPPORTED_MEDIA,
                f"EventBridge posts application/json, not {delivery.content_type!r}",
            )
        event = parse(delivery.body)
        detail = event.detail
        if detail.instance_arn != self._settings.instance_arn:
            raise VendorEventRejected(
                RejectionReason.FOREIGN_TENANT,
                f"contact {detail.contact_id} is of instance {detail.instance_arn}, "
                f"not this tenant's {self._settings.instance_arn}",
            )
        _check_documented(detail)
        if not is_call(detail):
            return ()
        try:
            signals = signals_of(
                event,
                self._agent_of,
                self._dial_of(detail.contact_id),
                self._caller_of(detail),
            )
        except InvalidValue as error:
            raise VendorEventRejected(
                RejectionReason.MALFORMED, f"event {event.id} cannot be a signal: {error}"
            ) from None
        return hand_over(self._sink, signals)

    def send(self, command: CallCommand | PlaceCall) -> None:
        if isinstance(command, PlaceCall):
            self._place(command)
        elif command.kind is CommandKind.HANG_UP:
            self._call(
                "hang up",
                self._client.stop_contact,
                ContactId=command.vendor_call_id,
                InstanceId=self._settings.instance_id,
            )
        else:
            raise VendorRefusal(
                f"Amazon Connect takes {command.kind.value} only in the agent's Contact "
                "Control Panel; through its API calldesk can hang up and dial"
            )

    def snapshot(self) -> tuple[LiveCall, ...]:
        """The voice contacts Connect has not disconnected, initiated in the live window."""
        now = self._clock.now()
        request: dict[str, Any] = {
            "InstanceId": self._settings.instance_id,
            "TimeRange": {
                "Type": "INITIATION_TIMESTAMP",
                "StartTime": now - self._settings.live_window,
                "EndTime": now,
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
        live: list[LiveCall] = []
        while True:
            page = self._call("list live contacts", self._client.search_contacts, **request)
            live.extend(filter(None, map(self._live_call, page.get("Contacts", ()))))
            if not page.get("NextToken"):
                return tuple(live)
            request["NextToken"] = page["NextToken"]

    # Inside.

    def _check_key(self, delivery: VendorDelivery) -> None:
        name = self._settings.key_header
        sent = delivery.headers.get(name.lower())
        if sent is None:
            raise VendorEventRejected(
                RejectionReason.UNAUTHENTICATED,
                f"no {name} header: the EventBridge connection sends this tenant's API key "
                "in it",
            )
        if not hmac.compare_digest(sent.encode(), self._settings.key.encode()):
            raise VendorEventRejected(
                RejectionReason.UNAUTHENTICATED,
                f"the {name} header is not this tenant's EventBridge connection key",
            )

    def _agent_of(self, agent_arn: str | None) -> str | None:
        return self._settings.agents.get(agent_arn) if agent_arn else None

    def _dial_of(self, contact_id: str) -> Dial | None:
        with self._dials_lock:
            return self._dials.get(contact_id)

    def _caller_of(self, detail: ContactDetail) -> str | None:
        """The number an inbound call comes from: DescribeContact's customer endpoint,
        asked once a contact, by the events that can be the first heard. None when it
        is no phone number or Connect does not answer in time: the call is heard all
        the same, as from an unknown number."""
        if detail.initiation_method not in INBOUND or detail.event_type not in _FIRST_HEARD:
            return None
        contact_id = detail.contact_id
        with self._callers_lock:
            if contact_id in self._callers:
                return self._callers[contact_id]
        try:
            described = self._lookups.describe_contact(
                InstanceId=self._settings.instance_id, ContactId=contact_id
            )
        except (BotoCoreError, ClientError) as error:
            logger.warning(
                "Amazon Connect did not describe contact %s: %s", contact_id, error
            )
            return None
        endpoint = described.get("Contact", {}).get("CustomerEndpoint") or {}
        number = (
            endpoint.get("Address") if endpoint.get("Type") == "TELEPHONE_NUMBER" else None
        )
        with self._callers_lock:
            self._callers[contact_id] = number
            while len(self._callers) > _CALLERS_REMEMBERED:
                self._callers.popitem(last=False)
        return number

    def _place(self, command: PlaceCall) -> None:
        settings = self._settings
        if settings.contact_flow_id is None:
            raise VendorRefusal("no contact flow is set for StartOutboundVoiceContact")
        agent_id = self._agent_ids.get(command.agent)
        if agent_id is None:
            raise VendorRefusal(f"agent {command.agent} has no Amazon Connect user here")
        placement = {
            "QueueId": settings.queue_id,
            "SourcePhoneNumber": settings.source_phone_number,
        }
        started = self._call(
            "dial",
            self._client.start_outbound_voice_contact,
            DestinationPhoneNumber=command.number.e164,
            ContactFlowId=settings.contact_flow_id,
            InstanceId=settings.instance_id,
            # A repeated command id places the call once: Connect returns the first one.
            ClientToken=command.command_id,
            # The flow routes the answered call to this agent (ADR/0011).
            Attributes={"calldeskAgentId": agent_id},
            **{name: value for name, value in placement.items() if value},
        )
        contact_id = started.get("ContactId")
        if not contact_id:
            return
        with self._dials_lock:
            self._dials[contact_id] = Dial(
                command.agent, command.command_id, command.number.e164
            )
            while len(self._dials) > _DIALS_REMEMBERED:
                self._dials.popitem(last=False)

    def _call(
        self, what: str, operation: Callable[..., dict[str, Any]], **request: Any
    ) -> dict[str, Any]:
        try:
            response: dict[str, Any] = operation(**request)
        except ClientError as error:
            problem = error.response.get("Error", {})
            raise VendorRefusal(
                f"Amazon Connect refused to {what}: {problem.get('Code', 'error')}: "
                f"{problem.get('Message', '')}".rstrip(": ")
            ) from None
        except BotoCoreError as error:
            raise VendorRefusal(f"Amazon Connect could not {what}: {error}") from None
        return response

    def _live_call(self, contact: dict[str, Any]) -> LiveCall | None:
        """One contact of SearchContacts as calldesk's state of it, if it is a call.

        The summary tells when an agent connected but not when the customer answered:
        an agent's outbound call reads as dialing until its events say more.
        """
        method = contact.get("InitiationMethod")
        if method not in INBOUND and method not in OUTBOUND:
            return None
        contact_id = contact["Id"]
        agent_info = contact.get("AgentInfo") or {}
        dial = self._dial_of(contact_id)
        agent = self._agents_by_id.get(agent_info.get("Id", "")) or (
            dial.agent if dial else None
        )
        connected = agent_info.get("ConnectedToAgentTimestamp") is not None
        if method in INBOUND:
            state = SignalKind.CONNECTED if connected else SignalKind.QUEUED
            direction = Direction.INBOUND
        else:
            direction = Direction.OUTBOUND
            if connected and method == "API":
                state = SignalKind.CONNECTED  # the flow queued the answered customer
            elif agent is not None:
                state = SignalKind.DIALING
            else:
                state = SignalKind.QUEUED
        return LiveCall(contact_id, state, agent, direction, dial.number if dial else None)


def _check_documented(detail: ContactDetail) -> None:
    for value, documented, what in (
        (detail.event_type, EVENT_TYPES, "event type"),
        (detail.channel.upper(), CHANNELS, "channel"),
        (detail.initiation_method, INITIATION_METHODS, "initiation method"),
    ):
        if value not in documented:
            raise VendorEventRejected(
                RejectionReason.UNKNOWN_STATUS,
                f"contact {detail.contact_id}: {what} {value!r} is not one Amazon Connect "
                "documents",
            )
