"""The baresip adapter keeps the adapter contract, fed frames baresip 1.0.0 sent.

The frames are the recorded sessions of shared/notes/baresip-peer.md (baresip 1.0.0,
Debian 12, `baresip-core 1.0.0-4+b3`), put back on the wire as baresip encodes them:
compact JSON, keys in the order src/event.c adds them, one netstring each. The two
frames the note gives byte for byte are checked against that encoding below. Formats:
  https://github.com/baresip/baresip/blob/v1.0.0/modules/ctrl_tcp/ctrl_tcp.c (framing,
  command, response and event messages)
  https://github.com/baresip/baresip/blob/v1.0.0/src/event.c (event fields and classes)
  https://github.com/baresip/baresip/blob/v1.0.0/modules/menu/menu.c (the commands)
Commands go to a stand-in for the phone's ctrl_tcp port, which records them and answers
each as ctrl_tcp does; no baresip process runs here (tests/e2e/test_baresip.py has them).
"""

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from calldesk.adapters.telephony.baresip import BaresipPhone
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import Outcome
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.signals import (
    RAW_PAYLOAD_MAX_BYTES,
    CallSignal,
    Direction,
    Party,
    SignalKind,
)
from calldesk.ports.telephony import CallCommand, LiveCall, PlaceCall, VendorRefusal
from calldesk.testing import AdapterContract, AdapterHarness, Story

AGENT = "a-17"
AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
GATEWAY = "sip:{number}@127.0.0.1:5080"
# The note's phones: B the agent's, A the caller, C the transfer target, D rings out.
B = "sip:b@127.0.0.1:5070"
A = "sip:a@127.0.0.1:5080"
C = "sip:c@127.0.0.1:5090"
D = "sip:d@127.0.0.1:5100"


def netstring(payload: bytes) -> bytes:
    return b"%d:%s," % (len(payload), payload)


def wire(message: dict[str, Any]) -> bytes:
    return netstring(json.dumps(message, separators=(",", ":")).encode())


def event(
    kind: str,
    call_id: str | None = None,
    param: str | None = None,
    *,
    aor: str | None = B,
    direction: str | None = "incoming",
    peer: str | None = A,
    event_class: str = "call",
) -> bytes:
    """A frame as src/event.c encodes it: event, type, class, accountaor, then for a
    call direction, peeruri and id, then param when there is one."""
    message: dict[str, Any] = {"event": True, "type": kind, "class": event_class}
    if aor is not None:
        message["accountaor"] = aor
    if call_id is not None:
        message.update(direction=direction, peeruri=peer, id=call_id)
    if param is not None:
        message["param"] = param
    return wire(message)


def outgoing(
    kind: str, call_id: str, param: str | None, peer: str = A, aor: str = B
) -> bytes:
    return event(kind, call_id, param, aor=aor, direction="outgoing", peer=peer)


