"""The call: one interaction with a customer, as the phone system reports it (ADR/0008).

The phone system is the source of truth. Signals move the call along ranked states
(new, queued, offered or dialing, answering, connected, wrap-up, closed); a signal that
would move it back is recorded as ignored, never applied; a signal heard twice (same
vendor event id) changes nothing. Agent commands are checked against the state, recorded
as requested, and change nothing until the phone system confirms them. Hold, mute,
consult, conference, transfer and media trouble are flags of a connected call.
"""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.agents import Work
from calldesk.domain.call_commands import (
    CONFIRMATION_DEADLINE,
    CONFIRMED_BY,
    CommandKind,
    CommandNotAllowed,
    FailedCommand,
    PendingCommand,
)
from calldesk.domain.call_commands import refusal as command_refusal
from calldesk.domain.call_states import CallState, Offer, OfferState, Outcome, SignalMeta
from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.identity import checked_text, stable_id
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordRef, single_match
from calldesk.domain.signals import CallSignal, Direction, Party, SignalKind
from calldesk.domain.tenants import WrapUpPolicy

DISPOSITION_MAX_LENGTH = 64
NOTES_MAX_LENGTH = 4000


class NotInWrapUp(Refused):
    """A disposition belongs to a call in wrap-up."""


class Call(Aggregate):
    """One call of a tenant, keyed by the phone system's own call id."""

    TOPIC = "calldesk.call.Call"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.call.Event"

    @staticmethod
    def create_id(tenant: str, vendor: str, vendor_call_id: str) -> UUID:
        return stable_id("call", tenant, vendor, vendor_call_id)

    @classmethod
    def first_heard(
        cls,
        tenant: str,
        signal: CallSignal,
        customer: PhoneNumber | None,
        wrap_up_policy: WrapUpPolicy,
        at: datetime,
    ) -> "Call":
        """A call calldesk had not heard of: it exists from its first signal, under the
        tenant's wrap-up policy of that moment, recorded for the audit."""
        direction = signal.direction or (
            Direction.OUTBOUND if signal.kind is SignalKind.DIALING else Direction.INBOUND
        )
        return cls(
            tenant=tenant,
            vendor=signal.vendor,
            vendor_call_id=signal.vendor_call_id,
            direction=direction,
            customer_number=signal.customer_number,
            customer=customer,
            dialed_number=signal.dialed_number,
            wrap_up_policy=wrap_up_policy,
            timestamp=at,
        )

    @event("Created", topic="calldesk.call.Created")
    def __init__(
        self,
        tenant: str,
        vendor: str,
        vendor_call_id: str,
        direction: Direction,
        customer_number: str | None,
        customer: PhoneNumber | None,
        dialed_number: str | None,
        wrap_up_policy: WrapUpPolicy,
        timestamp: datetime,
    ) -> None:
        self.tenant = tenant
        self.wrap_up_policy = wrap_up_policy
        self.vendor = vendor
        self.vendor_call_id = vendor_call_id
        self.direction = direction
        self.customer_number = customer_number
        self.customer = customer
        self.dialed_number = dialed_number
        self.state = CallState.NEW
        self.outcome: Outcome | None = None
        self.agent: str | None = None
        self.offers: tuple[Offer, ...] = ()
        self.on_hold: bool = False
        self.muted: bool = False
        self.consulting: str | None = None
        self.third_parties: tuple[str, ...] = ()
        self.conference: bool = False
        self.media_trouble: bool = False
        self.remote_ringing: bool = False
        self.ended_by: Party | None = None
        self.end_reason: str | None = None
        self.outcome_on_close: Outcome | None = None
        self.wrap_up_deadline: datetime | None = None
        self.disposition: str | None = None
        self.notes: str | None = None
        self.dial_command_id: str | None = None
        self.screen_pop: tuple[RecordRef, ...] | None = None
        self.chosen_record: RecordRef | None = None
        self.logged: bool = False
        self.was_queued: bool = False
        self.heard: tuple[str, ...] = ()
        self.command_ids: tuple[str, ...] = ()
        self.pending: tuple[PendingCommand, ...] = ()
        self.last_failure: FailedCommand | None = None
        self.clock = timestamp
        self.first_alert_at: datetime | None = None
        self.connected_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.hold_started_at: datetime | None = None
        self.held = timedelta()

    def __str__(self) -> str:
        return f"call {self.id}"

    # Durations, from the phone system's own timestamps, never negative (ADR/0008).

    @property
    def ring_time(self) -> timedelta:
        if self.first_alert_at is None:
            return timedelta()
        end = self.connected_at or self.ended_at or self.closed_at or self.first_alert_at
        return end - self.first_alert_at

    @property
    def talk_time(self) -> timedelta:
        if self.connected_at is None:
            return timedelta()
        return (self.ended_at or self.clock) - self.connected_at - self.hold_time

    @property
    def hold_time(self) -> timedelta:
        if self.hold_started_at is None:
            return self.held
        return self.held + ((self.ended_at or self.clock) - self.hold_started_at)

    @property
    def wrap_up_time(self) -> timedelta:
        if self.ended_at is None or self.closed_at is None:
            return timedelta()
        return self.closed_at - self.ended_at

    @property
    def is_live(self) -> bool:
        """Still something on the phone: not in wrap-up, not closed."""
        return self.state.rank < CallState.WRAP_UP.rank

    @property
    def concerned_agents(self) -> frozenset[str]:
        """Every agent the call has rung or reached: whose screens and logs it is on."""
        agents = {offer.agent for offer in self.offers}
        if self.agent is not None:
            agents.add(self.agent)
        return frozenset(agents)

    @property
    def record(self) -> RecordRef | None:
        """The record the call is about, which its log goes to: the one its agent chose
        among the screen pop's matches (or beyond them), else the single match."""
        return self.chosen_record or single_match(self.screen_pop or ())

    def work_of(self, agent: str) -> Work | None:
        """What this call asks of the agent now; None when nothing (any more)."""
        if agent == self.agent and self.state in _AGENT_WORK:
            return _AGENT_WORK[self.state]
        if self.pending_offer(agent) is not None:
            return Work.OFFERED
        return None

    def pending_offer(self, agent: str) -> Offer | None:
        return next(
            (o for o in self.offers if o.agent == agent and o.state is OfferState.PENDING),
            None,
        )

    # The phone system speaks.

    def hear(self, signal: CallSignal, at: datetime) -> None:
        """Apply one signal: once, in rank order, or record why it was not applied."""
        if signal.vendor_event_id in self.heard:
            return
        meta = SignalMeta.of(signal)
        if signal.kind is SignalKind.UNKNOWN:
            self._unknown_signal_kept(signal=meta, timestamp=at)
            return
        if self.state is CallState.CLOSED:
            self._ignore(meta, "the call is closed", at)
            return
        _HANDLERS[signal.kind](self, signal, meta, at)

    def _ignore(self, meta: SignalMeta, why: str, at: datetime) -> None:
        self._signal_ignored(signal=meta, why=why, timestamp=at)

    def _reach(
        self, target: CallState, meta: SignalMeta, at: datetime, **fields: Any
    ) -> bool:
        """Move to a state of higher rank, or record the signal as stale."""
        if self.state.rank >= target.rank:
            self._ignore(meta, f"stale: the call is already {self.state.value}", at)
            return False
        getattr(self, _MOVES[target])(signal=meta, timestamp=at, **fields)
        return True

    def _on_queued(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        self._reach(CallState.QUEUED, meta, at)

    def _on_offered(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        if s.agent is None:
            raise InvalidValue("an offered signal names the agent it rings at")
        if self.state is CallState.OFFERED and self.pending_offer(s.agent) is None:
            self._offered(signal=meta, agent=s.agent, timestamp=at)  # rings at one more
        else:
            self._reach(CallState.OFFERED, meta, at, agent=s.agent)

    def _on_dialing(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        if s.agent is None:
            raise InvalidValue("a dialing signal names the agent who dials")
        self._reach(CallState.DIALING, meta, at, agent=s.agent, command_id=s.command_id)

    def _on_remote_ringing(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        if self.state is not CallState.DIALING or self.remote_ringing:
            self._ignore(meta, f"the call is {self.state.value}", at)
        else:
            self._remote_ringing(signal=meta, timestamp=at)

    def _on_answering(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        self._reach(CallState.ANSWERING, meta, at, agent=s.agent or self.agent)

    def _on_connected(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        agent = s.agent or self.agent or self._only_offered_agent()
        self._reach(CallState.CONNECTED, meta, at, agent=agent)

    def _only_offered_agent(self) -> str | None:
        pending = [o.agent for o in self.offers if o.state is OfferState.PENDING]
        return pending[0] if len(pending) == 1 else None

    def _on_flag(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        if self.state is not CallState.CONNECTED:
            self._ignore(meta, f"the call is {self.state.value}, not connected", at)
            return
        change = _FLAG_CHANGES[s.kind](self, s)
        if change is None:
            self._ignore(meta, "nothing changes", at)
        else:
            method, fields = change
            getattr(self, method)(signal=meta, timestamp=at, **fields)

    def _on_offer_end(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        agent = s.agent or self._only_offered_agent()
        if agent is None or self.pending_offer(agent) is None:
            self._ignore(meta, "no offer is ringing at that agent", at)
            return
        result = _OFFER_RESULTS[s.kind]
        self._offer_ended(signal=meta, agent=agent, result=result, timestamp=at)
        if any(o.state is OfferState.PENDING for o in self.offers):
            return
        if self.state is not CallState.OFFERED:
            return
        if self.was_queued and result is not OfferState.ANSWERED_ELSEWHERE:
            self._requeued(signal=meta, timestamp=at)
            return
        ended_by = Party.AGENT if result is OfferState.REJECTED else Party.SYSTEM
        self._finish_unanswered(
            ended_by, s.reason or result.value, _OFFER_OUTCOMES[result], meta, at
        )

    def _on_transferred(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        if self.state is not CallState.CONNECTED:
            self._ignore(meta, f"the call is {self.state.value}, not connected", at)
            return
        self._end(Party.AGENT, s.reason or "transfer", meta, at, Outcome.TRANSFERRED_AWAY)

    def _on_ending(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        """ENDED, ABANDONED and FAILED: how the call ends depends on how far it got."""
        if self.state.rank >= CallState.WRAP_UP.rank:
            self._ignore(meta, f"stale: the call is already {self.state.value}", at)
        elif self.state is CallState.CONNECTED or self.state is CallState.ANSWERING:
            outcome = Outcome.FAILED if s.kind is SignalKind.FAILED else Outcome.COMPLETED
            ended_by = s.ended_by or (
                Party.CUSTOMER if s.kind is SignalKind.ABANDONED else Party.UNKNOWN
            )
            self._end(ended_by, s.reason, meta, at, outcome)
        else:
            self._end_unanswered(s, meta, at)

    def _end_unanswered(self, s: CallSignal, meta: SignalMeta, at: datetime) -> None:
        if s.kind is SignalKind.FAILED or self.direction is Direction.OUTBOUND:
            outcome, by = Outcome.FAILED, s.ended_by or Party.SYSTEM
        elif s.ended_by in (None, Party.CUSTOMER) or s.kind is SignalKind.ABANDONED:
            outcome, by = Outcome.ABANDONED, Party.CUSTOMER
        elif s.ended_by is Party.AGENT:
            outcome, by = Outcome.REJECTED, Party.AGENT
        else:
            outcome, by = Outcome.MISSED, s.ended_by
        self._finish_unanswered(by, s.reason, outcome, meta, at)

    def _finish_unanswered(
        self,
        ended_by: Party,
        reason: str | None,
        outcome: Outcome,
        meta: SignalMeta | None,
        at: datetime,
        reconciliation: bool = False,
    ) -> None:
        """A call nobody here answered: offers still ringing stop, it ends and closes."""
        for offer in self.offers:
            if offer.state is OfferState.PENDING:
                self._offer_ended(
                    signal=meta,
                    agent=offer.agent,
                    result=OfferState.CANCELLED,
                    timestamp=at,
                )
        self._ended(
            signal=meta,
            ended_by=ended_by,
            reason=reason,
            reconciliation=reconciliation,
            timestamp=at,
        )
        self._close(outcome, reason, meta, at)

    def _end(
        self,
        ended_by: Party,
        reason: str | None,
        meta: SignalMeta | None,
        at: datetime,
        outcome: Outcome,
        reconciliation: bool = False,
    ) -> None:
        self._ended(
            signal=meta,
            ended_by=ended_by,
            reason=reason,
            reconciliation=reconciliation,
            timestamp=at,
        )
        policy = self.wrap_up_policy
        if policy.limit_seconds == 0 or self.agent is None:
            # No wrap-up, or no agent here owns it (the phone system never said who
            # answered): the call closes as it ends.
            self._close(outcome, reason, meta, at)
            return
        deadline = None
        if policy.limit_seconds is not None:
            assert self.ended_at is not None
            deadline = self.ended_at + timedelta(seconds=policy.limit_seconds)
        self._wrap_up_started(outcome=outcome, deadline=deadline, timestamp=at)

    def _close(
        self,
        outcome: Outcome,
        reason: str | None,
        meta: SignalMeta | None,
        at: datetime,
        closed_at: datetime | None = None,
    ) -> None:
        """Close now, or at the instant it really closed when that is known (a deadline)."""
        self._closed(
            signal=meta, outcome=outcome, reason=reason, closed_at=closed_at, timestamp=at
        )

    # Calldesk's own steps: reconciliation, wrap-up, screen pop, call log.

    def vanish(self, at: datetime) -> None:
        """The phone system no longer reports this call: it ended while we were away."""
        if self.state.rank >= CallState.WRAP_UP.rank:
            return
        if self.state in (CallState.CONNECTED, CallState.ANSWERING):
            self._end(
                Party.UNKNOWN, "unknown", None, at, Outcome.COMPLETED, reconciliation=True
            )
            return
        outcome = Outcome.FAILED if self.direction is Direction.OUTBOUND else Outcome.MISSED
        self._finish_unanswered(
            Party.UNKNOWN, "unknown", outcome, None, at, reconciliation=True
        )

    def wrap_up(
        self, agent: str, disposition: str, notes: str, command_id: str, at: datetime
    ) -> None:
        """The agent finishes the call's paperwork: it closes."""
        if command_id in self.command_ids:
            return
        if self.state is not CallState.WRAP_UP:
            raise NotInWrapUp(
                f"{self} is {self.state.value}; a disposition is given during wrap-up"
            )
        if agent != self.agent:
            raise CommandNotAllowed(f"{self} is wrapped up by agent {self.agent}")
        disposition = checked_text(disposition, "a disposition", DISPOSITION_MAX_LENGTH)
        notes = notes.strip()
        if len(notes) > NOTES_MAX_LENGTH:
            raise InvalidValue(f"notes are at most {NOTES_MAX_LENGTH} characters")
        self._wrapped_up(
            agent=agent,
            disposition=disposition,
            notes=notes,
            command_id=command_id,
            timestamp=at,
        )
        assert self.outcome_on_close is not None
        self._close(self.outcome_on_close, self.end_reason, None, at)

    def expire_wrap_up(self, at: datetime) -> None:
        """A timed wrap-up that ran out closes on its own."""
        deadline = self.wrap_up_deadline
        if self.state is CallState.WRAP_UP and deadline is not None and at >= deadline:
            self._wrap_up_timed_out(timestamp=at)
            assert self.outcome_on_close is not None
            self._close(self.outcome_on_close, self.end_reason, None, at, deadline)

    def resolve_screen_pop(self, matches: tuple[RecordRef, ...], at: datetime) -> None:
        """What the caller's number found, recorded once per call."""
        if self.screen_pop is None:
            self._screen_pop_resolved(matches=tuple(matches), timestamp=at)

    def choose_record(self, agent: str, record: RecordRef, at: datetime) -> None:
        """The agent says which record the call is about (a caller several match): its
        log goes there, and its draft lands on it."""
        if self.state is CallState.CLOSED:
            raise Refused(f"{self} is closed and logged; its record is what it was")
        if agent != self.agent and self.pending_offer(agent) is None:
            raise CommandNotAllowed(f"{self} is not agent {agent}'s to file")
        if record != self.chosen_record:
            self._record_chosen(record=record, agent=agent, timestamp=at)

    def mark_logged(self, at: datetime) -> None:
        if self.state is CallState.CLOSED and not self.logged:
            self._call_logged(timestamp=at)

    # The agent asks.

    def request(
        self,
        kind: CommandKind,
        agent: str,
        command_id: str,
        at: datetime,
        argument: str | None = None,
    ) -> bool:
        """Record a command for the phone system; False when this id was seen already."""
        if command_id in self.command_ids:
            return False
        refusal = command_refusal(self, kind, agent, argument)
        if refusal:
            raise CommandNotAllowed(f"cannot {kind.value} {self}: {refusal}")
        self._command_requested(
            command=PendingCommand(command_id, kind, agent, argument, at), timestamp=at
        )
        return True

    def command_failed(self, command_id: str, reason: str, at: datetime) -> None:
        if any(p.command_id == command_id for p in self.pending):
            self._command_failed(command_id=command_id, reason=reason, timestamp=at)

    def unconfirmed(
        self, at: datetime, deadline: timedelta = CONFIRMATION_DEADLINE
    ) -> tuple[PendingCommand, ...]:
        """The commands the phone system took and has not confirmed within the deadline."""
        return tuple(p for p in self.pending if at - p.requested_at >= deadline)

    def fail_unconfirmed(
        self, at: datetime, deadline: timedelta = CONFIRMATION_DEADLINE
    ) -> None:
        """Fail each command unconfirmed by `at`, saying so in the call's history."""
        for command in self.unconfirmed(at, deadline):
            reason = (
                f"the phone system did not confirm {command.kind.value} "
                f"within {deadline.total_seconds():g} s"
            )
            self._command_failed(command_id=command.command_id, reason=reason, timestamp=at)

    # Events: each body only changes state, and runs again on every replay.

    def _note(self, signal: SignalMeta | None) -> datetime:
        """Remember the signal, advance the call's clock; the instant of this change."""
        if signal is None:
            return self.clock
        if signal.signal_id not in self.heard:
            self.heard = (*self.heard, signal.signal_id)
        self.clock = max(self.clock, signal.occurred_at)
        return self.clock

    @event("SignalIgnored", topic="calldesk.call.SignalIgnored")
    def _signal_ignored(self, signal: SignalMeta, why: str, timestamp: datetime) -> None:
        self.heard = (*self.heard, signal.signal_id)

    @event("UnknownSignalKept", topic="calldesk.call.UnknownSignalKept")
    def _unknown_signal_kept(self, signal: SignalMeta, timestamp: datetime) -> None:
        self.heard = (*self.heard, signal.signal_id)

    @event("Queued", topic="calldesk.call.Queued")
    def _queued(self, signal: SignalMeta, timestamp: datetime) -> None:
        self._note(signal)
        self.state, self.was_queued = CallState.QUEUED, True

    @event("Requeued", topic="calldesk.call.Requeued")
    def _requeued(self, signal: SignalMeta, timestamp: datetime) -> None:
        self.state = CallState.QUEUED

    @event("Offered", topic="calldesk.call.Offered")
    def _offered(self, signal: SignalMeta, agent: str, timestamp: datetime) -> None:
        at = self._note(signal)
        self.state = CallState.OFFERED
        self.offers = (*self.offers, Offer(agent, OfferState.PENDING, at))
        self.first_alert_at = self.first_alert_at or at

    @event("OfferEnded", topic="calldesk.call.OfferEnded")
    def _offer_ended(
        self,
        signal: SignalMeta | None,
        agent: str,
        result: OfferState,
        timestamp: datetime,
    ) -> None:
        at = self._note(signal) if signal else max(self.clock, timestamp)
        self.offers = tuple(
            attrs.evolve(o, state=result, ended_at=at)
            if o.agent == agent and o.state is OfferState.PENDING
            else o
            for o in self.offers
        )

    @event("DialingStarted", topic="calldesk.call.DialingStarted")
    def _dialing_started(
        self, signal: SignalMeta, agent: str, command_id: str | None, timestamp: datetime
    ) -> None:
        at = self._note(signal)
        self.state, self.agent, self.dial_command_id = CallState.DIALING, agent, command_id
        self.first_alert_at = self.first_alert_at or at

    @event("RemoteRinging", topic="calldesk.call.RemoteRinging")
    def _remote_ringing(self, signal: SignalMeta, timestamp: datetime) -> None:
        self._note(signal)
        self.remote_ringing = True

    @event("Answering", topic="calldesk.call.Answering")
    def _answering(
        self, signal: SignalMeta, agent: str | None, timestamp: datetime
    ) -> None:
        at = self._note(signal)
        self.state, self.agent = CallState.ANSWERING, agent
        self._settle_offers(agent, at)

    @event("Connected", topic="calldesk.call.Connected")
    def _connected(
        self, signal: SignalMeta, agent: str | None, timestamp: datetime
    ) -> None:
        at = self._note(signal)
        self.state, self.agent, self.connected_at = CallState.CONNECTED, agent, at
        self._settle_offers(agent, at)
        self._confirm(signal)

    def _settle_offers(self, agent: str | None, at: datetime) -> None:
        """The answering agent's offer is accepted; every other ringing offer stops."""
        self.offers = tuple(
            attrs.evolve(
                o,
                state=OfferState.ACCEPTED
                if o.agent == agent
                else OfferState.ANSWERED_ELSEWHERE,
                ended_at=at,
            )
            if o.state is OfferState.PENDING
            else o
            for o in self.offers
        )

    @event("HoldStarted", topic="calldesk.call.HoldStarted")
    def _hold_started(self, signal: SignalMeta, timestamp: datetime) -> None:
        self.on_hold, self.hold_started_at = True, self._note(signal)
        self._confirm(signal)

    @event("HoldEnded", topic="calldesk.call.HoldEnded")
    def _hold_ended(self, signal: SignalMeta, timestamp: datetime) -> None:
        at = self._note(signal)
        if self.hold_started_at is not None:
            self.held += at - self.hold_started_at
        self.on_hold, self.hold_started_at = False, None
        self._confirm(signal)

    @event("MuteChanged", topic="calldesk.call.MuteChanged")
    def _mute_changed(self, signal: SignalMeta, muted: bool, timestamp: datetime) -> None:
        self._note(signal)
        self.muted = muted
        self._confirm(signal)

    @event("DigitsSent", topic="calldesk.call.DigitsSent")
    def _digits_sent(
        self, signal: SignalMeta, digits: str | None, timestamp: datetime
    ) -> None:
        self._note(signal)
        self._confirm(signal)

    @event("ConsultStarted", topic="calldesk.call.ConsultStarted")
    def _consult_started(
        self, signal: SignalMeta, target: str, timestamp: datetime
    ) -> None:
        self._note(signal)
        self.consulting = target
        self._confirm(signal)

    @event("PartyJoined", topic="calldesk.call.PartyJoined")
    def _party_joined(self, signal: SignalMeta, party: str, timestamp: datetime) -> None:
        self._note(signal)
        self.third_parties = (*self.third_parties, party)
        self._confirm(signal)

    @event("PartyLeft", topic="calldesk.call.PartyLeft")
    def _party_left(self, signal: SignalMeta, party: str, timestamp: datetime) -> None:
        self._note(signal)
        self.third_parties = tuple(p for p in self.third_parties if p != party)
        if not self.third_parties:
            self.consulting, self.conference = None, False
        self._confirm(signal)

    @event("Conferenced", topic="calldesk.call.Conferenced")
    def _conferenced(self, signal: SignalMeta, timestamp: datetime) -> None:
        self._note(signal)
        self.conference, self.consulting = True, None
        self._confirm(signal)

    @event("MediaTroubleChanged", topic="calldesk.call.MediaTroubleChanged")
    def _media_trouble_changed(
        self, signal: SignalMeta, trouble: bool, timestamp: datetime
    ) -> None:
        self._note(signal)
        self.media_trouble = trouble

    @event("Ended", topic="calldesk.call.Ended")
    def _ended(
        self,
        signal: SignalMeta | None,
        ended_by: Party,
        reason: str | None,
        reconciliation: bool,
        timestamp: datetime,
    ) -> None:
        at = self._note(signal) if signal else max(self.clock, timestamp)
        self.clock = at
        if self.hold_started_at is not None:
            self.held += at - self.hold_started_at
            self.hold_started_at = None
        self.on_hold = False
        self.ended_at, self.ended_by, self.end_reason = at, ended_by, reason
        self._confirm(signal)

    @event("WrapUpStarted", topic="calldesk.call.WrapUpStarted")
    def _wrap_up_started(
        self, outcome: Outcome, deadline: datetime | None, timestamp: datetime
    ) -> None:
        self.state, self.outcome_on_close, self.wrap_up_deadline = (
            CallState.WRAP_UP,
            outcome,
            deadline,
        )

    @event("WrappedUp", topic="calldesk.call.WrappedUp")
    def _wrapped_up(
        self, agent: str, disposition: str, notes: str, command_id: str, timestamp: datetime
    ) -> None:
        self.disposition, self.notes = disposition, notes
        self.command_ids = (*self.command_ids, command_id)

    @event("WrapUpTimedOut", topic="calldesk.call.WrapUpTimedOut")
    def _wrap_up_timed_out(self, timestamp: datetime) -> None:
        self.wrap_up_deadline = None

    @event("Closed", topic="calldesk.call.Closed")
    def _closed(
        self,
        signal: SignalMeta | None,
        outcome: Outcome,
        reason: str | None,
        closed_at: datetime | None,
        timestamp: datetime,
    ) -> None:
        at = self._note(signal) if signal else max(self.clock, closed_at or timestamp)
        self.clock = at
        self.state, self.outcome, self.closed_at = CallState.CLOSED, outcome, at
        self.ended_at = self.ended_at or at
        self.end_reason = self.end_reason or reason
        self.pending = ()

    @event("CommandRequested", topic="calldesk.call.CommandRequested")
    def _command_requested(self, command: PendingCommand, timestamp: datetime) -> None:
        self.command_ids = (*self.command_ids, command.command_id)
        self.pending = (*self.pending, command)
        self.last_failure = None

    @event("CommandFailed", topic="calldesk.call.CommandFailed")
    def _command_failed(self, command_id: str, reason: str, timestamp: datetime) -> None:
        for failed in (p for p in self.pending if p.command_id == command_id):
            self.last_failure = FailedCommand(command_id, failed.kind, reason, timestamp)
        self.pending = tuple(p for p in self.pending if p.command_id != command_id)

    @event("ScreenPopResolved", topic="calldesk.call.ScreenPopResolved")
    def _screen_pop_resolved(
        self, matches: tuple[RecordRef, ...], timestamp: datetime
    ) -> None:
        self.screen_pop = tuple(matches)

    @event("RecordChosen", topic="calldesk.call.RecordChosen")
    def _record_chosen(self, record: RecordRef, agent: str, timestamp: datetime) -> None:
        self.chosen_record = record

    @event("CallLogged", topic="calldesk.call.CallLogged")
    def _call_logged(self, timestamp: datetime) -> None:
        self.logged = True

    def _confirm(self, signal: SignalMeta | None) -> None:
        """The phone system did it: settle the command it names, else those it answers."""
        if signal is None:
            return
        answered = CONFIRMED_BY.get(signal.kind, frozenset())
        failure = self.last_failure
        if failure is not None and (
            signal.command_id == failure.command_id
            or (signal.command_id is None and failure.kind in answered)
        ):
            self.last_failure = None  # the phone system did it after all
        self.pending = tuple(
            p
            for p in self.pending
            if p.command_id != signal.command_id
            and (signal.command_id is not None or p.kind not in answered)
        )


def _flag(
    method: str, unless: bool, **fields: object
) -> tuple[str, dict[str, object]] | None:
    return None if unless else (method, fields)


_FLAG_CHANGES = {
    SignalKind.HELD: lambda c, s: _flag("_hold_started", c.on_hold),
    SignalKind.RESUMED: lambda c, s: _flag("_hold_ended", not c.on_hold),
    SignalKind.MUTED: lambda c, s: _flag("_mute_changed", c.muted, muted=True),
    SignalKind.UNMUTED: lambda c, s: _flag("_mute_changed", not c.muted, muted=False),
    SignalKind.DIGITS_SENT: lambda c, s: _flag("_digits_sent", False, digits=s.digits),
    SignalKind.CONSULT_STARTED: lambda c, s: _flag(
        "_consult_started", c.consulting is not None, target=s.target or "third party"
    ),
    SignalKind.PARTY_JOINED: lambda c, s: _flag(
        "_party_joined", False, party=s.target or s.customer_number or "third party"
    ),
    SignalKind.PARTY_LEFT: lambda c, s: _flag(
        "_party_left",
        (s.target or "third party") not in c.third_parties,
        party=s.target or "third party",
    ),
    SignalKind.CONFERENCED: lambda c, s: _flag("_conferenced", c.conference),
    SignalKind.MEDIA_TROUBLE: lambda c, s: _flag(
        "_media_trouble_changed", c.media_trouble, trouble=True
    ),
    SignalKind.MEDIA_RESTORED: lambda c, s: _flag(
        "_media_trouble_changed", not c.media_trouble, trouble=False
    ),
}

_AGENT_WORK = {
    CallState.OFFERED: Work.OFFERED,
    CallState.DIALING: Work.DIALING,
    CallState.ANSWERING: Work.ON_CALL,
    CallState.CONNECTED: Work.ON_CALL,
    CallState.WRAP_UP: Work.WRAP_UP,
}

_MOVES = {
    CallState.QUEUED: "_queued",
    CallState.OFFERED: "_offered",
    CallState.DIALING: "_dialing_started",
    CallState.ANSWERING: "_answering",
    CallState.CONNECTED: "_connected",
}

_OFFER_RESULTS = {
    SignalKind.OFFER_REJECTED: OfferState.REJECTED,
    SignalKind.OFFER_TIMED_OUT: OfferState.TIMED_OUT,
    SignalKind.ANSWERED_ELSEWHERE: OfferState.ANSWERED_ELSEWHERE,
}

_OFFER_OUTCOMES = {
    OfferState.REJECTED: Outcome.REJECTED,
    OfferState.TIMED_OUT: Outcome.MISSED,
    OfferState.ANSWERED_ELSEWHERE: Outcome.ANSWERED_ELSEWHERE,
}

_HANDLERS = {
    SignalKind.QUEUED: Call._on_queued,
    SignalKind.OFFERED: Call._on_offered,
    SignalKind.DIALING: Call._on_dialing,
    SignalKind.REMOTE_RINGING: Call._on_remote_ringing,
    SignalKind.ANSWERING: Call._on_answering,
    SignalKind.CONNECTED: Call._on_connected,
    SignalKind.TRANSFERRED: Call._on_transferred,
    SignalKind.ENDED: Call._on_ending,
    SignalKind.ABANDONED: Call._on_ending,
    SignalKind.FAILED: Call._on_ending,
    **dict.fromkeys(_FLAG_CHANGES, Call._on_flag),
    **dict.fromkeys(_OFFER_RESULTS, Call._on_offer_end),
}
