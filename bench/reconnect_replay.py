"""What a reconnect costs: a replay after Last-Event-ID, as others' events pile up.

An agent's page that reconnects sends the position of the last frame it read
(Last-Event-ID); the connector replays what concerns the agent after it, then goes live
(``PushHub.messages``, ADR/0010). Target: the replay's cost grows with the agent's own
missed events, not with the tenant's: a reconnect after 10,000 events of other agents
costs at most 2x one after 100, with the same number of the agent's own missed events.

One tenant, its agent a-0 and 50 others (``--agents``), all logged in, through the Desk
API. For each size of "others' events" in turn (100, then 10,000; ``--others``), while
a-0's page is away: the others go not ready (a reason of the tenant's, in turn) and
available again, that many times, and a-0 does so K times (``--own``, 20), its commands
spread evenly among theirs. The others' commands are saved ``--batch`` at a time (10),
each batch of different agents in one ``Desk.atomically`` block, one event each; each of
a-0's commands is saved alone, and its positions, heard with ``Store.on_recorded``, are
the K frames the reconnect owes. Then a-0 reconnects R times (``--reconnects``, 20,
after 2 untimed): GET /agents/a-0/events with its bearer token and Last-Event-ID = the
head before the size's events, on the real connector (``create_app``) served by uvicorn
on 127.0.0.1, read by an httpx client in the main thread, one new connection each time.

Timed: from just before the request is sent to the moment the client has read the
blank line that ends the K-th replayed frame (TCP connect, token check, the connector's
replay, SSE, parsing). Each reconnect is then read on until the stream's first
heartbeat (the connector beats every 0.1 s here, once live and idle): every frame it
sent is checked, exactly the K positions expected, in log order, none twice ("frames
right" counts the reconnects that passed, the untimed ones too; any other exits 1). The
baseline is the first size's run (100 others' events), measured in the same run on the
same store. The connector replays at most ``replay_limit`` positions (10,000 by default)
and sends a snapshot beyond; the benchmark raises it to cover the largest size.

    .venv/bin/python bench/reconnect_replay.py [--others 100 10000] [--own K]
        [--reconnects R] [--agents N] [--batch N] [--postgres URL]

PostgreSQL runs too when --postgres (or CALLDESK_TEST_DATABASE_URL) names a server; the
run uses a schema of its own, dropped afterwards.
"""

import argparse
import itertools
import logging
import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs
import httpx
from rich.console import Console
from rich.table import Table
from stores import fresh_stores

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.serving import served_in_thread
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, GoNotReady, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant
from calldesk.domain.access import Role
from calldesk.domain.tenants import DEFAULT_NOT_READY_REASONS
from calldesk.ports.log import Logged

TENANT, AGENT = "acme", "a-0"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
TARGET_FACTOR = 2.0
HEARTBEAT_SECONDS = 0.1
WARM_UPS = 2
REASONS = [reason.code for reason in DEFAULT_NOT_READY_REASONS]
console = Console(highlight=False, width=130)


class FrozenClock:
    """The connector's clock: tokens are checked at START."""

    def now(self) -> datetime:
        return START


class Presence:
    """Each agent's next command: not ready for the next reason, then available."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.at = START
        self.available: dict[str, bool] = {}
        self._reasons = itertools.cycle(REASONS)

    def toggle(self, agent: str) -> None:
        self.at += timedelta(seconds=1)
        if self.available.get(agent, False):
            self.desk.go_not_ready(
                GoNotReady(TENANT, agent, reason=next(self._reasons), at=self.at)
            )
        else:
            self.desk.go_available(GoAvailable(TENANT, agent, at=self.at))
        self.available[agent] = not self.available.get(agent, False)


def prepared(desk: Desk, agents: int) -> dict[str, str]:
    """The tenant, a-0 and `agents` others logged in; a-0's Authorization header."""
    desk.create_tenant(CreateTenant(TENANT, name="Acme", at=START))
    for n in range(agents + 1):
        agent = f"a-{n}"
        desk.register_agent(RegisterAgent(TENANT, agent, name=f"Agent {n}", at=START))
        desk.log_in(LogIn(TENANT, agent, at=START))
    secret = f"bench-secret-of-{AGENT}-".ljust(40, "x")
    token = IssueToken(
        TENANT, AGENT, Role.AGENT, at=START, expires_at=START + timedelta(days=365)
    )
    desk.issue_token(token, secret)
    return {"Authorization": f"Bearer {secret}"}