# 1. A calls B, B answers, A hangs up: B's frames, SDP and RTP events kept.
ANSWERED = "b594989499992d27"
ANSWERED_FRAMES = (
    event("CALL_INCOMING", ANSWERED, A),
    event("CALL_REMOTE_SDP", ANSWERED, "offer", event_class="other"),
    event("CALL_LOCAL_SDP", ANSWERED, "answer", event_class="other"),
    event("CALL_ESTABLISHED", ANSWERED, A),
    event("CALL_RTPESTAB", ANSWERED, "audio", event_class="other"),
    event("CALL_CLOSED", ANSWERED, "Connection reset by peer"),
)
# 2. B rejects while ringing.
REJECTED = "7975b2378a83d2fb"
REJECTED_FRAMES = (
    event("CALL_INCOMING", REJECTED, A),
    event("CALL_CLOSED", REJECTED, "Connection reset by user"),
)
# 3. A cancels before B answers.
CANCELLED = "658f39b8296588b6"
CANCELLED_FRAMES = (
    event("CALL_INCOMING", CANCELLED, A),
    event("CALL_CLOSED", CANCELLED, "Connection reset by peer"),
)
# 4. Hold and resume by B: the only trace is B's CALL_REMOTE_SDP answer.
HELD = "64487d03fd0ac8d3"
HELD_ANSWER = event("CALL_REMOTE_SDP", HELD, "answer", event_class="other")
# 6. B dials A, A answers, B hangs up.
DIALED = "cd221c1cc4e53022"
DIALED_FRAMES = (
    outgoing("CALL_RINGING", DIALED, A),
    outgoing("CALL_ESTABLISHED", DIALED, A),
    outgoing("CALL_CLOSED", DIALED, "Connection reset by user"),
)
# 7. B transfers A to C, C answers.
TRANSFERRED = "0475a30eecd18bb2"
TRANSFERRED_FRAMES = (
    event("CALL_INCOMING", TRANSFERRED, A),
    event("CALL_ESTABLISHED", TRANSFERRED, A),
    event("CALL_CLOSED", TRANSFERRED, "Call transfered"),
)
# 8. B transfers A to C, C rejects: the transfer and the call end.
UNTRANSFERRED = "8f79ba359cf724eb"
UNTRANSFERRED_FRAMES = (
    event("CALL_INCOMING", UNTRANSFERRED, A),
    event("CALL_ESTABLISHED", UNTRANSFERRED, A),
    event("TRANSFER_FAILED", UNTRANSFERRED, "486 Rejected"),
)
# 10. Call waiting: B answers C while on a call with A, so baresip holds A's call.
WAITING_A, WAITING_C = "b285a199f0f1e475", "fc1afd003704894a"
# 11. A dials a user C's phone does not have (A is the dialling phone here).
UNKNOWN_USER = "a10c614c58c90af1"
NOBODY = "sip:nobody@127.0.0.1:5070"
UNKNOWN_USER_FRAMES = (
    outgoing("CALL_CLOSED", UNKNOWN_USER, "404 Not Found", peer=NOBODY, aor=A),
)
# 13. A calls D, whose phone rings out after 3 s (D is the ringing phone here).
RANG_OUT = "56090051f4802b72"
RANG_OUT_FRAMES = (
    event("CALL_INCOMING", RANG_OUT, A, aor=D),
    event("CALL_CLOSED", RANG_OUT, "Local timeout", aor=D),
)

