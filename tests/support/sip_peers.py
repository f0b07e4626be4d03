"""Real SIP phones for tests: baresip peers and SIPp runs on loopback, each on its ports.

A peer is one baresip 1.0.0 process with a config directory of its own, configured as in
shared/notes/baresip-peer.md (headless, no registrar, ctrl_tcp on). Tests drive callers
and transfer targets through `PeerControl`; the agent's phone belongs to the adapter,
since a second ctrl_tcp client silently replaces the first (the note's pitfall 1).
Readiness is a ctrl connection retried until it answers; stopping is SIGTERM, then
SIGKILL after 5 s.
"""

import contextlib
import itertools
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BARESIP = Path("/usr/bin/baresip")
SIPP = Path("/usr/bin/sipp")
SCENARIOS = Path(__file__).resolve().parents[1] / "e2e" / "sipp"

#: Each peer or SIPp run takes a block of ports: SIP (and SIP/TLS on the next one, which
#: baresip 1.0.0 always opens, pitfall 14), ctrl_tcp, and RTP in the rest of the block.
BLOCK = 100
_FIRST_BLOCK, _BLOCKS = 20000, 100
_blocks = itertools.count(os.getpid() % _BLOCKS)
STOP_GRACE = 5.0
READY_WITHIN = 5.0


def missing_tools() -> str | None:
    """Why these tests cannot run here, or None."""
    for tool in (BARESIP, SIPP):
        if not tool.exists():
            return f"{tool} is not installed (apt-get install baresip-core sip-tester)"
    return None


def _free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def port_block() -> int:
    """The first port of a block of BLOCK ports no one on this host uses now."""
    for _ in range(_BLOCKS):
        base = _FIRST_BLOCK + (next(_blocks) % _BLOCKS) * BLOCK
        if all(_free(port) for port in range(base, base + BLOCK)):
            return base
    raise RuntimeError(f"no free block of {BLOCK} ports from {_FIRST_BLOCK} on")


