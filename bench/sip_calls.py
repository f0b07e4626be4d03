"""Real SIP calls into calldesk: how soon one is on the desk, how many a second come whole.

A baresip 1.0.0 peer is agent a-17's phone, driven by the BaresipPhone adapter attached
to a desk as a deployment wires it (`on_reconnect` reconciles), on a store of its own;
the directory is the demo's (Ada Byron is +16505550142). All runs on loopback, in one
process apart from baresip and SIPp; every time is `time.perf_counter_ns` here.

1. Latency. A second baresip peer, the caller (Ada's number), dials the agent's phone
   --calls times, one call at a time. Once the call is saved as offered, the agent
   rejects it through the desk (even calls) or the caller hangs up (odd calls), and the
   next call waits until this one is closed and in the call log (the desk is done with
   it) and the caller saw it end. Per call:
   - dial sent: just before the caller's `dial` command is written to its ctrl socket;
   - read: the adapter's ctrl link has cut the CALL_INCOMING frame from its socket and
     hands it on (BaresipPhone's per-event hook, overridden here to note the time);
   - sink: the adapter hands the OFFERED signal to the desk (entry of the sink);
   - saved: `Desk.on_recorded` hears the committed save that holds the call's
     `calldesk.call.Offered` event.
   calldesk's figure is read -> saved; the baseline, measured on the same calls, is
   dial sent -> read (SIP and baresip alone); end to end is dial sent -> saved.

2. Throughput. SIPp places --sipp-calls calls to the agent's phone at each rate in turn
   (tests/e2e/sipp/caller_gives_up.xml: INVITE, 180 Ringing, 0.5 s, CANCEL), the phone
   configured for 255 calls at once (baresip 1.0.0 numbers a phone's lines 1 to 255,
   src/call.c, and has no line for more). After SIPp ends, calldesk catches up until it
   has every call the phone ended closed, or nothing changed for 5 s. Per rate: SIPp's
   calls placed, succeeded, failed and retransmissions; the calls the agent's phone
   reported to the adapter as ringing (CALL_INCOMING) and ended (CALL_CLOSED); and,
   among SIPp's Call-IDs (`<n>-<pid>@127.0.0.1`), the calls calldesk offered and
   closed, their outcomes, and duplicates read from each call's history (more than one
   Offered, Ended or Closed event; one signal recorded twice in the same kind of
   event). A call is missing when the phone reported it and calldesk has not offered
   (or closed) it, unreported when calldesk offered a call the phone never rang. A rate
   is whole when SIPp placed and saw through every call, the phone rang and ended each,
   and calldesk offered and closed each exactly once; higher rates are not tried once
   one is not.

    .venv/bin/python bench/sip_calls.py [--calls 50] [--sipp-calls 500]
                                         [--rates 25,50,100,200,400,600]
                                         [--postgres URL]

PostgreSQL runs too when --postgres (or CALLDESK_TEST_DATABASE_URL) names a server; the
run uses a schema of its own, dropped afterwards. Needs /usr/bin/baresip (baresip-core
1.0.0, Debian 12) and /usr/bin/sipp (sip-tester).
"""

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
from rich.console import Console
from rich.table import Table
from stores import fresh_stores

from calldesk.adapters.cli.demo import ADA_PHONE, DEMO, DEMO_RECORDS
from calldesk.adapters.clock import SystemClock
from calldesk.adapters.directory.record_import import import_rows
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.adapters.telephony.baresip import BaresipPhone
from calldesk.adapters.telephony.baresip_events import VENDOR
from calldesk.adapters.telephony.baresip_peers import (
    BARESIP,
    BaresipPeer,
    PeerControl,
    port_block,
    running,
)
from calldesk.apps.calls import RequestCallCommand
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant, SetWrapUpPolicy
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import SignalMeta
from calldesk.domain.calls import Call
from calldesk.domain.signals import CallSignal, SignalKind
from calldesk.domain.tenants import WrapUpPolicy
from calldesk.ports.log import Logged
from calldesk.ports.telephony import SignalSink

TENANT, AGENT = "bench", "a-17"
SIPP = Path("/usr/bin/sipp")
SCENARIO = (
    Path(__file__).resolve().parents[1] / "tests" / "e2e" / "sipp" / "caller_gives_up.xml"
)
AGENT_MAX_CALLS = 255  # baresip 1.0.0 has no more line numbers (CALL_LINENUM_MAX)
WAIT = 10.0
#: After SIPp ends: calldesk has caught up when nothing changed for QUIET seconds.
QUIET, CATCH_UP_AT_MOST = 5.0, 60.0
OFFERED, CLOSED = "calldesk.call.Offered", "calldesk.call.Closed"
LOGGED = "calldesk.call.CallLogged"
console = Console(highlight=False, width=170)


