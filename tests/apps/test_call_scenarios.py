"""Calls end to end through the simulator, on SQLite and on a real PostgreSQL."""

import hashlib
import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.clock import Clock
from support.desk_driver import tenant_with_agent
from support.telephony import ADA, ADA_NUMBER, SHARED, SHARED_NUMBER, Desktop, desktop

from calldesk.adapters.telephony.simulator import Callee, Caller, Faults
from calldesk.apps.calls import ChooseRecord, PhoneSystemRefused, RequestCallCommand
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.tenancy import DefineDispositions, SetWrapUpPolicy
from calldesk.domain.agents import AgentState
from calldesk.domain.call_commands import (
    CONFIRMATION_DEADLINE,
    CommandKind,
    CommandNotAllowed,
)
from calldesk.domain.call_states import CallState, Outcome
from calldesk.domain.calls import NotInWrapUp
from calldesk.domain.errors import InvalidValue, NotFound, Refused
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.signals import (
    RAW_PAYLOAD_MAX_BYTES,
    CallSignal,
    Party,
    SignalKind,
)
from calldesk.domain.tenants import WrapUpPolicy


def test_an_answered_call_is_held_resumed_ended_wrapped_up_and_logged(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.simulator.expect(Caller(ADA_NUMBER, "a-17", talks_for=120))
        desk.simulator.advance(1)
        ringing = desk.call(call_id)
        assert (ringing.state, desk.state()) == (CallState.OFFERED, AgentState.OFFERED)
        assert ringing.screen_pop == (ADA,)
        desk.do(ringing, CommandKind.ACCEPT)
        desk.simulator.advance(10)
        desk.do(desk.call(call_id), CommandKind.HOLD)
        desk.simulator.advance(30)
        desk.do(desk.call(call_id), CommandKind.RESUME)
        desk.simulator.advance(90)
        ended = desk.call(call_id)
        assert (ended.state, ended.ended_by) == (CallState.WRAP_UP, Party.CUSTOMER)
        assert desk.state() is AgentState.WRAP_UP
        closed = desk.wrap_up(ended, "billing question")
        assert (closed.state, closed.outcome) == (CallState.CLOSED, Outcome.COMPLETED)
        assert desk.state() is AgentState.AVAILABLE
        (entry,) = desk.desk.agent_call_log("acme", "a-17")
        assert entry.record == ADA
        assert entry.disposition == "billing question"
        assert (entry.talk_seconds, entry.hold_seconds) == (
            pytest.approx(90),
            pytest.approx(30),
        )
        assert desk.desk.record_call_log("acme", ADA) == [entry]


def test_a_caller_who_hangs_up_while_ringing_is_abandoned_and_the_agent_freed(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.simulator.expect(Caller(SHARED_NUMBER, "a-17", patience=8))
        desk.simulator.advance(1)
        assert desk.call(call_id).screen_pop == SHARED
        desk.simulator.advance(10)
        assert desk.state() is AgentState.AVAILABLE
        (entry,) = desk.desk.agent_call_log("acme", "a-17")
        assert (entry.outcome, entry.ended_by, entry.record) == (
            Outcome.ABANDONED,
            Party.CUSTOMER,
            None,
        )
        assert entry.ring_seconds == pytest.approx(8)


def test_a_second_call_rings_while_the_first_is_on_hold(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        first = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=300), talk_first=5)
        desk.do(desk.call(first), CommandKind.HOLD)
        desk.simulator.advance(1)
        second = desk.simulator.expect(Caller("+16505550199", "a-17", direct=True))
        desk.simulator.advance(1)
        assert desk.call(second).state is CallState.OFFERED
        assert desk.state() is AgentState.ON_CALL
        works = {c.work.value for c in desk.desk.agent("acme", "a-17").calls}
        assert works == {"on-call", "offered"}


def test_a_rejected_call_goes_back_to_the_queue_and_rings_out_as_missed(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.simulator.expect(
            Caller(ADA_NUMBER, "a-17", ring_timeout=5, patience=60)
        )
        desk.simulator.advance(1)
        desk.do(desk.call(call_id), CommandKind.REJECT)
        desk.simulator.advance(0.5)
        assert desk.call(call_id).state is CallState.QUEUED
        assert desk.state() is AgentState.AVAILABLE
        desk.simulator.advance(2)
        assert desk.call(call_id).state is CallState.OFFERED
        desk.simulator.advance(6)
        view = desk.call(call_id)
        assert [o.state.value for o in view.offers] == ["rejected", "timed-out", "pending"]
        desk.simulator.advance(60)
        view = desk.call(call_id)
        assert (view.state, view.outcome) == (CallState.CLOSED, Outcome.ABANDONED)


def test_click_to_dial_from_a_record_places_one_call_and_logs_it_on_that_record(
    database_url: str, clock: Clock
) -> None:
    callee = Callee("+16505550123", answers_after=3, talks_for=20)
    with desktop(database_url, clock(), callees=(callee,)) as desk:
        record = SHARED[0]
        desk.dial("(650) 555-0123", record=record, command_id="click-1")
        desk.dial("(650) 555-0123", record=record, command_id="click-1")  # double click
        desk.simulator.advance(1.5)
        (work,) = desk.desk.agent("acme", "a-17").calls
        call = desk.desk.call("acme", work.call)
        assert (call.state, desk.state()) == (CallState.DIALING, AgentState.DIALING)
        assert call.screen_pop == (record,)
        desk.simulator.advance(5)
        assert desk.desk.call("acme", work.call).state is CallState.CONNECTED
        desk.do(desk.desk.call("acme", work.call), CommandKind.HANG_UP)
        desk.simulator.advance(1)
        desk.wrap_up(desk.desk.call("acme", work.call), "callback done")
        (entry,) = desk.desk.record_call_log("acme", record)
        assert entry.customer is not None
        assert (entry.direction.value, entry.customer.e164) == ("outbound", "+16505550123")
        assert entry.ended_by is Party.AGENT


def test_a_blind_transfer_closes_as_transferred_away_after_wrap_up(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17"), talk_first=5)
        desk.do(desk.call(call_id), CommandKind.BLIND_TRANSFER, "+16505550111")
        desk.simulator.advance(1)
        closed = desk.wrap_up(desk.call(call_id))
        assert (closed.outcome, closed.end_reason) == (Outcome.TRANSFERRED_AWAY, "transfer")


def test_a_consultation_becomes_a_conference_with_the_third_party(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=600), talk_first=5)
        with pytest.raises(CommandNotAllowed, match="no third party"):
            desk.do(desk.call(call_id), CommandKind.CONFERENCE)
        desk.do(desk.call(call_id), CommandKind.CONSULT, "+16505550111")
        desk.simulator.advance(3)
        assert desk.call(call_id).third_parties == ("+16505550111",)
        desk.do(desk.call(call_id), CommandKind.CONFERENCE)
        desk.simulator.advance(1)
        assert desk.call(call_id).conference


def test_duplicated_reordered_and_repeated_signals_end_in_the_same_call(
    database_url: str, clock: Clock
) -> None:
    def run(faults: Faults) -> tuple[object, ...]:
        with desktop(
            database_url, clock(), faults=faults, tenant=f"t{faults.seed}"
        ) as desk:
            caller = Caller(ADA_NUMBER, "a-17", talks_for=40)
            call_id = desk.simulator.expect(caller)
            desk.simulator.advance(1)
            desk.do(desk.call(call_id), CommandKind.ACCEPT)
            desk.simulator.advance(10)
            desk.do(desk.call(call_id), CommandKind.HOLD)
            desk.simulator.advance(10)
            desk.do(desk.call(call_id), CommandKind.RESUME)
            desk.simulator.advance(60)
            view = desk.call(call_id)
            return (
                view.state,
                view.outcome,
                view.on_hold,
                view.talk_seconds,
                view.hold_seconds,
            )

    clean = run(Faults(seed=1))
    assert clean[0] is CallState.WRAP_UP
    assert run(Faults(seed=2, duplicate=0.5)) == clean
    assert run(Faults(seed=3, duplicate=0.3, reorder=0.3)) == clean


def test_a_call_that_ended_while_the_link_was_down_ends_on_reconciliation(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=30), talk_first=5)
        desk.simulator.drop_link()
        desk.simulator.advance(60)
        assert desk.call(call_id).state is CallState.CONNECTED  # calldesk could not know
        desk.simulator.restore_link()
        assert desk.desk.reconcile("acme", "simulator", desk.now) == (1, 0)
        view = desk.call(call_id)
        assert (view.state, view.ended_by, view.end_reason) == (
            CallState.WRAP_UP,
            Party.UNKNOWN,
            "unknown",
        )
        assert desk.desk.reconcile("acme", "simulator", desk.now) == (0, 0)


def test_a_hold_confirmed_while_the_link_was_down_shows_after_reconciliation(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=600), talk_first=5)
        desk.do(desk.call(call_id), CommandKind.HOLD)
        desk.simulator.drop_link()  # the switch holds the call; its signal is lost
        desk.simulator.advance(1)
        assert not desk.call(call_id).on_hold
        desk.simulator.restore_link()

        desk.desk.reconcile("acme", "simulator", desk.now)

        held = desk.call(call_id)
        assert (held.on_hold, held.pending) == (True, ())
        head = desk.desk.head()
        desk.desk.reconcile("acme", "simulator", desk.now)
        assert desk.call(call_id).on_hold
        assert desk.desk.head() == head + 1  # the link's reconciled, nothing more


