"""The phone systems `calldesk serve` holds a connection to, from its start to its end:
the agent's own SIP phone (baresip, on its control socket) and the simulator in real
time. Each is attached through the wiring, so the scheduler reconciles it at once and
after every reconnection."""

import contextlib
import threading
from collections.abc import Iterator

from calldesk.adapters.cli.console import out
from calldesk.adapters.cli.phone_systems import (
    PhoneSystems,
    SimulatorSettings,
    SipPhoneSettings,
)
from calldesk.adapters.cli.simulated_phone import available, real_time
from calldesk.adapters.cli.wiring import Wiring
from calldesk.adapters.telephony.baresip import BaresipPhone
from calldesk.adapters.telephony.baresip_events import VENDOR as BARESIP
from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.ports.clock import Clock

#: Seconds a driver has to finish its step once serving ends.
STOP_WITHIN = 5.0


@contextlib.contextmanager
def connected(wiring: Wiring, systems: PhoneSystems, clock: Clock) -> Iterator[None]:
    """Every held phone system attached and running while the block runs."""
    with contextlib.ExitStack() as stack:
        for tenant, phone in systems.sip_phones.items():
            stack.enter_context(_sip_phone(wiring, tenant, phone, clock))
        for tenant, simulator in systems.simulators.items():
            stack.enter_context(_simulator(wiring, tenant, simulator, clock))
        yield


@contextlib.contextmanager
def _sip_phone(
    wiring: Wiring, tenant: str, settings: SipPhoneSettings, clock: Clock
) -> Iterator[None]:
    """The link connects, and reconnects, on its own: a phone started later is found."""
    phone = BaresipPhone(
        settings.host,
        settings.port,
        settings.agent,
        clock.now,
        dial_uri=settings.dial_uri,
        on_reconnect=wiring.reconnected(tenant, BARESIP),
    )
    try:
        wiring.attach(tenant, phone, clock)
        out.print(
            f"{tenant}: agent {settings.agent}'s baresip phone, "
            f"ctrl_tcp {settings.host}:{settings.port}"
        )
        yield
    finally:
        phone.close()


@contextlib.contextmanager
def _simulator(
    wiring: Wiring, tenant: str, settings: SimulatorSettings, clock: Clock
) -> Iterator[None]:
    """Heard at the clock's time, like any phone system, so its calls and the agents'
    commands are stamped by one clock."""
    routable = available(wiring.desk, tenant)
    phone = PhoneSimulator(clock.now(), routable=routable)
    wiring.attach(tenant, phone, clock)
    stop = threading.Event()
    driving = threading.Thread(
        target=real_time(phone, routable, settings),
        args=(stop,),
        name=f"simulator-{tenant}",
        daemon=True,
    )
    driving.start()
    rings = (
        f"a caller rings {settings.agent} every {settings.ring_every:g} s while available"
        if settings.agent
        else "nobody rings in; dialled numbers answer"
    )
    out.print(f"{tenant}: the phone simulator; {rings}")
    try:
        yield
    finally:
        stop.set()
        driving.join(STOP_WITHIN)
