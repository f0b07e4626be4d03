"""The baresip adapter against real SIP phones on loopback: calls end as they really did.

The agent's phone is a baresip process the adapter drives; callers, callees and the
transfer target are baresip processes the test drives, or SIPp scenarios (sipp/). The
desk is real (in memory), with agent a-17 available and no wrap-up, so each call closes
as it ends. Every wait is for a signal the desk has applied, with a deadline.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import missing_peer
from support.desk_driver import log_in, ready, tenant_with_agent
from support.sip_peers import SippRun, missing_tools
from support.telephony import ADA, ADA_NUMBER, StaticDirectory

from calldesk.adapters.clock import SystemClock
from calldesk.adapters.telephony.baresip import BaresipPhone
from calldesk.adapters.telephony.baresip_events import VENDOR
from calldesk.adapters.telephony.baresip_peers import BaresipPeer, PeerControl, running
from calldesk.apps.call_views import CallView
from calldesk.apps.calls import Dial, RequestCallCommand
from calldesk.apps.desk import Desk
from calldesk.apps.tenancy import SetWrapUpPolicy
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import CallState, OfferState, Outcome
from calldesk.domain.calls import Call
from calldesk.domain.signals import CallSignal, Direction, Party, SignalKind
from calldesk.domain.tenants import WrapUpPolicy
from calldesk.ports.telephony import (
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    SignalSink,
)

TENANT, AGENT = "acme", "a-17"
TARGET_NUMBER = "+442079460999"
WAIT = 5.0


class Heard:
    """Every signal the desk has applied, in order, for tests to wait on."""

    def __init__(self) -> None:
        self.signals: list[CallSignal] = []
        self._changed = threading.Condition()

    def note(self, signal: CallSignal) -> None:
        with self._changed:
            self.signals.append(signal)
            self._changed.notify_all()

    def of(self, call_id: str) -> list[SignalKind]:
        with self._changed:
            return [s.kind for s in self.signals if s.vendor_call_id == call_id]

    def wait_until(self, holds: Callable[[], bool], timeout: float = WAIT) -> None:
        with self._changed:
            if not self._changed.wait_for(holds, timeout):
                raise AssertionError(f"not so after {timeout} s: {self.signals}")

    def wait(
        self, kind: SignalKind, call_id: str | None = None, timeout: float = WAIT
    ) -> CallSignal:
        """The first signal of this kind (for this call), once the desk has applied it."""

        def found() -> CallSignal | None:
            return next(
                (
                    s
                    for s in self.signals
                    if s.kind is kind and call_id in (None, s.vendor_call_id)
                ),
                None,
            )

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no {kind.value} for {call_id} in {self.signals}")
            signal = found()
        assert signal is not None
        return signal


class Overheard:
    """The phone as the desk sees it: each signal is noted once the desk applied it."""

    def __init__(self, phone: BaresipPhone, heard: Heard) -> None:
        self.phone, self.heard = phone, heard
        self.vendor = phone.vendor
        self.capabilities: frozenset[Capability] = phone.capabilities
        self.needs_acknowledgement = phone.needs_acknowledgement

    def listen(self, sink: SignalSink) -> None:
        def noting(signal: CallSignal) -> bool:
            news = sink(signal)
            self.heard.note(signal)
            return news

        self.phone.listen(noting)

    def send(self, command: CallCommand | PlaceCall) -> None:
        self.phone.send(command)

    def snapshot(self) -> tuple[LiveCall, ...]:
        return self.phone.snapshot()


class Line:
    """A desk with agent a-17 available, whose phone is a baresip peer."""

    def __init__(
        self, peer: BaresipPeer, dial_uri: str, reconnect_delays: Sequence[float]
    ) -> None:
        start = datetime.now(UTC)
        self.clock = SystemClock()
        self.desk = Desk.in_memory(StaticDirectory())
        tenant_with_agent(self.desk, start, TENANT, AGENT)
        self.desk.set_wrap_up_policy(
            SetWrapUpPolicy(TENANT, policy=WrapUpPolicy(limit_seconds=0), at=start)
        )
        log_in(self.desk, start, TENANT, AGENT)
        ready(self.desk, start, TENANT, AGENT)
        self.heard = Heard()
        self.reconciled: list[tuple[int, int]] = []
        self._connected = threading.Condition()
        self.phone = BaresipPhone(
            "127.0.0.1",
            peer.ctrl_port,
            AGENT,
            self.clock.now,
            dial_uri=dial_uri,
            on_reconnect=self._reconcile,
            reconnect_delays=reconnect_delays,
        )
        self.desk.attach(TENANT, Overheard(self.phone, self.heard), self.clock)
        self.wait_connections(1)
        self._commands = (f"cmd-{n}" for n in range(1, 1000))

    def _reconcile(self) -> None:
        outcome = self.desk.reconcile(TENANT, VENDOR, self.clock.now())
        with self._connected:
            self.reconciled.append(outcome)
            self._connected.notify_all()

    def wait_connections(self, count: int, timeout: float = WAIT) -> None:
        """Until the phone has connected this many times, each reconciled."""
        with self._connected:
            assert self._connected.wait_for(
                lambda: len(self.reconciled) >= count, timeout
            ), f"the adapter connected {len(self.reconciled)} times, not {count}"

    def call(self, call_id: str) -> CallView:
        return self.desk.call(TENANT, str(Call.create_id(TENANT, VENDOR, call_id)))

    def do(self, call_id: str, kind: CommandKind, argument: str | None = None) -> str:
        """The agent's command on this call, through the desk; its command id."""
        command_id = next(self._commands)
        self.desk.command(
            RequestCallCommand(
                TENANT,
                AGENT,
                call=self.call(call_id).call,
                kind=kind,
                command_id=command_id,
                argument=argument,
                at=self.clock.now(),
            )
        )
        return command_id

    def dial(self, number: str, command_id: str) -> None:
        """Click-to-dial from the agent's desk."""
        self.desk.dial(
            Dial(
                TENANT,
                AGENT,
                number=number,
                command_id=command_id,
                vendor=VENDOR,
                at=self.clock.now(),
            )
        )

    def answered(self, caller: PeerControl, agent: BaresipPeer) -> str:
        """A call from this caller, ringing at the agent, then answered: its Call-ID."""
        call_id = caller.dial(agent.uri)
        self.heard.wait(SignalKind.OFFERED, call_id)
        self.do(call_id, CommandKind.ACCEPT)
        self.heard.wait(SignalKind.CONNECTED, call_id)
        caller.wait_event("CALL_ESTABLISHED", id=call_id)
        return call_id

    def close(self) -> None:
        self.phone.close()
        self.desk.close()