def test_a_timed_wrap_up_ends_by_itself_and_the_agent_is_ready_again(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        desk.desk.set_wrap_up_policy(
            SetWrapUpPolicy("acme", policy=WrapUpPolicy(limit_seconds=30), at=desk.now)
        )
        desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=10), talk_first=12)
        assert desk.state() is AgentState.WRAP_UP
        assert desk.desk.expire_wrap_ups("acme", "simulator", desk.now) == 0
        desk.simulator.advance(30)
        assert desk.desk.expire_wrap_ups("acme", "simulator", desk.now) == 1
        assert desk.state() is AgentState.AVAILABLE
        (entry,) = desk.desk.agent_call_log("acme", "a-17")
        assert entry.wrap_up_seconds == pytest.approx(30, abs=1)


def test_commands_the_state_does_not_allow_are_refused_before_anything_is_sent(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.simulator.expect(Caller(ADA_NUMBER, "a-17"))
        desk.simulator.advance(1)
        ringing = desk.call(call_id)
        desk.desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=desk.now))
        head = desk.desk.head()
        with pytest.raises(CommandNotAllowed, match="not connected"):
            desk.do(ringing, CommandKind.HOLD)
        with pytest.raises(CommandNotAllowed, match="not ringing at agent a-18"):
            desk.do(ringing, CommandKind.ACCEPT, agent="a-18")
        assert desk.desk.head() == head
        desk.do(ringing, CommandKind.ACCEPT, command_id="same")
        after_first = desk.desk.head()
        desk.do(ringing, CommandKind.ACCEPT, command_id="same")
        assert desk.desk.head() == after_first


