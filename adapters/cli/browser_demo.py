"""The browser demo: the connector and a phone simulator in real time, until Ctrl-C.

Callers ring agent a-17 of tenant "demo" one after another: a customer the directory
knows, a switchboard that reaches two people, a number nobody has. The agent works them
in the console page: answer, hold, transfer, hang up, give a disposition, and sees the
screen pop and the call log.
"""

import secrets
import threading
import time
from datetime import timedelta
from itertools import cycle

import uvicorn

from calldesk.adapters.cli.console import out
from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import LOOPBACK, ConnectorConfig
from calldesk.adapters.telephony.simulator import VENDOR, Caller, PhoneSimulator
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk

#: Seconds between the simulator's steps, and between new callers.
TICK = 0.2
CALLER_EVERY = 30.0


def serve_demo(
    desk: Desk,
    phone: PhoneSimulator,
    tenant: str,
    agent: str,
    callers: tuple[str, ...],
    port: int,
) -> None:
    """Serve the console on loopback and drive the phone in real time until interrupted."""
    secret = secrets.token_urlsafe(32)
    at = phone.now()
    desk.issue_token(
        IssueToken(tenant, agent, at=at, expires_at=at + timedelta(days=1)), secret
    )
    desk.attach(tenant, phone, phone)
    stop = threading.Event()
    driver = threading.Thread(
        target=drive, args=(desk, phone, tenant, agent, callers, stop), daemon=True
    )
    driver.start()
    app = create_app(desk, phone, ConnectorConfig(port=port))
    server = uvicorn.Server(
        uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning")
    )
    url = f"http://{LOOPBACK}:{port}/pages/console.html?agent={agent}#token={secret}"

    def announce() -> None:
        """The address, once the server listens: opening it earlier would fail."""
        while not server.started:
            if stop.wait(TICK):
                return
        out.print(f"Open the console: {url}", soft_wrap=True)
        out.print("Calls ring every half minute once the agent is ready. Ctrl-C stops.")
        out.file.flush()  # a pipe would hold the address back

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        stop.set()
        driver.join(5)


def drive(
    desk: Desk,
    phone: PhoneSimulator,
    tenant: str,
    agent: str,
    callers: tuple[str, ...],
    stop: threading.Event,
) -> None:
    """Move the simulator's time with the wall clock; a new caller now and then."""
    numbers = cycle(callers)
    last, next_caller = time.monotonic(), 0.0
    while not stop.wait(TICK):
        now = time.monotonic()
        phone.advance(now - last)
        last = now
        if now >= next_caller:
            phone.expect(Caller(next(numbers), agent, patience=45, talks_for=120))
            next_caller = now + CALLER_EVERY
        desk.expire_wrap_ups(tenant, VENDOR, phone.now())
