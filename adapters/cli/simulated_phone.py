"""The phone simulator in real time: its time follows the wall clock, and a caller rings
the agent now and then while the agent is available. The browser demo's phone system,
and `calldesk serve --phone simulator`'s."""

import threading
import time
from collections.abc import Callable
from itertools import cycle

from calldesk.adapters.cli.phone_systems import SimulatorSettings
from calldesk.adapters.telephony.simulator import Caller, PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.domain.agents import AgentState
from calldesk.domain.errors import NotFound

#: Seconds between the simulator's steps.
TICK = 0.2
#: How long a simulated caller waits for an answer, and talks once answered.
PATIENCE, TALKS_FOR = 45.0, 120.0
#: Runs until the event is set.
Driver = Callable[[threading.Event], None]


def available(desk: Desk, tenant: str) -> Callable[[str], bool]:
    """Whether an agent of the tenant can take a call now: the simulator's routing."""

    def routable(agent: str) -> bool:
        try:
            return desk.agent(tenant, agent).state is AgentState.AVAILABLE
        except NotFound:
            return False

    return routable


def real_time(
    phone: PhoneSimulator, routable: Callable[[str], bool], settings: SimulatorSettings
) -> Driver:
    """Drive the attached simulator: its time moves with the wall clock, and while the
    settings' agent is available a caller rings, at most every `ring_every` seconds."""

    def drive(stop: threading.Event) -> None:
        numbers = cycle(settings.callers)
        last, next_caller = time.monotonic(), 0.0
        while not stop.wait(TICK):
            now = time.monotonic()
            phone.advance(now - last)
            last = now
            agent = settings.agent
            if agent is not None and now >= next_caller and routable(agent):
                phone.expect(
                    Caller(next(numbers), agent, patience=PATIENCE, talks_for=TALKS_FOR)
                )
                next_caller = now + settings.ring_every

    return drive