def test_bad_call_input_is_refused_clearly_and_records_nothing(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        tenant_with_agent(desk.desk, desk.now, tenant="globex", agent="g-1")
        call_id = desk.simulator.expect(Caller(ADA_NUMBER, "a-17"))
        desk.simulator.advance(1)
        ringing = desk.call(call_id)
        head = desk.desk.head()
        from_another_tenant = RequestCallCommand(
            "globex",
            "g-1",
            call=ringing.call,
            kind=CommandKind.ACCEPT,
            command_id="x-1",
            at=desk.now,
        )
        with pytest.raises(NotFound, match=f"no call {ringing.call} in tenant globex"):
            desk.desk.command(from_another_tenant)
        with pytest.raises(NotFound, match="no call"):
            desk.wrap_up(attrs.evolve(ringing, call=str(uuid4())))
        with pytest.raises(InvalidValue, match="not a call id"):
            desk.wrap_up(attrs.evolve(ringing, call="c-1"))
        with pytest.raises(NotInWrapUp, match="a disposition is given during wrap-up"):
            desk.wrap_up(ringing)
        with pytest.raises(InvalidValue, match="is not a phone number"):
            desk.dial("call me maybe")
        assert desk.desk.head() == head


def test_mute_digits_and_a_consultative_transfer_follow_the_phone_system(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=600), talk_first=1)
        muting = desk.do(desk.call(call_id), CommandKind.MUTE)
        assert (muting.muted, muting.pending) == (False, (CommandKind.MUTE,))
        desk.simulator.advance(1)
        assert (desk.call(call_id).muted, desk.call(call_id).pending) == (True, ())
        desk.do(desk.call(call_id), CommandKind.UNMUTE)
        desk.do(desk.call(call_id), CommandKind.SEND_DIGITS, "1234#")
        desk.simulator.advance(1)
        assert not desk.call(call_id).muted
        desk.do(desk.call(call_id), CommandKind.CONSULT, "+16505550111")
        desk.simulator.advance(3)
        desk.do(desk.call(call_id), CommandKind.COMPLETE_TRANSFER)
        desk.simulator.advance(1)
        view = desk.call(call_id)
        assert (view.state, view.end_reason) == (CallState.WRAP_UP, "transfer")
        assert desk.wrap_up(view).outcome is Outcome.TRANSFERRED_AWAY


