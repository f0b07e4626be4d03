"""A scriptable phone system: the demo's switch, and a real adapter behind the port.

Scenarios are data (who calls whom, how long callers wait and talk, who answers an
outbound call). Time moves only when ``advance`` is called, so a run is deterministic;
faults (duplicates, reordering, drops, a dropped link) are injected on request, from a
seeded random generator. Agent commands arrive through ``send`` like at any vendor, and
are confirmed by signals after a short, scripted delay.
"""

import heapq
import itertools
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from calldesk.domain.call_commands import CommandKind
from calldesk.domain.signals import CallSignal, Direction, Party, SignalKind
from calldesk.ports.telephony import (
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    SignalSink,
    VendorRefusal,
)

VENDOR = "simulator"

#: Seconds the simulated switch takes to carry out a command.
SWITCH_DELAY = 0.2


@attrs.frozen
class Caller:
    """Someone who calls in: rings at ``agent`` after ``arrives_after`` seconds."""

    number: str
    agent: str
    arrives_after: float = 0.0
    patience: float = 30.0  # seconds before hanging up unanswered
    talks_for: float = 60.0  # seconds of talk before the caller hangs up
    ring_timeout: float = 15.0  # seconds an offer rings before it times out (RONA)
    direct: bool = False  # dials the agent's own line: rings even while they are busy
    call_id: str | None = None


@attrs.frozen
class Callee:
    """Someone an agent dials: answers after ``answers_after`` seconds, or is busy."""

    number: str
    answers_after: float = 4.0
    talks_for: float = 45.0
    busy: bool = False


@attrs.frozen
class Faults:
    """How unreliable the link is: rates of duplicated, held-back and lost signals, and
    the kinds of command the switch takes and never carries out (a real phone does:
    baresip accepts nothing while two calls ring)."""

    seed: int = 0
    duplicate: float = 0.0
    reorder: float = 0.0
    drop: float = 0.0
    unheeded: frozenset[CommandKind] = frozenset()


@attrs.define
class _Line:
    """One call as the simulated switch holds it."""

    call_id: str
    direction: Direction
    number: str
    agent: str | None
    state: SignalKind
    talks_for: float
    caller: Caller | None = None
    offers: int = 0  # how many times it rang: a ring-out timer belongs to one offer
    on_hold: bool = False
    muted: bool = False
    third_party: str | None = None


#: Everything but swapping, which the simulated switch does not do.
CAPABILITIES = frozenset(Capability) - {Capability.SWAP}