class TimedPhone(BaresipPhone):
    """The adapter, noting when each event frame was read and each signal handed on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: list[tuple[int, bytes]] = []
        self.sunk: list[tuple[int, CallSignal]] = []

    def _heard_on_link(self, payload: bytes) -> None:
        self.read.append((time.perf_counter_ns(), payload))
        super()._heard_on_link(payload)

    def listen(self, sink: SignalSink) -> None:
        def timed(signal: CallSignal) -> bool:
            self.sunk.append((time.perf_counter_ns(), signal))
            return sink(signal)

        super().listen(timed)

    def read_at(self, call_id: str, kind: str) -> int | None:
        wanted = (f'"{kind}"'.encode(), f'"{call_id}"'.encode())
        return next((t for t, p in self.read if all(w in p for w in wanted)), None)

    def sunk_at(self, call_id: str, kind: SignalKind) -> int | None:
        return next(
            (t for t, s in self.sunk if s.vendor_call_id == call_id and s.kind is kind),
            None,
        )


class Saves:
    """When each call's Offered, Closed and CallLogged events were committed, from
    Desk.on_recorded."""

    def __init__(self) -> None:
        self.offered: dict[UUID | str, int] = {}
        self.closed: dict[UUID | str, int] = {}
        self.logged: dict[UUID | str, int] = {}
        self.changes = 0
        self._changed = threading.Condition()

    def heard(self, saved: Sequence[Logged]) -> None:  # after each commit
        at = time.perf_counter_ns()
        with self._changed:
            for logged in saved:
                topic = logged.topic
                if topic == OFFERED:
                    self.offered.setdefault(logged.originator_id, at)
                elif topic == CLOSED:
                    self.closed.setdefault(logged.originator_id, at)
                elif topic == LOGGED:
                    self.logged.setdefault(logged.originator_id, at)
            self.changes += 1
            self._changed.notify_all()

    def wait(self, saved: dict[UUID | str, int], call: UUID) -> int:
        with self._changed:
            if not self._changed.wait_for(lambda: call in saved, WAIT):
                raise TimeoutError(f"call {call} was not saved in {WAIT} s")
            return saved[call]

    def settle(self, done: Callable[[], bool]) -> None:
        """Wait until done, or until nothing changed for QUIET s (or CATCH_UP_AT_MOST)."""
        deadline = time.monotonic() + CATCH_UP_AT_MOST
        last_change, last_count = time.monotonic(), -1
        while time.monotonic() < deadline:
            with self._changed:
                if done():
                    return
                if self.changes != last_count:
                    last_change, last_count = time.monotonic(), self.changes
                elif time.monotonic() - last_change > QUIET:
                    return
                self._changed.wait(0.2)


@attrs.frozen
class Line:
    """A desk on one store, with the agent's phone attached and the agent available."""

    desk: Desk
    phone: TimedPhone
    saves: Saves
    clock: SystemClock


@contextmanager
def line_on(url: str, records: Path, agent: BaresipPeer) -> Iterator[Line]:
    clock = SystemClock()
    with SQLiteRecordDirectory(records) as directory, Desk.at(url, directory) as desk:
        at = clock.now()
        desk.create_tenant(CreateTenant(TENANT, name="Bench", at=at))
        import_rows(
            desk, TENANT, [DEMO_RECORDS], operation_id="bench", by=DEMO, at=clock.now
        )
        no_wrap_up = WrapUpPolicy(limit_seconds=0)
        desk.set_wrap_up_policy(SetWrapUpPolicy(TENANT, policy=no_wrap_up, at=at))
        desk.register_agent(RegisterAgent(TENANT, AGENT, name="Ada Lovelace", at=at))
        desk.log_in(LogIn(TENANT, AGENT, at=at))
        desk.go_available(GoAvailable(TENANT, AGENT, at=at))
        saves = Saves()
        desk.store.on_recorded(saves.heard)
        connected = threading.Event()

        def reconcile() -> None:
            desk.reconcile(TENANT, VENDOR, clock.now())
            connected.set()

        phone = TimedPhone(
            "127.0.0.1",
            agent.ctrl_port,
            AGENT,
            clock.now,
            dial_uri="sip:{number}@127.0.0.1:9",  # never used: the agent dials no one
            on_reconnect=reconcile,
        )
        desk.attach(TENANT, phone, clock)
        try:
            if not connected.wait(WAIT):
                raise RuntimeError("the adapter did not connect to the agent's phone")
            yield Line(desk, phone, saves, clock)
        finally:
            phone.close()
    agent.hang_up_everything()