def _stop(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to all at once (a peer with calls takes up to 2 s), SIGKILL after 5 s."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PeerControl:
    """A test's ctrl_tcp client for one peer: commands by token, events in a queue."""

    def __init__(self, port: int, name: str, within: float = READY_WITHIN) -> None:
        self.name = name
        deadline = time.monotonic() + within
        while True:  # a peer accepts ctrl connections a few ms after it starts
            try:
                self._socket = socket.create_connection(("127.0.0.1", port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self._socket.settimeout(None)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._responses: dict[str, dict[str, Any]] = {}
        self._answered = threading.Condition()
        self._tokens = itertools.count(1)
        self._reader = threading.Thread(target=self._read, name=f"peer {name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                data = self._socket.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._events.put(None)
                return
            buffer += data
            while (colon := buffer.find(b":")) >= 0:
                end = colon + 1 + int(buffer[:colon])
                if len(buffer) <= end:
                    break
                message = json.loads(buffer[colon + 1 : end])
                buffer = buffer[end + 1 :]
                if message.get("response"):
                    with self._answered:
                        self._responses[message.get("token", "")] = message
                        self._answered.notify_all()
                else:
                    self._events.put(message)

    def command(self, command: str, params: str | None = None) -> dict[str, Any]:
        token = f"{self.name}-{next(self._tokens)}"
        message = {"command": command, "token": token}
        if params is not None:
            message["params"] = params
        payload = json.dumps(message).encode()
        self._socket.sendall(b"%d:%s," % (len(payload), payload))
        with self._answered:
            if not self._answered.wait_for(lambda: token in self._responses, 5.0):
                raise TimeoutError(f"{self.name}: no answer to {message}")
            return self._responses.pop(token)

    def wait_event(self, kind: str, timeout: float = 5.0, **match: str) -> dict[str, Any]:
        """The next event of this type with these fields; earlier others are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(
                    f"{self.name}: no {kind} {match} in {timeout} s"
                ) from None
            if event is None:
                raise ConnectionError(f"{self.name}: the ctrl connection closed")
            if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    def dial(self, uri: str) -> str:
        """Call this URI; the call's Call-ID (`dial` does not say it, `callstat` does)."""
        self.command("dial", uri)
        found = re.search(r" id=(\S+)", self.command("callstat")["data"])
        assert found, f"{self.name}: no call after dialing {uri}"
        return found.group(1)

    def on(self, call_id: str, command: str, params: str | None = None) -> None:
        """A command to this call, not to whichever is current (pitfall 6)."""
        found = self.command("callfind", call_id)["data"]
        assert found.startswith("setting current call"), f"{self.name}: {found}"
        self.command(command, params)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the reader; close alone would not
            self._socket.shutdown(socket.SHUT_RDWR)
        self._reader.join(5.0)
        self._socket.close()


class BaresipPeer:
    """One baresip process: a SIP phone at sip:<user>@127.0.0.1:<sip_port>."""

    def __init__(
        self, directory: Path, user: str, *, local_timeout: int = 120, tone: int = 440
    ) -> None:
        self.directory, self.user = directory, user
        self.local_timeout, self.tone = local_timeout, tone
        base = port_block()
        self.sip_port, self.ctrl_port = base, base + 2
        self._rtp = (base + 10, base + BLOCK - 1)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.sip_port}"

    @property
    def log(self) -> str:
        path = self.directory / "baresip.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "config").write_text(self._config())
        (self.directory / "accounts").write_text(
            f"<{self.uri}>;regint=0;answermode=manual\n"
        )
        with (self.directory / "baresip.log").open("wb") as log:
            self.process = subprocess.Popen(
                [str(BARESIP), "-f", str(self.directory.resolve())],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # A taken ctrl port is not fatal to baresip (pitfall 15): make sure it is ours.
        with self.control() as control:
            identity = control.command("reginfo")["data"]
        if self.uri not in identity or self.process.poll() is not None:
            raise RuntimeError(f"peer {self.user} did not start as itself:\n{self.log}")

    @contextmanager
    def control(self) -> Iterator[PeerControl]:
        """A ctrl connection (it replaces any other: never on the adapter's phone while
        the adapter is attached, unless the point is to take its link away)."""
        control = PeerControl(self.ctrl_port, self.user)
        try:
            yield control
        finally:
            control.close()

    def hang_up_everything(self) -> None:
        """No call left behind for the next test (two ringing calls block `accept`)."""
        with self.control() as control:
            for _ in range(32):
                listing = control.command("listcalls")["data"]
                active = re.search(r"Active calls \((\d+)\)", listing)
                if active is None or active.group(1) == "0":
                    return
                control.command("hangup")
                control.wait_event("CALL_CLOSED")
        raise RuntimeError(f"peer {self.user} keeps calls after 32 hangups")

    def _config(self) -> str:
        settings = {
            "poll_method": "epoll",
            "net_interface": "127.0.0.1",
            "sip_listen": f"127.0.0.1:{self.sip_port}",
            "rtp_ports": f"{self._rtp[0]}-{self._rtp[1]}",
            "call_local_timeout": str(self.local_timeout),
            "call_max_calls": "16",
            "audio_source": f"ausine,{self.tone}",
            "ausrc_srate": "48000",
            "ausrc_channels": "2",
            "audio_player": f"aubridge,null-{self.sip_port}",
            "audio_alert": f"aubridge,null-{self.sip_port}",
            "audio_level": "no",
            "module_path": "/usr/lib/baresip/modules",
            "ctrl_tcp_listen": f"127.0.0.1:{self.ctrl_port}",
            "menu_bell": "no",
            "statmode_default": "off",
            "ringback_disabled": "yes",
        }
        modules = [
            ("module", "g711.so"),
            ("module", "ausine.so"),
            ("module", "aubridge.so"),
            ("module_tmp", "account.so"),
            ("module_app", "menu.so"),
            ("module_app", "ctrl_tcp.so"),
        ]
        lines = [f"{key}\t{value}" for key, value in (*settings.items(), *modules)]
        return "\n".join(lines) + "\n"


@contextmanager
def running(*peers: BaresipPeer) -> Iterator[None]:
    """These peers, started, and stopped together afterwards."""
    try:
        for peer in peers:
            peer.start()
        yield
    finally:
        _stop(peer.process for peer in peers if peer.process is not None)


class SippRun:
    """One SIPp scenario from tests/e2e/sipp, run against a peer or waiting for calls."""

    def __init__(self, scenario: str, directory: Path, *, calls: int = 1) -> None:
        self.scenario, self.directory, self.calls = SCENARIOS / scenario, directory, calls
        self.port = port_block()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri_template(self) -> str:
        """Where a phone dials a number to reach this SIPp (as a callee)."""
        return f"sip:{{number}}@127.0.0.1:{self.port}"

    def call(self, uri_user: str, host_port: str, rate: int = 100) -> None:
        """Start placing the calls to sip:<uri_user>@<host_port>."""
        self._start([host_port, "-s", uri_user, "-r", str(rate), "-l", str(self.calls)])

    def answer(self) -> None:
        """Start waiting for calls; returns once SIPp listens."""
        self._start([])
        deadline = time.monotonic() + READY_WITHIN
        while not self._listening():
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SIPp does not listen on {self.port}:\n{self.output}")
            time.sleep(0.01)

    def finish(self, timeout: float = 10.0) -> None:
        """Wait for the scenario to end, and fail with SIPp's own words unless it passed."""
        assert self.process is not None
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(
                f"SIPp still running after {timeout} s:\n{self.output}"
            ) from None
        assert status == 0, f"SIPp exited with {status}:\n{self.output}"

    def stop(self) -> None:
        if self.process is not None:
            _stop([self.process])

    @property
    def output(self) -> str:
        texts = []
        for name in ("sipp.out", "errors.log", "messages.log"):
            path = self.directory / name
            if path.exists():
                texts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(texts)

    def _start(self, arguments: list[str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            str(SIPP),
            *arguments,
            *("-sf", str(self.scenario), "-i", "127.0.0.1", "-p", str(self.port)),
            *("-mp", str(self.port + 2), "-m", str(self.calls), "-nostdin"),
            *("-timeout", "20", "-timeout_error"),
            *("-trace_err", "-error_file", str(self.directory / "errors.log")),
            *("-trace_msg", "-message_file", str(self.directory / "messages.log")),
        ]
        with (self.directory / "sipp.out").open("wb") as out:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    def _listening(self) -> bool:
        wanted = f"0100007F:{self.port:04X}"
        with open("/proc/net/udp") as table:
            return any(row.split()[1] == wanted for row in list(table)[1:])
