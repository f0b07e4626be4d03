"""A baresip SIP phone as one agent's line, behind the telephony port.

baresip 1.0.0 (Debian 12) runs as the agent's phone. This adapter owns its ctrl_tcp
socket (baresip_control), has its events read as call signals (baresip_events), and
carries the agent's commands to it. The phone's behaviour, measured and recorded, is in
shared/notes/baresip-peer.md; the pitfalls named below are that note's.
"""

import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import attrs

from calldesk.adapters.telephony.baresip_control import ControlLink, Response, one_netstring
from calldesk.adapters.telephony.baresip_events import (
    VENDOR,
    EventTranslator,
    number_of,
    parse_event,
)
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.signals import CallSignal, Direction, SignalKind
from calldesk.ports.telephony import (
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    SignalSink,
    VendorEventRejected,
    VendorRefusal,
)

log = logging.getLogger(__name__)

CAPABILITIES = frozenset(
    {
        Capability.ANSWER,
        Capability.DIAL,
        Capability.HOLD,
        Capability.DIGITS,
        Capability.BLIND_TRANSFER,
    }
)

#: The menu.so command carrying each call command. It acts on the current call, whatever
#: id it is given (pitfall 6), so `callfind <id>` goes first.
VERBS = {
    CommandKind.ACCEPT: "accept",
    CommandKind.REJECT: "hangup",  # on a ringing call: always 486 Rejected (pitfall 19)
    CommandKind.HANG_UP: "hangup",
    CommandKind.HOLD: "hold",
    CommandKind.RESUME: "resume",
    CommandKind.SEND_DIGITS: "sndcode",
    CommandKind.BLIND_TRANSFER: "transfer",
}

_CURRENT_CALL_SET = "setting current call"
_LISTED_CALL = re.compile(
    r"^[> ] \[line (?P<line>\d+)\]\s+\d+:\d\d:\d\d\s+(?P<state>[A-Z]+)\s+"
    r"(?P<on_hold>\(on hold\))?"
)
_STATUS_ID = re.compile(r"\bid=(\S+)")
_STATUS_DIRECTION = re.compile(r"direction: (Incoming|Outgoing)")
_STATUS_PEER = re.compile(r"peer_uri:\s+<([^>]*)>")
_RINGING_STATES = frozenset({"INCOMING", "OUTGOING", "RINGING", "EARLY"})


def check_dial_uri(dial_uri: str) -> None:
    """ValueError unless `dial_uri` makes a sip: URI of a number put in its {number}."""
    try:
        made = dial_uri.format(number="+1")
    except (KeyError, IndexError, ValueError):
        made = ""
    if not made.lower().startswith(("sip:", "sips:")) or made == dial_uri:
        raise ValueError(f"dial_uri {dial_uri!r} must make a sip: URI of {{number}}")


@attrs.frozen
class ListedCall:
    """One row of `listcalls`: "> [line 1]  0:00:01  ESTABLISHED  (on hold)  sip:...";
    the hold flag shows only at the phone that held the call (pitfall 9)."""

    line: int
    state: str
    on_hold: bool


