"""The normalized call signal: what any phone system says about a call, in one vocabulary.

Vendor adapters (calldesk.adapters.telephony) translate their own events into these; the
Call aggregate applies them. The vocabulary is a superset of Amazon Connect, Twilio,
Salesforce's connector contract, Genesys, Finesse, Asterisk and SIP user agents
(ADR/0008); what a vendor says that has no kind here arrives as UNKNOWN with the vendor's
own name and payload, and is kept rather than dropped.
"""

import enum
import hashlib
import json
from datetime import datetime
from typing import Any

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_slug, checked_text

VENDOR_ID_MAX_LENGTH = 128
RAW_PAYLOAD_MAX_BYTES = 16 * 1024


class SignalKind(enum.Enum):
    """What happened, in calldesk's words."""

    QUEUED = "queued"  # waiting in a queue for an agent
    OFFERED = "offered"  # ringing at one agent (inbound)
    DIALING = "dialing"  # an agent's outbound call is being placed
    REMOTE_RINGING = "remote-ringing"  # the far end rings (outbound)
    ANSWERING = "answering"  # accepted; media not yet up
    CONNECTED = "connected"  # the agent and the customer talk
    HELD = "held"
    RESUMED = "resumed"
    MUTED = "muted"
    UNMUTED = "unmuted"
    DIGITS_SENT = "digits-sent"
    CONSULT_STARTED = "consult-started"  # a third party is being called
    PARTY_JOINED = "party-joined"  # a third party is connected
    PARTY_LEFT = "party-left"
    CONFERENCED = "conferenced"  # all parties talk together
    TRANSFERRED = "transferred"  # the agent's leg left, the call went on without them
    MEDIA_TROUBLE = "media-trouble"
    MEDIA_RESTORED = "media-restored"
    OFFER_REJECTED = "offer-rejected"  # the agent declined
    OFFER_TIMED_OUT = "offer-timed-out"  # rang out at the agent (RONA)
    ANSWERED_ELSEWHERE = "answered-elsewhere"  # another agent or device took it
    ABANDONED = "abandoned"  # the caller hung up before anyone answered
    FAILED = "failed"  # the call could not be placed or broke (reason says why)
    ENDED = "ended"  # a connected call was hung up (ended_by, reason say by whom, why)
    UNKNOWN = "unknown"  # a vendor event with no kind here: kept raw for the audit


class Direction(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Party(enum.Enum):
    """Who did something: who ended a call, who a leg belongs to."""

    AGENT = "agent"
    CUSTOMER = "customer"
    THIRD_PARTY = "third-party"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"
    UNKNOWN = "unknown"


def _vendor_id(_: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value or len(value) > VENDOR_ID_MAX_LENGTH:
        raise InvalidValue(
            f"{attribute.name} must be 1 to {VENDOR_ID_MAX_LENGTH} characters"
        )


def _optional_text(
    _: object, attribute: "attrs.Attribute[str | None]", value: object
) -> None:
    if value is not None:
        if not isinstance(value, str):
            raise InvalidValue(f"{attribute.name} must be text")
        checked_text(value, attribute.name)


def _optional_handle(_: object, __: object, value: str | None) -> None:
    if value is not None:
        checked_slug(value, "an agent handle")


def _instant(_: object, attribute: "attrs.Attribute[datetime]", value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValue(f"{attribute.name} must be a timezone-aware date and time")


def bounded_raw(payload: dict[str, Any]) -> dict[str, Any]:
    """The vendor's payload as a signal keeps it for the audit: JSON, whole when it fits
    the limit, else its size, digest and start, so an oversized event (a caller's
    20,000-character display name) is still applied rather than refused with its call."""
    try:
        text = json.dumps(payload)
    except (TypeError, ValueError) as error:
        raise InvalidValue(f"a signal's raw payload must be JSON: {error}") from None
    if len(text) <= RAW_PAYLOAD_MAX_BYTES:
        return payload
    # Encoded again inside a string, each character takes at most two (\" and \\).
    start = text[: (RAW_PAYLOAD_MAX_BYTES - 512) // 2]
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {"shortened": {"bytes": len(text), "sha256": digest, "start": start}}


@attrs.frozen(slots=False)
class CallSignal:
    """One thing a phone system said about one call.

    ``vendor_event_id`` makes a repeated delivery recognisable; ``command_id`` names the
    calldesk command this confirms, when the vendor echoes it; ``raw`` keeps the vendor's
    payload for the audit, shortened when it is over the limit (`bounded_raw`).
    """

    vendor: str = attrs.field(validator=_vendor_id)
    vendor_event_id: str = attrs.field(validator=_vendor_id)
    vendor_call_id: str = attrs.field(validator=_vendor_id)
    kind: SignalKind = attrs.field(validator=attrs.validators.instance_of(SignalKind))
    occurred_at: datetime = attrs.field(validator=_instant)
    direction: Direction | None = None
    customer_number: str | None = attrs.field(default=None, validator=_optional_text)
    dialed_number: str | None = attrs.field(default=None, validator=_optional_text)
    agent: str | None = attrs.field(default=None, validator=_optional_handle)
    command_id: str | None = attrs.field(default=None, validator=_optional_text)
    ended_by: Party | None = None
    reason: str | None = attrs.field(default=None, validator=_optional_text)
    target: str | None = attrs.field(default=None, validator=_optional_text)
    digits: str | None = attrs.field(default=None, validator=_optional_text)
    vendor_kind: str | None = attrs.field(default=None, validator=_optional_text)
    raw: dict[str, Any] = attrs.field(factory=dict, converter=bounded_raw)