# 1. Latency.


@attrs.frozen
class Timed:
    """One call's moments, perf_counter_ns."""

    dialed: int
    read: int
    sunk: int
    saved: int


def latencies(
    line: Line, caller: PeerControl, agent: BaresipPeer, calls: int
) -> list[Timed]:
    """Calls one at a time, each rejected by the agent or cancelled by the caller."""
    dialed: list[tuple[int, str, int]] = []
    for n in range(calls):
        at = time.perf_counter_ns()
        call_id = caller.dial(agent.uri)
        call = Call.create_id(TENANT, VENDOR, call_id)
        saved = line.saves.wait(line.saves.offered, call)
        if n % 2 == 0:
            line.desk.command(
                RequestCallCommand(
                    TENANT,
                    AGENT,
                    call=str(call),
                    kind=CommandKind.REJECT,
                    command_id=f"reject-{call_id}",
                    at=line.clock.now(),
                )
            )
        else:
            caller.on(call_id, "hangup")
        line.saves.wait(line.saves.logged, call)  # the desk is done with it
        caller.wait_event("CALL_CLOSED", WAIT, id=call_id)
        dialed.append((at, call_id, saved))
    timed = []
    for at, call_id, saved in dialed:
        read = line.phone.read_at(call_id, "CALL_INCOMING")
        sunk = line.phone.sunk_at(call_id, SignalKind.OFFERED)
        if read is None or sunk is None:
            raise RuntimeError(f"call {call_id}: no CALL_INCOMING read or offer handed on")
        timed.append(Timed(at, read, sunk, saved))
    return timed


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value at least `share` of the values do not exceed."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency_rows(store: str, timed: Sequence[Timed]) -> list[list[str]]:
    stages: list[tuple[str, Callable[[Timed], int]]] = [
        (
            "baseline: dial sent -> CALL_INCOMING read (SIP, baresip)",
            lambda t: t.read - t.dialed,
        ),
        ("calldesk: CALL_INCOMING read -> offered call saved", lambda t: t.saved - t.read),
        ("  adapter: read -> OFFERED signal at the desk's sink", lambda t: t.sunk - t.read),
        ("  desk: signal at the sink -> save committed", lambda t: t.saved - t.sunk),
        ("end to end: dial sent -> offered call saved", lambda t: t.saved - t.dialed),
    ]
    rows = []
    for what, span in stages:
        ordered = sorted(span(t) / 1e6 for t in timed)
        rows.append(
            [
                store,
                what,
                str(len(ordered)),
                f"{percentile(ordered, 0.5):.2f}",
                f"{percentile(ordered, 0.99):.2f}",
                f"{ordered[-1]:.2f}",
                f"{statistics.fmean(ordered):.2f}",
            ]
        )
    return rows


# 2. Throughput.


@attrs.frozen
class SippRun:
    """What SIPp said of one run: its counters, from its statistics file."""

    pid: int
    exit_code: int
    seconds: float
    ended: int  # perf_counter_ns once SIPp exited
    created: int
    succeeded: int
    failed: int
    retransmissions: int

    def call_ids(self) -> list[str]:
        """SIPp's Call-IDs, `[call_id]`: <call number>-<pid>@<local ip>."""
        return [f"{n}-{self.pid}@127.0.0.1" for n in range(1, self.created + 1)]


