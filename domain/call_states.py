"""What a call can be: its ranked states, outcomes, offers, and where a change came from."""

import enum
from datetime import datetime
from typing import Any

import attrs

from calldesk.domain.signals import CallSignal, SignalKind


class CallState(enum.Enum):
    NEW = "new"
    QUEUED = "queued"
    OFFERED = "offered"
    DIALING = "dialing"
    ANSWERING = "answering"
    CONNECTED = "connected"
    WRAP_UP = "wrap-up"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    CallState.NEW: 0,
    CallState.QUEUED: 1,
    CallState.OFFERED: 2,
    CallState.DIALING: 2,
    CallState.ANSWERING: 3,
    CallState.CONNECTED: 4,
    CallState.WRAP_UP: 5,
    CallState.CLOSED: 6,
}


class Outcome(enum.Enum):
    COMPLETED = "completed"
    MISSED = "missed"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    ANSWERED_ELSEWHERE = "answered-elsewhere"
    TRANSFERRED_AWAY = "transferred-away"
    FAILED = "failed"


class OfferState(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMED_OUT = "timed-out"
    ANSWERED_ELSEWHERE = "answered-elsewhere"
    CANCELLED = "cancelled"


@attrs.frozen(slots=False)
class SignalMeta:
    """Where a recorded change came from: the vendor's event, as it arrived."""

    signal_id: str
    kind: SignalKind
    occurred_at: datetime
    command_id: str | None = None
    vendor_kind: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def of(cls, signal: CallSignal) -> "SignalMeta":
        return cls(
            signal.vendor_event_id,
            signal.kind,
            signal.occurred_at,
            signal.command_id,
            signal.vendor_kind,
            dict(signal.raw),
        )


@attrs.frozen(slots=False)
class Offer:
    agent: str
    state: OfferState
    offered_at: datetime
    ended_at: datetime | None = None
