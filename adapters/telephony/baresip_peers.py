"""Headless baresip phones on loopback, started and stopped by calldesk itself.

The demo and the SIP benchmark run real SIP phones without a PBX, a registrar or a sound
card: each peer is one baresip 1.0.0 process with a config directory of its own,
configured as shared/notes/baresip-peer.md records (the pitfalls named below are that
note's). The agent's peer belongs to the BaresipPhone adapter; other peers (callers) are
driven through `PeerControl`, since a second ctrl_tcp client silently replaces the first
(pitfall 1). Readiness is a ctrl connection retried until `reginfo` names the peer;
stopping is SIGTERM, then SIGKILL after 5 s.
"""

import contextlib
import itertools
import json
import math
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BARESIP = Path("/usr/bin/baresip")

#: Ports come in blocks: SIP (and SIP/TLS on the next one, which baresip 1.0.0 always
#: opens, pitfall 14), ctrl_tcp, then RTP for the rest of the peer's blocks.
BLOCK = 100
_FIRST_BLOCK, _BLOCKS = 20000, 100
_RTP_OFFSET = 10
_blocks = itertools.count(os.getpid() % _BLOCKS)
STOP_GRACE = 5.0
READY_WITHIN = 5.0
ANSWER_WITHIN = 5.0
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only (pitfall 2)
_CALL_ID = re.compile(r" id=(\S+)")
_ACTIVE_CALLS = re.compile(r"Active calls \((\d+)\)")
_CURRENT_CALL_SET = "setting current call"


class PeerFailure(RuntimeError):
    """A baresip peer did not start as itself, or did not do what it was told."""


def _free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def port_block(blocks: int = 1) -> int:
    """The first of `blocks` blocks of BLOCK ports in a row that no one here uses now."""
    if not 1 <= blocks <= _BLOCKS:
        raise ValueError(f"{blocks} blocks of {BLOCK} ports: from 1 to {_BLOCKS}")
    for _ in range(_BLOCKS):
        first = next(_blocks) % _BLOCKS
        if first + blocks > _BLOCKS:
            continue
        base = _FIRST_BLOCK + first * BLOCK
        if all(_free(port) for port in range(base, base + blocks * BLOCK)):
            for _ in range(blocks - 1):  # the next peer looks after these
                next(_blocks)
            return base
    raise PeerFailure(
        f"no {blocks} free blocks of {BLOCK} loopback ports from {_FIRST_BLOCK} on"
    )


