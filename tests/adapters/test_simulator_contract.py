"""The phone simulator keeps the adapter contract (calldesk.testing).

The simulator is its own vendor: what it puts on the wire are signals already, so its
"vendor events" are the signals of recorded runs, put on the wire again.
"""

from datetime import UTC, datetime
from typing import Any

from calldesk.adapters.telephony.simulator import Callee, Caller, PhoneSimulator
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import Outcome
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.signals import CallSignal, SignalKind
from calldesk.ports.telephony import CallCommand, PlaceCall
from calldesk.testing import AdapterContract, AdapterHarness, Story

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
AGENT = "a-1"
CUSTOMER = "+442079460958"
BUSY = "+14155550100"


def _recorded(play: Any) -> tuple[CallSignal, ...]:
    """The signals a fresh simulator puts on the wire while `play` drives it."""
    wire: list[CallSignal] = []
    simulator = PhoneSimulator(START, callees=(Callee(BUSY, busy=True),))
    simulator.listen(lambda signal: wire.append(signal) is None)  # type: ignore[func-returns-value]
    play(simulator)
    return tuple(wire)


def _answered(simulator: PhoneSimulator) -> None:
    call_id = simulator.expect(Caller(CUSTOMER, AGENT, talks_for=30, call_id="answered"))
    simulator.advance(1)
    simulator.send(CallCommand("accept-1", CommandKind.ACCEPT, call_id, AGENT))
    simulator.advance(5)
    simulator.send(CallCommand("hold-1", CommandKind.HOLD, call_id, AGENT))
    simulator.advance(1)
    simulator.send(CallCommand("resume-1", CommandKind.RESUME, call_id, AGENT))
    simulator.advance(60)


def _abandoned(simulator: PhoneSimulator) -> None:
    simulator.expect(Caller(CUSTOMER, AGENT, patience=5, ring_timeout=3, call_id="gave-up"))
    simulator.advance(10)


def _busy(simulator: PhoneSimulator) -> None:
    simulator.send(PlaceCall("dial-1", AGENT, PhoneNumber(BUSY)))
    simulator.advance(5)


ANSWERED, ABANDONED, BUSY_LINE = (
    _recorded(_answered),
    _recorded(_abandoned),
    _recorded(_busy),
)


class Switchboard(PhoneSimulator):
    """The simulator, noting each command its switch took."""

    def __init__(self) -> None:
        super().__init__(START, callees=(Callee(BUSY, busy=True),))
        self.taken: list[CallCommand | PlaceCall] = []

    def send(self, command: CallCommand | PlaceCall) -> None:
        super().send(command)
        self.taken.append(command)


class SimulatorHarness:
    agents = (AGENT,)
    stories = (
        Story("answered, held, resumed, hung up", ANSWERED, "answered", Outcome.COMPLETED),
        Story("rang out, then the caller gave up", ABANDONED, "gave-up", Outcome.ABANDONED),
        Story("dialed a busy line", BUSY_LINE, BUSY_LINE[0].vendor_call_id, Outcome.FAILED),
    )
    #: The simulator has no payloads of its own to garble.
    malformed: dict[str, Any] = {}  # noqa: RUF012 (the harness protocol's attribute)

    def __init__(self) -> None:
        self._simulator = Switchboard()
        self.documented = {
            signal.kind.value: (signal, (signal.kind,))
            for signal in ANSWERED + ABANDONED + BUSY_LINE
        }

    @property
    def adapter(self) -> Switchboard:
        return self._simulator

    def deliver(self, event: Any) -> None:
        self._simulator.retransmit(event)

    def live_call(self, kind: CommandKind) -> str:
        simulator = self._simulator
        call_id = simulator.expect(Caller(CUSTOMER, AGENT, talks_for=600))
        simulator.advance(1)
        if kind in (CommandKind.ACCEPT, CommandKind.REJECT):
            return call_id
        simulator.send(CallCommand("setup-accept", CommandKind.ACCEPT, call_id, AGENT))
        simulator.advance(1)
        setup = {
            CommandKind.RESUME: (CommandKind.HOLD, None),
            CommandKind.UNMUTE: (CommandKind.MUTE, None),
            CommandKind.COMPLETE_TRANSFER: (CommandKind.CONSULT, "+14155550199"),
            CommandKind.CONFERENCE: (CommandKind.CONSULT, "+14155550199"),
        }.get(kind)
        if setup is not None:
            simulator.send(CallCommand("setup", setup[0], call_id, AGENT, setup[1]))
            simulator.advance(3)
        return call_id

    def requests(self) -> list[Any]:
        return list(self._simulator.taken)

    def expected_request(self, command: CallCommand | PlaceCall) -> Any:
        """The simulator's switch takes calldesk's commands as they are."""
        return command


class TestSimulatorContract(AdapterContract):
    def make_harness(self) -> AdapterHarness:
        return SimulatorHarness()


def test_every_signal_kind_the_stories_use_is_documented() -> None:
    kinds = {signal.kind for signal in ANSWERED + ABANDONED + BUSY_LINE}
    assert {SignalKind.OFFERED, SignalKind.HELD, SignalKind.ABANDONED} <= kinds
