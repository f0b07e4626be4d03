"""`calldesk demo`: a shift at a desk, for real, on the configured store.

By default the console is served and callers ring in real time (browser_demo): from the
phone simulator, or with --phone baresip from real SIP phones on loopback (sip_demo).
With --once, Ada (agent a-17 of tenant "demo") logs in, takes a lunch break, then the
simulated phone system rings: a customer the directory knows, a switchboard number that
reaches two people, and an outbound call from a record. Every step goes through the same
application and adapters a deployment uses; only the phone system is simulated, its
time moved forward in steps so the shift runs in seconds. Safe to run again: what exists
is reused, and each run's calls are new.
"""

import itertools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from calldesk.adapters.cli.browser_demo import serve_demo
from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    describe,
    fail,
    now,
    out,
)
from calldesk.adapters.cli.directory import DEFAULT_DIRECTORY_PATH, DirectoryPath
from calldesk.adapters.cli.phone_systems import Phone, SimulatorSettings
from calldesk.adapters.cli.simulated_phone import available, real_time
from calldesk.adapters.cli.sip_demo import serve_sip_demo, sip_phones_missing
from calldesk.adapters.cli.wiring import Wiring, wired
from calldesk.adapters.directory.record_import import import_rows
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.adapters.telephony.baresip_peers import PeerFailure
from calldesk.adapters.telephony.simulator import VENDOR, Callee, Caller, PhoneSimulator
from calldesk.apps.call_views import CallLogEntry, CallView
from calldesk.apps.calls import Dial, RequestCallCommand, WrapUp
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, GoNotReady, LogIn, LogOut, RegisterAgent
from calldesk.apps.records import ImportRow
from calldesk.apps.tenancy import CreateTenant
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.calls import Call
from calldesk.domain.crm_records import Author
from calldesk.domain.errors import NotFound
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef, single_match

TENANT, AGENT = "demo", "a-17"
DEMO = Author("import", "demo")
ADA_PHONE, ADA_MOBILE = PhoneNumber("+16505550142"), PhoneNumber("+16505550143")
ADA_RECORD = RecordRef(RecordKind.CONTACT, "003-ada", "Ada Byron")
SWITCHBOARD = PhoneNumber("+16505550100")
#: The demo tenant's records, recorded once; an edit made in the console stays.
DEMO_RECORDS = {
    RecordKind.ACCOUNT: [
        ImportRow(
            1,
            {"name": "Analytical Engines Ltd", "phone": SWITCHBOARD.e164},
            "001-analytical",
        )
    ],
    RecordKind.CONTACT: [
        ImportRow(
            n,
            {
                "first_name": first,
                "last_name": last,
                "account": "001-analytical",
                "phone": phone.e164,
                **extra,
            },
            record_id,
        )
        for n, (record_id, first, last, phone, extra) in enumerate(
            (
                ("003-ada", "Ada", "Byron", ADA_PHONE, {"mobile": ADA_MOBILE.e164}),
                ("003-charles", "Charles", "Babbage", SWITCHBOARD, {}),
                ("003-mary", "Mary", "Somerville", SWITCHBOARD, {}),
            ),
            start=1,
        )
    ],
    RecordKind.CASE: [
        ImportRow(
            1,
            {"subject": "Difference engine jams on carry", "contact": "003-ada"},
            "500-engine",
        )
    ],
}


#: The browser demo's callers, in turn: Ada, the switchboard, a stranger; one rings
#: every half minute while the agent is available.
CALLERS = (ADA_PHONE.e164, SWITCHBOARD.e164, "+16505550199")
CALLER_EVERY = 30.0


def demo(
    context: typer.Context,
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
    once: Annotated[
        bool, typer.Option(help="Play a scripted shift in the terminal and exit.")
    ] = False,
    port: Annotated[int, typer.Option(help="The console's port on 127.0.0.1.")] = 8765,
    phone_system: Annotated[
        Phone,
        typer.Option(
            "--phone",
            help="What rings the agent: the simulator, or real SIP phones (baresip) "
            "on loopback.",
        ),
    ] = Phone.SIMULATOR,
) -> None:
    """Work calls in the browser console; --once plays a scripted shift instead."""
    if phone_system is Phone.BARESIP:
        if once:
            fail(EXIT_BAD_INPUT, "--once plays its shift on the simulator only")
        missing = sip_phones_missing()
        if missing:
            fail(EXIT_BAD_INPUT, missing)
    with (
        SQLiteRecordDirectory(directory_path) as directory,
        wired(context, directory) as wiring,
    ):
        desk = wiring.desk
        tenant_and_agent(desk, now)
        import_rows(desk, TENANT, [DEMO_RECORDS], operation_id="demo", by=DEMO, at=now)
        out.print(f"Events: {context.obj.database_url}; records: {directory_path}")
        if phone_system is Phone.BARESIP:
            start_shift(desk, now, presence=False)
            try:
                serve_sip_demo(wiring, TENANT, AGENT, CALLERS, (ADA_MOBILE.e164,), port)
            except PeerFailure as failure:
                fail(EXIT_BAD_INPUT, f"the SIP phones did not start: {failure}")
            return
        if not once:
            start_shift(desk, now, presence=False)
            callee = Callee(ADA_MOBILE.e164, answers_after=3, talks_for=600)
            phone = PhoneSimulator(now(), None, available(desk, TENANT), (callee,))
            wiring.attach(TENANT, phone, phone)
            callers = SimulatorSettings(AGENT, CALLER_EVERY, CALLERS)
            drive = real_time(phone, available(desk, TENANT), callers)
            serve_demo(wiring, phone, TENANT, AGENT, port, drive)
            return
        start_shift(desk, now)
        callee = Callee(ADA_MOBILE.e164, answers_after=3, talks_for=600)
        phone = PhoneSimulator(now(), None, available(desk, TENANT), (callee,))
        take_calls(wiring, phone)
        logged_out = desk.log_out(LogOut(TENANT, AGENT, at=phone.now()))
        step("logged out", describe(logged_out))
        log = desk.agent_call_log(TENANT, AGENT, limit=3)
        out.print(call_log_table(reversed(log)))
        out.print(f"Log head {desk.head()}: every step above is a recorded event.")