def test_a_command_the_phone_system_refuses_is_recorded_as_failed(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=600), talk_first=1)
        desk.simulator.drop_link()
        with pytest.raises(PhoneSystemRefused, match="simulator refused to hold"):
            desk.do(desk.call(call_id), CommandKind.HOLD)
        history = [
            type(e).__name__
            for e in desk.desk.store.events.get(UUID(desk.call(call_id).call))
        ]
        assert history[-2:] == ["CommandRequested", "CommandFailed"]
        assert desk.call(call_id).pending == ()


def test_an_accept_the_phone_system_never_carries_out_fails_at_its_deadline(
    database_url: str, clock: Clock
) -> None:
    """Taken and never done (baresip while two calls ring): failed, said in the call's
    history and on the call the agent sees, instead of pending until the call ends."""
    faults = Faults(unheeded=frozenset({CommandKind.ACCEPT}))
    with desktop(database_url, clock(), faults) as desk:
        call_id = desk.simulator.expect(Caller(ADA_NUMBER, "a-17", talks_for=60))
        desk.simulator.advance(1)
        accepting = desk.do(desk.call(call_id), CommandKind.ACCEPT)
        assert accepting.pending == (CommandKind.ACCEPT,)
        desk.simulator.advance(CONFIRMATION_DEADLINE.total_seconds() - 1)
        assert desk.desk.fail_unconfirmed_commands("acme", "simulator", desk.now) == 0
        desk.simulator.advance(1)
        assert desk.desk.fail_unconfirmed_commands("acme", "simulator", desk.now) == 1
        view = desk.call(call_id)
        assert (view.state, view.pending) == (CallState.OFFERED, ())
        assert view.last_failure is not None
        assert view.last_failure.kind is CommandKind.ACCEPT
        assert "did not confirm accept within 10 s" in view.last_failure.reason
        history = [type(e).__name__ for e in desk.desk.store.events.get(UUID(view.call))]
        assert history[-1] == "CommandFailed"
        assert desk.desk.fail_unconfirmed_commands("acme", "simulator", desk.now) == 0
        retried = desk.do(view, CommandKind.REJECT)  # the agent asks again: shown anew
        assert (retried.last_failure, retried.pending) == (None, (CommandKind.REJECT,))


def test_a_confirmation_after_the_deadline_still_changes_the_call_and_clears_the_failure(
    database_url: str, clock: Clock
) -> None:
    faults = Faults(unheeded=frozenset({CommandKind.HOLD}))
    with desktop(database_url, clock(), faults) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=600), talk_first=1)
        view = desk.do(desk.call(call_id), CommandKind.HOLD, command_id="hold-1")
        desk.simulator.advance(CONFIRMATION_DEADLINE.total_seconds())
        desk.desk.fail_unconfirmed_commands("acme", "simulator", desk.now)
        assert desk.call(call_id).last_failure is not None
        late = CallSignal(
            "simulator", "late-hold", call_id, SignalKind.HELD, desk.now, agent="a-17"
        )
        desk.desk.hear("acme", late, desk.now)
        held = desk.call(call_id)
        assert (held.on_hold, held.last_failure) == (True, None), view


def test_a_signal_whose_raw_payload_is_over_the_limit_is_applied_and_only_it_shortened(
    database_url: str, clock: Clock
) -> None:
    """A caller's 20,000-character display name: the call rings, the audit keeps the
    payload's size, digest and start."""
    with desktop(database_url, clock()) as desk:
        raw = {"event": "CALL_INCOMING", "display": "x" * 20_000}
        ringing = signal_of(occurred_at=desk.now, raw=raw)
        desk.desk.hear("acme", ringing, desk.now)
        view = desk.call("c-1")
        assert view.state is CallState.OFFERED
        assert [offer.agent for offer in view.offers] == ["a-17"]
        kept = ringing.raw["shortened"]
        assert kept["bytes"] == len(json.dumps(raw))
        assert kept["sha256"] == hashlib.sha256(json.dumps(raw).encode()).hexdigest()
        assert kept["start"].startswith('{"event": "CALL_INCOMING"')
        assert len(json.dumps(ringing.raw)) <= RAW_PAYLOAD_MAX_BYTES


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=30_000), max_size=3))
def test_any_raw_payload_fits_the_limit_and_one_that_fits_is_kept_whole(
    raw: dict[str, str],
) -> None:
    kept = signal_of(raw=raw).raw
    assert len(json.dumps(kept)) <= RAW_PAYLOAD_MAX_BYTES
    assert (kept == raw) is (len(json.dumps(raw)) <= RAW_PAYLOAD_MAX_BYTES)