@attrs.frozen
class Gap:
    """What a-0 missed: the position it last read, and the positions of its own events."""

    after: int
    own: list[int]
    others: int  # the others' events in the log after `after`
    seconds: float


def missed_while_away(
    desk: Desk, presence: Presence, others: int, own: int, agents: int, batch: int
) -> Gap:
    """`others` events of the other agents, `own` of a-0's spread evenly among them."""
    after = desk.head()
    began = time.perf_counter()
    own_positions: list[int] = []
    heard: list[Logged] = []
    stop_hearing = desk.store.on_recorded(heard.extend)
    # a-0's j-th command goes after this many of the others' commands
    places = iter(sorted(round((j + 0.5) * others / own) for j in range(own)))
    place = next(places, None)
    cycle = itertools.cycle(f"a-{n}" for n in range(1, agents + 1))
    pending: list[str] = []

    def flush() -> None:
        with desk.atomically():
            for agent in pending:
                presence.toggle(agent)
        pending.clear()

    try:
        for done in range(others + 1):
            while place == done:
                if pending:
                    flush()
                heard.clear()
                presence.toggle(AGENT)
                own_positions += [e.position for e in heard]
                place = next(places, None)
            if done == others:
                break
            pending.append(next(cycle))
            if len(pending) == min(batch, agents):
                flush()
        if pending:
            flush()
    finally:
        stop_hearing()
    seconds = time.perf_counter() - began
    recorded = desk.head() - after
    if len(own_positions) != own or recorded != others + own:
        raise RuntimeError(
            f"expected {others} + {own} events, recorded {recorded} "
            f"with {len(own_positions)} of a-0's"
        )
    return Gap(after, own_positions, recorded - own, seconds)


@attrs.frozen
class Reconnect:
    """One reconnect as its client read it."""

    ms: float  # request sent -> the K-th frame read
    ids: list[int]  # every frame's id, until the first heartbeat


def reconnect(
    client: httpx.Client, headers: dict[str, str], after: int, own: int
) -> Reconnect:
    """GET the agent's events with Last-Event-ID; read frames until the first heartbeat."""
    ids: list[int] = []
    ms = math.nan
    began = time.perf_counter_ns()
    with client.stream(
        "GET",
        f"/agents/{AGENT}/events",
        headers={**headers, "Last-Event-ID": str(after)},
    ) as response:
        response.raise_for_status()
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line.startswith(":"):
                if "heartbeat" in line:
                    break
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "id" in fields:
                ids.append(int(fields["id"]))
                if len(ids) == own:
                    ms = (time.perf_counter_ns() - began) / 1e6
            fields = {}
    return Reconnect(ms, ids)


@attrs.frozen
class Row:
    others: int
    own: int
    timings: list[float]
    wrong: int  # reconnects whose frames were not exactly the K expected, in order
    generated_seconds: float

    def median(self) -> float:
        return statistics.median(self.timings) if self.timings else math.nan

    def p95(self) -> float:
        return percentile(sorted(self.timings), 0.95) if self.timings else math.nan


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value at least `share` of the values do not exceed."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measured(
    client: httpx.Client, headers: dict[str, str], gap: Gap, reconnects: int
) -> Row:
    """Untimed reconnects first, then `reconnects` timed ones, each checked."""
    timings: list[float] = []
    wrong = 0
    for n in range(WARM_UPS + reconnects):
        read = reconnect(client, headers, gap.after, len(gap.own))
        if read.ids != gap.own:
            wrong += 1
            if wrong == 1:
                console.print(
                    f"[red]frames {read.ids[:30]}... expected {gap.own[:30]}...[/]"
                )
        if n >= WARM_UPS and not math.isnan(read.ms):
            timings.append(read.ms)
    return Row(gap.others, len(gap.own), timings, wrong, gap.seconds)


