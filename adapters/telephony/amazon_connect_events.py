"""An Amazon Connect contact event as EventBridge delivers it, in its documented shape.

The shape is the "Amazon Connect contact events" page of the administrator guide
(https://docs.aws.amazon.com/connect/latest/adminguide/contact-events.html): the data
model, the contact timestamps, and the samples. Only the fields calldesk reads are
parsed, each strictly (text is text, an instant is ISO 8601 with its zone); fields it
does not read are left alone, as the page asks of consumers. Keys are camelCase, as in
the samples and in the page's own EventBridge rule (``detail.eventType``), which could
not match PascalCase keys: EventBridge patterns are case-sensitive.
"""

from datetime import UTC, datetime
from typing import Any

import attrs
from cattrs import ClassValidationError, Converter, transform_error
from cattrs.gen import make_dict_structure_fn, override

from calldesk.adapters.strict_json import MalformedJSON, parse_json
from calldesk.ports.telephony import RejectionReason, VendorEventRejected

DETAIL_TYPE = "Amazon Connect Contact Event"
SOURCE = "aws.connect"

#: EventType values the data model documents.
EVENT_TYPES = frozenset(
    {
        "AMD_DISABLED",
        "INITIATED",
        "CONNECTED_TO_SYSTEM",
        "CONTACT_DATA_UPDATED",
        "QUEUED",
        "CONNECTED_TO_AGENT",
        "COMPLETED",
        "DISCONNECTED",
        "PAUSED",
        "RESUMED",
        "WEBRTC_API",
    }
)

#: Channel values the data model documents.
CHANNELS = frozenset({"VOICE", "CHAT", "TASK", "EMAIL"})

#: InitiationMethod values the data model and the API's ContactInitiationMethod document.
INITIATION_METHODS = frozenset(
    {
        "INBOUND",
        "OUTBOUND",
        "TRANSFER",
        "QUEUE_TRANSFER",
        "CALLBACK",
        "API",
        "DISCONNECT",
        "MONITOR",
        "EXTERNAL_OUTBOUND",
        "WEBRTC_API",
        "AGENT_REPLY",
        "FLOW",
    }
)

#: The page's own sample shows 1970-01-01T00:00:00.001Z for a step the contact has not
#: reached; an instant this early means "not yet".
_NOT_YET = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


@attrs.frozen
class AgentInfo:
    agent_arn: str | None = None
    connected_to_agent_timestamp: datetime | None = None


@attrs.frozen
class QueueInfo:
    queue_arn: str | None = None
    enqueue_timestamp: datetime | None = None


@attrs.frozen
class ContactDetail:
    """The ``detail`` of a contact event: the fields calldesk reads."""

    event_type: str
    contact_id: str
    channel: str
    instance_arn: str
    initiation_method: str
    previous_contact_id: str | None = None
    initiation_timestamp: datetime | None = None
    connected_to_system_timestamp: datetime | None = None
    disconnect_timestamp: datetime | None = None
    # The page names a "DisconnectReason code" without showing its JSON form: a code in
    # text is read, any other form is kept in the raw payload only (see reason_code).
    disconnect_reason: Any = None
    agent_info: AgentInfo | None = None
    queue_info: QueueInfo | None = None
    tags: dict[str, str] = attrs.field(factory=dict)

    @property
    def reason_code(self) -> str | None:
        reason = self.disconnect_reason
        return reason if isinstance(reason, str) and reason else None


@attrs.frozen
class ContactEvent:
    """One EventBridge event of detail-type "Amazon Connect Contact Event"."""

    id: str
    time: datetime
    detail: ContactDetail
    #: The event as it arrived, for the audit.
    payload: dict[str, Any]


def reached(instant: datetime | None) -> datetime | None:
    """The instant a contact reached a step, or None when it has not (yet)."""
    if instant is None or instant <= _NOT_YET:
        return None
    return instant


def parse(body: bytes) -> ContactEvent:
    """The contact event in this body, or a MALFORMED refusal saying what is wrong."""
    try:
        payload = parse_json(body)
    except MalformedJSON as error:
        raise _malformed(f"the body is not JSON that means one thing: {error}") from None
    if not isinstance(payload, dict):
        raise _malformed("the body is not an EventBridge event (a JSON object)")
    if payload.get("detail-type") != DETAIL_TYPE or payload.get("source") != SOURCE:
        raise _malformed(
            f"not an Amazon Connect contact event: detail-type is "
            f"{payload.get('detail-type')!r} and source {payload.get('source')!r}; "
            f"expected {DETAIL_TYPE!r} from {SOURCE!r}"
        )
    try:
        envelope = _converter.structure(payload, _Envelope)
    except ClassValidationError as error:
        problems = "; ".join(_json_path(line) for line in transform_error(error))
        raise _malformed(f"not the documented contact event: {problems}") from None
    return ContactEvent(envelope.id, envelope.time, envelope.detail, payload)


@attrs.frozen
class _Envelope:
    id: str
    time: datetime
    detail: ContactDetail


def _malformed(why: str) -> VendorEventRejected:
    return VendorEventRejected(RejectionReason.MALFORMED, why)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _json_path(problem: str) -> str:
    """cattrs names attributes; a person fixing the payload reads its camelCase keys."""
    message, _, path = problem.rpartition(" @ ")
    return f"{message} at {'.'.join(_camel(part) for part in path.split('.'))}"


def _strict_text(value: object, _: type) -> str:
    if type(value) is not str:
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _instant(value: object, _: type) -> datetime:
    instant = datetime.fromisoformat(_strict_text(value, str))
    if instant.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone")
    return instant


_converter = Converter(forbid_extra_keys=False)
_converter.register_structure_hook(str, _strict_text)
_converter.register_structure_hook(datetime, _instant)
for _shape in (AgentInfo, QueueInfo, ContactDetail):
    _renamed: dict[str, Any] = {
        field.name: override(rename=_camel(field.name)) for field in attrs.fields(_shape)
    }
    _converter.register_structure_hook(
        _shape, make_dict_structure_fn(_shape, _converter, **_renamed)
    )