DOCUMENTED: dict[str, tuple[bytes, tuple[SignalKind, ...]]] = {
    "CALL_INCOMING": (ANSWERED_FRAMES[0], (SignalKind.OFFERED,)),
    "CALL_RINGING": (DIALED_FRAMES[0], (SignalKind.DIALING, SignalKind.REMOTE_RINGING)),
    "CALL_PROGRESS": (
        outgoing("CALL_PROGRESS", DIALED, A),
        (SignalKind.DIALING, SignalKind.REMOTE_RINGING),
    ),
    "CALL_ESTABLISHED": (ANSWERED_FRAMES[3], (SignalKind.CONNECTED,)),
    # A CALL_CLOSED of a call this phone was not heard to ring or connect says who
    # ended it; the stories show what each reason means after those.
    "CALL_CLOSED Connection reset by peer": (ANSWERED_FRAMES[5], (SignalKind.ENDED,)),
    "CALL_CLOSED Connection reset by user": (REJECTED_FRAMES[1], (SignalKind.ENDED,)),
    "CALL_CLOSED Local timeout": (RANG_OUT_FRAMES[1], (SignalKind.ENDED,)),
    "CALL_CLOSED Call transfered": (TRANSFERRED_FRAMES[2], (SignalKind.ENDED,)),
    "CALL_CLOSED 404 Not Found": (
        UNKNOWN_USER_FRAMES[0],
        (SignalKind.DIALING, SignalKind.FAILED),
    ),
    "CALL_CLOSED 486 Busy Here": (
        outgoing("CALL_CLOSED", RANG_OUT, "486 Busy Here", peer=D, aor=A),
        (SignalKind.DIALING, SignalKind.FAILED),
    ),
    "TRANSFER_FAILED": (UNTRANSFERRED_FRAMES[2], (SignalKind.FAILED,)),
    "TRANSFER": (
        event("TRANSFER", TRANSFERRED, C, aor=A, direction="outgoing", peer=B),
        (),
    ),
    "CALL_DTMF_START": (event("CALL_DTMF_START", "7fcdc2c1e81e1107", "1"), ()),
    "CALL_DTMF_END": (event("CALL_DTMF_END", "7fcdc2c1e81e1107"), ()),
    "CALL_RTCP": (
        wire(
            {
                "event": True,
                "type": "CALL_RTCP",
                "class": "call",
                "accountaor": A,
                "direction": "outgoing",
                "peeruri": B,
                "id": ANSWERED,
                "param": "audio",
                "rtcp_stats": {
                    "tx": {"sent": 0, "lost": 0, "jit": 0},
                    "rx": {"sent": 0, "lost": 0, "jit": 0},
                    "rtt": 0,
                },
            }
        ),
        (),
    ),
    "CALL_LOCAL_SDP": (ANSWERED_FRAMES[2], ()),
    "CALL_REMOTE_SDP": (HELD_ANSWER, ()),  # no call it could hold is known
    "CALL_RTPESTAB": (ANSWERED_FRAMES[4], ()),
    "SHUTDOWN": (event("SHUTDOWN", event_class="application"), ()),
    "EXIT": (event("EXIT", aor=None, event_class="application"), ()),
}

STORIES = (
    Story(
        "answered, then the caller hung up", ANSWERED_FRAMES, ANSWERED, Outcome.COMPLETED
    ),
    Story("rejected while ringing", REJECTED_FRAMES, REJECTED, Outcome.REJECTED),
    Story(
        "the caller gave up while ringing", CANCELLED_FRAMES, CANCELLED, Outcome.ABANDONED
    ),
    Story("rang out unanswered", RANG_OUT_FRAMES, RANG_OUT, Outcome.MISSED),
    Story(
        "dialed, answered, hung up by the agent", DIALED_FRAMES, DIALED, Outcome.COMPLETED
    ),
    Story(
        "answered, then transferred away",
        TRANSFERRED_FRAMES,
        TRANSFERRED,
        Outcome.TRANSFERRED_AWAY,
    ),
    Story(
        "a transfer the target refused", UNTRANSFERRED_FRAMES, UNTRANSFERRED, Outcome.FAILED
    ),
    Story(
        "dialed a user who is not there", UNKNOWN_USER_FRAMES, UNKNOWN_USER, Outcome.FAILED
    ),
)

_incoming = json.loads(ANSWERED_FRAMES[0].partition(b":")[2][:-1])
MALFORMED = {
    "not a netstring": json.dumps(_incoming).encode(),
    "shorter than its length says": b"500:" + ANSWERED_FRAMES[0].partition(b":")[2],
    "no comma after the payload": ANSWERED_FRAMES[0][:-1] + b";",
    "two frames in one": ANSWERED_FRAMES[0] + ANSWERED_FRAMES[3],
    "not JSON": netstring(b'{"event":true,"type":"CALL_'),
    "JSON, but not an object": netstring(b'["CALL_INCOMING"]'),
    "a command response": netstring(b'{"response":true,"ok":true,"data":""}'),
    "an event without a type": wire({k: v for k, v in _incoming.items() if k != "type"}),
    "a type that is not text": wire({**_incoming, "type": 7}),
    "a call event naming no call": wire({k: v for k, v in _incoming.items() if k != "id"}),
    "a call event without its direction": wire(
        {k: v for k, v in _incoming.items() if k != "direction"}
    ),
}


