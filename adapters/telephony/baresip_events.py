"""What a baresip phone's ctrl_tcp events mean, in calldesk's call signals.

baresip 1.0.0 (Debian 12) encodes each event as src/event.c does: type, class,
accountaor, and for calls direction, peeruri, id (the SIP Call-ID, the same at both
ends) and param. Its behaviour, measured and recorded, is in
shared/notes/baresip-peer.md; the pitfalls named below are that note's. An event means
more with what came before it (did the call ring here, was it answered, which command
waits for it), so one translator reads one phone's events in the order they came.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from calldesk.adapters.strict_json import MalformedJSON, parse_json
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.errors import InvalidValue
from calldesk.domain.signals import CallSignal, Direction, Party, SignalKind
from calldesk.ports.telephony import (
    CallCommand,
    PlaceCall,
    RejectionReason,
    VendorEventRejected,
)

VENDOR = "baresip"

#: Call events that say nothing calldesk records: digits the customer sent, media
#: reports, encryption, and a REFER this phone received (it then dials by itself).
NO_NEWS = frozenset(
    {"TRANSFER", "CALL_DTMF_START", "CALL_DTMF_END", "CALL_RTCP", "CALL_MENC"}
)

# CALL_CLOSED reasons baresip 1.0.0 gives (the note's table of `param` values).
BY_AGENT = "Connection reset by user"
BY_PEER = "Connection reset by peer"  # a BYE, or a CANCEL while ringing (pitfall 12)
RANG_OUT = "Local timeout"
TRANSFERRED = "Call transfered"  # sic

#: A call that rang here and closed unanswered: its kind, who ended it, and the command
#: this confirms.
_UNANSWERED: dict[str, tuple[SignalKind, Party, CommandKind | None]] = {
    BY_PEER: (SignalKind.ABANDONED, Party.CUSTOMER, None),
    BY_AGENT: (SignalKind.OFFER_REJECTED, Party.AGENT, CommandKind.REJECT),
    RANG_OUT: (SignalKind.OFFER_TIMED_OUT, Party.SYSTEM, None),
}

#: RFC 3966's visual separators, which a tel URI's number may hold: -.()
_VISUAL_SEPARATORS = re.compile(r"[-.()]")

#: How many calls and frames are remembered, so that a repeated frame says the same.
MEMORY = 1024


@attrs.frozen
class PhoneEvent:
    """One ctrl_tcp event; keys other than these stay in the raw payload only."""

    type: str
    class_: str
    id: str | None = None
    direction: str | None = None
    peeruri: str | None = None
    param: str | None = None


def _text(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


_events = cattrs.Converter(forbid_extra_keys=False)
_events.register_structure_hook(str, _text)
_events.register_structure_hook(
    PhoneEvent,
    make_dict_structure_fn(PhoneEvent, _events, class_=override(rename="class")),
)


def parse_event(payload: bytes) -> tuple[PhoneEvent, dict[str, Any]]:
    """The event in one frame's payload, and the payload as JSON for the audit."""
    try:
        message = parse_json(payload)
    except MalformedJSON as error:
        raise _malformed(f"the frame is not JSON that means one thing: {error}") from None
    if not isinstance(message, dict):
        raise _malformed(f"the frame holds a JSON {type(message).__name__}, not an object")
    if message.get("event") is not True:
        raise _malformed('an event says "event": true; this frame is not an event')
    try:
        event = _events.structure(message, PhoneEvent)
    except cattrs.BaseValidationError as error:
        raise _malformed("; ".join(cattrs.transform_error(error))) from None
    if not event.type:
        raise _malformed("the event's type is empty")
    if event.class_ == "call":
        if not event.id:
            raise _malformed(f"the call event {event.type} does not name its call (id)")
        if event.direction not in ("incoming", "outgoing"):
            raise _malformed(
                f"the call event {event.type} is neither incoming nor outgoing"
            )
    return event, message


def _malformed(why: str) -> VendorEventRejected:
    return VendorEventRejected(RejectionReason.MALFORMED, f"baresip event refused: {why}")


def number_of(uri: str | None) -> str | None:
    """The number a peer's URI names: the user of sip:+442079460958@gateway, or the
    number of tel:+44-20-7946-0958 (RFC 3966, common from carriers), its visual
    separators and parameters left out."""
    scheme, _, rest = (uri or "").strip().strip("<>").partition(":")
    if scheme.lower() == "tel":
        return _VISUAL_SEPARATORS.sub("", rest.split(";")[0]) or None
    user, at, _ = rest.partition("@")
    if scheme.lower() not in ("sip", "sips") or not at or not user:
        return None
    return user.split(";")[0] or None


