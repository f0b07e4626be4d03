"""`calldesk demo` stopped while a call rings, then started again on the same store: the
new simulator has no such call, so the desk ends it as the phone system is attached
(reconciliation, ADR/0013), and the agent is no longer on it.

The demo's serving loop is replaced, and only it: the first run does what the console
and the callers do until a call rings, then stops as at Ctrl-C; the second run takes the
scheduler's first turn, as `serve_demo` does as soon as it serves.
"""

import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from calldesk.adapters.cli import demo
from calldesk.adapters.cli.main import app
from calldesk.adapters.cli.simulated_phone import TICK, Driver
from calldesk.adapters.cli.wiring import Wiring
from calldesk.adapters.telephony.simulator import VENDOR
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn
from calldesk.domain.calls import Call
from calldesk.ports.clock import Clock

#: Seconds the first run may take for its first caller to ring the agent.
RINGS_WITHIN = 10.0


def test_a_call_ringing_when_the_demo_stopped_ends_when_it_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'calldesk.db'}"
    directory = ["--directory", str(tmp_path / "records.db")]
    runner = CliRunner()

    def calldesk(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--database-url", url, *args])
        return result.exit_code, result.stdout, result.stderr

    rung: list[str] = []

    def until_a_call_rings(
        wiring: Wiring, clock: Clock, tenant: str, agent: str, port: int, driver: Driver
    ) -> None:
        desk = wiring.desk
        desk.log_in(LogIn(tenant, agent, at=clock.now()))
        desk.go_available(GoAvailable(tenant, agent, at=clock.now()))
        stop = threading.Event()
        callers = threading.Thread(target=driver, args=(stop,))
        callers.start()
        try:
            for _ in range(int(RINGS_WITHIN / TICK)):
                if calls := desk.agent(tenant, agent).calls:
                    rung.append(calls[0].call)
                    return
                stop.wait(TICK)
        finally:
            stop.set()
            callers.join()

    def first_turn(wiring: Wiring, clock: Clock, *_: object) -> None:
        wiring.scheduler.tick(clock.now())

    monkeypatch.setattr(demo, "serve_demo", until_a_call_rings)
    assert calldesk("demo", *directory)[0] == 0
    (ringing,) = rung
    assert "is offered" in calldesk("agent", "show", demo.AGENT, "-t", demo.TENANT)[1]

    monkeypatch.setattr(demo, "serve_demo", first_turn)
    assert calldesk("demo", *directory)[0] == 0

    code, shown, _ = calldesk("agent", "show", demo.AGENT, "-t", demo.TENANT, "--json")
    assert (code, '"calls": []' in shown, '"state": "available"' in shown) == (
        0,
        True,
        True,
    ), shown
    with Desk.at(url) as desk:
        call = desk.call(demo.TENANT, ringing)
        history = desk.store.events.get(
            Call.create_id(demo.TENANT, VENDOR, call.vendor_call_id)
        )
    assert (call.state.value, call.outcome and call.outcome.value) == ("closed", "missed")
    ended = [event for event in history if type(event).__name__ == "Ended"]
    assert [getattr(event, "reconciliation", None) for event in ended] == [True]
    code, shown, error = calldesk("agent", "logout", demo.AGENT, "-t", demo.TENANT)
    assert (code, "is logged out" in shown) == (0, True), error
