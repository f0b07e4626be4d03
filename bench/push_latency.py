"""How soon an agent's page hears what was recorded: push latency, against a bare SSE echo.

A hundred agents of one tenant (a-0 ... a-99, each with a bearer token of its own) hold
a server-sent-event stream open, GET /agents/{agent}/events, on a connector served by
uvicorn on 127.0.0.1, while call signals are fed to the desk at a fixed pace (waves of
calls, one per agent: offered, connected, held, resumed, ended; no wrap-up). Each
message is matched to the signal that recorded it by its id, its position in the log;
its latency runs from the moment the signal enters the application (``Desk.hear``) to
the moment its client has read the whole frame. Server, clients (asyncio tasks reading
httpx streams on an event loop and thread of their own) and the feeder share one
process, so both ends read ``time.perf_counter_ns``.

The baseline sends exactly the frames calldesk sent (the same clients, ids and bodies,
at the same pace, each batch told at the moment its signal was fed) through a bare SSE
echo: a plain ASGI app on the same uvicorn that writes a frame as soon as it is told
to, with no calldesk inside. A minimal Litestar echo shows what the framework alone
adds. Targets (issue [connector], ADR/0010): p99 under 10 ms, and within 2x of the
bare echo's p99.

    .venv/bin/python bench/push_latency.py [--signals N] [--rate N] [--agents N]
                                           [--postgres URL]

PostgreSQL runs too when --postgres (or CALLDESK_TEST_DATABASE_URL) names a server; the
run uses a schema of its own, dropped afterwards.
"""

import argparse
import asyncio
import contextlib
import logging
import math
import os
import platform
import statistics
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import attrs
import httpx
from litestar import Litestar, get
from litestar.response import ServerSentEvent, ServerSentEventMessage
from rich.console import Console
from rich.table import Table
from stores import fresh_stores

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.push import PAGE, PushHub
from calldesk.adapters.http.serving import served_in_thread
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant, SetWrapUpPolicy
from calldesk.domain.access import Role
from calldesk.domain.signals import CallSignal, Party, SignalKind
from calldesk.domain.tenants import WrapUpPolicy
from calldesk.ports.log import Logged

TENANT, VENDOR = "acme", "bench-pbx"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
TARGET_P99_MS = 10.0
TARGET_FACTOR = 2.0
#: The run is over when every expected frame has arrived, or nothing came for this long.
QUIET_SECONDS = 2.0
console = Console(highlight=False, width=130)