def ordinary_answer(command: str, params: str | None) -> str | None:
    """What baresip's menu answers, where the adapter reads the answer's text."""
    if command == "callfind":
        return f"setting current call: {params}\n"
    if command == "listcalls":
        return "\n--- Active calls (0) ---\n\n"
    return ""


class FakeCtrl:
    """A stand-in for a phone's ctrl_tcp port: records each command and answers it as
    ctrl_tcp does (no answer when ``answer`` gives None; "command not found" for the
    ``refused``), after the events ``first`` lists for that command, as a phone sends a
    command's events before its answer."""

    def __init__(
        self,
        answer: Callable[[str, str | None], str | None] = ordinary_answer,
        first: dict[str, bytes] | None = None,
        refused: frozenset[str] = frozenset(),
    ) -> None:
        self._answer, self._first, self._refused = answer, first or {}, refused
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.commands: list[tuple[str, str | None]] = []
        self.connections = 0
        self._client: socket.socket | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def push(self, data: bytes) -> None:
        """Bytes to the adapter, in one write."""
        with self._changed:
            self._connected().sendall(data)

    def drop(self) -> None:
        """Close the adapter's connection, as baresip does when another client comes."""
        with self._changed:
            self._connected().shutdown(socket.SHUT_RDWR)

    def _connected(self) -> socket.socket:
        """The adapter's connection, once this side has accepted it."""
        self._changed.wait_for(lambda: self._client is not None, 5.0)
        assert self._client is not None, "the adapter did not connect"
        return self._client

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        with self._changed:
            self._hang_up()
        self._thread.join(5.0)

    def _hang_up(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.shutdown(socket.SHUT_RDWR)

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with client:
                with self._changed:
                    self._client = client
                    self.connections += 1
                    self._changed.notify_all()
                self._read(client)
                with self._changed:
                    self._client = None

    def _read(self, client: socket.socket) -> None:
        buffer = b""
        while data := _received(client):
            buffer += data
            while (colon := buffer.find(b":")) >= 0 and len(buffer) > colon + int(
                buffer[:colon]
            ) + 1:
                end = colon + 1 + int(buffer[:colon])
                message = json.loads(buffer[colon + 1 : end])
                buffer = buffer[end + 1 :]
                self._answer_command(client, message)

    def _answer_command(self, client: socket.socket, message: dict[str, Any]) -> None:
        command, params = message["command"], message.get("params")
        with self._changed:
            self.commands.append((command, params))
        data = self._answer(command, params)
        with self._changed:
            client.sendall(self._first.get(command, b""))
        if command in self._refused:  # as baresip answers a command it does not have
            data = f"command not found ({command})\n"
        if data is not None:
            response = {
                "response": True,
                "ok": command not in self._refused,
                "data": data,
                "token": message["token"],
            }
            with self._changed:
                client.sendall(wire(response))


def _received(client: socket.socket) -> bytes:
    try:
        return client.recv(65536)
    except OSError:
        return b""


#: The request the note's command table gives for each command (after `callfind <id>`).
EXPECTED = {
    CommandKind.ACCEPT: ("accept", None),
    CommandKind.REJECT: ("hangup", None),
    CommandKind.HANG_UP: ("hangup", None),
    CommandKind.HOLD: ("hold", None),
    CommandKind.RESUME: ("resume", None),
    CommandKind.SEND_DIGITS: ("sndcode", "12#"),
    CommandKind.BLIND_TRANSFER: ("transfer", "sip:+14155550199@127.0.0.1:5080"),
}
#: Commands that only choose or read, which the contract's requests leave out.
_LOOKUPS = frozenset({"callfind", "callstat", "listcalls", "line"})


class CtrlHarness:
    agents = (AGENT,)
    documented = DOCUMENTED
    stories = STORIES
    malformed = MALFORMED

    def __init__(self, ctrl: FakeCtrl | None = None, **options: Any) -> None:
        self.ctrl = ctrl or FakeCtrl()
        self.phone = BaresipPhone(
            "127.0.0.1", self.ctrl.port, AGENT, lambda: AT, dial_uri=GATEWAY, **options
        )

    @property
    def adapter(self) -> BaresipPhone:
        return self.phone

    def deliver(self, event: Any) -> None:
        self.phone.receive(event)

    def live_call(self, kind: CommandKind) -> str:
        self.deliver(event("CALL_INCOMING", HELD, A))
        if kind not in (CommandKind.ACCEPT, CommandKind.REJECT):
            self.deliver(event("CALL_ESTABLISHED", HELD, A))
        return HELD

    def requests(self) -> list[Any]:
        return [c for c in self.ctrl.commands if c[0] not in _LOOKUPS]

    def expected_request(self, command: CallCommand | PlaceCall) -> Any:
        if isinstance(command, PlaceCall):
            return ("dial", f"sip:{command.number.e164}@127.0.0.1:5080")
        return EXPECTED[command.kind]

    def close(self) -> None:
        self.phone.close()
        self.ctrl.close()


class TestBaresipContract(AdapterContract):
    @pytest.fixture(autouse=True)
    def _close_harnesses(self) -> Iterator[None]:
        self._opened: list[CtrlHarness] = []
        yield
        self._close_all()

    def make_harness(self) -> AdapterHarness:
        # The kit only uses the harness it made last: the others let go of their threads.
        self._close_all()
        harness = CtrlHarness()
        self._opened.append(harness)
        return harness

    def _close_all(self) -> None:
        while self._opened:
            self._opened.pop().close()


@pytest.fixture
def harness() -> Iterator[CtrlHarness]:
    harness = CtrlHarness()
    yield harness
    harness.close()


class Noted:
    """A sink that keeps what it was given, for tests to wait on."""

    def __init__(self) -> None:
        self.signals: list[CallSignal] = []
        self._changed = threading.Condition()

    def __call__(self, signal: CallSignal) -> bool:
        with self._changed:
            self.signals.append(signal)
            self._changed.notify_all()
        return True

    def wait_for(self, count: int) -> list[CallSignal]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.signals) >= count, 5.0), (
                self.signals
            )
            return list(self.signals)