class Phones:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.agent = BaresipPeer(root / "agent", "agent")
        self.hasty_agent = BaresipPeer(root / "hasty-agent", "hasty", local_timeout=1)
        self.caller = BaresipPeer(root / "caller", ADA_NUMBER, tone=1000)
        self.target = BaresipPeer(root / "target", TARGET_NUMBER, tone=2000)
        self.all = (self.agent, self.hasty_agent, self.caller, self.target)


@pytest.fixture(scope="module")
def phones(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phones]:
    missing = missing_tools()
    if missing:
        missing_peer(missing)
    phones = Phones(tmp_path_factory.mktemp("phones"))
    with running(*phones.all):
        yield phones


@pytest.fixture
def open_line(phones: Phones) -> Iterator[Callable[..., Line]]:
    """Lines to open (the agent's phone dialling the caller peer, unless told otherwise);
    afterwards every line is closed and no call is left on any phone."""
    opened: list[Line] = []

    def open_line(
        peer: BaresipPeer | None = None,
        dial_uri: str | None = None,
        reconnect_delays: Sequence[float] = (0.2,),
    ) -> Line:
        uri = dial_uri or f"sip:{{number}}@127.0.0.1:{phones.caller.sip_port}"
        line = Line(peer or phones.agent, uri, reconnect_delays)
        opened.append(line)
        return line

    yield open_line
    for line in opened:
        line.close()
    for peer in phones.all:
        peer.hang_up_everything()