Scope = Mapping[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@attrs.frozen
class Frame:
    """One server-sent event as its client read it."""

    agent: str
    id: int
    event: str
    data: str
    at: int  # perf_counter_ns when the blank line that ends it was read


@attrs.frozen
class Run:
    """What one push delivered: frames, and when each signal entered and was saved."""

    frames: list[Frame]
    entered: dict[int, int]  # signal -> perf_counter_ns it entered the application
    signal_of: dict[int, int]  # position -> the signal that recorded it
    expected: set[tuple[str, int]]
    seconds: float
    behind_ms: float  # how late the feeder fell behind its schedule, at most
    cpu: tuple[float, float] = (math.nan, math.nan)  # cores busy: this process, the rest
    committed: dict[int, int] = attrs.Factory(dict)  # position -> its save returned
    handed: dict[int, int] = attrs.Factory(dict)  # position -> queued on the streams

    def live(self) -> list[Frame]:
        return [f for f in self.frames if f.event != "snapshot" and f.id in self.signal_of]

    def latency_ms(self, frame: Frame) -> float:
        return (frame.at - self.entered[self.signal_of[frame.id]]) / 1e6

    def latencies_ms(self) -> list[float]:
        return [self.latency_ms(f) for f in self.live()]

    def per_signal_ms(self) -> tuple[list[float], list[float]]:
        """The first and the last frame of each signal at each agent it concerns."""
        by_signal: dict[tuple[str, int], list[float]] = {}
        for frame in self.live():
            key = (frame.agent, self.signal_of[frame.id])
            by_signal.setdefault(key, []).append(self.latency_ms(frame))
        return [min(v) for v in by_signal.values()], [max(v) for v in by_signal.values()]

    def stages_ms(self) -> list[tuple[str, list[float]]]:
        """Where a frame's time goes, when the run recorded when it was saved and queued."""
        if not self.committed:
            return []
        live = [f for f in self.live() if f.id in self.committed and f.id in self.handed]
        return [
            (
                "signal in -> saved (Desk.hear until the commit)",
                [
                    (self.committed[f.id] - self.entered[self.signal_of[f.id]]) / 1e6
                    for f in live
                ],
            ),
            (
                "saved -> queued on the stream (loop woken)",
                [(self.handed[f.id] - self.committed[f.id]) / 1e6 for f in live],
            ),
            (
                "queued -> frame read (frame encoded, SSE, client)",
                [(f.at - self.handed[f.id]) / 1e6 for f in live],
            ),
            (
                "saved -> frame read (the push alone, timed as the echo is)",
                self.pushed_ms(),
            ),
        ]

    def pushed_ms(self) -> list[float]:
        """From each frame's commit to its reading: what the push adds to the write."""
        return [
            (f.at - self.committed[f.id]) / 1e6
            for f in self.live()
            if f.id in self.committed
        ]

    def missed(self) -> int:
        return len(self.expected - {(f.agent, f.id) for f in self.live()})

    def repeated(self) -> int:
        live = self.live()
        return len(live) - len({(f.agent, f.id) for f in live})


class FrozenClock:
    """The connector's clock: tokens are checked and commands stamped at START."""

    def now(self) -> datetime:
        return START


# The load.


def call_signals(count: int, agents: int) -> list[CallSignal]:
    """Waves of calls, one per agent: each wave offers every agent a call, then connects,
    holds, resumes and ends them all (the customer hangs up); `count` signals in all."""
    script = [
        (SignalKind.OFFERED, 0),
        (SignalKind.CONNECTED, 5),
        (SignalKind.HELD, 30),
        (SignalKind.RESUMED, 45),
        (SignalKind.ENDED, 120),
    ]
    signals: list[CallSignal] = []
    for wave in range(math.ceil(count / (agents * len(script)))):
        began = START + timedelta(minutes=5 * wave)
        for kind, offset in script:
            for n in range(agents):
                call = f"call-{wave}-{n}"
                signals.append(
                    CallSignal(
                        vendor=VENDOR,
                        vendor_event_id=f"{call}-{kind.value}",
                        vendor_call_id=call,
                        kind=kind,
                        occurred_at=began + timedelta(seconds=offset),
                        customer_number=f"+1650555{(wave * agents + n) % 10_000:04d}",
                        agent=f"a-{n}",
                        ended_by=Party.CUSTOMER if kind is SignalKind.ENDED else None,
                    )
                )
    return signals[:count]


def prepared(desk: Desk, agents: int) -> dict[str, dict[str, str]]:
    """A tenant whose agents are available, and each agent's Authorization header.

    No wrap-up: a call closes when it ends and the agent is available again, so each
    softphone shows one call at a time (nobody here would end a wrap-up, and calls left
    in it would pile up on every agent's screen, and in every frame).
    """
    desk.create_tenant(CreateTenant(TENANT, name="Acme", at=START))
    no_wrap_up = WrapUpPolicy(limit_seconds=0, auto_ready=True)
    desk.set_wrap_up_policy(SetWrapUpPolicy(TENANT, no_wrap_up, at=START))
    headers: dict[str, dict[str, str]] = {}
    for n in range(agents):
        agent = f"a-{n}"
        desk.register_agent(RegisterAgent(TENANT, agent, name=f"Agent {n}", at=START))
        desk.log_in(LogIn(TENANT, agent, at=START))
        desk.go_available(GoAvailable(TENANT, agent, at=START))
        secret = f"bench-secret-of-{agent}-".ljust(40, "x")
        token = IssueToken(
            TENANT, agent, Role.AGENT, at=START, expires_at=START + timedelta(days=1)
        )
        desk.issue_token(token, secret)
        headers[agent] = {"Authorization": f"Bearer {secret}"}
    return headers


@attrs.frozen
class Pace:
    """How the feeding went: seconds, how far behind schedule, cores kept busy."""

    seconds: float
    behind_ms: float
    cpu: tuple[float, float]  # this process, the rest of the machine (nan off Linux)


def feed(count: int, rate: float, enter: Callable[[int], None]) -> Pace:
    """Call enter(0 ... count-1) on a fixed schedule."""
    interval = 1e9 / rate
    own, busy = _cpu_seconds()
    began = time.perf_counter_ns()
    behind = 0
    for n in range(count):
        wait = began + round(n * interval) - time.perf_counter_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        else:
            behind = max(behind, -wait)
        enter(n)
    seconds = (time.perf_counter_ns() - began) / 1e9
    own_after, busy_after = _cpu_seconds()
    mine = (own_after - own) / seconds
    rest = max(0.0, (busy_after - busy) / seconds - mine)  # the clocks tick differently
    return Pace(seconds, behind / 1e6, (mine, rest))


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds used by this process, and by the whole machine (/proc/stat)."""
    times = os.times()
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return times.user + times.system, math.nan
    ticks = [int(f) for f in fields[:8]]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    return times.user + times.system, busy / os.sysconf("SC_CLK_TCK")


# Serving and listening.


@contextmanager
def serving(
    app: Callable[..., Any], lifespan: Literal["auto", "on", "off"]
) -> Iterator[str]:
    """The base URL of this ASGI app served by uvicorn on loopback, until the block ends."""
    with served_in_thread(app, lifespan=lifespan, graceful_seconds=5) as url:
        yield url


class Listeners:
    """One SSE client per agent, on an event loop and thread of their own."""

    def __init__(self, base_url: str, headers: Mapping[str, Mapping[str, str]]) -> None:
        self.base_url, self.headers = base_url, headers
        self.frames: list[Frame] = []
        self.ended: list[str] = []  # streams the server closed, or that failed
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    def __enter__(self) -> "Listeners":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(60)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def count(self) -> int:
        return len(self.frames)

    async def _open(self) -> None:
        """Every stream connected and its first frame (the snapshot) read."""
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(10, read=None),
            limits=httpx.Limits(max_connections=len(self.headers) + 10),
        )
        opened = {agent: asyncio.Event() for agent in self.headers}
        self._tasks = [
            asyncio.create_task(self._listen(agent, headers, opened[agent]))
            for agent, headers in self.headers.items()
        ]
        waits = [asyncio.create_task(e.wait()) for e in opened.values()]
        _, pending = await asyncio.wait(waits, timeout=30)
        for wait in pending:
            wait.cancel()
        if pending:
            raise RuntimeError(f"{len(pending)} streams did not open; ended: {self.ended}")

    async def _listen(
        self, agent: str, headers: Mapping[str, str], opened: asyncio.Event
    ) -> None:
        assert self._client is not None
        try:
            async with self._client.stream(
                "GET", f"/agents/{agent}/events", headers=dict(headers)
            ) as response:
                response.raise_for_status()
                fields: dict[str, str] = {}
                async for line in response.aiter_lines():
                    if line:
                        if not line.startswith(":"):
                            name, _, value = line.partition(":")
                            fields[name] = value.removeprefix(" ")
                        continue
                    if "id" in fields:
                        at = time.perf_counter_ns()
                        self.frames.append(
                            Frame(
                                agent,
                                int(fields["id"]),
                                fields.get("event", "message"),
                                fields.get("data", ""),
                                at,
                            )
                        )
                        opened.set()
                    fields = {}
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.ended.append(f"{agent}: {error!r}")
            return
        self.ended.append(f"{agent}: closed by the server")

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()


def settle(listeners: Listeners, expected: int) -> None:
    """Wait until `expected` frames arrived, or none came for QUIET_SECONDS."""
    last, quiet_since = -1, time.monotonic()
    while listeners.count() < expected:
        count = listeners.count()
        if count != last:
            last, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since > QUIET_SECONDS:
            return
        time.sleep(0.01)


# calldesk.


def through_calldesk(url: str, signals: Sequence[CallSignal], rate: float) -> Run:
    """Signals into a desk, SSE frames out of its connector to every agent's client."""
    agents = len({s.agent for s in signals})
    with Desk.at(url) as desk:
        headers = prepared(desk, agents)
        app = create_app(desk, FrozenClock(), ConnectorConfig())
        hub: PushHub = app.state.hub
        entered: dict[int, int] = {}
        signal_of: dict[int, int] = {}
        committed: dict[int, int] = {}
        handed: dict[int, int] = {}
        hand_out = hub.hand_out

        def queued(logged: Logged) -> None:  # in the server's loop
            handed[logged.position] = time.perf_counter_ns()
            hand_out(logged)

        hub.hand_out = queued  # type: ignore[method-assign]
        feeding = {"signal": -1, "head": desk.head()}
        first = feeding["head"]

        def saved(logged: Sequence[Logged]) -> None:  # after each commit
            at, newest = time.perf_counter_ns(), logged[-1].position
            for position in range(feeding["head"] + 1, newest + 1):
                signal_of[position], committed[position] = feeding["signal"], at
            feeding["head"] = newest

        desk.store.on_recorded(saved)

        def enter(n: int) -> None:
            feeding["signal"] = n
            entered[n] = time.perf_counter_ns()
            desk.hear(TENANT, signals[n], signals[n].occurred_at)

        with serving(app, "on") as base_url, Listeners(base_url, headers) as listeners:
            snapshots = listeners.count()
            pace = feed(len(signals), rate, enter)
            expected = audiences(hub, first, feeding["head"], set(headers))
            settle(listeners, snapshots + len(expected))
            frames = list(listeners.frames)
            if listeners.ended:
                console.print(f"[red]streams ended early:[/] {listeners.ended[:5]}")
    return Run(
        frames,
        entered,
        signal_of,
        expected,
        pace.seconds,
        pace.behind_ms,
        pace.cpu,
        committed,
        handed,
    )


def audiences(
    hub: PushHub, after: int, head: int, agents: set[str]
) -> set[tuple[str, int]]:
    """The (agent, position) frames the connector owes its clients for these positions."""
    owed: set[tuple[str, int]] = set()
    while after < head:
        page = hub.log.read_after(after, PAGE)
        if not page:
            break
        for recorded in page:
            audience = recorded.audience
            if audience is not None and audience.tenant == TENANT:
                owed |= {(a, recorded.position) for a in audience.agents & agents}
        after = page[-1].position
    return owed


# The bare echo.


class Echo:
    """Each client's frames, written as soon as the feeder tells it: no calldesk inside."""

    def __init__(self, headers: Mapping[str, Mapping[str, str]]) -> None:
        self.agent_of = {h["Authorization"]: agent for agent, h in headers.items()}
        self.queues: dict[str, asyncio.Queue[Frame]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def tell(self, frames: Sequence[Frame]) -> None:
        """From any thread: push these frames to their agents' streams."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self._push, frames)

    def _push(self, frames: Sequence[Frame]) -> None:
        for frame in frames:
            self.queues[frame.agent].put_nowait(frame)

    def open(self, agent: str) -> asyncio.Queue[Frame]:
        self.loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Frame] = asyncio.Queue()
        self.queues[agent] = queue
        return queue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The plain ASGI app: GET /agents/{agent}/events, checked against its token."""
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        agent = scope["path"].split("/")[2]
        if self.agent_of.get(headers.get(b"authorization", b"").decode()) != agent:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        queue = self.open(agent)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )

        async def pump() -> None:
            await send_frame(Frame(agent, 0, "snapshot", "{}", 0))
            while True:
                await send_frame(await queue.get())

        async def send_frame(frame: Frame) -> None:
            body = f"id: {frame.id}\r\nevent: {frame.event}\r\ndata: {frame.data}\r\n\r\n"
            await send(
                {"type": "http.response.body", "body": body.encode(), "more_body": True}
            )

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = {asyncio.create_task(pump()), asyncio.create_task(disconnected())}
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def litestar_echo(echo: Echo) -> Litestar:
    """The same echo as a minimal Litestar handler streaming ServerSentEventMessages."""

    @get("/agents/{agent:str}/events")
    async def events(agent: str) -> ServerSentEvent:
        queue = echo.open(agent)

        async def messages() -> AsyncIterator[ServerSentEventMessage]:
            yield ServerSentEventMessage(data="{}", event="snapshot", id=0)
            while True:
                frame = await queue.get()
                yield ServerSentEventMessage(
                    data=frame.data, event=frame.event, id=frame.id
                )

        return ServerSentEvent(messages(), headers={"Cache-Control": "no-store"})

    return Litestar(route_handlers=[events], openapi_config=None)


def through_echo(
    plain: bool, calldesk: Run, headers: Mapping[str, Mapping[str, str]], rate: float
) -> Run:
    """calldesk's frames again, each batch told to the echo when its signal was fed."""
    told: dict[int, list[Frame]] = {}
    for frame in sorted(calldesk.live(), key=lambda f: f.id):
        told.setdefault(calldesk.signal_of[frame.id], []).append(frame)
    echo = Echo(headers)
    entered: dict[int, int] = {}

    def enter(n: int) -> None:
        entered[n] = time.perf_counter_ns()
        if n in told:
            echo.tell(told[n])

    app: Callable[..., Any] = echo if plain else litestar_echo(echo)
    with (
        serving(app, "off" if plain else "on") as base_url,
        Listeners(base_url, headers) as listeners,
    ):
        snapshots = listeners.count()
        pace = feed(len(calldesk.entered), rate, enter)
        settle(listeners, snapshots + sum(len(frames) for frames in told.values()))
        frames = list(listeners.frames)
    expected = {(f.agent, f.id) for frames in told.values() for f in frames}
    return Run(
        frames,
        entered,
        calldesk.signal_of,
        expected,
        pace.seconds,
        pace.behind_ms,
        pace.cpu,
    )


# Stores, figures, table.


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value at least `share` of the values do not exceed."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> tuple[float, float, float, float]:
    """p50, p99, max and mean of these values."""
    ordered = sorted(values)
    if not ordered:
        return (math.nan,) * 4
    return (
        percentile(ordered, 0.50),
        percentile(ordered, 0.99),
        ordered[-1],
        statistics.fmean(ordered),
    )


def stages(rows: Sequence[tuple[str, Run]]) -> Table:
    """Each run's first and last frame of a signal, and where calldesk's time goes."""
    table = Table(
        "push",
        "what",
        "count",
        "p50 ms",
        "p99 ms",
        "max ms",
        title="Where the time goes",
    )
    for name, run in rows:
        first, last = run.per_signal_ms()
        measured = [
            ("first frame of a signal at its agent", first),
            ("last frame of a signal at its agent", last),
            *run.stages_ms(),
        ]
        for what, values in measured:
            p50, p99, most, _ = summary(values)
            table.add_row(
                name, what, str(len(values)), f"{p50:.2f}", f"{p99:.2f}", f"{most:.2f}"
            )
        table.add_section()
    return table


def main(argv: Sequence[str] | None = None) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per stream opened
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--signals", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="signals a second")
    parser.add_argument("--agents", type=int, default=100, help="clients, one an agent")
    parser.add_argument("--postgres", default=os.environ.get("CALLDESK_TEST_DATABASE_URL"))
    arguments = parser.parse_args(argv)
    signals = call_signals(arguments.signals, arguments.agents)
    rate = arguments.rate
    rows: list[tuple[str, Run]] = []
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    console.print(f"load average before the run: {load} (other work skews every figure)")
    with fresh_stores(arguments.postgres) as measured:
        for name, (url,) in measured:
            console.print(
                f"[bold]calldesk, {name}[/]: {len(signals)} signals at {rate:g}/s "
                f"to {arguments.agents} streams"
            )
            rows.append(
                (f"calldesk connector, {name}", through_calldesk(url, signals, rate))
            )
    first = rows[0][1]
    headers = {
        f"a-{n}": {"Authorization": f"Bearer echo-{n}"} for n in range(arguments.agents)
    }
    console.print("[bold]bare ASGI echo[/], then [bold]Litestar echo[/]: the same frames")
    bare = through_echo(True, first, headers, rate)
    rows += [
        ("bare ASGI SSE echo", bare),
        ("Litestar SSE echo", through_echo(False, first, headers, rate)),
    ]
    bare_p99 = summary(bare.latencies_ms())[1]

    table = Table(
        "push",
        "frames",
        "missed",
        "p50 ms",
        "p99 ms",
        "max ms",
        "mean ms",
        f"p99 < {TARGET_P99_MS:g} ms",
        f"p99 ≤ {TARGET_FACTOR:g}x bare",
        title=f"Push latency, signal in to SSE frame read: {arguments.agents} streams, "
        f"{len(signals)} signals at {rate:g}/s ({platform.node()}, {os.cpu_count()} cores)",
    )
    for name, run in rows:
        p50, p99, most, mean = summary(run.latencies_ms())
        calldesk = name.startswith("calldesk")
        table.add_row(
            name,
            str(len(run.live())),
            str(run.missed()),
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"{most:.2f}",
            f"{mean:.2f}",
            ("met" if p99 < TARGET_P99_MS else "missed") if calldesk else "",
            ("met" if p99 <= TARGET_FACTOR * bare_p99 else "missed") if calldesk else "",
        )
    console.print(table)
    console.print(stages(rows))
    for name, run in rows:
        if run.committed:
            pushed_p99 = summary(run.pushed_ms())[1]
            console.print(
                f"{name}: from the commit on, p99 {pushed_p99:.2f} ms = "
                f"{pushed_p99 / bare_p99:.1f}x the bare echo's p99 ({bare_p99:.2f} ms)"
            )
    for name, run in rows:
        frames = len(run.live())
        signals_with_frames = len({run.signal_of[f.id] for f in run.live()})
        console.print(
            f"{name}: fed in {run.seconds:.1f} s, at most {run.behind_ms:.1f} ms behind "
            f"schedule; {frames / max(1, signals_with_frames):.2f} frames a signal; "
            f"{run.repeated()} frames repeated; cores busy: this process "
            f"{run.cpu[0]:.2f}, the rest of the machine {run.cpu[1]:.2f}"
        )


if __name__ == "__main__":
    main()