def listening(harness: CtrlHarness) -> Noted:
    noted = Noted()
    harness.phone.listen(noted)
    return noted


def command(
    kind: CommandKind, call_id: str = HELD, argument: str | None = None
) -> CallCommand:
    return CallCommand(f"cmd-{kind.value}", kind, call_id, AGENT, argument)


def test_frames_are_rebuilt_byte_for_byte_as_the_note_recorded_them() -> None:
    recorded = (
        b'199:{"event":true,"type":"CALL_INCOMING","class":"call",'
        b'"accountaor":"sip:b@127.0.0.1:5070","direction":"incoming",'
        b'"peeruri":"sip:a@127.0.0.1:5080","id":"46c860e74c590b4c",'
        b'"param":"sip:a@127.0.0.1:5080"},'
    )
    assert event("CALL_INCOMING", "46c860e74c590b4c", A) == recorded


def test_each_call_command_goes_to_its_call_chosen_first(harness: CtrlHarness) -> None:
    listening(harness)
    harness.live_call(CommandKind.HOLD)

    harness.phone.send(command(CommandKind.HOLD))

    assert harness.ctrl.commands == [("callfind", HELD), ("hold", None)]


def test_the_events_that_confirm_a_command_name_it(harness: CtrlHarness) -> None:
    listening(harness)
    harness.deliver(event("CALL_INCOMING", HELD, A))
    harness.phone.send(command(CommandKind.ACCEPT))
    (connected,) = harness.phone.receive(event("CALL_ESTABLISHED", HELD, A))
    harness.phone.send(command(CommandKind.HOLD))
    (held,) = harness.phone.receive(HELD_ANSWER)
    harness.phone.send(command(CommandKind.RESUME))
    (resumed,) = harness.phone.receive(HELD_ANSWER)

    assert [(s.kind, s.command_id) for s in (connected, held, resumed)] == [
        (SignalKind.CONNECTED, "cmd-accept"),
        (SignalKind.HELD, "cmd-hold"),
        (SignalKind.RESUMED, "cmd-resume"),
    ]
    assert held.vendor_event_id != resumed.vendor_event_id


