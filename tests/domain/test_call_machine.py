"""The Call aggregate alone, driven by the phone system and its agents: no store, no clock.

The phone system is the source of truth, and it is unreliable: it repeats events, sends
them out of order, with skewed timestamps, or not at all (cti-anchors P1, P2, P4). The
stateful test plays a plausible vendor script that way, mixed with agent commands,
wrap-ups and reconciliation, and checks the call's rules after every step.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import attrs
import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from support.call_signals import AGENTS, CALL_ID, COMMAND_IDS, START, VENDOR, scripts

from calldesk.domain.call_commands import (
    COMMAND_ARGUMENTS,
    CommandKind,
    CommandNotAllowed,
    PendingCommand,
)
from calldesk.domain.call_states import CallState, OfferState, Outcome
from calldesk.domain.calls import Call, NotInWrapUp
from calldesk.domain.errors import InvalidValue
from calldesk.domain.signals import CallSignal, Party, SignalKind
from calldesk.domain.tenants import WrapUpPolicy

K = SignalKind
TENANT = "acme"
#: Someone the call was never offered to: every command of theirs is refused.
STRANGER = "a-9"
POLICIES = (
    WrapUpPolicy(limit_seconds=None),
    WrapUpPolicy(limit_seconds=0),
    WrapUpPolicy(limit_seconds=60),
)
DEFAULT_POLICY = WrapUpPolicy()

#: How far ahead of the next signal the vendor skips, and what becomes of that signal:
#: weighted towards the next one, once, and shrinking towards it.
AHEAD = (0, 0, 0, 0, 1, 2, 3)
ONCE, LOST, TWICE = "once", "lost", "twice"
FATES = (ONCE, ONCE, ONCE, ONCE, ONCE, LOST, TWICE)

#: Stand-ins the command rules resolve: the call's own agent, the argument the kind needs.
ON_THE_CALL, FITTING = "on-the-call", "fitting"
FITTING_ARGUMENTS = {
    CommandKind.SEND_DIGITS: "12#",
    CommandKind.BLIND_TRANSFER: "t-1",
    CommandKind.CONSULT: "t-1",
}
#: What an agent usually asks for in each state; any other command is asked for too.
NATURAL_COMMANDS = {
    CallState.OFFERED: (CommandKind.ACCEPT, CommandKind.REJECT),
    CallState.DIALING: (CommandKind.HANG_UP,),
    CallState.ANSWERING: (CommandKind.HANG_UP,),
    CallState.CONNECTED: (
        CommandKind.HOLD,
        CommandKind.RESUME,
        CommandKind.MUTE,
        CommandKind.UNMUTE,
        CommandKind.SEND_DIGITS,
        CommandKind.CONSULT,
        CommandKind.CONFERENCE,
        CommandKind.COMPLETE_TRANSFER,
        CommandKind.HANG_UP,
    ),
}
#: The states in which an agent may ask anything at all.
ASKABLE = (CallState.OFFERED, CallState.DIALING, CallState.ANSWERING, CallState.CONNECTED)
#: Commands that need a connected call.
MID_CALL_COMMANDS = frozenset(CommandKind) - {
    CommandKind.ACCEPT,
    CommandKind.REJECT,
    CommandKind.HANG_UP,
}

#: Events that mark a step of the call's life: each happens at most once (cti-anchors
#: 7.6, invariant 4). Offered is not one: a call rings at several agents, and again.
MILESTONES = (
    Call.Queued,
    Call.DialingStarted,
    Call.Answering,
    Call.Connected,
    Call.Ended,
    Call.WrapUpStarted,
    Call.Closed,
)
#: What changes with every event and says nothing about the call.
BOOKKEEPING = frozenset({"_version", "_modified_on", "_pending_events"})


# The call, seen from outside.


def state_of(call: Call) -> dict[str, Any]:
    return {k: v for k, v in vars(call).items() if k not in BOOKKEEPING}


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {k for k in after if before.get(k) != after[k]}


def durations(call: Call) -> tuple[timedelta, ...]:
    return call.ring_time, call.talk_time, call.hold_time, call.wrap_up_time


def replayed(events: list[CanMutateAggregate[UUID]]) -> Call:
    call: Call | None = None
    for recorded in events:
        call = recorded.mutate(call)
    assert call is not None
    return call


def must_be_refused(
    call: Call, kind: CommandKind, agent: str, argument: str | None
) -> bool:
    """The refusals that follow from the model (cti-anchors 7.5), whatever the rules add."""
    ringing_here = call.state is CallState.OFFERED and call.pending_offer(agent) is not None
    return (
        call.state not in ASKABLE
        or (agent != call.agent and not ringing_here)
        or (kind in COMMAND_ARGUMENTS and not argument)
        or (kind in (CommandKind.ACCEPT, CommandKind.REJECT) and not ringing_here)
        or (kind in MID_CALL_COMMANDS and call.state is not CallState.CONNECTED)
    )


class CallMachine(RuleBasedStateMachine):
    """One call: a vendor script delivered late, twice or never; its agents' commands."""

    @initialize(
        script=scripts(), policy=st.sampled_from(POLICIES), opening=st.sampled_from(AHEAD)
    )
    def the_call_is_first_heard(
        self, script: list[CallSignal], policy: WrapUpPolicy, opening: int
    ) -> None:
        first = script[min(opening, len(script) - 1)]
        self.now = START
        self.call = Call.first_heard(TENANT, first, None, policy, self.now)
        self.recorded = list(self.call.collect_events())
        self.before = state_of(self.call)
        self.undelivered = [s for s in script if s is not first]
        self.delivered: list[CallSignal] = []
        self.fresh_ids = 0
        self.deliver(first)

    # Checking a step: what it recorded, and how the call moved.

    def settle(self, cause: object) -> list[CanMutateAggregate[UUID]]:
        """Collect what the step recorded; check the move it made from the last state."""
        new = list(self.call.collect_events())
        self.recorded += new
        before, after = self.before, state_of(self.call)
        self.before = after
        if before["state"] is CallState.CLOSED:
            assert changed(before, after) <= {"heard"}, "a closed call changed"
        was, now = before["state"], after["state"]
        if now is not was and now.rank <= was.rank:
            # The one documented way back: the last ringing offer of a queued call ended.
            assert (was, now) == (CallState.OFFERED, CallState.QUEUED)
            assert isinstance(cause, CallSignal)
            assert cause.kind in (K.OFFER_REJECTED, K.OFFER_TIMED_OUT)
            assert after["was_queued"]
            assert all(o.state is not OfferState.PENDING for o in after["offers"])
            assert any(isinstance(e, Call.Requeued) for e in new)
        return new

    def deliver(self, signal: CallSignal) -> None:
        before = state_of(self.call)
        repeated = signal.vendor_event_id in self.call.heard
        self.call.hear(signal, self.now)
        new = self.settle(signal)
        self.delivered.append(signal)
        if repeated:
            assert new == [], "a signal heard twice changed the call"
            return
        assert new, "a signal was neither applied nor recorded"
        assert signal.vendor_event_id in self.call.heard
        kept = [
            e for e in new if isinstance(e, Call.SignalIgnored | Call.UnknownSignalKept)
        ]
        if kept:
            assert new == kept[:1], "a signal was both applied and recorded as not applied"
            assert changed(before, state_of(self.call)) == {"heard"}
        if signal.kind is K.UNKNOWN:
            assert isinstance(new[0], Call.UnknownSignalKept)
            assert new[0].signal.raw == signal.raw

    # The phone system speaks.

    @precondition(lambda self: self.undelivered)
    @rule(
        burst=st.lists(
            st.tuples(st.sampled_from(AHEAD), st.sampled_from(FATES)),
            min_size=1,
            max_size=6,
        )
    )
    def the_phone_system_speaks(self, burst: list[tuple[int, str]]) -> None:
        """A burst of signals: mostly the next one, once; some early, lost or repeated."""
        for ahead, fate in burst:
            if not self.undelivered:
                return
            said = self.undelivered.pop(min(ahead, len(self.undelivered) - 1))
            if fate != LOST:
                self.deliver(said)
            if fate == TWICE:
                self.deliver(said)

    @precondition(lambda self: self.delivered)
    @rule(back=st.integers(0, 20), as_a_copy=st.booleans())
    def a_signal_arrives_again(self, back: int, as_a_copy: bool) -> None:
        signal = self.delivered[-1 - back % len(self.delivered)]
        self.deliver(attrs.evolve(signal) if as_a_copy else signal)

    @rule(
        kind=st.sampled_from((K.QUEUED, K.OFFERED, K.DIALING, K.ANSWERING, K.CONNECTED)),
        agent=st.sampled_from(AGENTS),
    )
    def a_snapshot_reports_the_call(self, kind: SignalKind, agent: str) -> None:
        """What CallDesk.reconcile hears when the phone system lists the call: its state
        then, under an event id made of it, so the same report twice is one signal."""
        self.deliver(
            CallSignal(
                VENDOR,
                f"reconciliation:{CALL_ID}:{kind.value}",
                CALL_ID,
                kind,
                self.now,
                agent=agent,
                vendor_kind="reconciliation",
            )
        )

    @precondition(lambda self: not self.undelivered)
    @rule()
    def the_call_vanishes_from_the_phone_system(self) -> None:
        """Reconciliation, once the phone system has nothing more to say about the call."""
        was = self.call.state
        self.call.vanish(self.now)
        new = self.settle("vanish")
        if was.rank >= CallState.WRAP_UP.rank:
            assert new == []
            return
        ended = [e for e in new if isinstance(e, Call.Ended)]
        assert len(ended) == 1
        assert ended[0].reconciliation
        assert (self.call.ended_by, self.call.end_reason) == (Party.UNKNOWN, "unknown")
        assert not self.call.is_live

    # Time, and the agents.

    def command_id(self, known: str, fresh: bool) -> str:
        if not fresh:
            return known
        self.fresh_ids += 1
        return f"fresh-{self.fresh_ids}"

    def who(self, agent: str) -> str:
        return (self.call.agent or AGENTS[0]) if agent == ON_THE_CALL else agent

    @rule(
        natural=st.booleans(),
        pick=st.integers(0, 8),
        kind=st.sampled_from(CommandKind),
        agent=st.sampled_from((ON_THE_CALL, ON_THE_CALL, *AGENTS, STRANGER)),
        known=st.sampled_from(COMMAND_IDS),
        fresh=st.booleans(),
        argument=st.sampled_from((FITTING, FITTING, None, "", "9x")),
    )
    def an_agent_asks(
        self,
        natural: bool,
        pick: int,
        kind: CommandKind,
        agent: str,
        known: str,
        fresh: bool,
        argument: str | None,
    ) -> None:
        call, command_id, agent = self.call, self.command_id(known, fresh), self.who(agent)
        usual = NATURAL_COMMANDS.get(call.state)
        if natural and usual:
            kind = usual[pick % len(usual)]
        if argument == FITTING:
            argument = FITTING_ARGUMENTS.get(kind)
        before = state_of(call)
        seen = command_id in call.command_ids
        refused = must_be_refused(call, kind, agent, argument)
        try:
            sent = call.request(kind, agent, command_id, self.now, argument)
        except CommandNotAllowed:
            assert not seen, "a repeated command id was checked again"
            assert self.settle("refused") == []
            return
        assert not refused or seen, f"{kind.value} by {agent} was not refused"
        assert sent is not seen
        assert len(self.settle(kind)) == int(sent)
        if sent:
            assert call.pending[-1] == PendingCommand(
                command_id, kind, agent, argument, self.now
            )
        # The state follows only the phone system: a command is only a request.
        assert changed(before, state_of(call)) <= {"pending", "command_ids"}

    @rule(
        agent=st.sampled_from((ON_THE_CALL, *AGENTS, STRANGER)),
        disposition=st.sampled_from(("sale", "callback", "  ")),
        known=st.sampled_from(COMMAND_IDS),
        fresh=st.booleans(),
    )
    def an_agent_wraps_up(
        self, agent: str, disposition: str, known: str, fresh: bool
    ) -> None:
        call, command_id, agent = self.call, self.command_id(known, fresh), self.who(agent)
        outcome = call.outcome_on_close
        refusal: type[Exception] | None = None
        if command_id not in call.command_ids:
            if call.state is not CallState.WRAP_UP:
                refusal = NotInWrapUp
            elif agent != call.agent:
                refusal = CommandNotAllowed
            elif not disposition.strip():
                refusal = InvalidValue
        if refusal is not None:
            with pytest.raises(refusal):
                call.wrap_up(agent, disposition, "", command_id, self.now)
            assert self.settle("refused") == []
            return
        seen = command_id in call.command_ids
        call.wrap_up(agent, disposition, "", command_id, self.now)
        new = self.settle("wrap-up")
        if seen:
            assert new == [], "a repeated wrap-up changed the call"
        else:
            assert (call.state, call.outcome) == (CallState.CLOSED, outcome)
            assert call.disposition == disposition

    @rule(seconds=st.integers(0, 150))
    def time_passes_and_timed_wrap_ups_run_out(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        call = self.call
        deadline, outcome = call.wrap_up_deadline, call.outcome_on_close
        due = (
            call.state is CallState.WRAP_UP
            and deadline is not None
            and self.now >= deadline
        )
        call.expire_wrap_up(self.now)
        assert bool(self.settle("expiry")) is due
        if due:
            assert (call.state, call.outcome) == (CallState.CLOSED, outcome)
            assert call.closed_at == deadline, (
                "a wrap-up lasts its limit, however late seen"
            )

    # What holds after every step.

    @invariant()
    def durations_are_never_negative(self) -> None:
        assert all(d >= timedelta() for d in durations(self.call)), durations(self.call)

    @invariant()
    def commands_are_recorded_once_and_settle_when_the_call_closes(self) -> None:
        ids = self.call.command_ids
        assert len(set(ids)) == len(ids)
        assert {p.command_id for p in self.call.pending} <= set(ids)
        if self.call.state is CallState.CLOSED:
            assert self.call.pending == ()

    @invariant()
    def each_step_of_its_life_is_recorded_at_most_once(self) -> None:
        for milestone in MILESTONES:
            assert sum(isinstance(e, milestone) for e in self.recorded) <= 1, milestone

    @invariant()
    def replaying_its_events_gives_the_same_call(self) -> None:
        again = replayed(self.recorded)
        assert again.version == self.call.version == len(self.recorded)
        assert vars(again) == vars(self.call)
        assert durations(again) == durations(self.call)


TestCallMachine = CallMachine.TestCase


# Examples, each a rule in a sentence.


def signal(kind: SignalKind, second: int, **fields: Any) -> CallSignal:
    return CallSignal(
        VENDOR,
        f"ev-{kind.value}-{second}",
        CALL_ID,
        kind,
        START + timedelta(seconds=second),
        **fields,
    )


def heard(*signals: CallSignal, policy: WrapUpPolicy = DEFAULT_POLICY) -> Call:
    """A call that heard these signals, in this order; its events already collected."""
    call = Call.first_heard(TENANT, signals[0], None, policy, START)
    for said in signals:
        call.hear(said, said.occurred_at)
    call.collect_events()
    return call


def recorded_by(call: Call, step: Callable[[], object]) -> list[CanMutateAggregate[UUID]]:
    step()
    return list(call.collect_events())


def connected() -> list[CallSignal]:
    """Queued, rung at a-1 from second 2, talking from second 5."""
    return [
        signal(K.QUEUED, 0),
        signal(K.OFFERED, 2, agent="a-1"),
        signal(K.CONNECTED, 5, agent="a-1"),
    ]


def test_a_late_offered_after_connected_is_recorded_as_ignored() -> None:
    call = heard(*connected())
    late = signal(K.OFFERED, 3, agent="a-2")
    [ignored] = recorded_by(call, lambda: call.hear(late, START))
    assert isinstance(ignored, Call.SignalIgnored)
    assert ignored.why == "stale: the call is already connected"
    assert ignored.signal.signal_id == late.vendor_event_id
    assert call.state is CallState.CONNECTED
    assert [o.agent for o in call.offers] == ["a-1"]


def test_an_unknown_vendor_kind_is_kept_raw_even_after_the_call_closed() -> None:
    call = heard(*connected(), signal(K.ENDED, 30), policy=WrapUpPolicy(limit_seconds=0))
    whisper = signal(K.UNKNOWN, 40, vendor_kind="whisper-started", raw={"to": ["a-1"]})
    [kept] = recorded_by(call, lambda: call.hear(whisper, START))
    assert isinstance(kept, Call.UnknownSignalKept)
    assert (kept.signal.vendor_kind, kept.signal.raw) == (
        "whisper-started",
        {"to": ["a-1"]},
    )
    assert whisper.vendor_event_id in call.heard
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.COMPLETED)


