"""`calldesk serve --phone`: the connector holds a phone system's connection itself, the
simulator (to try the HTTP API without a vendor's account) or the agent's own SIP phone
(baresip, the seed's localhost connector), by flags or in the phone-systems file."""

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from conftest import missing_peer
from support.connector import sse_messages
from support.serve_process import calldesk_serve
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT
from calldesk.adapters.cli.main import app
from calldesk.adapters.telephony import baresip_peers
from calldesk.adapters.telephony.baresip_peers import BaresipPeer, running
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.apps.presence import LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant

SECRET = "s" * 43
HEADERS = {"Authorization": f"Bearer {SECRET}"}
CALLER = "+16505550142"


def prepared(tmp_path: Path) -> dict[str, str]:
    """Acme and Ada, logged in but not ready, with a token: the serve's environment."""
    database_url = f"sqlite:///{tmp_path}/calldesk.db"
    now = datetime.now(UTC)
    with Desk.at(database_url) as desk:
        desk.create_tenant(CreateTenant("acme", name="Acme", at=now))
        desk.register_agent(RegisterAgent("acme", "ada", name="Ada Lovelace", at=now))
        desk.log_in(LogIn("acme", "ada", at=now))
        expires = now + timedelta(days=1)
        desk.issue_token(IssueToken("acme", "ada", at=now, expires_at=expires), SECRET)
    return {"PATH": os.environ["PATH"], "CALLDESK_DATABASE_URL": database_url}


def calls_of(stream: httpx.Response) -> Iterator[list[dict[str, Any]]]:
    """The agent's calls in each state the stream pushes."""
    for message in sse_messages(stream):
        yield json.loads(message["data"])["state"]["calls"]


def answered(http: httpx.Client, calls: Iterator[list[dict[str, Any]]]) -> dict[str, Any]:
    """The first call that rings, answered through the API, once connected."""
    ringing = next(now for now in calls if now)[0]
    assert ringing["state"] == "offered"
    command = {"kind": "accept", "command_id": "answer-1"}
    http.post(f"/calls/{ringing['call']}/commands", json=command).raise_for_status()
    return next(
        call
        for now in calls
        for call in now
        if call["call"] == ringing["call"] and call["state"] == "connected"
    )


def ready(http: httpx.Client, calls: Iterator[list[dict[str, Any]]]) -> None:
    """Ada, who had no call, ready for one."""
    assert next(calls) == []
    http.post("/agents/ada/ready").raise_for_status()


def test_the_simulator_rings_the_ready_agent_who_answers_through_the_api(
    tmp_path: Path,
) -> None:
    arguments = ("--phone", "simulator", "-t", "acme", "--agent", "ada")
    with (
        calldesk_serve(
            (*arguments, "--ring-every", "1"), prepared(tmp_path), tmp_path, HEADERS
        ) as http,
        http.stream("GET", "/agents/ada/events", timeout=30) as stream,
    ):
        calls = calls_of(stream)
        ready(http, calls)
        call = answered(http, calls)
    assert call["vendor"] == "simulator"
    assert call["direction"] == "inbound"
    assert "a caller rings ada every 1 s" in (tmp_path / "serve.log").read_text()


def test_a_number_dialled_on_the_simulator_answers(tmp_path: Path) -> None:
    with (
        calldesk_serve(
            ("--phone", "simulator", "--tenant", "acme"),
            prepared(tmp_path),
            tmp_path,
            HEADERS,
        ) as http,
        http.stream("GET", "/agents/ada/events", timeout=30) as stream,
    ):
        calls = calls_of(stream)
        ready(http, calls)  # and nobody rings in: no --agent
        dial = {"number": CALLER, "command_id": "dial-1"}
        http.post("/agents/ada/dial", json=dial).raise_for_status()
        (dialling, *others) = next(now for now in calls if now)
        assert (dialling["direction"], others) == ("outbound", [])
        connected = next(c for now in calls for c in now if c["state"] == "connected")
    assert (connected["direction"], connected["customer_number"]) == ("outbound", CALLER)


def test_the_agents_sip_phone_from_the_phone_systems_file_rings_and_answers(
    tmp_path: Path,
) -> None:
    if not baresip_peers.BARESIP.exists():
        missing_peer(
            f"{baresip_peers.BARESIP} is not installed (apt-get install baresip-core)"
        )
    environment = prepared(tmp_path)
    with tempfile.TemporaryDirectory(prefix="calldesk-serve-sip-") as folder:
        agents_phone = BaresipPeer(Path(folder) / "agent", "ada")
        caller = BaresipPeer(Path(folder) / "caller", CALLER, tone=1000)
        with running(agents_phone, caller), caller.control() as caller_control:
            phone_systems = tmp_path / "phone-systems.json"
            sip_phone = {
                "agent": "ada",
                "port": agents_phone.ctrl_port,
                "dial_uri": f"sip:{{number}}@127.0.0.1:{caller.sip_port}",
            }
            phone_systems.write_text(json.dumps({"acme": {"baresip": sip_phone}}))
            arguments = ("--phone-systems", str(phone_systems))
            with (
                calldesk_serve(arguments, environment, tmp_path, HEADERS) as http,
                http.stream("GET", "/agents/ada/events", timeout=30) as stream,
            ):
                calls = calls_of(stream)
                ready(http, calls)
                caller_control.dial(agents_phone.uri, as_aor=caller.uri_of(CALLER))
                call = answered(http, calls)
                caller_control.hang_up_everything()
    assert (call["vendor"], call["customer_number"]) == ("baresip", CALLER)


def test_a_sip_phone_flag_without_its_dial_uri_is_refused_saying_what_it_needs(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        app,
        [
            *("--database-url", f"sqlite:///{tmp_path}/calldesk.db"),
            *("serve", "--phone", "baresip", "-t", "acme", "--agent", "ada"),
            *("--directory", str(tmp_path / "records.db")),
        ],
    )

    assert result.exit_code == EXIT_BAD_INPUT
    assert "--phone baresip needs --agent and --dial-uri" in result.stderr
    assert not (tmp_path / "calldesk.db").exists()