def through_connector(
    url: str,
    sizes: Sequence[int],
    own: int,
    reconnects: int,
    agents: int,
    batch: int,
) -> list[Row]:
    rows: list[Row] = []
    with Desk.at(url) as desk:
        headers = prepared(desk, agents)
        presence = Presence(desk)
        config = ConnectorConfig(
            heartbeat_seconds=HEARTBEAT_SECONDS,
            replay_limit=max(ConnectorConfig().replay_limit, 2 * (max(sizes) + own)),
        )
        app = create_app(desk, FrozenClock(), config)
        with (
            served_in_thread(app, graceful_seconds=5) as base_url,
            httpx.Client(base_url=base_url, timeout=httpx.Timeout(30)) as client,
        ):
            for others in sizes:
                gap = missed_while_away(desk, presence, others, own, agents, batch)
                console.print(
                    f"  {gap.others} others' events and {own} of a-0's after position "
                    f"{gap.after}, recorded in {gap.seconds:.1f} s; reconnecting"
                )
                rows.append(measured(client, headers, gap, reconnects))
    return rows


def table(name: str, rows: Sequence[Row], reconnects: int) -> Table:
    baseline = rows[0]
    result = Table(
        "others' events",
        "own missed events",
        "reconnects",
        "median ms",
        "p95 ms",
        "ratio median",
        "ratio p95",
        f"median ≤ {TARGET_FACTOR:g}x",
        "frames right",
        title=f"Reconnect replay, {name}: request sent -> K-th frame read, ratios to "
        f"the first row ({platform.node()}, {os.cpu_count()} cores)",
    )
    for row in rows:
        ratio = row.median() / baseline.median()
        result.add_row(
            f"{row.others:,}",
            str(row.own),
            str(len(row.timings)),
            f"{row.median():.2f}",
            f"{row.p95():.2f}",
            f"{ratio:.2f}",
            f"{row.p95() / baseline.p95():.2f}",
            "" if row is baseline else ("met" if ratio <= TARGET_FACTOR else "missed"),
            f"{WARM_UPS + reconnects - row.wrong}/{WARM_UPS + reconnects}",
        )
    return result


def main(argv: Sequence[str] | None = None) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per reconnect
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--others",
        type=int,
        nargs="+",
        default=[100, 10_000],
        help="sizes of the others' events, the first the baseline",
    )
    parser.add_argument("--own", type=int, default=20, help="a-0's own missed events")
    parser.add_argument("--reconnects", type=int, default=20, help="timed, per size")
    parser.add_argument("--agents", type=int, default=50, help="other agents")
    parser.add_argument(
        "--batch", type=int, default=10, help="others' commands saved together"
    )
    parser.add_argument("--postgres", default=os.environ.get("CALLDESK_TEST_DATABASE_URL"))
    arguments = parser.parse_args(argv)
    if arguments.own < 1 or arguments.reconnects < 1 or arguments.agents < 1:
        parser.error("--own, --reconnects and --agents take 1 or more")
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    console.print(f"load average before the run: {load} (other work skews every figure)")
    began = time.perf_counter()
    wrong = 0
    with fresh_stores(arguments.postgres) as stores:
        for name, (url,) in stores:
            console.print(f"[bold]{name}[/]: a-0 and {arguments.agents} other agents")
            rows = through_connector(
                url,
                arguments.others,
                arguments.own,
                arguments.reconnects,
                arguments.agents,
                arguments.batch,
            )
            console.print(table(name, rows, arguments.reconnects))
            wrong += sum(row.wrong for row in rows)
    console.print(f"whole run: {time.perf_counter() - began:.0f} s")
    if wrong:
        raise SystemExit(f"{wrong} reconnects replayed other frames than expected")


if __name__ == "__main__":
    main()