def stop_processes(processes: Iterable["subprocess.Popen[bytes]"]) -> None:
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
    """A ctrl_tcp client for one peer: commands wait for their token, events queue up.

    One command at a time (pitfall 3), TCP_QUICKACK re-armed before every read (pitfall
    2); events come with the `time.perf_counter_ns()` of the read that brought them.
    """

    def __init__(self, port: int, name: str, within: float = READY_WITHIN) -> None:
        self.name = name
        deadline = time.monotonic() + within
        while True:  # a peer accepts ctrl connections a few ms after it starts
            try:
                self._socket = socket.create_connection(("127.0.0.1", port), timeout=1.0)
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise PeerFailure(
                        f"peer {name}: no ctrl_tcp on 127.0.0.1:{port}: {error}"
                    ) from None
                time.sleep(0.01)
        self._socket.settimeout(None)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._events: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue()
        self._responses: dict[str, dict[str, Any]] = {}
        self._answered = threading.Condition()
        self._one_at_a_time = threading.Lock()
        self._tokens = itertools.count(1)
        self._reader = threading.Thread(target=self._read, name=f"peer {name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                if _QUICKACK is not None:
                    self._socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                data = self._socket.recv(65536)
            except OSError:
                data = b""
            read_at = time.perf_counter_ns()
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
                    self._events.put((read_at, message))

    def command(self, command: str, params: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its answer (`ok` means dispatched, pitfall 5)."""
        token = f"{self.name}-{next(self._tokens)}"
        message = {"command": command, "token": token}
        if params is not None:
            message["params"] = params
        payload = json.dumps(message).encode()
        with self._one_at_a_time, self._answered:
            self._socket.sendall(b"%d:%s," % (len(payload), payload))
            if not self._answered.wait_for(lambda: token in self._responses, ANSWER_WITHIN):
                raise PeerFailure(f"peer {self.name}: no answer to {message}")
            return self._responses.pop(token)

    def next_event(self, timeout: float) -> tuple[int, dict[str, Any]] | None:
        """The next event and when it was read, or None after `timeout` seconds."""
        try:
            event = self._events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if event is None:
            self._events.put(None)  # closed for every later reader too
            raise ConnectionError(f"peer {self.name}: the ctrl connection closed")
        return event

    def wait_event(self, kind: str, timeout: float = 5.0, **match: str) -> dict[str, Any]:
        """The next event of this type with these fields; earlier others are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            heard = self.next_event(deadline - time.monotonic())
            if heard is None:
                raise TimeoutError(f"{self.name}: no {kind} {match} in {timeout} s")
            event = heard[1]
            if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    def dial(self, uri: str, as_aor: str | None = None) -> str:
        """Call this URI, from one of the peer's accounts if named; the call's Call-ID
        (`dial` does not say it, `callstat` does, pitfall 10)."""
        if as_aor is not None:
            chosen = self.command("uafind", as_aor)
            if not chosen["ok"] or as_aor not in chosen["data"]:
                raise PeerFailure(
                    f"peer {self.name} has no account {as_aor}: {chosen['data']}"
                )
        self.command("dial", uri)
        found = _CALL_ID.search(self.command("callstat")["data"])
        if found is None:
            raise PeerFailure(f"peer {self.name}: no call after dialing {uri}")
        return found.group(1)

    def on(self, call_id: str, command: str, params: str | None = None) -> None:
        """A command to this call, not to whichever is current (pitfall 6)."""
        found = self.command("callfind", call_id)["data"]
        if not found.startswith(_CURRENT_CALL_SET):
            raise PeerFailure(f"peer {self.name} has no call {call_id}: {found.strip()}")
        self.command(command, params)

    def hang_up_everything(self) -> None:
        """Hang up every call the peer has, one `hangup` and its CALL_CLOSED at a time."""
        for _ in range(64):
            listing = self.command("listcalls")["data"]
            active = _ACTIVE_CALLS.search(listing)
            if active is None or active.group(1) == "0":
                return
            self.command("hangup")
            self.wait_event("CALL_CLOSED")
        raise PeerFailure(f"peer {self.name} keeps calls after 64 hangups")

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the reader; close alone would not
            self._socket.shutdown(socket.SHUT_RDWR)
        self._reader.join(5.0)
        self._socket.close()


class BaresipPeer:
    """One baresip process: a SIP phone at sip:<user>@127.0.0.1:<sip_port>.

    ``also_as`` adds accounts on the same port, one per user (`dial(..., as_aor=...)`
    picks one): one caller peer can ring as several customers. ``max_calls`` sizes the
    peer: each call, even one still ringing, holds two RTP ports.
    """

    def __init__(
        self,
        directory: Path,
        user: str,
        *,
        also_as: Sequence[str] = (),
        local_timeout: int = 120,
        tone: int = 440,
        max_calls: int = 16,
    ) -> None:
        self.directory, self.user, self.also_as = directory, user, tuple(also_as)
        self.local_timeout, self.tone, self.max_calls = local_timeout, tone, max_calls
        blocks = math.ceil((_RTP_OFFSET + 2 * max_calls + 2) / BLOCK)
        base = port_block(blocks)
        self.sip_port, self.ctrl_port = base, base + 2
        self._rtp = (base + _RTP_OFFSET, base + blocks * BLOCK - 1)
        self.process: subprocess.Popen[bytes] | None = None

    def uri_of(self, user: str) -> str:
        return f"sip:{user}@127.0.0.1:{self.sip_port}"

    @property
    def uri(self) -> str:
        return self.uri_of(self.user)

    @property
    def log(self) -> str:
        path = self.directory / "baresip.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        """Write the config directory, start baresip, and wait until it is itself."""
        if not BARESIP.exists():
            raise PeerFailure(f"{BARESIP} is not installed (apt-get install baresip-core)")
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "config").write_text(self._config())
        (self.directory / "accounts").write_text(
            "".join(
                f"<{self.uri_of(user)}>;regint=0;answermode=manual\n"
                for user in (self.user, *self.also_as)
            )
        )
        with (self.directory / "baresip.log").open("wb") as log:
            # A session of its own: Ctrl-C in a terminal reaches the whole foreground
            # group, and the peers are to stop after calldesk let go of them, not before.
            self.process = subprocess.Popen(
                [str(BARESIP), "-f", str(self.directory.resolve())],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # A taken ctrl port is not fatal to baresip (pitfall 15): make sure it is ours.
        try:
            with self.control() as control:
                identity = control.command("reginfo")["data"]
        except PeerFailure as failure:
            raise PeerFailure(f"{failure}\n{self.log}") from None
        if self.uri not in identity or self.process.poll() is not None:
            raise PeerFailure(f"peer {self.user} did not start as itself:\n{self.log}")

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
        """No call left behind (two ringing calls block `accept`, pitfall 7)."""
        with self.control() as control:
            control.hang_up_everything()

    def _config(self) -> str:
        settings = {
            "poll_method": "epoll",
            "net_interface": "127.0.0.1",
            "sip_listen": f"127.0.0.1:{self.sip_port}",
            "rtp_ports": f"{self._rtp[0]}-{self._rtp[1]}",
            "call_local_timeout": str(self.local_timeout),
            "call_max_calls": str(self.max_calls),
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
        stop_processes(peer.process for peer in peers if peer.process is not None)