def test_a_call_several_records_match_is_logged_under_the_one_its_agent_chose(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(SHARED_NUMBER, "a-17", talks_for=5), talk_first=1)
        assert desk.call(call_id).record is None  # two people: nobody named yet
        _, eve = SHARED
        wrong_title = attrs.evolve(eve, title="whatever the page said")
        chosen = desk.desk.choose_record(choose(desk, call_id, wrong_title))
        assert chosen.record == eve  # named as the directory names it
        desk.simulator.advance(5)
        desk.wrap_up(desk.call(call_id))
        (entry,) = desk.desk.record_call_log("acme", eve)
        assert entry.record == eve
        drafts = desk.desk.publisher("acme", "a-17", eve.kind, eve.record_id).drafts
        assert [d.item_type.value for d in drafts] == ["call-log"]


def test_choosing_a_record_is_refused_for_another_agent_an_unknown_record_or_a_closed_call(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        desk.desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=desk.now))
        call_id = desk.answered(Caller(SHARED_NUMBER, "a-17", talks_for=5), talk_first=1)
        head = desk.desk.head()
        with pytest.raises(CommandNotAllowed, match="not agent a-18's"):
            desk.desk.choose_record(choose(desk, call_id, SHARED[0], agent="a-18"))
        nobody = RecordRef(RecordKind.CONTACT, "003-nobody", "Nobody")
        with pytest.raises(NotFound, match="no contact 003-nobody"):
            desk.desk.choose_record(choose(desk, call_id, nobody))
        assert desk.desk.head() == head
        desk.simulator.advance(5)
        desk.wrap_up(desk.call(call_id))
        with pytest.raises(Refused, match="closed and logged"):
            desk.desk.choose_record(choose(desk, call_id, SHARED[0]))


def choose(
    desk: Desktop, vendor_call_id: str, record: RecordRef, agent: str = "a-17"
) -> ChooseRecord:
    call = desk.call(vendor_call_id).call
    return ChooseRecord("acme", agent, call=call, record=record, at=desk.now)


def signal_of(**changes: object) -> CallSignal:
    fields: dict[str, object] = {
        "vendor": "simulator",
        "vendor_event_id": "e-1",
        "vendor_call_id": "c-1",
        "kind": SignalKind.OFFERED,
        "occurred_at": datetime(2026, 11, 2, 9, tzinfo=UTC),
        "agent": "a-17",
    }
    return CallSignal(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vendor_event_id": ""}, "vendor_event_id must be 1 to 128"),
        ({"vendor_call_id": "x" * 129}, "vendor_call_id must be 1 to 128"),
        ({"occurred_at": datetime(2026, 11, 2, 9)}, "occurred_at must be a timezone-aware"),
        ({"agent": "Not A Handle"}, "lower-case"),
        ({"raw": {"when": datetime(2026, 1, 1)}}, "must be JSON"),
        ({"customer_number": "  "}, "must not be empty"),
    ],
)
def test_a_malformed_signal_is_refused_before_it_reaches_a_call(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        signal_of(**changes)


def test_an_incomplete_signal_is_refused_and_records_nothing(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        head = desk.desk.head()
        with pytest.raises(InvalidValue, match="names the agent it rings at"):
            desk.desk.hear("acme", signal_of(agent=None), desk.now)
        with pytest.raises(NotFound, match="no tenant nobody"):
            desk.desk.hear("nobody", signal_of(), desk.now)
        assert desk.desk.head() == head


def test_a_tenants_pick_list_of_dispositions_is_what_a_call_is_wrapped_up_with(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        picks = ("Resolved", "Escalated")
        desk.desk.define_dispositions(DefineDispositions("acme", picks, at=desk.now))
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=5), talk_first=1)
        desk.simulator.advance(5)
        head = desk.desk.head()
        with pytest.raises(NotFound, match="choose one of: Resolved, Escalated"):
            desk.wrap_up(desk.call(call_id), disposition="billing question")
        assert desk.desk.head() == head
        assert desk.wrap_up(desk.call(call_id), disposition="Escalated").disposition == (
            "Escalated"
        )


@pytest.mark.parametrize(
    ("picks", "why"),
    [(("Resolved", "Resolved"), "listed twice"), (("",), "must not be empty")],
)
def test_a_pick_list_that_cannot_work_is_refused(
    database_url: str, clock: Clock, picks: tuple[str, ...], why: str
) -> None:
    with desktop(database_url, clock()) as desk:
        with pytest.raises(InvalidValue, match=why):
            desk.desk.define_dispositions(DefineDispositions("acme", picks, at=desk.now))
        assert desk.desk.tenant("acme").dispositions == ()