@pytest.fixture
def line(open_line: Callable[..., Line]) -> Line:
    return open_line()


@pytest.fixture
def caller(phones: Phones) -> Iterator[PeerControl]:
    with phones.caller.control() as control:
        yield control


@pytest.fixture
def target(phones: Phones) -> Iterator[PeerControl]:
    with phones.target.control() as control:
        yield control


# Calls to the agent.


def test_a_call_answered_then_hung_up_by_the_caller_completes(
    line: Line, caller: PeerControl, phones: Phones
) -> None:
    call_id = caller.dial(phones.agent.uri)
    offered = line.heard.wait(SignalKind.OFFERED, call_id)
    ringing = line.call(call_id)
    assert (ringing.state, ringing.direction) == (CallState.OFFERED, Direction.INBOUND)
    assert offered.customer_number == ADA_NUMBER
    assert ringing.screen_pop == (ADA,)

    accept = line.do(call_id, CommandKind.ACCEPT)
    assert line.heard.wait(SignalKind.CONNECTED, call_id).command_id == accept
    assert line.call(call_id).pending == ()
    caller.wait_event("CALL_ESTABLISHED", id=call_id)
    caller.command("hangup")

    line.heard.wait(SignalKind.ENDED, call_id)
    ended = line.call(call_id)
    assert (ended.state, ended.outcome) == (CallState.CLOSED, Outcome.COMPLETED)
    assert ended.ended_by is Party.CUSTOMER
    assert line.heard.of(call_id) == [
        SignalKind.OFFERED,
        SignalKind.CONNECTED,
        SignalKind.ENDED,
    ]


def test_a_call_the_agent_hangs_up_completes_ended_by_the_agent(
    line: Line, caller: PeerControl, phones: Phones
) -> None:
    call_id = line.answered(caller, phones.agent)

    hang_up = line.do(call_id, CommandKind.HANG_UP)

    assert line.heard.wait(SignalKind.ENDED, call_id).command_id == hang_up
    ended = line.call(call_id)
    assert (ended.outcome, ended.ended_by) == (Outcome.COMPLETED, Party.AGENT)
    assert (
        caller.wait_event("CALL_CLOSED", id=call_id)["param"] == "Connection reset by peer"
    )


def test_hold_and_resume_are_confirmed_by_the_phone(
    line: Line, caller: PeerControl, phones: Phones
) -> None:
    call_id = line.answered(caller, phones.agent)

    hold = line.do(call_id, CommandKind.HOLD)
    assert line.heard.wait(SignalKind.HELD, call_id).command_id == hold
    held = line.call(call_id)
    assert held.on_hold
    assert held.pending == ()
    assert [(c.state, c.on_hold) for c in line.phone.snapshot()] == [
        (SignalKind.CONNECTED, True)
    ]

    resume = line.do(call_id, CommandKind.RESUME)
    assert line.heard.wait(SignalKind.RESUMED, call_id).command_id == resume
    resumed = line.call(call_id)
    assert not resumed.on_hold
    assert resumed.pending == ()
    assert [c.state for c in line.phone.snapshot()] == [SignalKind.CONNECTED]
    caller.command("hangup")
    line.heard.wait(SignalKind.ENDED, call_id)


def test_digits_the_agent_sends_reach_the_caller(
    line: Line, caller: PeerControl, phones: Phones
) -> None:
    call_id = line.answered(caller, phones.agent)

    digits = line.do(call_id, CommandKind.SEND_DIGITS, "4#")

    sent = line.heard.wait(SignalKind.DIGITS_SENT, call_id)
    assert (sent.command_id, sent.digits) == (digits, "4#")
    assert caller.wait_event("CALL_DTMF_START", id=call_id)["param"] == "4"
    assert caller.wait_event("CALL_DTMF_START", id=call_id)["param"] == "#"