def test_baresip_holding_and_resuming_by_itself_is_heard(harness: CtrlHarness) -> None:
    # Recorded scenario 10: answering C holds A's call; hanging C up resumes it (pitfall 8).
    listening(harness)
    for frame in (
        event("CALL_INCOMING", WAITING_A, A),
        event("CALL_ESTABLISHED", WAITING_A, A),
        event("CALL_INCOMING", WAITING_C, C),
        event("CALL_REMOTE_SDP", WAITING_C, "offer", peer=C, event_class="other"),
    ):
        harness.deliver(frame)

    (held,) = harness.phone.receive(
        event("CALL_REMOTE_SDP", WAITING_A, "answer", event_class="other")
    )
    harness.deliver(event("CALL_ESTABLISHED", WAITING_C, C))
    harness.deliver(event("CALL_CLOSED", WAITING_C, "Connection reset by user", peer=C))
    (resumed,) = harness.phone.receive(
        event("CALL_REMOTE_SDP", WAITING_A, "answer", event_class="other")
    )

    assert (held.kind, held.vendor_call_id, held.command_id) == (
        SignalKind.HELD,
        WAITING_A,
        None,
    )
    assert (resumed.kind, resumed.vendor_call_id) == (SignalKind.RESUMED, WAITING_A)


def test_a_dial_is_dialing_under_its_command_id_before_the_far_end_rings() -> None:
    uri = "sip:+14155550123@127.0.0.1:5080"
    status = (
        "\n===== Call debug (OUTGOING) =====\n"
        f" local_uri:  <{B}>\n peer_uri:   <{uri}>\n"
        f" af=AF_INET id={DIALED}\n direction: Outgoing\n"
    )

    def answer(asked: str, params: str | None) -> str | None:
        return status if asked == "callstat" else ordinary_answer(asked, params)

    harness = CtrlHarness(FakeCtrl(answer))
    try:
        noted = listening(harness)
        harness.phone.send(PlaceCall("dial-7", AGENT, PhoneNumber("+14155550123")))
        harness.deliver(outgoing("CALL_RINGING", DIALED, uri, peer=uri))
    finally:
        harness.close()

    dialing, ringing = noted.signals
    assert (dialing.kind, dialing.command_id, dialing.vendor_call_id) == (
        SignalKind.DIALING,
        "dial-7",
        DIALED,
    )
    assert (dialing.direction, dialing.customer_number) == (
        Direction.OUTBOUND,
        "+14155550123",
    )
    assert ringing.kind is SignalKind.REMOTE_RINGING
    assert harness.ctrl.commands == [("dial", uri), ("callstat", None)]


def test_a_dial_ended_before_callstat_is_named_by_its_first_event() -> None:
    busy = "sip:+14155550100@127.0.0.1:5080"
    closed = outgoing("CALL_CLOSED", RANG_OUT, "486 Busy Here", peer=busy)
    harness = CtrlHarness(FakeCtrl(first={"callstat": closed}))
    try:
        noted = listening(harness)
        harness.phone.send(PlaceCall("dial-8", AGENT, PhoneNumber("+14155550100")))
        signals = noted.wait_for(2)
    finally:
        harness.close()

    assert [(s.kind, s.command_id) for s in signals] == [
        (SignalKind.DIALING, "dial-8"),
        (SignalKind.FAILED, None),
    ]
    assert (signals[1].reason, signals[1].customer_number) == (
        "486 Busy Here",
        "+14155550100",
    )