class PhoneSimulator:
    """A phone system for one tenant, its time driven by the caller of ``advance``."""

    def __init__(
        self,
        start: datetime,
        faults: Faults | None = None,
        routable: Callable[[str], bool] = lambda agent: True,
        callees: tuple[Callee, ...] = (),
    ) -> None:
        self._now = start
        # Ids unique to this run, so runs against one store never share a call.
        self._run = start.strftime("%Y%m%dT%H%M%S%f")
        self._faults = faults or Faults()
        self._random = random.Random(self._faults.seed)
        self._routable = routable
        self._callees = {callee.number: callee for callee in callees}
        self._sink: SignalSink | None = None
        self._linked = True
        self._agenda: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._event_ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._lines: dict[str, _Line] = {}
        self._held_back: CallSignal | None = None
        # Commands arrive from request threads while a driver advances time: the switch
        # changes under this lock, and signals reach calldesk after it is released, so a
        # command (sent while calldesk is busy) and a signal never wait on each other.
        self._switch = threading.RLock()
        self._outbox: list[CallSignal] = []

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

    def send(self, command: CallCommand | PlaceCall) -> None:
        with self._switch:
            if not self._linked:
                raise VendorRefusal("the simulator's link is down")
            if isinstance(command, PlaceCall):
                self._place(command)
            else:
                self._carry_out(command)

    def snapshot(self) -> tuple[LiveCall, ...]:
        with self._switch:
            return tuple(
                LiveCall(
                    line.call_id,
                    line.state,
                    line.agent,
                    line.direction,
                    line.number,
                    line.on_hold,
                )
                for line in self._lines.values()
            )

    # Driving the simulation.

    def now(self) -> datetime:
        """The simulation's time: calldesk hears each signal at it (a Clock)."""
        return self._now

    def expect(self, caller: Caller) -> str:
        """Schedule an inbound call; its vendor call id."""
        with self._switch:
            call_id = caller.call_id or f"sim-{self._run}-call-{next(self._call_ids)}"
            self._at(caller.arrives_after, lambda: self._arrive(call_id, caller))
            return call_id

    def advance(self, seconds: float) -> None:
        """Let time pass, delivering every signal due by then, in order."""
        until = self._now + timedelta(seconds=seconds)
        while True:
            with self._switch:
                if not (self._agenda and self._agenda[0][0] <= until):
                    self._now = max(self._now, until)
                    self._release_held_back()
                    break
                when, _, happen = heapq.heappop(self._agenda)
                self._now = max(self._now, when)
                happen()
            self._flush()
        self._flush()

    def _flush(self) -> None:
        """Hand the signals of the last step to calldesk, outside the switch's lock."""
        with self._switch:
            outgoing, self._outbox = self._outbox, []
        for signal in outgoing:
            assert self._sink is not None
            self._sink(signal)

    def retransmit(self, signal: CallSignal) -> None:
        """Put a signal on the wire again, as a flaky link does; for tests of one moment."""
        with self._switch:
            self._outbox.append(signal)
        self._flush()

    def drop_link(self) -> None:
        """The link goes down: signals from now on are lost, calls go on without us."""
        self._linked = False

    def restore_link(self) -> None:
        self._linked = True

    @property
    def idle(self) -> bool:
        """Nothing scheduled and no call on the switch."""
        return not self._agenda and not self._lines

    # The switch.

    def _arrive(self, call_id: str, caller: Caller) -> None:
        line = _Line(
            call_id,
            Direction.INBOUND,
            caller.number,
            caller.agent,
            SignalKind.QUEUED,
            caller.talks_for,
            caller,
        )
        self._lines[call_id] = line
        self._emit(line, SignalKind.QUEUED)
        self._at(caller.patience, lambda: self._abandon(line))
        self._offer_when_routable(line, caller)

    def _offer_when_routable(self, line: _Line, caller: Caller) -> None:
        if line.state is not SignalKind.QUEUED:
            return
        assert line.agent is not None
        if not caller.direct and not self._routable(line.agent):
            self._at(1.0, lambda: self._offer_when_routable(line, caller))
            return
        self._move(line, SignalKind.OFFERED)
        line.offers += 1
        offer = line.offers
        self._at(caller.ring_timeout, lambda: self._ring_out(line, caller, offer))

    def _ring_out(self, line: _Line, caller: Caller, offer: int) -> None:
        if line.state is SignalKind.OFFERED and line.offers == offer:
            self._move(line, SignalKind.OFFER_TIMED_OUT)
            line.state = SignalKind.QUEUED
            self._at(1.0, lambda: self._offer_when_routable(line, caller))

    def _abandon(self, line: _Line) -> None:
        if line.state in (SignalKind.QUEUED, SignalKind.OFFERED):
            self._move(line, SignalKind.ABANDONED, ended_by=Party.CUSTOMER)
            del self._lines[line.call_id]

    def _place(self, command: PlaceCall) -> None:
        call_id = f"sim-{self._run}-call-{next(self._call_ids)}"
        callee = self._callees.get(command.number.e164, Callee(command.number.e164))
        line = _Line(
            call_id,
            Direction.OUTBOUND,
            callee.number,
            command.agent,
            SignalKind.DIALING,
            callee.talks_for,
        )
        self._lines[call_id] = line
        self._at(
            SWITCH_DELAY,
            lambda: self._move(line, SignalKind.DIALING, command_id=command.command_id),
        )
        self._at(1.0, lambda: self._move(line, SignalKind.REMOTE_RINGING))
        if callee.busy:
            self._at(
                2.0,
                lambda: self._finish(line, SignalKind.FAILED, Party.THIRD_PARTY, "busy"),
            )
        else:
            self._at(callee.answers_after, lambda: self._connect(line))

    def _connect(self, line: _Line) -> None:
        if line.state in (
            SignalKind.DIALING,
            SignalKind.REMOTE_RINGING,
            SignalKind.ANSWERING,
        ):
            self._move(line, SignalKind.CONNECTED)
            self._at(line.talks_for, lambda: self._customer_hangs_up(line))

    def _customer_hangs_up(self, line: _Line) -> None:
        if line.state is SignalKind.CONNECTED and line.call_id in self._lines:
            self._finish(line, SignalKind.ENDED, Party.CUSTOMER, "hang-up")

    def _finish(
        self, line: _Line, kind: SignalKind, by: Party, reason: str, **fields: object
    ) -> None:
        self._move(line, kind, ended_by=by, reason=reason, **fields)
        self._lines.pop(line.call_id, None)

    def _carry_out(self, command: CallCommand) -> None:
        line = self._lines.get(command.vendor_call_id)
        if line is None:
            raise VendorRefusal(f"no call {command.vendor_call_id} on the switch")
        if command.kind in self._faults.unheeded:
            return  # taken, and never done
        carry = _CARRY.get(command.kind)
        refusal = carry(self, line, command) if carry else "not supported"
        if refusal:
            raise VendorRefusal(f"cannot {command.kind.value}: {refusal}")

    def _later(
        self, line: _Line, kind: SignalKind, command: CallCommand, **fields: object
    ) -> None:
        self._at(
            SWITCH_DELAY,
            lambda: self._move(line, kind, command_id=command.command_id, **fields),
        )

    # Delivery, with the faults asked for.

    def _at(self, seconds: float, happen: Callable[[], None]) -> None:
        when = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._agenda, (when, next(self._order), happen))

    def _move(self, line: _Line, kind: SignalKind, **fields: object) -> None:
        if kind in _STATES:
            line.state = kind
        self._emit(line, kind, **fields)

    def _emit(self, line: _Line, kind: SignalKind, **fields: object) -> None:
        signal = CallSignal(
            vendor=VENDOR,
            vendor_event_id=f"sim-{self._run}-event-{next(self._event_ids)}",
            vendor_call_id=line.call_id,
            kind=kind,
            occurred_at=self._now,
            direction=line.direction,
            customer_number=line.number,
            agent=line.agent,
            vendor_kind=kind.value,
            raw={"call": line.call_id, "event": kind.value, "line": line.state.value},
            **fields,  # type: ignore[arg-type]
        )
        self._deliver(signal)

    def _deliver(self, signal: CallSignal) -> None:
        if not self._linked or self._sink is None:
            return
        faults, draw = self._faults, self._random.random
        if draw() < faults.drop:
            return
        if self._held_back is None and draw() < faults.reorder:
            self._held_back = signal
            return
        self._outbox.append(signal)
        if draw() < faults.duplicate:
            self._outbox.append(signal)
        self._release_held_back()

    def _release_held_back(self) -> None:
        held, self._held_back = self._held_back, None
        if held is not None and self._sink is not None and self._linked:
            self._outbox.append(held)