def test_a_blind_transfer_hands_the_caller_to_the_target(
    line: Line, caller: PeerControl, target: PeerControl, phones: Phones
) -> None:
    call_id = line.answered(caller, phones.agent)

    transfer = line.do(call_id, CommandKind.BLIND_TRANSFER, phones.target.uri)
    onward = target.wait_event("CALL_INCOMING")
    assert onward["peeruri"].startswith(f"sip:{ADA_NUMBER}@")
    target.on(onward["id"], "accept")

    transferred = line.heard.wait(SignalKind.TRANSFERRED, call_id)
    assert transferred.command_id == transfer
    away = line.call(call_id)
    assert (away.state, away.outcome) == (CallState.CLOSED, Outcome.TRANSFERRED_AWAY)
    caller.wait_event("CALL_ESTABLISHED", id=onward["id"])


def test_a_rejected_call_closes_rejected_and_the_caller_hears_busy(
    line: Line, caller: PeerControl, phones: Phones
) -> None:
    call_id = caller.dial(phones.agent.uri)
    line.heard.wait(SignalKind.OFFERED, call_id)

    reject = line.do(call_id, CommandKind.REJECT)

    assert line.heard.wait(SignalKind.OFFER_REJECTED, call_id).command_id == reject
    rejected = line.call(call_id)
    assert (rejected.outcome, rejected.ended_by) == (Outcome.REJECTED, Party.AGENT)
    assert [offer.state for offer in rejected.offers] == [OfferState.REJECTED]
    assert caller.wait_event("CALL_CLOSED", id=call_id)["param"] == "486 Rejected"


def test_a_call_nobody_answers_rings_out_as_missed(
    open_line: Callable[..., Line], caller: PeerControl, phones: Phones
) -> None:
    line = open_line(phones.hasty_agent)  # its phone gives up after ringing 1 s

    call_id = caller.dial(phones.hasty_agent.uri)

    line.heard.wait(SignalKind.OFFER_TIMED_OUT, call_id, timeout=WAIT + 1)
    missed = line.call(call_id)
    assert (missed.outcome, missed.ended_by) == (Outcome.MISSED, Party.SYSTEM)
    assert [offer.state for offer in missed.offers] == [OfferState.TIMED_OUT]
    assert caller.wait_event("CALL_CLOSED", id=call_id)["param"] == "486 Busy Here"


# Calls from the agent.


def test_a_dialed_call_the_callee_answers_connects_and_completes(
    line: Line, caller: PeerControl
) -> None:
    line.dial(ADA_NUMBER, "dial-1")
    incoming = caller.wait_event("CALL_INCOMING")
    call_id = incoming["id"]
    dialing = line.heard.wait(SignalKind.DIALING, call_id)
    assert (dialing.command_id, dialing.customer_number) == ("dial-1", ADA_NUMBER)
    assert line.call(call_id).screen_pop == (ADA,)

    caller.on(call_id, "accept")
    line.heard.wait(SignalKind.CONNECTED, call_id)
    caller.command("hangup")

    line.heard.wait(SignalKind.ENDED, call_id)
    done = line.call(call_id)
    assert (done.direction, done.outcome) == (Direction.OUTBOUND, Outcome.COMPLETED)
    assert done.ended_by is Party.CUSTOMER


def test_dialing_a_busy_number_fails_with_the_sip_reason(
    open_line: Callable[..., Line], tmp_path: Path
) -> None:
    callee = SippRun("callee_busy.xml", tmp_path)
    callee.answer()
    try:
        line = open_line(dial_uri=callee.uri_template)
        line.dial("+14155550100", "dial-busy")
        failed = line.heard.wait(SignalKind.FAILED)
        callee.finish()
    finally:
        callee.stop()
    assert line.heard.wait(SignalKind.DIALING).command_id == "dial-busy"
    call = line.call(failed.vendor_call_id)
    assert (call.outcome, call.end_reason) == (Outcome.FAILED, "486 Busy Here")
    assert call.customer_number == "+14155550100"


