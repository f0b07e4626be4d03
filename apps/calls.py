"""Use cases of calls: hear the phone system, send the agent's commands, reconcile.

Every signal is applied to its Call and, in the same save, to the agents it concerns and
to the tenant's link with that phone system. Side effects (the screen pop, the call-log
entry) follow from what was committed, each at most once per call (ADR/0008).
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from calldesk.apps.application import CONFLICT_ATTEMPTS, ConcurrentChange, writes
from calldesk.apps.call_views import CallView
from calldesk.apps.commands import AgentCommand, text
from calldesk.apps.phone_numbers import parse_phone_number
from calldesk.apps.presence import AgentPresence
from calldesk.domain.agents import Agent, Work
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_logs import CallLogBook
from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call
from calldesk.domain.dialing import DialRequest
from calldesk.domain.errors import DomainError, InvalidValue, NotFound, Refused
from calldesk.domain.feed import Publisher
from calldesk.domain.identity import checked_slug
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_feed import Feed
from calldesk.domain.records import RecordKind, RecordRef, single_match
from calldesk.domain.signals import CallSignal, SignalKind
from calldesk.domain.telephony_links import TelephonyLink
from calldesk.domain.tenants import Tenant
from calldesk.domain.workspace import Workspace
from calldesk.ports.clock import Clock
from calldesk.ports.directory import KnownRecord, RecordDirectory
from calldesk.ports.telephony import (
    COMMAND_NEEDS,
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    TelephonyAdapter,
    VendorRefusal,
)

#: How a reconciled call's synthesized signal is marked, for the audit.
RECONCILIATION = "reconciliation"


class PhoneSystemRefused(Refused):
    """The phone system said no, or could not be reached; the command is recorded failed."""


def _call_id(_: object, __: object, value: str) -> None:
    try:
        UUID(value)
    except ValueError:
        raise InvalidValue(f"{value!r} is not a call id") from None


@attrs.frozen
class RequestCallCommand(AgentCommand):
    call: str = attrs.field(validator=_call_id)
    kind: CommandKind = attrs.field(validator=attrs.validators.instance_of(CommandKind))
    command_id: str = attrs.field(validator=text("a command id"))
    argument: str | None = None


@attrs.frozen
class WrapUp(AgentCommand):
    call: str = attrs.field(validator=_call_id)
    disposition: str = attrs.field(validator=text("a disposition"))
    notes: str
    command_id: str = attrs.field(validator=text("a command id"))


@attrs.frozen
class Dial(AgentCommand):
    number: str
    command_id: str = attrs.field(validator=text("a command id"))
    vendor: str = attrs.field(validator=text("a vendor"))
    record: RecordRef | None = None


@attrs.frozen
class DialView:
    command_id: str
    agent: str
    number: PhoneNumber
    record: RecordRef | None
    failure: str | None


class NoDirectory:
    """A desk without a record directory: every caller and every record is unknown."""

    def find_by_number(self, tenant: str, number: PhoneNumber) -> tuple[RecordRef, ...]:
        return ()

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord | None:
        return None


class CallHandling(AgentPresence):
    """Calls, for every tenant and phone system attached to this desk."""

    # The link and the call-log books grow with every call; agents with every change.
    snapshotting_intervals = {  # noqa: RUF012 (eventsourcing declares it)
        Agent: 100,
        TelephonyLink: 50,
        CallLogBook: 100,
        Publisher: 50,
        Feed: 50,
        Workspace: 100,
    }

    def __init__(
        self, env: Mapping[str, str], directory: RecordDirectory | None = None
    ) -> None:
        super().__init__(env)
        self.directory = directory or NoDirectory()
        self._adapters: dict[tuple[str, str], TelephonyAdapter] = {}

    def attach(self, tenant: str, adapter: TelephonyAdapter, clock: Clock) -> None:
        """Hear this tenant's phone system from now on, and send it the agents' commands."""
        self._tenant(tenant)
        self._adapters[(tenant, adapter.vendor)] = adapter

        def sink(signal: CallSignal) -> bool:
            return self.hear_news(tenant, signal, clock.now())

        adapter.listen(sink)

    def vendors(self, tenant: str) -> list[str]:
        """The phone systems attached for this tenant, by vendor name."""
        return sorted(vendor for owner, vendor in self._adapters if owner == tenant)

    # The phone system speaks.

    @writes
    def hear(self, tenant: str, signal: CallSignal, at: datetime) -> CallView:
        """Apply one signal from a phone system of this tenant; a repeat changes nothing.

        The tenant is read only when its call is first heard: the call is keyed by the
        tenant and keeps the settings it needs, so a busy call costs one load a signal.
        """
        checked_slug(tenant, "a tenant")
        call_id = Call.create_id(tenant, signal.vendor, signal.vendor_call_id)

        def apply(call: Call) -> None:
            call.hear(signal, at)
            if call.screen_pop is None:  # once per call, saved with its first signal
                call.resolve_screen_pop(self._screen_pop(call), at)

        def first_heard() -> Call:
            settings = self._tenant(tenant)
            customer = self._customer(signal.customer_number, settings)
            return Call.first_heard(tenant, signal, customer, settings.wrap_up_policy, at)

        call = self._save_call(call_id, apply, at, first_heard)
        self._after(call, at)
        return CallView.of(call)

    @writes
    def hear_news(self, tenant: str, signal: CallSignal, at: datetime) -> bool:
        """Hear a signal unless it was heard before; whether it was news (replay checks)."""
        checked_slug(tenant, "a tenant")
        call_id = Call.create_id(tenant, signal.vendor, signal.vendor_call_id)
        known = self._find(Call, call_id)
        if known is not None and signal.vendor_event_id in known.heard:
            return False
        self.hear(tenant, signal, at)
        return True

    @writes
    def reconcile(self, tenant: str, vendor: str, at: datetime) -> tuple[int, int]:
        """Compare with what the phone system reports now; (ended, discovered) calls."""
        self._tenant(tenant)
        adapter = self._adapter(tenant, vendor)
        live = {call.vendor_call_id: call for call in adapter.snapshot()}
        link = self._link(tenant, vendor, at)
        ended = discovered = 0
        for open_call in link.open_calls:
            call = self._call(tenant, open_call)
            if call.is_live and call.vendor_call_id not in live:
                vanished = self._save_call(call.id, lambda c: c.vanish(at), at)
                self._after(vanished, at)
                ended += 1
        for reported in live.values():
            reported_id = Call.create_id(tenant, vendor, reported.vendor_call_id)
            discovered += reported_id not in self.repository
            heard = self.hear(tenant, _reported(vendor, reported, reported.state, at), at)
            if heard.state is CallState.CONNECTED and heard.on_hold != reported.on_hold:
                hold = SignalKind.HELD if reported.on_hold else SignalKind.RESUMED
                self.hear(tenant, _reported(vendor, reported, hold, at), at)
        self._change(
            lambda: self._link(tenant, vendor, at),
            lambda link: link.reconciled(ended, discovered, at),
        )
        return ended, discovered

    @writes
    def expire_wrap_ups(self, tenant: str, vendor: str, at: datetime) -> int:
        """Close the timed wrap-ups that ran out by `at`; how many closed."""
        self._tenant(tenant)
        expired = 0
        for call_id in self._link(tenant, vendor, at).open_calls:
            call = self._call(tenant, call_id)
            deadline = call.wrap_up_deadline
            if call.state is CallState.WRAP_UP and deadline is not None and at >= deadline:
                closed = self._save_call(call.id, lambda c: c.expire_wrap_up(at), at)
                self._after(closed, at)
                expired += 1
        return expired

    # The agent asks.

    @writes
    def command(self, command: RequestCallCommand) -> CallView:
        """Record the command if the call's state allows it, then send it."""
        self._agent(command.tenant, command.agent)
        call = self._call(command.tenant, command.call)
        adapter = self._adapter(command.tenant, call.vendor)
        needed = COMMAND_NEEDS.get(command.kind)
        if needed is not None and needed not in adapter.capabilities:
            raise Refused(f"{call.vendor} phone systems cannot {command.kind.value}")
        recorded = False

        def request(c: Call) -> None:
            nonlocal recorded
            recorded = c.request(
                command.kind,
                command.agent,
                command.command_id,
                command.at,
                command.argument,
            )

        call = self._save_call(call.id, request, command.at)
        if recorded:
            outgoing = CallCommand(
                command.command_id,
                command.kind,
                call.vendor_call_id,
                command.agent,
                command.argument,
            )
            try:
                adapter.send(outgoing)
            except VendorRefusal as refusal:
                reason = str(refusal)
                self._save_call(
                    call.id,
                    lambda c: c.command_failed(command.command_id, reason, command.at),
                    command.at,
                )
                raise PhoneSystemRefused(
                    f"{call.vendor} refused to {command.kind.value}: {reason}"
                ) from None
        return CallView.of(call)

    @writes
    def wrap_up(self, command: WrapUp) -> CallView:
        """The agent's disposition and notes: the call closes and is logged."""
        call = self._call(command.tenant, command.call)

        def finish(c: Call) -> None:
            c.wrap_up(
                command.agent,
                command.disposition,
                command.notes,
                command.command_id,
                command.at,
            )

        call = self._save_call(call.id, finish, command.at)
        self._after(call, command.at)
        return CallView.of(call)

    @writes
    def dial(self, command: Dial) -> DialView:
        """Place a call from the agent's phone; the same command id places it once."""
        settings = self._tenant(command.tenant)
        number = parse_phone_number(command.number, settings.default_region)
        agent = self._agent(command.tenant, command.agent)
        adapter = self._adapter(command.tenant, command.vendor)
        if Capability.DIAL not in adapter.capabilities:
            raise Refused(f"{command.vendor} phone systems cannot dial")
        request_id = DialRequest.create_id(command.tenant, command.command_id)
        if request_id in self.repository:
            return self._dial_view(request_id)
        agent.check_can_dial()
        request = DialRequest(
            tenant=command.tenant,
            command_id=command.command_id,
            agent=command.agent,
            number=number,
            record=command.record,
            timestamp=command.at,
        )
        try:
            self.save(request)
        except IntegrityError:
            return self._dial_view(request_id)
        try:
            adapter.send(PlaceCall(command.command_id, command.agent, number))
        except VendorRefusal as refusal:
            reason = str(refusal)
            self._change(
                lambda: self._load(DialRequest, request_id, "no dial request"),
                lambda r: r.fail(reason, command.at),
            )
            raise PhoneSystemRefused(
                f"{command.vendor} refused to dial: {reason}"
            ) from None
        return self._dial_view(request_id)

    def call(self, tenant: str, call: str) -> CallView:
        return CallView.of(self._call(tenant, call))

    # How a change to a call reaches everything it concerns.

    def _follow(
        self, call: Call, before: Mapping[str, Work | None], at: datetime
    ) -> list[Aggregate]:
        """The agents whose work on this call changed, and the link when the call opened
        or closed, changed to match; nothing else is loaded."""
        changed: list[Aggregate] = []
        for handle in sorted(set(before) | set(self._works(call))):
            work = call.work_of(handle)
            if work is before.get(handle):
                continue
            agent = self._find(Agent, Agent.create_id(call.tenant, handle))
            if agent is None:
                continue  # an agent only the phone system knows: the call records it
            if work is None:
                handled = handle == call.agent and call.connected_at is not None
                agent.release(str(call.id), handled, call.wrap_up_policy, at)
                changed.extend(self._tab_of_ended_call(call, handle, at))
            else:
                agent.work_changed(str(call.id), work, at)
                if work is Work.ON_CALL and handle == call.agent:
                    changed.extend(self._screen_popped(call, handle, at))
            changed.append(agent)
        opened = any(isinstance(e, Call.Created) for e in call.pending_events)
        if opened or call.state is CallState.CLOSED:
            link = self._link(call.tenant, call.vendor, at)
            if call.state is CallState.CLOSED:
                link.call_closed(str(call.id), at)
            else:
                link.call_opened(str(call.id), at)
            changed.append(link)
        return changed

    def _screen_popped(self, call: Call, agent: str, at: datetime) -> list[Aggregate]:
        """The call's records open in the console of the agent who took it: its one
        record as a tab, else a tab listing what was found (seed 002)."""
        workspace = self._workspace(call.tenant, agent, at)
        query = call.customer_number or "an unknown number"
        workspace.screen_pop(str(call.id), query, call.screen_pop or (), at)
        return [workspace]

    def _tab_of_ended_call(self, call: Call, agent: str, at: datetime) -> list[Aggregate]:
        """The tab a call's screen pop opened closes with the call, if the tenant says so
        (a tab with unsaved changes asks first)."""
        if not self._tenant(call.tenant).closes_popped_tabs:
            return []
        workspace = self._find(Workspace, Workspace.create_id(call.tenant, agent))
        if workspace is None:
            return []
        workspace.call_ended(str(call.id), True, at)
        return [workspace]

    def _workspace(self, tenant: str, agent: str, at: datetime) -> Workspace:
        found = self._find(Workspace, Workspace.create_id(tenant, agent))
        return found or Workspace.start(tenant, agent, at)

    @staticmethod
    def _works(call: Call) -> dict[str, Work | None]:
        """What the call asks of each agent it has rung or reached."""
        agents = {o.agent for o in call.offers} | ({call.agent} if call.agent else set())
        return {agent: call.work_of(agent) for agent in agents}

    def _after(self, call: Call, at: datetime) -> None:
        """What follows a committed close, once per call: its call-log entry."""
        if call.state is CallState.CLOSED and not call.logged:
            self._save_log(call, at)

    def _screen_pop(self, call: Call) -> tuple[RecordRef, ...]:
        if call.dial_command_id is not None:
            request = self._find(
                DialRequest, DialRequest.create_id(call.tenant, call.dial_command_id)
            )
            if request is not None and request.record is not None:
                return (request.record,)
        if call.customer is None:
            return ()
        return self.directory.find_by_number(call.tenant, call.customer)

    def _save_log(self, call: Call, at: datetime) -> None:
        """The call's entry in the call log of each agent it rang and its record, once."""
        for _ in range(CONFLICT_ATTEMPTS):
            fresh = self._load(Call, call.id, f"no call {call.id}")
            if fresh.logged:
                return
            fresh.mark_logged(at)
            owners = [f"agent:{agent}" for agent in sorted(self._works(fresh))]
            record = single_match(fresh.screen_pop or ())
            books: list[Aggregate] = []
            if record is not None:
                owners.append(f"record:{record.kind.value}:{record.record_id}")
                if fresh.agent is not None:
                    books.extend(self._call_log_draft(fresh, fresh.agent, record, at))
            for owner in owners:
                book = self._find(
                    CallLogBook, CallLogBook.create_id(fresh.tenant, owner)
                ) or CallLogBook(tenant=fresh.tenant, owner=owner, timestamp=at)
                book.add(str(fresh.id), at)
                books.append(book)
            try:
                self.save(fresh, *books)
            except IntegrityError:
                self._forget_loaded()
                continue
            return
        raise ConcurrentChange(f"call {call.id} kept changing; its call log waits")

    def _call_log_draft(
        self, call: Call, agent: str, record: RecordRef, at: datetime
    ) -> tuple[Publisher, Feed]:
        """The ended call's log, a draft in its agent's publisher on its record, ready
        for notes (seed 002); saved with the call marked logged, so it arrives once."""
        tenant, kind, record_id = call.tenant, record.kind, record.record_id
        known = self.directory.record(tenant, kind, record_id)
        status = None if known is None else known.status
        feed = self._find(Feed, Feed.create_id(tenant, kind, record_id)) or Feed.start(
            tenant, kind, record_id, status, at
        )
        publisher = self._find(
            Publisher, Publisher.create_id(tenant, agent, kind, record_id)
        ) or Publisher.start(tenant, agent, feed, at)
        publisher.receive_call_log(str(call.id), call_summary(call), at)
        return publisher, feed

    def _save_call(
        self,
        call_id: UUID,
        change: Callable[[Call], None],
        at: datetime,
        first_heard: Callable[[], Call] | None = None,
    ) -> Call:
        """Load (or create) the call, change it and what it concerns, save all at once."""
        for _ in range(CONFLICT_ATTEMPTS):
            call = self._find(Call, call_id)
            if call is None:
                if first_heard is None:
                    raise NotFound(f"no call {call_id}")
                call = first_heard()
            before = self._works(call)
            change(call)
            try:
                self.save(call, *self._follow(call, before, at))
            except IntegrityError:
                self._forget_loaded()
                continue
            return call
        raise ConcurrentChange(f"call {call_id} kept changing; send it again")

    def _call(self, tenant: str, call: str) -> Call:
        try:
            call_id = UUID(call)
        except ValueError:
            raise InvalidValue(f"{call!r} is not a call id") from None
        found = self._find(Call, call_id)
        if found is None or found.tenant != tenant:
            raise NotFound(f"no call {call} in tenant {tenant}")
        return found

    def _link(self, tenant: str, vendor: str, at: datetime) -> TelephonyLink:
        link_id = TelephonyLink.create_id(tenant, vendor)
        return self._find(TelephonyLink, link_id) or TelephonyLink(
            tenant=tenant, vendor=vendor, timestamp=at
        )

    def _adapter(self, tenant: str, vendor: str) -> TelephonyAdapter:
        try:
            return self._adapters[(tenant, vendor)]
        except KeyError:
            raise Refused(
                f"no {vendor} phone system is attached for tenant {tenant}"
            ) from None

    def _customer(self, number: str | None, settings: Tenant) -> PhoneNumber | None:
        """The caller's number in E.164, when it is one (not "anonymous", not a SIP URI)."""
        if number is None:
            return None
        try:
            return parse_phone_number(number, settings.default_region)
        except DomainError:
            return None

    def _dial_view(self, request_id: UUID) -> DialView:
        request = self._load(DialRequest, request_id, "no dial request")
        return DialView(
            request.command_id,
            request.agent,
            request.number,
            request.record,
            request.failure,
        )


