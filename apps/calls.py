"""Use cases of calls: hear the phone system, send the agent's commands, reconcile.

Every signal is applied to its Call; what it means for the agents it concerns, their
workspaces, the tenant's link and the call logs follows from the policies, in the same
save (calldesk.apps.call_policies, ADR/0008, ADR/0014).
"""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.persistence import IntegrityError

from calldesk.apps.aggregates import (
    agent_named,
    call_id,
    call_in,
    link_of,
    tenant_named,
)
from calldesk.apps.call_views import CallView
from calldesk.apps.commands import AgentCommand, text
from calldesk.apps.phone_numbers import parse_phone_number
from calldesk.apps.unit_of_work import (
    CONFLICT_ATTEMPTS,
    ConcurrentChange,
    Service,
    UnitOfWork,
    writes,
)
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call
from calldesk.domain.dialing import DialRequest
from calldesk.domain.errors import DomainError, NotFound, Refused
from calldesk.domain.identity import checked_slug
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.signals import CallSignal, SignalKind
from calldesk.domain.telephony_links import TelephonyLink
from calldesk.domain.tenants import Tenant
from calldesk.ports.clock import Clock
from calldesk.ports.directory import KnownRecord
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
    call_id(value)


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
class ChooseRecord(AgentCommand):
    """The record a call is about, as its agent chose it (among several matches)."""

    call: str = attrs.field(validator=_call_id)
    record: RecordRef


@attrs.frozen
class Dial(AgentCommand):
    """Place a call; without a vendor, through the tenant's one phone system."""

    number: str
    command_id: str = attrs.field(validator=text("a command id"))
    vendor: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(text("a vendor"))
    )
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

    def search(self, tenant: str, text: str, limit: int) -> tuple[KnownRecord, ...]:
        return ()