def test_a_callee_who_never_answers_fails_when_the_agent_gives_up(
    open_line: Callable[..., Line], tmp_path: Path
) -> None:
    callee = SippRun("callee_never_answers.xml", tmp_path)
    callee.answer()
    try:
        line = open_line(dial_uri=callee.uri_template)
        line.dial("+14155550100", "dial-1")
        call_id = line.heard.wait(SignalKind.REMOTE_RINGING).vendor_call_id

        line.do(call_id, CommandKind.HANG_UP)

        line.heard.wait(SignalKind.ENDED, call_id)
        callee.finish()
    finally:
        callee.stop()
    given_up = line.call(call_id)
    assert (given_up.outcome, given_up.ended_by) == (Outcome.FAILED, Party.AGENT)


# Calls from SIPp.


def test_a_caller_who_gives_up_while_it_rings_is_abandoned(
    line: Line, phones: Phones, tmp_path: Path
) -> None:
    caller = SippRun("caller_gives_up.xml", tmp_path)
    try:
        caller.call("agent", f"127.0.0.1:{phones.agent.sip_port}")
        abandoned = line.heard.wait(SignalKind.ABANDONED)
        caller.finish()
    finally:
        caller.stop()
    call = line.call(abandoned.vendor_call_id)
    assert (call.outcome, call.ended_by) == (Outcome.ABANDONED, Party.CUSTOMER)
    assert [offer.state for offer in call.offers] == [OfferState.CANCELLED]
    assert call.screen_pop == (ADA,)


def test_ten_calls_at_once_are_each_offered_and_closed_once(
    line: Line, phones: Phones, tmp_path: Path
) -> None:
    callers = SippRun("caller_gives_up.xml", tmp_path, calls=10)
    try:
        callers.call("agent", f"127.0.0.1:{phones.agent.sip_port}")
        callers.finish()
    finally:
        callers.stop()

    def abandoned() -> set[str]:
        return {
            s.vendor_call_id for s in line.heard.signals if s.kind is SignalKind.ABANDONED
        }

    line.heard.wait_until(lambda: len(abandoned()) == 10)
    for call_id in abandoned():
        assert line.heard.of(call_id) == [SignalKind.OFFERED, SignalKind.ABANDONED]
        call = line.call(call_id)
        assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.ABANDONED)
        assert len(call.offers) == 1
    log = line.desk.agent_call_log(TENANT, AGENT, limit=100)
    assert len(log) == len({entry.call for entry in log}) == 10


# The link to the phone.


def test_a_call_that_ends_while_the_link_is_down_ends_once_by_reconciliation(
    open_line: Callable[..., Line],
    caller: PeerControl,
    target: PeerControl,
    phones: Phones,
) -> None:
    line = open_line(reconnect_delays=(1.0,))  # time to act while it is away
    gone = line.answered(caller, phones.agent)
    still_ringing = target.dial(phones.agent.uri)
    line.heard.wait(SignalKind.OFFERED, still_ringing)

    with phones.agent.control() as intruder:  # the phone drops the adapter (pitfall 1)
        intruder.command("reginfo")
        caller.command("hangup")
        intruder.wait_event("CALL_CLOSED", id=gone)
    line.wait_connections(2)

    assert line.reconciled[-1] == (1, 0)
    ended = line.call(gone)
    assert (ended.state, ended.outcome, ended.end_reason) == (
        CallState.CLOSED,
        Outcome.COMPLETED,
        "unknown",
    )
    assert line.call(still_ringing).state is CallState.OFFERED
    line.do(still_ringing, CommandKind.ACCEPT)
    line.heard.wait(SignalKind.CONNECTED, still_ringing)
    target.command("hangup")
    line.heard.wait(SignalKind.ENDED, still_ringing)
    assert line.heard.of(gone) == [SignalKind.OFFERED, SignalKind.CONNECTED]
    assert line.desk.reconcile(TENANT, VENDOR, line.clock.now()) == (0, 0)
    log = line.desk.agent_call_log(TENANT, AGENT, limit=100)
    assert sorted(entry.call for entry in log) == sorted(
        line.call(call_id).call for call_id in (gone, still_ringing)
    )
