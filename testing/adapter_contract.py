"""The contract every telephony adapter keeps, as pytest tests an adapter's author reuses.

An author describes the vendor's side in an ``AdapterHarness`` (the adapter, how one
vendor event reaches it, the vendor's documented statuses, a few whole calls, payloads
the adapter must refuse, the request each command becomes) and subclasses
``AdapterContract``::

    class TestMyVendor(AdapterContract):
        def make_harness(self) -> AdapterHarness:
            return MyVendorHarness()

Each test builds its harnesses through ``make_harness``, so every check starts afresh.
Stories are played into a real calldesk application held in memory.
"""

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant, SetWrapUpPolicy
from calldesk.domain.call_commands import COMMAND_ARGUMENTS, CommandKind
from calldesk.domain.call_states import CallState, Outcome
from calldesk.domain.calls import Call
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.signals import CallSignal, SignalKind
from calldesk.domain.tenants import WrapUpPolicy
from calldesk.ports.telephony import (
    COMMAND_NEEDS,
    CallCommand,
    Capability,
    PlaceCall,
    RejectionReason,
    TelephonyAdapter,
    VendorEventRejected,
    VendorRefusal,
)

__all__ = ["TENANT", "AdapterContract", "AdapterHarness", "Story", "desk_with_agents"]

TENANT = "contract-kit"
DIAL_NUMBER = "+14155550123"
#: Before any story: agents are logged in and available before their calls ring.
DAWN = datetime(2000, 1, 1, tzinfo=UTC)


@attrs.frozen
class Story:
    """One call as the vendor tells it, event by event, and the outcome calldesk records."""

    name: str
    events: tuple[Any, ...]
    vendor_call_id: str
    outcome: Outcome


class AdapterHarness(Protocol):
    """The vendor's side of one adapter under test; a fresh one per check."""

    # Read-only, so a harness may declare narrower types (plain class attributes do).
    @property
    def agents(self) -> tuple[str, ...]:
        """The calldesk agent handles the vendor's events name (logged in before
        stories)."""

    @property
    def documented(self) -> Mapping[str, tuple[Any, tuple[SignalKind, ...]]]:
        """Every status or event type the vendor documents, with an event carrying it and
        the signal kinds the adapter turns it into (empty: documented as no call news)."""

    @property
    def stories(self) -> Sequence[Story]:
        """Whole calls, start to end."""

    @property
    def malformed(self) -> Mapping[str, Any]:
        """Payloads the adapter must refuse, by what is wrong with them."""

    @property
    def adapter(self) -> TelephonyAdapter:
        """The adapter under test."""

    def deliver(self, event: Any) -> None:
        """Hand one vendor event to the adapter the way the vendor would send it."""

    def live_call(self, kind: CommandKind) -> str:
        """Bring a call into a state that allows this command; its vendor call id."""

    def requests(self) -> list[Any]:
        """Every request the adapter has sent to the vendor so far, in order."""

    def expected_request(self, command: CallCommand | PlaceCall) -> Any:
        """The request the vendor documents for this command."""


class _Recorder:
    """The adapter's sink: keeps every signal, and hands it to a desk when there is one."""

    def __init__(self, desk: Desk | None = None) -> None:
        self.signals: list[CallSignal] = []
        self.desk = desk

    def __call__(self, signal: CallSignal) -> bool:
        self.signals.append(signal)
        if self.desk is None:
            return True
        return self.desk.hear_news(TENANT, signal, signal.occurred_at)


def _deliver_tolerating_replays(harness: AdapterHarness, event: Any) -> None:
    """A repeated delivery may be refused as a replay; nothing else may be refused."""
    try:
        harness.deliver(event)
    except VendorEventRejected as rejection:
        if rejection.reason is not RejectionReason.REPLAYED:
            raise


def desk_with_agents(agents: tuple[str, ...]) -> Desk:
    """calldesk in memory: tenant TENANT, without wrap-up, these agents available."""
    desk = Desk.in_memory()
    desk.create_tenant(CreateTenant(TENANT, name="Contract kit", at=DAWN))
    # No wrap-up: a story's last event closes its call, so its outcome can be checked.
    desk.set_wrap_up_policy(SetWrapUpPolicy(TENANT, WrapUpPolicy(limit_seconds=0), at=DAWN))
    for agent in agents:
        desk.register_agent(RegisterAgent(TENANT, agent, name=agent, at=DAWN))
        desk.log_in(LogIn(TENANT, agent, at=DAWN))
        desk.go_available(GoAvailable(TENANT, agent, at=DAWN))
    return desk


def _listening(harness: AdapterHarness, desk: Desk | None = None) -> _Recorder:
    recorder = _Recorder(desk)
    harness.adapter.listen(recorder)
    return recorder


def _call_version(desk: Desk, vendor: str, vendor_call_id: str) -> int:
    call: Call = desk.store.repository.get(Call.create_id(TENANT, vendor, vendor_call_id))
    return int(call.version)


def _supported(adapter: TelephonyAdapter, kind: CommandKind) -> bool:
    needed = COMMAND_NEEDS.get(kind)
    return needed is None or needed in adapter.capabilities


def _command(kind: CommandKind, vendor_call_id: str, agent: str) -> CallCommand:
    argument = {"digits": "12#", "target": "+14155550199"}.get(
        COMMAND_ARGUMENTS.get(kind, "")
    )
    return CallCommand(f"contract-{kind.value}", kind, vendor_call_id, agent, argument)