def test_the_same_signal_heard_twice_is_recorded_once() -> None:
    call = heard(*connected())
    held = signal(K.HELD, 10)
    assert len(recorded_by(call, lambda: call.hear(held, START))) == 1
    assert recorded_by(call, lambda: call.hear(attrs.evolve(held), START)) == []
    assert call.on_hold


def test_hold_time_counts_only_held_intervals() -> None:
    call = heard(
        *connected(),
        signal(K.HELD, 10),
        signal(K.RESUMED, 25),
        signal(K.HELD, 40),
        signal(K.RESUMED, 45),
        signal(K.ENDED, 65),
    )
    assert call.ring_time == timedelta(seconds=3)
    assert call.hold_time == timedelta(seconds=20)
    assert call.talk_time == timedelta(seconds=40)


def test_a_call_ended_on_hold_counts_its_hold_up_to_the_end() -> None:
    call = heard(*connected(), signal(K.HELD, 10), signal(K.ENDED, 30))
    assert not call.on_hold
    assert (call.hold_time, call.talk_time) == (timedelta(seconds=20), timedelta(seconds=5))


def test_a_resumed_signal_stamped_before_its_hold_counts_no_negative_hold() -> None:
    call = heard(*connected(), signal(K.HELD, 10), signal(K.RESUMED, 8))
    assert not call.on_hold
    assert call.hold_time == timedelta()


