"""`calldesk demo`, the README's main command, as a person starts it: a live console."""

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from support.connector import sse_messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


def served_calls(demo: "subprocess.Popen[str]", port: int) -> list[dict[str, object]]:
    """Ready the agent through the console's API; the first calls that ring."""
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
                    if calls:
                        return list(calls)
    except BaseException:
        demo.kill()
        raise
    raise AssertionError("the stream ended before any call rang")