class AdapterContract:
    """The contract tests; subclass as ``Test...`` and define ``make_harness``."""

    def make_harness(self) -> AdapterHarness:
        raise NotImplementedError("return a fresh harness for the adapter under test")

    # Vocabulary.

    def test_every_documented_status_maps_to_its_kinds(self) -> None:
        statuses = self.make_harness().documented
        assert statuses, "list the vendor's documented statuses"
        for status in statuses:
            harness = self.make_harness()
            event, kinds = harness.documented[status]
            recorder = _listening(harness)
            harness.deliver(event)
            heard = tuple(signal.kind for signal in recorder.signals)
            assert heard == kinds, f"{status}: expected {kinds}, the adapter said {heard}"
            assert SignalKind.UNKNOWN not in heard, f"{status} is documented, not unknown"

    def test_signals_are_well_formed(self) -> None:
        for story in self.make_harness().stories:
            harness = self.make_harness()
            recorder = _listening(harness)
            for event in story.events:
                harness.deliver(event)
            assert recorder.signals, f"{story.name}: no signal at all"
            for signal in recorder.signals:
                assert isinstance(signal, CallSignal)
                assert signal.vendor == harness.adapter.vendor
                assert signal.vendor_kind, "the vendor's own name for the event is kept"
                assert signal.raw, "the vendor's payload is kept for the audit"
                assert signal.agent is None or signal.agent in harness.agents

    def test_a_repeated_event_becomes_the_same_signal(self) -> None:
        for story in self.make_harness().stories:
            harness = self.make_harness()
            recorder = _listening(harness)
            for event in story.events:
                start = len(recorder.signals)
                harness.deliver(event)
                first = recorder.signals[start:]
                middle = len(recorder.signals)
                _deliver_tolerating_replays(harness, event)
                assert recorder.signals[middle:] == first, (
                    f"{story.name}: a repeat must repeat the same signals"
                )

    # Whole calls through calldesk.

    def test_stories_end_as_the_vendor_told(self) -> None:
        for story in self.make_harness().stories:
            harness = self.make_harness()
            desk = desk_with_agents(harness.agents)
            _listening(harness, desk)
            for event in story.events:
                harness.deliver(event)
            call = desk.call(
                TENANT,
                str(Call.create_id(TENANT, harness.adapter.vendor, story.vendor_call_id)),
            )
            assert call.state is CallState.CLOSED, f"{story.name}: still {call.state}"
            assert call.outcome is story.outcome, story.name

    # Each adapter's subclass runs this one test: hypothesis would take that for one test
    # run by several executors.
    @settings(suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data())
    def test_duplicates_and_reordering_are_tolerated(self, data: st.DataObject) -> None:
        stories = self.make_harness().stories
        story = data.draw(st.sampled_from(list(stories)), label="story")
        size = len(story.events)
        repeats = data.draw(st.lists(st.integers(1, 2), min_size=size, max_size=size))
        events = list(
            itertools.chain.from_iterable(
                [event] * times for event, times in zip(story.events, repeats, strict=True)
            )
        )
        shuffled = data.draw(st.permutations(events), label="order")
        harness = self.make_harness()
        desk = desk_with_agents(harness.agents)
        _listening(harness, desk)
        for event in shuffled:
            _deliver_tolerating_replays(harness, event)
        vendor = harness.adapter.vendor
        version = _call_version(desk, vendor, story.vendor_call_id)
        call_id = str(Call.create_id(TENANT, vendor, story.vendor_call_id))
        assert desk.call(TENANT, call_id).state is CallState.CLOSED
        for event in story.events:
            _deliver_tolerating_replays(harness, event)
        assert _call_version(desk, vendor, story.vendor_call_id) == version, (
            "hearing the whole call again recorded more"
        )

    # Bad payloads.

    def test_malformed_payloads_are_refused_and_heard_by_no_one(self) -> None:
        for problem, payload in self.make_harness().malformed.items():
            harness = self.make_harness()
            recorder = _listening(harness)
            with pytest.raises(VendorEventRejected) as refused:
                harness.deliver(payload)
            assert str(refused.value), f"{problem}: the refusal says why"
            assert refused.value.reason is not RejectionReason.REPLAYED, problem
            assert not recorder.signals, f"{problem}: nothing reaches calldesk"

    # Commands.

    def test_each_command_becomes_the_documented_request(self) -> None:
        for kind in CommandKind:
            harness = self.make_harness()
            if not _supported(harness.adapter, kind):
                continue
            _listening(harness)
            command = _command(kind, harness.live_call(kind), harness.agents[0])
            before = len(harness.requests())
            harness.adapter.send(command)
            assert harness.requests()[before:] == [harness.expected_request(command)], kind

    def test_commands_beyond_the_capabilities_are_refused_unsent(self) -> None:
        for kind in CommandKind:
            harness = self.make_harness()
            if _supported(harness.adapter, kind):
                continue
            _listening(harness)
            before = len(harness.requests())
            with pytest.raises(VendorRefusal):
                harness.adapter.send(_command(kind, "no-such-call", harness.agents[0]))
            assert len(harness.requests()) == before, kind

    def test_dialing_becomes_the_documented_request(self) -> None:
        harness = self.make_harness()
        place = PlaceCall("contract-dial", harness.agents[0], PhoneNumber(DIAL_NUMBER))
        _listening(harness)
        before = len(harness.requests())
        if Capability.DIAL not in harness.adapter.capabilities:
            with pytest.raises(VendorRefusal):
                harness.adapter.send(place)
            assert len(harness.requests()) == before
            return
        harness.adapter.send(place)
        assert harness.requests()[before:] == [harness.expected_request(place)]