def test_abandoned_while_ringing_closes_as_abandoned_with_the_customer_as_ender() -> None:
    call = heard(
        signal(K.QUEUED, 0), signal(K.OFFERED, 2, agent="a-1"), signal(K.ABANDONED, 9)
    )
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.ABANDONED)
    assert call.ended_by is Party.CUSTOMER
    assert [o.state for o in call.offers] == [OfferState.CANCELLED]
    assert call.work_of("a-1") is None
    assert call.ring_time == timedelta(seconds=7)


def test_the_last_offer_rejected_on_a_queued_call_puts_it_back_in_the_queue() -> None:
    call = heard(
        signal(K.QUEUED, 0),
        signal(K.OFFERED, 2, agent="a-1"),
        signal(K.OFFERED, 3, agent="a-2"),
        signal(K.OFFER_TIMED_OUT, 20, agent="a-1"),
    )
    assert call.state is CallState.OFFERED
    call.hear(signal(K.OFFER_REJECTED, 21, agent="a-2"), START)
    assert call.state is CallState.QUEUED
    assert call.outcome is None
    assert [o.state for o in call.offers] == [OfferState.TIMED_OUT, OfferState.REJECTED]


def test_an_offer_answered_elsewhere_closes_a_queued_call_without_requeuing_it() -> None:
    call = heard(
        signal(K.QUEUED, 0),
        signal(K.OFFERED, 2, agent="a-1"),
        signal(K.ANSWERED_ELSEWHERE, 4, agent="a-1"),
    )
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.ANSWERED_ELSEWHERE)