def event_id(*parts: str) -> str:
    """The same parts, the same id: a frame heard twice is recognised (ADR/0008)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _remember(memory: dict[Any, Any], key: Any, value: Any) -> None:
    memory[key] = value
    if len(memory) > MEMORY:
        del memory[next(iter(memory))]


@attrs.define
class _Line:
    """A call as this phone reported it, so that its later events read right."""

    direction: Direction
    peer: str | None
    ringing: bool = False  # it rang here (CALL_INCOMING)
    established: bool = False
    on_hold: bool = False
    dialing_said: bool = False
    sdp_answers: int = 0


class EventTranslator:
    """One phone's events, read in order, as call signals at one agent.

    Not thread-safe: one thread feeds it the events and the commands' marks, in the
    order they happened on the phone's link.
    """

    def __init__(self, agent: str, clock: Callable[[], datetime]) -> None:
        self._agent, self._clock = agent, clock
        self._lines: dict[str, _Line] = {}
        self._said: dict[str, tuple[CallSignal, ...]] = {}
        self._expected: dict[tuple[str, CommandKind], str] = {}
        self._awaited_dial: str | None = None

    # What calldesk asked, so the events that confirm it name its command id.

    def expect(self, command: CallCommand) -> None:
        self._expected[(command.vendor_call_id, command.kind)] = command.command_id

    def forget(self, command: CallCommand) -> None:
        self._expected.pop((command.vendor_call_id, command.kind), None)

    def dial_started(self, place: PlaceCall) -> None:
        """The next outgoing call this phone reports is this dial's."""
        self._awaited_dial = place.command_id

    def dial_settled(
        self, place: PlaceCall, call_id: str | None, uri: str, raw: dict[str, Any]
    ) -> tuple[CallSignal, ...]:
        """The dial's call id as `callstat` gave it (or None): it is dialing, unless one
        of its events said so first."""
        said: tuple[CallSignal, ...] = ()
        if call_id is not None and self._awaited_dial == place.command_id:
            line = self._line(call_id, Direction.OUTBOUND, uri)
            said = self._dialing(call_id, line, "callstat", raw)
        if self._awaited_dial == place.command_id:
            self._awaited_dial = None
        return said

    def digits_sent(self, command: CallCommand, raw: dict[str, Any]) -> CallSignal:
        """The phone that sends digits reports nothing of them: dispatched is all."""
        call_id = command.vendor_call_id
        return self._signal(
            call_id,
            self._lines.get(call_id),
            SignalKind.DIGITS_SENT,
            event_id(call_id, "sndcode", command.command_id),
            "sndcode",
            raw,
            command_id=command.command_id,
            digits=command.argument,
        )

    # What the phone said.

    def translate(self, event: PhoneEvent, raw: dict[str, Any]) -> tuple[CallSignal, ...]:
        if event.type == "CALL_REMOTE_SDP" and event.param == "answer" and event.id:
            return self._hold_changed(event, raw)
        if event.class_ != "call" or event.type in NO_NEWS:
            return ()
        assert event.id is not None  # parse_event checked it
        key = event_id(event.id, event.type, event.param or "")
        if key in self._said:
            return self._said[key]
        line = self._line(event.id, _direction(event.direction), event.peeruri)
        said = (
            *self._dialing_first(event, line, raw),
            self._call_news(event, line, key, raw),
        )
        _remember(self._said, key, said)
        return said

    def _call_news(
        self, event: PhoneEvent, line: _Line, key: str, raw: dict[str, Any]
    ) -> CallSignal:
        assert event.id is not None
        match event.type:
            case "CALL_INCOMING":
                line.ringing = True
                return self._news(event, line, SignalKind.OFFERED, key, raw)
            case "CALL_RINGING" | "CALL_PROGRESS":
                return self._news(event, line, SignalKind.REMOTE_RINGING, key, raw)
            case "CALL_ESTABLISHED":
                line.established = True
                accept = self._expected.pop((event.id, CommandKind.ACCEPT), None)
                return self._news(
                    event, line, SignalKind.CONNECTED, key, raw, command_id=accept
                )
            case "CALL_CLOSED":
                return self._closed(event, line, key, raw)
            case "TRANSFER_FAILED":
                # The phone then releases the call and says nothing more (pitfall 13).
                transfer = self._expected.pop((event.id, CommandKind.BLIND_TRANSFER), None)
                self._settle(event.id)
                return self._news(
                    event,
                    line,
                    SignalKind.FAILED,
                    key,
                    raw,
                    command_id=transfer,
                    ended_by=Party.SYSTEM,
                    reason=f"transfer failed: {event.param or 'no reason given'}",
                )
        return self._news(event, line, SignalKind.UNKNOWN, key, raw)

    def _closed(
        self, event: PhoneEvent, line: _Line, key: str, raw: dict[str, Any]
    ) -> CallSignal:
        """As precise as what this phone saw of the call allows: a call it never saw
        ring or connect is ENDED by whom, and calldesk's call decides what that means."""
        assert event.id is not None
        reason = event.param or "closed"
        by = {BY_AGENT: Party.AGENT, BY_PEER: Party.CUSTOMER}.get(reason)
        kind: SignalKind = SignalKind.ENDED
        confirms: CommandKind | None = CommandKind.HANG_UP
        if line.established and reason == TRANSFERRED:
            kind, confirms = SignalKind.TRANSFERRED, CommandKind.BLIND_TRANSFER
        elif line.established:
            pass
        elif line.ringing and reason in _UNANSWERED:
            kind, by, confirms = _UNANSWERED[reason]
        elif reason == RANG_OUT:
            by = Party.SYSTEM
        elif reason == TRANSFERRED:
            by = Party.AGENT
        elif by is None:
            kind = SignalKind.FAILED  # a SIP status: 486 Busy Here, 404 Not Found, ...
        command = self._expected.pop((event.id, confirms), None) if confirms else None
        self._settle(event.id)
        return self._news(
            event, line, kind, key, raw, command_id=command, ended_by=by, reason=reason
        )

    def _hold_changed(
        self, event: PhoneEvent, raw: dict[str, Any]
    ) -> tuple[CallSignal, ...]:
        """The answer to this phone's own re-INVITE: a hold or a resume, and the only
        trace of either (pitfall 9). Uncommanded ones are baresip's own: it holds the
        other call when one is answered, and resumes it when the active one ends
        (pitfall 8)."""
        assert event.id is not None
        line = self._lines.get(event.id)
        if line is None or not line.established:
            return ()  # the answer to the call's first offer
        held = self._expected.pop((event.id, CommandKind.HOLD), None)
        resumed = None if held else self._expected.pop((event.id, CommandKind.RESUME), None)
        holding = held is not None or (resumed is None and not line.on_hold)
        line.on_hold, line.sdp_answers = holding, line.sdp_answers + 1
        command = held or resumed
        return (
            self._news(
                event,
                line,
                SignalKind.HELD if holding else SignalKind.RESUMED,
                event_id(event.id, event.type, "answer", command or str(line.sdp_answers)),
                raw,
                command_id=command,
            ),
        )

    def _dialing_first(
        self, event: PhoneEvent, line: _Line, raw: dict[str, Any]
    ) -> tuple[CallSignal, ...]:
        """An outgoing call is first said to be dialing, naming the dial that placed it."""
        if line.direction is not Direction.OUTBOUND:
            return ()
        assert event.id is not None
        return self._dialing(event.id, line, event.type, raw)

    def _dialing(
        self, call_id: str, line: _Line, vendor_kind: str, raw: dict[str, Any]
    ) -> tuple[CallSignal, ...]:
        if line.dialing_said:
            return ()
        line.dialing_said = True
        dial, self._awaited_dial = self._awaited_dial, None
        return (
            self._signal(
                call_id,
                line,
                SignalKind.DIALING,
                event_id(call_id, "dialing"),
                vendor_kind,
                raw,
                command_id=dial,
            ),
        )

    def _line(self, call_id: str, direction: Direction, peer: str | None) -> _Line:
        line = self._lines.get(call_id)
        if line is None:
            line = _Line(direction, peer)
            _remember(self._lines, call_id, line)
        return line

    def _settle(self, call_id: str) -> None:
        """The call is over: no command on it waits any more."""
        for waiting in [key for key in self._expected if key[0] == call_id]:
            del self._expected[waiting]

    def _news(
        self,
        event: PhoneEvent,
        line: _Line,
        kind: SignalKind,
        key: str,
        raw: dict[str, Any],
        **fields: Any,
    ) -> CallSignal:
        assert event.id is not None
        return self._signal(event.id, line, kind, key, event.type, raw, **fields)

    def _signal(
        self,
        call_id: str,
        line: _Line | None,
        kind: SignalKind,
        key: str,
        vendor_kind: str,
        raw: dict[str, Any],
        **fields: Any,
    ) -> CallSignal:
        try:
            return CallSignal(
                vendor=VENDOR,
                vendor_event_id=key,
                vendor_call_id=call_id,
                kind=kind,
                occurred_at=self._clock(),
                direction=line.direction if line else None,
                customer_number=number_of(line.peer) if line else None,
                agent=self._agent,
                vendor_kind=vendor_kind,
                raw=raw,
                **fields,
            )
        except InvalidValue as error:
            raise _malformed(str(error)) from None


def _direction(direction: str | None) -> Direction:
    return Direction.OUTBOUND if direction == "outgoing" else Direction.INBOUND
