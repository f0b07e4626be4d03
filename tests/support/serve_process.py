"""`calldesk serve` as a process of its own, the installed command, on a free port."""

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CALLDESK = str(Path(sys.executable).with_name("calldesk"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """The condition's first truthy answer, asked again until the deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = condition()
        if answer:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"{what} within {seconds} s")


@contextmanager
def calldesk_serve(
    arguments: Sequence[str],
    environment: dict[str, str],
    folder: Path,
    headers: dict[str, str],
) -> Iterator[httpx.Client]:
    """A client of `calldesk serve ARGUMENTS` once it answers; interrupted (Ctrl-C) at
    the end, and it must stop. Its output goes to folder/serve.log."""
    port = free_port()
    log = folder / "serve.log"
    command = [CALLDESK, "serve", "--port", str(port), *arguments]
    with (
        log.open("w") as output,
        subprocess.Popen(
            command, cwd=folder, env=environment, stdout=output, stderr=output
        ) as serve,
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
        ) as http,
    ):
        try:

            def healthy() -> bool:
                try:
                    return http.get("/health").status_code == 200
                except httpx.TransportError:
                    assert serve.poll() is None, log.read_text()
                    return False

            wait_for(healthy, 30, "calldesk serve answers")
            yield http
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(15)
            except subprocess.TimeoutExpired:
                serve.kill()
                raise