def test_a_vanished_connected_call_ends_with_reason_unknown_marked_reconciliation() -> None:
    call = heard(*connected())
    new = recorded_by(call, lambda: call.vanish(START + timedelta(minutes=3)))
    [ended] = [e for e in new if isinstance(e, Call.Ended)]
    assert ended.reconciliation
    assert ended.signal is None
    assert (call.ended_by, call.end_reason) == (Party.UNKNOWN, "unknown")
    assert call.state is CallState.WRAP_UP
    assert call.outcome_on_close is Outcome.COMPLETED
    assert call.wrap_up_deadline == START + timedelta(minutes=3, seconds=120)


def test_a_command_stays_pending_and_changes_nothing_until_the_phone_confirms_it() -> None:
    call = heard(*connected())
    assert call.request(CommandKind.HOLD, "a-1", "cmd-1", START)
    assert not call.on_hold
    assert [p.command_id for p in call.pending] == ["cmd-1"]
    call.hear(signal(K.HELD, 10), START)
    assert call.on_hold
    assert call.pending == ()


def test_a_repeated_command_id_is_recorded_once_and_answers_false() -> None:
    call = heard(*connected())
    assert call.request(CommandKind.MUTE, "a-1", "cmd-1", START)
    version = call.version
    assert not call.request(CommandKind.MUTE, "a-1", "cmd-1", START)
    assert call.version == version


