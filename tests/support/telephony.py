"""A desk wired to the phone simulator, and the steps an agent takes, for scenarios."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import count

from calldesk.adapters.telephony.simulator import (
    VENDOR,
    Callee,
    Caller,
    Faults,
    PhoneSimulator,
)
from calldesk.apps.call_views import CallView
from calldesk.apps.calls import Dial, RequestCallCommand, WrapUp
from calldesk.apps.desk import Desk
from calldesk.domain.agents import AgentState
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.calls import Call
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory import KnownRecord
from support.desk_driver import log_in, ready, tenant_with_agent

ADA = RecordRef(RecordKind.CONTACT, "003-ada", "Ada Byron")
ADA_NUMBER = "+442079460958"
SHARED_NUMBER = "+16505550100"
SHARED = (
    RecordRef(RecordKind.CONTACT, "003-bob", "Bob Jones"),
    RecordRef(RecordKind.CONTACT, "003-eve", "Eve Jones"),
)
CASE = RecordRef(RecordKind.CASE, "500-invoice", "Invoice charged twice")


#: What the static directory tells of each record: its account, its numbers, its
#: open cases (Eve's invoice).
EVE_MOBILE = "+16505550142"
DESCRIBED = {
    ADA: KnownRecord(ADA, account="Analytical Engines", numbers=(PhoneNumber(ADA_NUMBER),)),
    SHARED[0]: KnownRecord(
        SHARED[0], account="Jones Freight", numbers=(PhoneNumber(SHARED_NUMBER, "12"),)
    ),
    SHARED[1]: KnownRecord(
        SHARED[1],
        account="Jones Bakery",
        numbers=(PhoneNumber(SHARED_NUMBER, "14"), PhoneNumber(EVE_MOBILE)),
        open_cases=(CASE,),
    ),
    CASE: KnownRecord(CASE, status="new", account="Jones Bakery"),
}


class StaticDirectory:
    """A record directory of three people: one match, two matches, or none; and Eve's
    case. Only tenant acme has them."""

    def find_by_number(self, tenant: str, number: PhoneNumber) -> tuple[RecordRef, ...]:
        return {ADA_NUMBER: (ADA,), SHARED_NUMBER: SHARED}.get(number.e164, ())

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord | None:
        known = {(r.kind, r.record_id): d for r, d in DESCRIBED.items()}
        return known.get((kind, record_id)) if tenant == "acme" else None

    def search(self, tenant: str, text: str, limit: int) -> tuple[KnownRecord, ...]:
        """As the port says, over the three people (a scan: there are three; national
        numbers here are all +1's)."""
        if tenant != "acme":
            return ()
        asked = [w for w in text.casefold().replace("-", " ").split() if w]
        digits = "".join(c for c in text if c.isdigit())
        by_digits = bool(asked) and all(w.isdigit() for w in asked)

        def named(record: KnownRecord) -> bool:
            if not record.numbers:
                return False
            if by_digits:
                reached = (n.e164.removeprefix("+") for n in record.numbers)
                return len(digits) >= 3 and any(
                    d.startswith(digits) or d[1:].startswith(digits) or d.endswith(digits)
                    for d in reached
                )
            words = record.ref.title.casefold().split()
            return bool(asked) and all(any(o.startswith(w) for o in words) for w in asked)

        found = [record for record in DESCRIBED.values() if named(record)]
        found.sort(key=lambda r: (r.ref.kind is not RecordKind.CONTACT, r.ref.title))
        return tuple(found[:limit])


class Desktop:
    """One agent, a-17 of a tenant, at a desk whose phone system is the simulator."""

    def __init__(self, desk: Desk, simulator: PhoneSimulator, tenant: str) -> None:
        self.desk, self.simulator, self.tenant = desk, simulator, tenant
        self.command_ids = (f"cmd-{n}" for n in count(1))

    @property
    def now(self) -> datetime:
        return self.simulator.now()

    def state(self, agent: str = "a-17") -> AgentState:
        return self.desk.agent(self.tenant, agent).state

    def call(self, vendor_call_id: str) -> CallView:
        """The call the simulator knows by this id, as calldesk shows it."""
        return self.desk.call(
            self.tenant, str(Call.create_id(self.tenant, VENDOR, vendor_call_id))
        )

    def answered(self, caller: Caller, talk_first: float) -> str:
        """A call that rings, is answered, and has been connected for a while."""
        vendor_call_id = self.simulator.expect(caller)
        self.simulator.advance(1)
        self.do(self.call(vendor_call_id), CommandKind.ACCEPT)
        self.simulator.advance(talk_first)
        return vendor_call_id

    def do(
        self, call: CallView, kind: CommandKind, argument: str | None = None, **kw: str
    ) -> CallView:
        command = RequestCallCommand(
            self.tenant,
            kw.get("agent", "a-17"),
            call=call.call,
            kind=kind,
            command_id=kw.get("command_id") or next(self.command_ids),
            argument=argument,
            at=self.now,
        )
        return self.desk.command(command)

    def wrap_up(self, call: CallView, disposition: str = "resolved") -> CallView:
        return self.desk.wrap_up(
            WrapUp(
                self.tenant,
                "a-17",
                call=call.call,
                disposition=disposition,
                notes="called about the invoice",
                command_id=next(self.command_ids),
                at=self.now,
            )
        )

    def dial(
        self, number: str, record: RecordRef | None = None, command_id: str = ""
    ) -> None:
        self.desk.dial(
            Dial(
                self.tenant,
                "a-17",
                number=number,
                command_id=command_id or next(self.command_ids),
                vendor="simulator",
                record=record,
                at=self.now,
            )
        )


@contextmanager
def desktop(
    database_url: str,
    start: datetime,
    faults: Faults | None = None,
    callees: tuple[Callee, ...] = (),
    tenant: str = "acme",
) -> Iterator[Desktop]:
    """A desk on this store, agent a-17 logged in and available, the simulator attached."""
    with Desk.at(database_url, directory=StaticDirectory()) as desk:
        tenant_with_agent(desk, start, tenant)
        log_in(desk, start, tenant)
        ready(desk, start, tenant)

        def routable(agent: str) -> bool:
            return desk.agent(tenant, agent).state is AgentState.AVAILABLE

        simulator = PhoneSimulator(start, faults or Faults(), routable, callees)
        desk.attach(tenant, simulator, simulator)
        yield Desktop(desk, simulator, tenant)
