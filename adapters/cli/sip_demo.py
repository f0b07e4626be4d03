"""`calldesk demo --phone baresip`: the browser demo with real SIP phones on loopback.

Two headless baresip peers stand in for the phone system (baresip_peers): the agent's
phone, which the BaresipPhone adapter drives as a deployment would, and the customers'
phone, with one SIP account per customer number. While the agent is available, a
customer rings now and then, as Ada Byron, as the switchboard, or as a number nobody
has, so the screen pop finds what the directory holds; the customers' phone also answers
the calls the agent places to those numbers. A customer hangs up after a while if the
agent does not, so the demo keeps going. After every connection to the agent's phone,
the scheduler reconciles the desk with it.
"""

import contextlib
import math
import tempfile
import threading
import time
from collections.abc import Sequence
from itertools import cycle
from pathlib import Path
from typing import Any

import attrs

from calldesk.adapters.cli.browser_demo import serve_demo
from calldesk.adapters.cli.console import err
from calldesk.adapters.cli.simulated_phone import TICK
from calldesk.adapters.cli.wiring import Wiring
from calldesk.adapters.clock import SystemClock
from calldesk.adapters.telephony import baresip_peers
from calldesk.adapters.telephony.baresip import BaresipPhone
from calldesk.adapters.telephony.baresip_events import VENDOR
from calldesk.adapters.telephony.baresip_peers import (
    BaresipPeer,
    PeerControl,
    PeerFailure,
    running,
)
from calldesk.apps.desk import Desk
from calldesk.domain.agents import AgentState

#: Seconds between a customer's calls; how long one lets the agent's phone ring, waits
#: before answering the agent's call, and talks when nobody else hangs up.
CALLER_EVERY = 30.0
PATIENCE = 45.0
ANSWERS_AFTER = 3.0
TALKS_FOR = 120.0
RHYTHM = (
    "A customer rings the agent's SIP phone every half minute while the agent is available."
)


def sip_phones_missing() -> str | None:
    """Why the SIP demo cannot run here, or None."""
    if not baresip_peers.BARESIP.exists():
        return (
            f"--phone baresip runs {baresip_peers.BARESIP}, which is not installed: "
            "apt-get install baresip-core (Debian 12, baresip 1.0.0)"
        )
    return None


def serve_sip_demo(
    wiring: Wiring,
    tenant: str,
    agent: str,
    callers: Sequence[str],
    callees: Sequence[str],
    port: int,
) -> None:
    """Start the two phones, attach the agent's to the desk, and serve the console until
    interrupted; then let go of the phones and stop them. Raises PeerFailure when a
    phone does not start."""
    with tempfile.TemporaryDirectory(prefix="calldesk-sip-demo-") as folder:
        agent_peer = BaresipPeer(Path(folder) / "agent", "agent")
        customers_peer = BaresipPeer(
            Path(folder) / "customers",
            callers[0],
            also_as=(*callers[1:], *callees),
            tone=1000,
        )
        with running(agent_peer, customers_peer):
            clock = SystemClock()
            phone = BaresipPhone(
                "127.0.0.1",
                agent_peer.ctrl_port,
                agent,
                clock.now,
                dial_uri=f"sip:{{number}}@127.0.0.1:{customers_peer.sip_port}",
                on_reconnect=wiring.reconnected(tenant, VENDOR),
            )
            wiring.attach(tenant, phone, clock)
            try:
                with customers_peer.control() as control:
                    customers = Customers(
                        wiring.desk,
                        tenant=tenant,
                        agent=agent,
                        agent_uri=agent_peer.uri,
                        phone=customers_peer,
                        control=control,
                        callers=callers,
                    )
                    serve_demo(wiring, clock, tenant, agent, port, customers.drive, RHYTHM)
            finally:
                phone.close()


@attrs.define
class _Call:
    """A call on the customers' phone, and when its customer acts next."""

    rang_agent: bool  # the customer called; else the agent called the customer
    due: float  # time.monotonic() of the customer's next step
    established: bool = False


class Customers:
    """The customers' phone, scripted: one call at a time, each ended in good time."""

    def __init__(
        self,
        desk: Desk,
        *,
        tenant: str,
        agent: str,
        agent_uri: str,
        phone: BaresipPeer,
        control: PeerControl,
        callers: Sequence[str],
    ) -> None:
        self._desk = desk
        self._tenant, self._agent, self._agent_uri = tenant, agent, agent_uri
        self._phone, self._control = phone, control
        self._callers = cycle(callers)
        self._calls: dict[str, _Call] = {}

    def drive(self, stop: threading.Event) -> None:
        """Ring the agent whenever it is available and the last call is a while ago;
        answer, wait and hang up as each call's customer; hang up all when stopped."""
        next_ring = 0.0
        try:
            while not stop.is_set():
                heard = self._control.next_event(TICK)
                now = time.monotonic()
                if heard is not None:
                    self._hear(heard[1], now)
                for call_id, call in list(self._calls.items()):
                    if now >= call.due:
                        self._step(call_id, call)
                if now >= next_ring and not self._calls and self._agent_available():
                    self._ring(next(self._callers), now)
                    next_ring = now + CALLER_EVERY
        except (PeerFailure, ConnectionError) as trouble:
            err.print(f"The customers' phone stopped: {trouble}", soft_wrap=True)
            return
        with contextlib.suppress(PeerFailure, TimeoutError, ConnectionError):
            self._control.hang_up_everything()  # the agent's phone hears them end

    def _agent_available(self) -> bool:
        return self._desk.agent(self._tenant, self._agent).state is AgentState.AVAILABLE

    def _ring(self, number: str, now: float) -> None:
        try:
            call_id = self._control.dial(self._agent_uri, as_aor=self._phone.uri_of(number))
        except PeerFailure as failure:
            err.print(f"{number} could not ring the agent: {failure}", soft_wrap=True)
            return
        self._calls[call_id] = _Call(rang_agent=True, due=now + PATIENCE)

    def _hear(self, event: dict[str, Any], now: float) -> None:
        call_id, kind = event.get("id"), event.get("type")
        if not isinstance(call_id, str):
            return
        call = self._calls.get(call_id)
        if kind == "CALL_INCOMING" and call is None:
            self._calls[call_id] = _Call(rang_agent=False, due=now + ANSWERS_AFTER)
        elif kind == "CALL_ESTABLISHED" and call is not None:
            call.established, call.due = True, now + TALKS_FOR
        elif kind == "CALL_CLOSED":
            self._calls.pop(call_id, None)

    def _step(self, call_id: str, call: _Call) -> None:
        """Answer the agent's call, or hang up: talked enough, or waited enough."""
        answering = not call.rang_agent and not call.established
        call.due = math.inf  # the phone's events say what happened next
        try:
            self._control.on(call_id, "accept" if answering else "hangup")
        except PeerFailure:
            self._calls.pop(call_id, None)  # it ended meanwhile
