"""`calldesk demo`, the README's main command, as a person starts it: a live console."""

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import missing_peer
from support.connector import sse_messages
from support.serve_process import free_port
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT
from calldesk.adapters.cli.main import app
from calldesk.adapters.telephony import baresip_peers

Calls = list[dict[str, Any]]


def test_the_demo_serves_a_console_where_calls_ring_once_the_agent_is_ready(
    tmp_path: Path,
) -> None:
    port = free_port()
    with subprocess.Popen(
        [str(Path(sys.executable).with_name("calldesk")), "demo", "--port", str(port)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as demo:
        calls = served_calls(demo, port)
        demo.send_signal(signal.SIGINT)
        demo.wait(15)
    assert calls[0]["state"] == "offered"
    assert calls[0]["screen_pop"][0]["title"] == "Ada Byron"
    assert (tmp_path / "calldesk.db").exists()


def served_calls(demo: "subprocess.Popen[str]", port: int) -> Calls:
    """Ready the agent through the console's API; the first calls that ring."""
    rung: Calls = []

    def first(calls: Calls, http: httpx.Client, headers: dict[str, str]) -> bool:
        rung.extend(calls)
        return True

    watch_calls(demo, port, first)
    return rung


def watch_calls(
    demo: "subprocess.Popen[str]",
    port: int,
    seen: Callable[[Calls, httpx.Client, dict[str, str]], bool],
) -> None:
    """Ready the agent through the console's API, then show each state with calls to
    `seen` (with the API and its headers, to act) until it says it has seen enough."""
    try:
        assert demo.stdout is not None
        url = next(line for line in demo.stdout if "Open the console: " in line).split(
            ": ", 1
        )[1]
        secret = url.strip().rsplit("#token=", 1)[1]
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert "softphone" in http.get("/pages/console.html").text
            http.post("/agents/a-17/login", headers=headers).raise_for_status()
            http.post("/agents/a-17/ready", headers=headers).raise_for_status()
            with http.stream("GET", "/agents/a-17/events", headers=headers) as stream:
                for message in sse_messages(stream):
                    calls = json.loads(message["data"])["state"]["calls"]
                    if calls and seen(list(calls), http, headers):
                        return
    except BaseException:
        demo.kill()
        raise
    raise AssertionError("the stream ended before any call rang")


def test_the_sip_demo_rings_the_agents_baresip_phone_as_ada_and_stops_its_phones(
    tmp_path: Path,
) -> None:
    if not baresip_peers.BARESIP.exists():
        missing_peer(
            f"{baresip_peers.BARESIP} is not installed (apt-get install baresip-core)"
        )
    port = free_port()
    with subprocess.Popen(
        [
            str(Path(sys.executable).with_name("calldesk")),
            *("demo", "--phone", "baresip", "--port", str(port)),
        ],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as demo:
        ringing, answered = answered_call(demo, port)
        phones = children(demo.pid)
        demo.send_signal(signal.SIGINT)
        demo.wait(15)
    assert (ringing["state"], ringing["vendor"]) == ("offered", "baresip")
    assert ringing["customer_number"] == "+16505550142"
    assert ringing["screen_pop"][0]["title"] == "Ada Byron"
    assert answered["state"] == "connected"
    assert len(phones) == 2
    assert [pid for pid in phones if Path(f"/proc/{pid}").exists()] == []


def test_the_sip_demo_without_baresip_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baresip_peers, "BARESIP", tmp_path / "no-baresip")

    result = CliRunner().invoke(
        app,
        [
            *("--database-url", f"sqlite:///{tmp_path}/calldesk.db"),
            *("demo", "--phone", "baresip", "--directory", str(tmp_path / "records.db")),
        ],
    )

    assert result.exit_code == EXIT_BAD_INPUT
    assert "apt-get install baresip-core" in result.stderr
    assert not (tmp_path / "calldesk.db").exists()


def children(pid: int) -> list[int]:
    """The processes this one started (the demo's phones, once it serves)."""
    listed = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in listed.read_text().split()]


def answered_call(demo: "subprocess.Popen[str]", port: int) -> tuple[dict[str, Any], ...]:
    """The first call that rings once the agent is ready, then the same call once the
    agent has answered it through the console's API."""
    seen: list[dict[str, Any]] = []

    def answer(calls: Calls, http: httpx.Client, headers: dict[str, str]) -> bool:
        if not seen:
            seen.append(calls[0])
            command = {"kind": "accept", "command_id": "answer-ada"}
            http.post(
                f"/calls/{calls[0]['call']}/commands", json=command, headers=headers
            ).raise_for_status()
            return False
        now = next(c for c in calls if c["call"] == seen[0]["call"])
        if now["state"] != "connected":
            return False
        seen.append(now)
        return True

    watch_calls(demo, port, answer)
    return tuple(seen)
