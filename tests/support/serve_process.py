"""`calldesk serve` as a process of its own, the installed command, on a free port."""

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

CALLDESK = str(Path(sys.executable).with_name("calldesk"))
#: What `calldesk serve` prints once it listens.
LISTENING = "calldesk connector on http://"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def killed_if_left_running(
    command: Sequence[str], environment: dict[str, str]
) -> Iterator[subprocess.Popen[str]]:
    """The command's process, its output readable as text; the test stops it itself, and
    it is killed if the test failed before: a failed test must fail, not wait forever on a
    process nobody stopped."""
    with subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


@contextmanager
def calldesk_serve(
    arguments: Sequence[str],
    environment: dict[str, str],
    folder: Path,
    headers: dict[str, str],
) -> Iterator[httpx.Client]:
    """A client of `calldesk serve ARGUMENTS` once it says it listens; interrupted
    (Ctrl-C) at the end, and it must stop. Its output goes to folder/serve.log."""
    port = free_port()
    log = folder / "serve.log"
    command = [CALLDESK, "serve", "--port", str(port), *arguments]
    said = threading.Event()  # it said it listens, or it exited
    listens: list[str] = []
    with (
        log.open("w") as output,
        subprocess.Popen(
            command,
            cwd=folder,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as serve,
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
        ) as http,
    ):

        def copy_output() -> None:
            """Into the log, noting the line that says it listens; until it exits."""
            assert serve.stdout is not None
            for line in serve.stdout:
                output.write(line)
                output.flush()
                if line.startswith(LISTENING):
                    listens.append(line)
                    said.set()
            said.set()

        copying = threading.Thread(target=copy_output, daemon=True)
        copying.start()
        try:
            said.wait(30)
            assert listens, f"calldesk serve did not listen:\n{log.read_text()}"
            yield http
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(15)
            except subprocess.TimeoutExpired:
                serve.kill()
                raise
            finally:
                copying.join(5)
