"""Queries in other threads never see a command's changes before they are saved."""

import threading
from datetime import UTC, datetime, timedelta

from support.desk_driver import log_in, ready, tenant_with_agent

from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.signals import CallSignal, Party, SignalKind

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
AGENTS = [f"a-{n}" for n in range(3)]


def signals(calls: int) -> list[CallSignal]:
    script = [(SignalKind.OFFERED, 0), (SignalKind.CONNECTED, 5), (SignalKind.ENDED, 60)]
    return [
        CallSignal(
            "pbx",
            f"c{n}-{kind.value}",
            f"c{n}",
            kind,
            START + timedelta(minutes=n, seconds=offset),
            agent=AGENTS[n % len(AGENTS)],
            ended_by=Party.CUSTOMER if kind is SignalKind.ENDED else None,
        )
        for n in range(calls)
        for kind, offset in script
    ]


def test_softphones_read_while_calls_are_heard_show_only_saved_states(
    database_url: str,
) -> None:
    failures: list[BaseException] = []
    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, START, agent=AGENTS[0])
        for agent in AGENTS[1:]:
            desk.register_agent(RegisterAgent("acme", agent, name=agent, at=START))
        for agent in AGENTS:
            log_in(desk, START, agent=agent)
            ready(desk, START, agent=agent)
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                for agent in AGENTS:
                    try:
                        desk.softphone("acme", agent)  # each call it lists must exist
                    except BaseException as error:
                        failures.append(error)

        readers = [threading.Thread(target=read) for _ in range(2)]
        for reader in readers:
            reader.start()
        for signal in signals(150):
            desk.hear("acme", signal, signal.occurred_at)
        done.set()
        for reader in readers:
            reader.join()
    assert failures == []
