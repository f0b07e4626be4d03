"""The browser demo: the connector and a phone system in real time, until Ctrl-C.

Callers ring agent a-17 of tenant "demo" one after another: a customer the directory
knows, a switchboard that reaches two people, a number nobody has. The agent works them
in the console page: answer, hold, transfer, hang up, give a disposition, and sees the
screen pop and the call log. The phone system is the simulator, or real SIP phones
(sip_demo); either way a driver thread makes the callers call, and the desk's scheduler
ends timed wrap-ups and reconciles the phone system while the console is served.
Beside the console, a third-party app (the order lookup) is served from its own
loopback origin, one port above the connector's, and reaches the API only through the
proxy frame (docs/proxy.md).
"""

import secrets
import threading
from datetime import timedelta

from calldesk.adapters.cli.announced import serve_announced
from calldesk.adapters.cli.demo_app_server import demo_app_installed, demo_app_origin
from calldesk.adapters.cli.simulated_phone import Driver
from calldesk.adapters.cli.wiring import Wiring
from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import LOOPBACK, ConnectorConfig
from calldesk.adapters.http.serving import served_in_thread
from calldesk.apps.access import IssueToken
from calldesk.ports.clock import Clock

#: Says when the console's calls come, once it listens.
SIMULATED_RHYTHM = "Calls ring every half minute once the agent is ready."


def serve_demo(
    wiring: Wiring,
    clock: Clock,
    tenant: str,
    agent: str,
    port: int,
    driver: Driver,
    rhythm: str = SIMULATED_RHYTHM,
) -> None:
    """Serve the console on loopback, run the driver in a thread and the scheduler by
    the clock until interrupted; the phone system is attached already."""
    desk = wiring.desk
    secret = secrets.token_urlsafe(32)
    at = clock.now()
    desk.issue_token(
        IssueToken(tenant, agent, at=at, expires_at=at + timedelta(days=1)), secret
    )
    stop = threading.Event()
    driving = threading.Thread(target=driver, args=(stop,), daemon=True)
    driving.start()
    app_origin = f"http://{LOOPBACK}:{port + 1}"
    key = demo_app_installed(desk, tenant, agent, app_origin, at)
    third_party = demo_app_origin(
        key,
        proxy_origin=f"http://localhost:{port}",
        console_origin=f"http://{LOOPBACK}:{port}",
    )
    app = create_app(desk, clock, ConnectorConfig(port=port))
    url = f"http://{LOOPBACK}:{port}/pages/console.html?agent={agent}#token={secret}"
    lines = (
        f"Open the console: {url}",
        f"The order lookup app is served from {app_origin}, through the proxy only.",
        f"{rhythm} Ctrl-C stops.",
    )
    try:
        with wiring.running(clock), served_in_thread(third_party, port + 1):
            serve_announced(app, LOOPBACK, port, lines)
    finally:
        stop.set()
        driving.join(5)