def test_a_command_the_state_refuses_raises_and_records_nothing() -> None:
    call = heard(signal(K.DIALING, 0, agent="a-1"))
    version = call.version
    with pytest.raises(CommandNotAllowed, match="it is dialing, not connected"):
        call.request(CommandKind.HOLD, "a-1", "cmd-1", START)
    with pytest.raises(CommandNotAllowed, match="it is dialing, not ringing at agent a-1"):
        call.request(CommandKind.ACCEPT, "a-1", "cmd-2", START)
    assert call.version == version
    assert call.command_ids == ()


def test_a_disposition_closes_the_wrap_up_with_the_outcome_the_call_ended_with() -> None:
    call = heard(
        *connected(), signal(K.TRANSFERRED, 40), policy=WrapUpPolicy(limit_seconds=None)
    )
    assert call.state is CallState.WRAP_UP
    call.wrap_up("a-1", "sale", "  called back  ", "cmd-9", START + timedelta(seconds=70))
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.TRANSFERRED_AWAY)
    assert (call.disposition, call.notes) == ("sale", "called back")
    assert call.wrap_up_time == timedelta(seconds=30)


def test_a_timed_wrap_up_closes_by_itself_once_its_deadline_passes() -> None:
    call = heard(*connected(), signal(K.ENDED, 40), policy=WrapUpPolicy(limit_seconds=60))
    call.expire_wrap_up(START + timedelta(seconds=99))
    assert call.state is CallState.WRAP_UP
    call.expire_wrap_up(START + timedelta(seconds=100))
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.COMPLETED)
    assert call.wrap_up_time == timedelta(seconds=60)