#: The signal kinds that are a call's state on the switch (reported in snapshots).
_STATES = frozenset(
    {
        SignalKind.QUEUED,
        SignalKind.OFFERED,
        SignalKind.DIALING,
        SignalKind.REMOTE_RINGING,
        SignalKind.ANSWERING,
        SignalKind.CONNECTED,
    }
)


def _accept(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
    if line.state is not SignalKind.OFFERED:
        return "it is not ringing"
    line.state = SignalKind.ANSWERING
    sim._later(line, SignalKind.CONNECTED, command)
    sim._at(SWITCH_DELAY + line.talks_for, lambda: sim._customer_hangs_up(line))
    return None


def _reject(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
    if line.state is not SignalKind.OFFERED:
        return "it is not ringing"
    line.state = SignalKind.QUEUED
    sim._later(line, SignalKind.OFFER_REJECTED, command)
    caller = line.caller
    if caller is not None:
        sim._at(1.0, lambda: sim._offer_when_routable(line, caller))
    return None


def _hang_up(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
    if line.state not in (
        SignalKind.CONNECTED,
        SignalKind.DIALING,
        SignalKind.REMOTE_RINGING,
    ):
        return "it is not connected"
    sim._lines.pop(line.call_id, None)
    kind = SignalKind.ENDED if line.state is SignalKind.CONNECTED else SignalKind.FAILED
    sim._later(line, kind, command, ended_by=Party.AGENT, reason="hang-up")
    return None


def _flag(
    kind: SignalKind, attribute: str, value: bool
) -> Callable[[PhoneSimulator, _Line, CallCommand], str | None]:
    def carry(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
        if line.state is not SignalKind.CONNECTED:
            return "it is not connected"
        if getattr(line, attribute) is value:
            return f"it is {kind.value} already"
        setattr(line, attribute, value)
        sim._later(line, kind, command)
        return None

    return carry


def _digits(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
    if line.state is not SignalKind.CONNECTED:
        return "it is not connected"
    sim._later(line, SignalKind.DIGITS_SENT, command, digits=command.argument)
    return None


def _blind_transfer(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
    if line.state is not SignalKind.CONNECTED:
        return "it is not connected"
    sim._lines.pop(line.call_id, None)
    sim._later(
        line, SignalKind.TRANSFERRED, command, target=command.argument, reason="transfer"
    )
    return None


def _consult(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
    if line.state is not SignalKind.CONNECTED or line.third_party:
        return "it is not connected, or a consultation is under way"
    line.third_party = command.argument
    sim._later(line, SignalKind.CONSULT_STARTED, command, target=command.argument)
    sim._at(2.0, lambda: sim._move(line, SignalKind.PARTY_JOINED, target=command.argument))
    return None


def _complete_transfer(
    sim: PhoneSimulator, line: _Line, command: CallCommand
) -> str | None:
    if line.state is not SignalKind.CONNECTED or not line.third_party:
        return "no third party has joined"
    sim._lines.pop(line.call_id, None)
    sim._later(
        line, SignalKind.TRANSFERRED, command, target=line.third_party, reason="transfer"
    )
    return None


def _conference(sim: PhoneSimulator, line: _Line, command: CallCommand) -> str | None:
    if line.state is not SignalKind.CONNECTED or not line.third_party:
        return "no third party has joined"
    sim._later(line, SignalKind.CONFERENCED, command)
    return None


_CARRY: dict[CommandKind, Callable[[PhoneSimulator, _Line, CallCommand], str | None]] = {
    CommandKind.ACCEPT: _accept,
    CommandKind.REJECT: _reject,
    CommandKind.HANG_UP: _hang_up,
    CommandKind.HOLD: _flag(SignalKind.HELD, "on_hold", True),
    CommandKind.RESUME: _flag(SignalKind.RESUMED, "on_hold", False),
    CommandKind.MUTE: _flag(SignalKind.MUTED, "muted", True),
    CommandKind.UNMUTE: _flag(SignalKind.UNMUTED, "muted", False),
    CommandKind.SEND_DIGITS: _digits,
    CommandKind.BLIND_TRANSFER: _blind_transfer,
    CommandKind.CONSULT: _consult,
    CommandKind.COMPLETE_TRANSFER: _complete_transfer,
    CommandKind.CONFERENCE: _conference,
}