def sipp(agent: BaresipPeer, calls: int, rate: int, folder: Path) -> SippRun:
    """SIPp placing `calls` calls at `rate` a second to the agent's phone, to its end."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port_block()
    stats = folder / "stats.csv"
    budget = calls / rate + 60
    command = [
        str(SIPP),
        f"127.0.0.1:{agent.sip_port}",
        *("-sf", str(SCENARIO), "-s", agent.user, "-i", "127.0.0.1"),
        *("-p", str(port), "-mp", str(port + 2)),
        *("-r", str(rate), "-m", str(calls), "-nostdin"),
        *("-timeout", f"{budget:.0f}s", "-timeout_error", "-recv_timeout", "10000"),
        *("-trace_stat", "-stf", str(stats), "-fd", "60"),
        *("-trace_err", "-error_file", str(folder / "errors.log")),
    ]
    began = time.monotonic()
    with (folder / "sipp.out").open("wb") as out:
        process = subprocess.Popen(
            command, cwd=folder, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
        exit_code = process.wait(budget + 30)
    ended = time.perf_counter_ns()
    seconds = time.monotonic() - began
    header, *_, last = stats.read_text().splitlines()
    counters = dict(zip(header.split(";"), last.split(";"), strict=False))
    return SippRun(
        process.pid,
        exit_code,
        seconds,
        ended,
        int(counters["TotalCallCreated"]),
        int(counters["SuccessfulCall(C)"]),
        int(counters["FailedCall(C)"]),
        int(counters["Retransmissions(C)"]),
    )


class Reported:
    """The calls the agent's phone said rang and closed, from the frames the adapter read
    (from where the run began), among the calls of one SIPp run."""

    def __init__(self, phone: TimedPhone, call_ids: Sequence[str], since: int) -> None:
        self._phone, self._wanted, self._seen = phone, set(call_ids), since
        self.rang: set[str] = set()
        self.closed: set[str] = set()

    def catch_up(self) -> None:
        frames = self._phone.read
        read, self._seen = frames[self._seen : len(frames)], len(frames)
        for _, payload in read:
            if b'"CALL_INCOMING"' not in payload and b'"CALL_CLOSED"' not in payload:
                continue
            event = json.loads(payload)
            if event.get("id") in self._wanted:
                seen = self.rang if event["type"] == "CALL_INCOMING" else self.closed
                seen.add(event["id"])


@attrs.frozen
class Carried:
    """What the phone reported of one SIPp run, and what calldesk made of it."""

    rate: int
    sipp: SippRun
    rang: int  # calls the phone reported ringing (CALL_INCOMING)
    ended: int  # calls the phone reported closed (CALL_CLOSED)
    offered: int
    closed: int
    missing: int  # calls the phone reported and calldesk has not (offered or closed)
    unreported: int  # calls calldesk offered that the phone never reported ringing
    outcomes: Counter[str]
    offered_twice: int
    ended_or_closed_twice: int
    applied_twice: int
    ignored: int
    last_close_ms: float  # the last call saved closed, from SIPp's exit (< 0: before)

    def as_the_phone_said(self) -> bool:
        """calldesk offered and closed, once each, every call the phone reported."""
        doubled = self.offered_twice or self.ended_or_closed_twice or self.applied_twice
        return not (self.missing or self.unreported or doubled)

    def whole(self, calls: int) -> bool:
        """Every call placed and seen through, rung and ended at the phone, and calldesk
        has each once."""
        return (
            self.sipp.created == self.sipp.succeeded == calls
            and self.rang == self.ended == self.offered == self.closed == calls
            and self.as_the_phone_said()
        )


def throughput(
    line: Line, agent: BaresipPeer, calls: int, rate: int, folder: Path
) -> Carried:
    began_at = len(line.phone.read)
    run = sipp(agent, calls, rate, folder)
    call_ids = run.call_ids()
    calls_of = {call_id: Call.create_id(TENANT, VENDOR, call_id) for call_id in call_ids}
    reported = Reported(line.phone, call_ids, since=began_at)
    saves = line.saves

    def done() -> bool:
        """The phone ended every call it rang, and calldesk has each offered and closed."""
        reported.catch_up()
        return (
            reported.rang == reported.closed
            and all(calls_of[c] in saves.offered for c in reported.rang)
            and all(calls_of[c] in saves.closed for c in reported.closed)
        )

    saves.settle(done)
    reported.catch_up()
    closings = [saves.closed[call] for call in calls_of.values() if call in saves.closed]
    offered: set[str] = set()
    closed: set[str] = set()
    offered_twice = twice = applied_twice = ignored = 0
    outcomes: Counter[str] = Counter()
    for call_id, call in calls_of.items():
        history = list(line.desk.store.events.get(call))
        if not history:
            continue
        kinds = Counter(type(event).__name__ for event in history)
        if kinds["Offered"]:
            offered.add(call_id)
        if kinds["Closed"]:
            closed.add(call_id)
        offered_twice += kinds["Offered"] > 1
        twice += kinds["Ended"] > 1 or kinds["Closed"] > 1
        ignored += kinds["SignalIgnored"]
        metas = [(type(e).__name__, getattr(e, "signal", None)) for e in history]
        signals = Counter(
            (kind, meta.signal_id) for kind, meta in metas if isinstance(meta, SignalMeta)
        )
        applied_twice += any(count > 1 for count in signals.values())
        view = line.desk.call(TENANT, str(call))
        outcomes[view.outcome.value if view.outcome else view.state.value] += 1
    return Carried(
        rate,
        run,
        len(reported.rang),
        len(reported.closed),
        len(offered),
        len(closed),
        len((reported.rang - offered) | (reported.closed - closed)),
        len(offered - reported.rang),
        outcomes,
        offered_twice,
        twice,
        applied_twice,
        ignored,
        (max(closings, default=run.ended) - run.ended) / 1e6,
    )


# Stores, runs, tables.


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="calls timed one by one")
    parser.add_argument("--sipp-calls", type=int, default=500, help="calls at each rate")
    parser.add_argument(
        "--rates", default="25,50,100,200,400,600", help="calls a second, rising"
    )
    parser.add_argument("--postgres", default=os.environ.get("CALLDESK_TEST_DATABASE_URL"))
    arguments = parser.parse_args(argv)
    rates = [int(rate) for rate in arguments.rates.split(",")]
    for tool in (BARESIP, SIPP):
        if not tool.exists():
            raise SystemExit(
                f"{tool} is not installed (apt-get install baresip-core sip-tester)"
            )
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    console.print(f"load average before the run: {load} (other work skews every figure)")
    timed: list[list[str]] = []
    carried: list[tuple[str, Carried]] = []
    with tempfile.TemporaryDirectory(prefix="calldesk-sip-bench-") as temporary:
        folder = Path(temporary)
        agent = BaresipPeer(folder / "agent", "agent", max_calls=AGENT_MAX_CALLS)
        caller = BaresipPeer(folder / "caller", ADA_PHONE.e164, tone=1000)
        with (
            running(agent, caller),
            caller.control() as control,
            fresh_stores(arguments.postgres) as measured,
        ):
            for store, (url,) in measured:
                records = folder / f"{store}-records.db"  # each log its projection
                with line_on(url, records, agent) as line:
                    console.print(f"[bold]{store}[/]: {arguments.calls} calls in turn")
                    one_by_one = latencies(line, control, agent, arguments.calls)
                    timed += latency_rows(store, one_by_one)
                    for rate in rates:
                        calls = arguments.sipp_calls
                        console.print(f"[bold]{store}[/]: SIPp, {calls} calls at {rate}/s")
                        run = throughput(line, agent, calls, rate, folder / f"sipp-{rate}")
                        carried.append((store, run))
                        if not run.whole(calls):
                            break
    where = f"{platform.node()}, {os.cpu_count()} cores"
    latency_table = Table(
        "store",
        "what",
        "calls",
        "p50 ms",
        "p99 ms",
        "max ms",
        "mean ms",
        title=f"A real SIP call offered: a baresip caller, the agent's baresip ({where})",
    )
    for row in timed:
        latency_table.add_row(*row)
    console.print(latency_table)
    console.print(carried_table(carried, arguments.sipp_calls, where))


def carried_table(carried: Sequence[tuple[str, Carried]], calls: int, where: str) -> Table:
    table = Table(
        "store",
        "rate/s",
        "SIPp placed\n/ok/failed",
        "SIPp\nretrans",
        "phone rang\n/ended",
        "calldesk\noffered/closed",
        "missing\n/unreported",
        "outcomes",
        "doubled: offer\n/end/signal",
        "signals\nignored",
        "last close after\nSIPp's end, ms",
        "calldesk\n= phone",
        "whole",
        title=f"SIPp callers who give up while it rings, {calls} calls a rate, "
        f"into one agent's baresip phone ({where})",
    )
    for store, run in carried:
        table.add_row(
            store,
            str(run.rate),
            f"{run.sipp.created}/{run.sipp.succeeded}/{run.sipp.failed}",
            str(run.sipp.retransmissions),
            f"{run.rang}/{run.ended}",
            f"{run.offered}/{run.closed}",
            f"{run.missing}/{run.unreported}",
            ", ".join(f"{kind} {n}" for kind, n in sorted(run.outcomes.items())),
            f"{run.offered_twice}/{run.ended_or_closed_twice}/{run.applied_twice}",
            str(run.ignored),
            f"{run.last_close_ms:.0f}",
            "yes" if run.as_the_phone_said() else "no",
            "yes" if run.whole(calls) else "no",
        )
    return table


if __name__ == "__main__":
    main()