def step(caption: str, detail: object) -> None:
    out.print(f"[bold]{caption:>16}[/]  {detail}")


def tenant_and_agent(desk: Desk, clock: Callable[[], datetime]) -> None:
    """The demo's tenant and agent, created when missing."""
    try:
        desk.tenant(TENANT)
    except NotFound:
        desk.create_tenant(CreateTenant(TENANT, name="Demo Inc.", at=clock()))
    try:
        desk.agent(TENANT, AGENT)
    except NotFound:
        desk.register_agent(RegisterAgent(TENANT, AGENT, name="Ada Lovelace", at=clock()))


def start_shift(desk: Desk, clock: Callable[[], datetime], presence: bool = True) -> None:
    """The demo's tenant and agent, created when missing; with presence, a login too."""
    tenant_and_agent(desk, clock)
    if not presence:
        return
    step("logged in", describe(desk.log_in(LogIn(TENANT, AGENT, at=clock()))))
    lunch = GoNotReady(TENANT, AGENT, reason="lunch", at=clock())
    step("off to lunch", describe(desk.go_not_ready(lunch)))
    step("ready", describe(desk.go_available(GoAvailable(TENANT, AGENT, at=clock()))))


def take_calls(wiring: Wiring, phone: PhoneSimulator) -> None:
    """The scripted calls; the scheduler ticks at each step of the simulator's time."""
    desk = wiring.desk
    wiring.attach(TENANT, phone, phone)
    commands = itertools.count(1)

    def advance(seconds: float) -> None:
        phone.advance(seconds)
        wiring.scheduler.tick(phone.now())

    def call(vendor_call_id: str) -> CallView:
        return desk.call(TENANT, str(Call.create_id(TENANT, VENDOR, vendor_call_id)))

    def do(view: CallView, kind: CommandKind, argument: str | None = None) -> None:
        command_id = f"{phone.now():%H%M%S%f}-{next(commands)}"
        desk.command(
            RequestCallCommand(
                TENANT,
                AGENT,
                call=view.call,
                kind=kind,
                command_id=command_id,
                argument=argument,
                at=phone.now(),
            )
        )

    def wrap_up(view: CallView, disposition: str) -> None:
        desk.wrap_up(
            WrapUp(
                TENANT,
                AGENT,
                call=view.call,
                disposition=disposition,
                notes="Demo call",
                command_id=f"wrap-{view.call}",
                at=phone.now(),
            )
        )

    known = phone.expect(Caller(ADA_PHONE.e164, AGENT, talks_for=60))
    advance(1)
    step("ringing", f"{call(known).customer_number} → {popped(call(known))}")
    do(call(known), CommandKind.ACCEPT)
    advance(5)
    step("answered", call(known).state.value)
    do(call(known), CommandKind.HOLD)
    advance(20)
    do(call(known), CommandKind.RESUME)
    advance(60)
    agent_state = desk.agent(TENANT, AGENT).state.value
    step("caller hung up", f"{call(known).state.value}; agent {agent_state}")
    wrap_up(call(known), "Billing question")
    agent_state = desk.agent(TENANT, AGENT).state.value
    step("wrapped up", f"{outcome(call(known))}; agent {agent_state}")

    shared = phone.expect(Caller(SWITCHBOARD.e164, AGENT, patience=8))
    advance(1)
    step("ringing", f"{SWITCHBOARD.e164} → {popped(call(shared))}")
    advance(10)
    step("caller gave up", outcome(call(shared)))

    desk.dial(
        Dial(
            TENANT,
            AGENT,
            number=ADA_MOBILE.e164,
            command_id=f"dial-{phone.now():%Y%m%dT%H%M%S%f}",
            vendor=VENDOR,
            record=ADA_RECORD,
            at=phone.now(),
        )
    )
    advance(5)
    (outbound,) = desk.agent(TENANT, AGENT).calls
    dialled = desk.call(TENANT, outbound.call)
    step(
        "dialled",
        f"{ADA_MOBILE.e164} from {ADA_RECORD.title}'s record: {dialled.state.value}",
    )
    do(dialled, CommandKind.HANG_UP)
    advance(1)
    wrap_up(desk.call(TENANT, outbound.call), "Follow-up done")
    step("wrapped up", outcome(desk.call(TENANT, outbound.call)))


def outcome(view: CallView) -> str:
    return view.outcome.value if view.outcome else view.state.value


def popped(view: CallView) -> str:
    matches = view.screen_pop or ()
    opened = single_match(matches)
    if opened is not None:
        return f"screen pop opens {opened.title} ({opened.kind.value})"
    if not matches:
        return "screen pop: nobody known, offer a new contact"
    names = ", ".join(m.title for m in matches)
    return f"screen pop: choose among {names}"


def call_log_table(entries: Iterable[CallLogEntry]) -> Table:
    table = Table("at", "dir", "number", "record", "talk", "hold", "outcome", "disposition")
    for entry in entries:
        table.add_row(
            entry.started_at.strftime("%H:%M"),
            entry.direction.value[:3],
            entry.customer_number or "",
            entry.record.title if entry.record else "",
            f"{entry.talk_seconds:.0f}",
            f"{entry.hold_seconds:.0f}",
            entry.outcome.value if entry.outcome else "",
            entry.disposition or "",
        )
    return table