def test_a_timed_wrap_up_noticed_late_still_lasts_only_its_limit() -> None:
    call = heard(*connected(), signal(K.ENDED, 40), policy=WrapUpPolicy(limit_seconds=60))
    call.expire_wrap_up(START + timedelta(hours=1))
    assert call.closed_at == START + timedelta(seconds=100)
    assert call.wrap_up_time == timedelta(seconds=60)


# Found by the state machine above, kept as examples of the rules they pinned down.


def test_a_vanished_ringing_call_rings_at_no_agent_any_more() -> None:
    call = heard(signal(K.QUEUED, 0), signal(K.OFFERED, 2, agent="a-1"))
    call.vanish(START + timedelta(minutes=1))
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.MISSED)
    assert call.pending_offer("a-1") is None
    assert call.work_of("a-1") is None


def test_an_offer_never_ends_before_it_began() -> None:
    call = heard(
        signal(K.QUEUED, 0),
        signal(K.OFFERED, 10, agent="a-1"),
        signal(K.ANSWERING, 5, agent="a-1"),
    )
    [offer] = call.offers
    assert offer.ended_at is not None
    assert offer.ended_at >= offer.offered_at


def test_a_call_closed_by_its_last_offer_timing_out_records_who_ended_it() -> None:
    call = heard(signal(K.OFFERED, 2, agent="a-1"))
    new = recorded_by(call, lambda: call.hear(signal(K.OFFER_TIMED_OUT, 20), START))
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.MISSED)
    assert any(isinstance(e, Call.Ended) for e in new)
    assert call.ended_by is not None


def test_a_call_in_wrap_up_always_has_an_agent_who_can_close_it() -> None:
    call = heard(
        signal(K.OFFERED, 0, agent="a-1"),
        signal(K.OFFERED, 1, agent="a-2"),
        signal(K.CONNECTED, 5),
        signal(K.ENDED, 30),
        policy=WrapUpPolicy(limit_seconds=None),
    )
    assert call.state is not CallState.WRAP_UP or call.agent is not None