class BaresipPhone:
    """One agent's baresip phone.

    ``dial_uri`` makes a SIP URI of an E.164 number, e.g. "sip:{number}@10.0.0.5:5060"
    (the gateway); blind-transfer targets that are not SIP URIs go through it too.
    ``on_reconnect`` runs after every connection to the phone, the first included:
    events sent while no one listened are lost (nothing is replayed), so the wiring
    reconciles there, e.g. with ``desk.reconcile(tenant, "baresip", now)``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        agent: str,
        clock: Callable[[], datetime],
        *,
        dial_uri: str,
        on_reconnect: Callable[[], None] = lambda: None,
        response_timeout: float = 2.0,
        reconnect_delays: Sequence[float] = (0.2, 0.5, 1.0, 2.0, 5.0),
    ) -> None:
        check_dial_uri(dial_uri)
        self._agent, self._dial_uri = agent, dial_uri
        self._on_reconnect = on_reconnect
        self._link = ControlLink(
            host,
            port,
            on_event=self._heard_on_link,
            on_connected=self._connected,
            response_timeout=response_timeout,
            reconnect_delays=reconnect_delays,
        )
        self._sink: SignalSink | None = None
        # One thread reads events as signals and feeds the sink, in the order the link
        # read them; commands leave their marks in the same queue, ahead of their events.
        # The link's reader never waits for calldesk, so a command sent while calldesk
        # is busy (it sends inside its own lock) still gets its answer.
        self._signals = ThreadPoolExecutor(1, thread_name_prefix="baresip-signals")
        self._translator = EventTranslator(agent, clock)
        self._sequence = threading.Lock()  # a callfind and its command are never split

    # The port.

    @property
    def vendor(self) -> str:
        return VENDOR

    @property
    def capabilities(self) -> frozenset[Capability]:
        return CAPABILITIES

    @property
    def needs_acknowledgement(self) -> bool:
        return False

    def listen(self, sink: SignalSink) -> None:
        self._sink = sink
        self._link.start()

    def send(self, command: CallCommand | PlaceCall) -> None:
        if command.agent != self._agent:
            raise VendorRefusal(
                f"this baresip phone is agent {self._agent}'s, not {command.agent}'s"
            )
        if isinstance(command, PlaceCall):
            self._dial(command)
            return
        verb = VERBS.get(command.kind)
        if verb is None:
            raise VendorRefusal(f"a baresip 1.0.0 phone cannot {command.kind.value}")
        params = command.argument
        if command.kind is CommandKind.BLIND_TRANSFER:
            params = self._uri(command.argument or "")
        with self._sequence:
            self._select(command.vendor_call_id)
            self._signals.submit(self._translator.expect, command)
            try:
                response = self._checked(verb, params)
            except VendorRefusal:
                self._signals.submit(self._translator.forget, command)
                raise
        if command.kind is CommandKind.SEND_DIGITS:
            self._signals.submit(self._digits_sent, command, response)

    def snapshot(self) -> tuple[LiveCall, ...]:
        """The calls on the phone: `listcalls`, then `line` and `callstat` for each one's
        id and direction, which the listing does not show."""
        calls = []
        with self._sequence:
            for listed in listed_calls(self._checked("listcalls").data):
                chosen = self._link.command("line", str(listed.line))
                if not chosen.data.startswith(_CURRENT_CALL_SET):
                    continue  # it ended since the listing
                live = self._live_call(listed, self._checked("callstat").data)
                if live is not None:
                    calls.append(live)
        return tuple(calls)

    # Beyond the port.

    def receive(self, frame: bytes) -> tuple[CallSignal, ...]:
        """Hear one whole ctrl_tcp frame as if the phone had sent it; its signals, once
        the sink has them. Raises VendorEventRejected, the sink untouched, when it is not
        one netstring holding one of baresip's events. Never call it from the sink."""
        payload = one_netstring(frame)
        return self._signals.submit(self._hear, payload).result()

    def close(self) -> None:
        """Let go of the phone: no more signals, no more commands."""
        self._link.close()
        self._signals.shutdown(wait=True)

    # Commands.

    def _uri(self, target: str) -> str:
        """The SIP URI dialled for a number (or given as a URI already)."""
        if target.lower().startswith(("sip:", "sips:")):
            return target
        return self._dial_uri.format(number=target)

    def _checked(self, command: str, params: str | None = None) -> Response:
        response = self._link.command(command, params)
        if not response.ok:
            raise VendorRefusal(f"baresip refused {command!r}: {response.data.strip()}")
        return response

    def _select(self, call_id: str) -> None:
        found = self._link.command("callfind", call_id)
        if not found.data.startswith(_CURRENT_CALL_SET):
            raise VendorRefusal(
                f"agent {self._agent}'s phone has no call {call_id}: {found.data.strip()}"
            )

    def _dial(self, place: PlaceCall) -> None:
        uri = self._uri(place.number.e164)
        with self._sequence:
            self._signals.submit(self._translator.dial_started, place)
            try:
                self._checked("dial", uri)
            except VendorRefusal:
                self._signals.submit(self._dial_settled, place, None, uri, {})
                raise
            # `dial` answers without the call's id (pitfall 10); the new call is current.
            try:
                status = self._checked("callstat")
            except VendorRefusal as refusal:
                log.warning(
                    "baresip: the call to %s is placed, its id unknown: %s", uri, refusal
                )
                return
        found = _STATUS_ID.search(status.data)
        ours = "direction: Outgoing" in status.data and f"<{uri}>" in status.data
        call_id = found.group(1) if found and ours else None
        self._signals.submit(self._dial_settled, place, call_id, uri, status.raw)

    def _live_call(self, listed: ListedCall, status: str) -> LiveCall | None:
        call_id, direction = _STATUS_ID.search(status), _STATUS_DIRECTION.search(status)
        if call_id is None or direction is None:
            return None
        incoming = direction.group(1) == "Incoming"
        if listed.state == "ESTABLISHED":
            state = SignalKind.CONNECTED
        elif listed.state in _RINGING_STATES:
            state = SignalKind.OFFERED if incoming else SignalKind.DIALING
        else:
            return None  # terminated, or being transferred away
        peer = _STATUS_PEER.search(status)
        return LiveCall(
            vendor_call_id=call_id.group(1),
            state=state,
            agent=self._agent,
            direction=Direction.INBOUND if incoming else Direction.OUTBOUND,
            customer_number=number_of(peer.group(1) if peer else None),
            on_hold=listed.on_hold,
        )

    def _connected(self) -> None:
        self._signals.submit(self._reconnected)

    # The signal thread: every method below runs there, in order.

    def _reconnected(self) -> None:
        try:
            self._on_reconnect()
        except Exception:
            log.exception(
                "baresip at %s: reconciling on connection failed", self._link.address
            )

    def _heard_on_link(self, payload: bytes) -> None:
        self._signals.submit(self._hear_quietly, payload)

    def _hear_quietly(self, payload: bytes) -> None:
        try:
            self._hear(payload)
        except VendorEventRejected as refusal:
            log.warning("baresip at %s: %s: %r", self._link.address, refusal, payload[:200])
        except Exception:
            log.exception("baresip at %s: a signal was not heard", self._link.address)

    def _hear(self, payload: bytes) -> tuple[CallSignal, ...]:
        event, raw = parse_event(payload)
        return self._deliver(self._translator.translate(event, raw))

    def _dial_settled(
        self, place: PlaceCall, call_id: str | None, uri: str, raw: dict[str, Any]
    ) -> None:
        self._deliver(self._translator.dial_settled(place, call_id, uri, raw))

    def _digits_sent(self, command: CallCommand, response: Response) -> None:
        self._deliver((self._translator.digits_sent(command, response.raw),))

    def _deliver(self, signals: tuple[CallSignal, ...]) -> tuple[CallSignal, ...]:
        for signal in signals:
            if self._sink is not None:
                self._sink(signal)
        return signals


def listed_calls(listing: str) -> list[ListedCall]:
    """The calls in `listcalls` output, in its order."""
    calls = []
    for row in listing.splitlines():
        found = _LISTED_CALL.match(row)
        if found:
            calls.append(
                ListedCall(int(found["line"]), found["state"], bool(found["on_hold"]))
            )
    return calls