def _reported(
    vendor: str, reported: LiveCall, kind: SignalKind, at: datetime
) -> CallSignal:
    """What a phone system's snapshot says of a call, as a signal marked reconciliation.

    A state reported again is heard once; hold and resume can alternate, so each
    correction is its own event.
    """
    event_id = f"{RECONCILIATION}:{reported.vendor_call_id}:{kind.value}"
    if kind in (SignalKind.HELD, SignalKind.RESUMED):
        event_id = f"{event_id}:{at.isoformat()}"
    return CallSignal(
        vendor=vendor,
        vendor_event_id=event_id,
        vendor_call_id=reported.vendor_call_id,
        kind=kind,
        occurred_at=at,
        direction=reported.direction,
        customer_number=reported.customer_number,
        agent=reported.agent,
        vendor_kind=RECONCILIATION,
    )


def call_summary(call: Call) -> str:
    """A call log's first words: who, which way, how it ended, how long they talked."""
    minutes, seconds = divmod(round(call.talk_time.total_seconds()), 60)
    outcome = "open" if call.outcome is None else call.outcome.value
    who = call.customer_number or "an unknown number"
    return (
        f"{call.direction.value.capitalize()} call with {who}: {outcome}, "
        f"talked {minutes}:{seconds:02d}."
    )