def test_a_command_for_a_call_the_phone_lacks_is_refused_and_not_sent() -> None:
    def answer(asked: str, params: str | None) -> str | None:
        return f"call not found (id={params})\n" if asked == "callfind" else ""

    harness = CtrlHarness(FakeCtrl(answer))
    try:
        listening(harness)
        with pytest.raises(VendorRefusal, match="has no call gone-1"):
            harness.phone.send(command(CommandKind.HANG_UP, "gone-1"))
    finally:
        harness.close()
    assert harness.ctrl.commands == [("callfind", "gone-1")]


def test_a_command_the_phone_never_answers_is_refused_in_time() -> None:
    def answer(asked: str, params: str | None) -> str | None:
        return None if asked == "hold" else ordinary_answer(asked, params)

    harness = CtrlHarness(FakeCtrl(answer), response_timeout=0.2)
    try:
        listening(harness)
        with pytest.raises(VendorRefusal, match=r"did not answer 'hold' within 0\.2 s"):
            harness.phone.send(command(CommandKind.HOLD))
    finally:
        harness.close()


def test_a_command_the_phone_refuses_is_refused() -> None:
    harness = CtrlHarness(FakeCtrl(refused=frozenset({"hold"})))
    try:
        listening(harness)
        with pytest.raises(
            VendorRefusal, match=r"refused 'hold': command not found \(hold\)"
        ):
            harness.phone.send(command(CommandKind.HOLD))
    finally:
        harness.close()


def test_commands_for_another_agent_or_beyond_the_phone_are_refused_unsent(
    harness: CtrlHarness,
) -> None:
    listening(harness)

    with pytest.raises(VendorRefusal, match="cannot mute"):
        harness.phone.send(command(CommandKind.MUTE))
    with pytest.raises(VendorRefusal, match="agent a-17's, not a-99's"):
        harness.phone.send(CallCommand("c-1", CommandKind.HOLD, HELD, "a-99"))
    assert harness.ctrl.commands == []


LISTED = (
    "\n--- Active calls (2) ---\n"
    "  [line 1]  0:00:01  ESTABLISHED  (on hold)  sip:a@127.0.0.1:5080\n"
    "> [line 2]  0:00:01  ESTABLISHED             sip:c@127.0.0.1:5090\n\n"
)


def test_the_snapshot_is_what_listcalls_and_callstat_show() -> None:
    current = {"line": "2"}
    status = {
        "1": (WAITING_A, "Incoming", "sip:+442079460958@127.0.0.1:5080"),
        "2": (WAITING_C, "Outgoing", C),
    }

    def answer(asked: str, params: str | None) -> str | None:
        if asked == "listcalls":
            return LISTED
        if asked == "line":
            current["line"] = params or ""
            return f"setting current call: line {params}\n"
        call_id, direction, peer = status[current["line"]]
        return (
            "\n===== Call debug (ESTABLISHED) =====\n"
            f" local_uri:  <{B}>\n peer_uri:   <{peer}>\n"
            f" af=AF_INET id={call_id}\n direction: {direction}\n"
        )

    harness = CtrlHarness(FakeCtrl(answer))
    try:
        listening(harness)
        snapshot = harness.phone.snapshot()
    finally:
        harness.close()

    assert snapshot == (
        LiveCall(
            WAITING_A, SignalKind.CONNECTED, AGENT, Direction.INBOUND, "+442079460958", True
        ),
        LiveCall(WAITING_C, SignalKind.CONNECTED, AGENT, Direction.OUTBOUND, "c"),
    )