class Calls(Service):
    """Calls, for every tenant and phone system attached to this desk."""

    SNAPSHOTS = {TelephonyLink: 50}  # noqa: RUF012 (a link grows with every call)

    def __init__(self, work: UnitOfWork) -> None:
        super().__init__(work)
        self._adapters: dict[tuple[str, str], TelephonyAdapter] = {}

    def attach(self, tenant: str, adapter: TelephonyAdapter, clock: Clock) -> None:
        """Hear this tenant's phone system from now on, and send it the agents' commands."""
        tenant_named(self.work, tenant)
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
        heard_id = Call.create_id(tenant, signal.vendor, signal.vendor_call_id)

        def apply(call: Call) -> None:
            call.hear(signal, at)
            if call.screen_pop is None:  # once per call, saved with its first signal
                call.resolve_screen_pop(self._screen_pop(call), at)

        def first_heard() -> Call:
            settings = tenant_named(self.work, tenant)
            customer = _customer(signal.customer_number, settings)
            return Call.first_heard(tenant, signal, customer, settings.wrap_up_policy, at)

        return CallView.of(self._save_call(heard_id, apply, first_heard))

    @writes
    def hear_news(self, tenant: str, signal: CallSignal, at: datetime) -> bool:
        """Hear a signal unless it was heard before; whether it was news (replay checks)."""
        checked_slug(tenant, "a tenant")
        heard_id = Call.create_id(tenant, signal.vendor, signal.vendor_call_id)
        known = self.work.find(Call, heard_id)
        if known is not None and signal.vendor_event_id in known.heard:
            return False
        self.hear(tenant, signal, at)
        return True

    @writes
    def reconcile(self, tenant: str, vendor: str, at: datetime) -> tuple[int, int]:
        """Compare with what the phone system reports now; (ended, discovered) calls."""
        tenant_named(self.work, tenant)
        adapter = self._adapter(tenant, vendor)
        live = {call.vendor_call_id: call for call in adapter.snapshot()}
        link = link_of(self.work, tenant, vendor, at)
        ended = discovered = 0
        for open_call in link.open_calls:
            call = call_in(self.work, tenant, open_call)
            if call.is_live and call.vendor_call_id not in live:
                self._save_call(call.id, lambda c: c.vanish(at))
                ended += 1
        for reported in live.values():
            reported_id = Call.create_id(tenant, vendor, reported.vendor_call_id)
            discovered += not self.work.exists(reported_id)
            heard = self.hear(tenant, _reported(vendor, reported, reported.state, at), at)
            if heard.state is CallState.CONNECTED and heard.on_hold != reported.on_hold:
                hold = SignalKind.HELD if reported.on_hold else SignalKind.RESUMED
                self.hear(tenant, _reported(vendor, reported, hold, at), at)
        self.work.change(
            lambda: link_of(self.work, tenant, vendor, at),
            lambda link: link.reconciled(ended, discovered, at),
        )
        return ended, discovered

    @writes
    def expire_wrap_ups(self, tenant: str, vendor: str, at: datetime) -> int:
        """Close the timed wrap-ups that ran out by `at`; how many closed."""
        tenant_named(self.work, tenant)
        expired = 0
        for open_call in link_of(self.work, tenant, vendor, at).open_calls:
            call = call_in(self.work, tenant, open_call)
            deadline = call.wrap_up_deadline
            if call.state is CallState.WRAP_UP and deadline is not None and at >= deadline:
                self._save_call(call.id, lambda c: c.expire_wrap_up(at))
                expired += 1
        return expired

    @writes
    def fail_unconfirmed_commands(self, tenant: str, vendor: str, at: datetime) -> int:
        """Fail the commands the phone system has not confirmed in time (each said in
        its call's history, and shown to the agent); how many failed."""
        tenant_named(self.work, tenant)
        failed = 0
        for open_call in link_of(self.work, tenant, vendor, at).open_calls:
            call = call_in(self.work, tenant, open_call)
            if late := len(call.unconfirmed(at)):
                self._save_call(call.id, lambda c: c.fail_unconfirmed(at))
                failed += late
        return failed

    # The agent asks.

    @writes
    def command(self, command: RequestCallCommand) -> CallView:
        """Record the command if the call's state allows it, then send it."""
        agent_named(self.work, command.tenant, command.agent)
        call = call_in(self.work, command.tenant, command.call)
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

        call = self._save_call(call.id, request)
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
                )
                raise PhoneSystemRefused(
                    f"{call.vendor} refused to {command.kind.value}: {reason}"
                ) from None
        return CallView.of(call)

    @writes
    def wrap_up(self, command: WrapUp) -> CallView:
        """The agent's disposition (from the tenant's pick list, when it has one) and
        notes: the call closes and is logged."""
        call = call_in(self.work, command.tenant, command.call)
        disposition = tenant_named(self.work, command.tenant).disposition(
            command.disposition
        )

        def finish(c: Call) -> None:
            c.wrap_up(
                command.agent,
                disposition,
                command.notes,
                command.command_id,
                command.at,
            )

        return CallView.of(self._save_call(call.id, finish))

    @writes
    def choose_record(self, command: ChooseRecord) -> CallView:
        """File the call under a record of the tenant's directory, named as it is there."""
        call = call_in(self.work, command.tenant, command.call)
        wanted = command.record
        known = self.work.directory.record(command.tenant, wanted.kind, wanted.record_id)
        if known is None:
            raise NotFound(
                f"no {wanted.kind.value} {wanted.record_id} in tenant {command.tenant}"
            )
        chosen = known.ref

        def choose(c: Call) -> None:
            c.choose_record(command.agent, chosen, command.at)

        return CallView.of(self._save_call(call.id, choose))

    @writes
    def dial(self, command: Dial) -> DialView:
        """Place a call from the agent's phone; the same command id places it once."""
        settings = tenant_named(self.work, command.tenant)
        number = parse_phone_number(command.number, settings.default_region)
        agent = agent_named(self.work, command.tenant, command.agent)
        vendor = command.vendor or self._only_vendor(command.tenant)
        adapter = self._adapter(command.tenant, vendor)
        if Capability.DIAL not in adapter.capabilities:
            raise Refused(f"{vendor} phone systems cannot dial")
        request_id = DialRequest.create_id(command.tenant, command.command_id)
        if self.work.exists(request_id):
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
            self.work.save(request)
        except IntegrityError:
            return self._dial_view(request_id)
        try:
            adapter.send(PlaceCall(command.command_id, command.agent, number))
        except VendorRefusal as refusal:
            reason = str(refusal)
            self.work.change(
                lambda: self.work.load(DialRequest, request_id, "no dial request"),
                lambda r: r.fail(reason, command.at),
            )
            raise PhoneSystemRefused(f"{vendor} refused to dial: {reason}") from None
        return self._dial_view(request_id)

    # Queries.

    def call(self, tenant: str, call: str, as_of: int | None = None) -> CallView:
        """The call now, or as it was when the log stood at position `as_of`."""
        if as_of is None:
            return CallView.of(call_in(self.work, tenant, call))
        found = self.work.store.as_of(Call, call_id(call), as_of)
        if found is None or found.tenant != tenant:
            raise NotFound(f"no call {call} in tenant {tenant} at position {as_of}")
        return CallView.of(found)

    def caller_number(self, tenant: str, number: str) -> PhoneNumber:
        """The number as the tenant's calls read it: a national form in the tenant's
        default region."""
        return parse_phone_number(number, tenant_named(self.work, tenant).default_region)

    def screen_pop(self, tenant: str, number: str) -> tuple[RecordRef, ...]:
        """What a call from this number would pop: the records it reaches, best first."""
        caller = self.caller_number(tenant, number)
        return self.work.directory.find_by_number(tenant, caller)

    # How a change to a call is made.

    def _save_call(
        self,
        changed_id: UUID,
        change: Callable[[Call], None],
        first_heard: Callable[[], Call] | None = None,
    ) -> Call:
        """Load (or create) the call, change it, save it with what the policies make of
        it; from a fresh load again if another writer won."""
        for _ in range(CONFLICT_ATTEMPTS):
            call = self.work.find(Call, changed_id)
            if call is None:
                if first_heard is None:
                    raise NotFound(f"no call {changed_id}")
                call = first_heard()
            change(call)
            try:
                self.work.save(call)
            except IntegrityError:
                self.work.forget_loaded()
                continue
            return call
        raise ConcurrentChange(f"call {changed_id} kept changing; send it again")

    def _screen_pop(self, call: Call) -> tuple[RecordRef, ...]:
        if call.dial_command_id is not None:
            request = self.work.find(
                DialRequest, DialRequest.create_id(call.tenant, call.dial_command_id)
            )
            if request is not None and request.record is not None:
                return (request.record,)
        if call.customer is None:
            return ()
        return self.work.directory.find_by_number(call.tenant, call.customer)

    def _adapter(self, tenant: str, vendor: str) -> TelephonyAdapter:
        try:
            return self._adapters[(tenant, vendor)]
        except KeyError:
            raise Refused(
                f"no {vendor} phone system is attached for tenant {tenant}"
            ) from None

    def _only_vendor(self, tenant: str) -> str:
        """Click-to-dial without a vendor goes through the tenant's one phone system."""
        vendors = self.vendors(tenant)
        if len(vendors) != 1:
            raise Refused(
                f"tenant {tenant} has {len(vendors)} phone systems attached; "
                "dial through one of them by name"
            )
        return vendors[0]

    def _dial_view(self, request_id: UUID) -> DialView:
        request = self.work.load(DialRequest, request_id, "no dial request")
        return DialView(
            request.command_id,
            request.agent,
            request.number,
            request.record,
            request.failure,
        )


def _customer(number: str | None, settings: Tenant) -> PhoneNumber | None:
    """The caller's number in E.164, when it is one (not "anonymous", not a SIP URI)."""
    if number is None:
        return None
    try:
        return parse_phone_number(number, settings.default_region)
    except DomainError:
        return None


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