def test_frames_split_across_reads_or_sharing_one_are_all_heard(
    harness: CtrlHarness,
) -> None:
    noted = listening(harness)
    stream = b"".join(REJECTED_FRAMES + CANCELLED_FRAMES)
    split = len(REJECTED_FRAMES[0]) + 40  # the second frame is cut in two

    harness.ctrl.push(stream[:split])
    harness.ctrl.push(stream[split:])

    signals = noted.wait_for(4)
    assert [(s.vendor_call_id, s.kind) for s in signals] == [
        (REJECTED, SignalKind.OFFERED),
        (REJECTED, SignalKind.OFFER_REJECTED),
        (CANCELLED, SignalKind.OFFERED),
        (CANCELLED, SignalKind.ABANDONED),
    ]
    assert signals[3].ended_by is Party.CUSTOMER


def test_a_malformed_event_on_the_link_is_dropped_and_the_next_heard(
    harness: CtrlHarness,
) -> None:
    noted = listening(harness)

    harness.ctrl.push(MALFORMED["a call event naming no call"] + CANCELLED_FRAMES[0])

    assert [s.vendor_call_id for s in noted.wait_for(1)] == [CANCELLED]


def test_when_the_phone_drops_the_link_it_is_taken_back_and_reconciled() -> None:
    reconnections = threading.Semaphore(0)
    harness = CtrlHarness(on_reconnect=reconnections.release, reconnect_delays=(0.05,))
    try:
        noted = listening(harness)
        assert reconnections.acquire(timeout=5.0)
        harness.ctrl.drop()
        assert reconnections.acquire(timeout=5.0)
        harness.ctrl.push(CANCELLED_FRAMES[0])
        assert [s.vendor_call_id for s in noted.wait_for(1)] == [CANCELLED]
    finally:
        harness.close()
    assert harness.ctrl.connections == 2


def test_a_call_event_of_a_later_baresip_is_kept_raw_as_unknown(
    harness: CtrlHarness,
) -> None:
    listening(harness)
    later = event("CALL_HOLD", HELD, A)  # baresip 2.x and later report holds; 1.0.0 not

    (kept,) = harness.phone.receive(later)

    assert (kept.kind, kept.vendor_kind, kept.vendor_call_id) == (
        SignalKind.UNKNOWN,
        "CALL_HOLD",
        HELD,
    )
    assert kept.raw == json.loads(later.partition(b":")[2][:-1])
    assert harness.phone.receive(event("VU_TX_REPORT", event_class="VU_REPORT")) == ()


@pytest.mark.parametrize(
    ("peer", "number"),
    [
        ("sip:+442079460958@gateway.example;user=phone", "+442079460958"),
        ("sips:+442079460958@gateway.example", "+442079460958"),
        ("tel:+44-20-7946-0958", "+442079460958"),
        ("tel:+1.650.555.0123;ext=22", "+16505550123"),
        ("<tel:(650)5550123;phone-context=+1>", "6505550123"),
        ("TEL:+442079460958", "+442079460958"),
        ("sip:gateway.example", None),
        ("mailto:ada@example.com", None),
        ("tel:", None),
    ],
)
def test_the_callers_number_is_read_from_a_sip_or_a_tel_uri(
    harness: CtrlHarness, peer: str, number: str | None
) -> None:
    """Carriers often give the caller id as an RFC 3966 tel URI."""
    listening(harness)
    (ringing,) = harness.phone.receive(event("CALL_INCOMING", "c-tel", peer, peer=peer))
    assert ringing.kind is SignalKind.OFFERED
    assert ringing.customer_number == number


def test_an_event_too_large_to_keep_whole_still_rings_and_keeps_its_start(
    harness: CtrlHarness,
) -> None:
    """A 20,000-character display name over TCP: the call is offered all the same."""
    listening(harness)
    display = f'"{"x" * 20_000}" <{A}>'
    (ringing,) = harness.phone.receive(event("CALL_INCOMING", "c-big", display))
    assert (ringing.kind, ringing.vendor_call_id) == (SignalKind.OFFERED, "c-big")
    assert ringing.raw["shortened"]["bytes"] > RAW_PAYLOAD_MAX_BYTES
    assert ringing.raw["shortened"]["start"].startswith('{"event": true')
