"""baresip's ctrl_tcp link: commands and events as netstring-framed JSON on one socket.

Written against baresip 1.0.0 (Debian 12), whose behaviour shapes it
(shared/notes/baresip-peer.md, pitfalls 1 to 4): a peer serves one client and silently
drops it when another connects, gives no answer at all to a frame it cannot read,
mis-reads a read that holds a frame and part of the next, and never sets TCP_NODELAY.
So one link owns the socket, sends one command at a time and waits for its token with
a timeout, re-arms TCP_QUICKACK before every read, and reconnects with a pause.
"""

import contextlib
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from calldesk.adapters.strict_json import MalformedJSON, parse_json
from calldesk.ports.telephony import RejectionReason, VendorEventRejected, VendorRefusal

log = logging.getLogger(__name__)

#: The longest frame accepted: events are a few hundred bytes, `callstat` a few KiB.
MAX_FRAME_BYTES = 256 * 1024
_LENGTH_DIGITS = len(str(MAX_FRAME_BYTES))
#: Linux only; without it every burst after the first frame waits ~40 ms (pitfall 2).
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def netstring(payload: bytes) -> bytes:
    return b"%d:%s," % (len(payload), payload)


def _malformed(why: str) -> VendorEventRejected:
    return VendorEventRejected(
        RejectionReason.MALFORMED, f"not a ctrl_tcp netstring: {why}"
    )


class NetstringReader:
    """Cuts a byte stream into netstring payloads, wherever each read happened to end."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def partial(self) -> bool:
        """Bytes of a frame not complete yet are waiting."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """The payloads completed by these bytes; raises VendorEventRejected when the
        stream is not netstrings (the rest of it cannot be read either)."""
        self._buffer += data
        payloads = []
        while self._buffer:
            colon = self._buffer.find(b":", 0, _LENGTH_DIGITS + 1)
            if colon < 0:
                if len(self._buffer) > _LENGTH_DIGITS:
                    raise _malformed("a frame starts with its length in digits and a colon")
                break
            digits = bytes(self._buffer[:colon])
            if not digits.isdigit():
                raise _malformed(f"the length {digits!r} is not decimal digits")
            length = int(digits)
            if length > MAX_FRAME_BYTES:
                raise _malformed(f"{length} bytes is longer than {MAX_FRAME_BYTES}")
            end = colon + 1 + length
            if len(self._buffer) <= end:
                break
            if self._buffer[end] != ord(","):
                raise _malformed(
                    f"the {length} bytes announced are not followed by a comma"
                )
            payloads.append(bytes(self._buffer[colon + 1 : end]))
            del self._buffer[: end + 1]
        return payloads


def one_netstring(frame: bytes) -> bytes:
    """The payload of a frame that must be exactly one whole netstring."""
    reader = NetstringReader()
    payloads = reader.feed(frame)
    if len(payloads) != 1 or reader.partial:
        raise _malformed(
            f"expected exactly one whole frame, found {len(payloads)} and more"
        )
    return payloads[0]


@attrs.frozen
class Response:
    """baresip's answer to one command: ``ok`` means only that it was dispatched
    (pitfall 5); ``data`` is the command's text output."""

    ok: bool
    data: str
    raw: dict[str, Any]


class ControlLink:
    """The one ctrl_tcp connection to a baresip process, kept up until closed.

    A reader thread reads every frame: responses answer the command waiting for them,
    anything else goes to ``on_event`` (in order, from that thread, so it must not wait
    for a command). ``on_connected`` runs on the same thread after each connection.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_event: Callable[[bytes], None],
        on_connected: Callable[[], None],
        response_timeout: float,
        reconnect_delays: Sequence[float],
    ) -> None:
        if not reconnect_delays or min(reconnect_delays) <= 0:
            raise ValueError("reconnect delays are positive seconds, at least one")
        self.address = f"{host}:{port}"
        self._host, self._port = host, port
        self._on_event, self._on_connected = on_event, on_connected
        self._timeout = response_timeout
        self._delays = tuple(reconnect_delays)
        self._state = threading.Condition()
        self._socket: socket.socket | None = None
        self._waiting_for: str | None = None
        self._response: Response | None = None
        self._closing = threading.Event()
        self._tried = threading.Event()  # the first connection attempt is over
        self._one_at_a_time = threading.Lock()
        self._tokens = itertools.count(1)
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        """Connect, and keep connected; returns after the first attempt, so that a phone
        that is up takes commands at once."""
        if self._reader is None:
            self._reader = threading.Thread(
                target=self._keep_connected,
                name=f"baresip ctrl {self.address}",
                daemon=True,
            )
            self._reader.start()
            self._tried.wait(self._timeout + 1.0)

    def close(self) -> None:
        self._closing.set()
        self._tried.set()
        with self._state:
            if self._socket is not None:
                with contextlib.suppress(OSError):  # already gone
                    self._socket.shutdown(socket.SHUT_RDWR)
            self._state.notify_all()
        if self._reader is not None:
            self._reader.join(self._timeout + max(self._delays))

    def command(self, command: str, params: str | None = None) -> Response:
        """Send one command and wait for its answer; raises VendorRefusal at once when the
        phone is not connected (calldesk waits for no one), or when the link drops or no
        answer comes in time (pitfall 4)."""
        described = command if params is None else f"{command} {params}"
        with self._one_at_a_time:  # one in flight: pitfall 3
            deadline = time.monotonic() + self._timeout
            with self._state:
                sock = self._socket
                if sock is None or self._closing.is_set():
                    raise VendorRefusal(
                        f"baresip at {self.address} is not connected; "
                        f"{described!r} was not sent"
                    )
                token = f"calldesk-{next(self._tokens)}"
                self._waiting_for, self._response = token, None
            message: dict[str, str] = {"command": command, "token": token}
            if params is not None:
                message["params"] = params
            try:
                sock.sendall(netstring(json.dumps(message).encode()))
            except OSError as error:
                raise VendorRefusal(
                    f"could not send {described!r} to baresip at {self.address}: {error}"
                ) from None
            with self._state:
                self._state.wait_for(
                    lambda: self._response is not None or self._socket is not sock,
                    max(0.0, deadline - time.monotonic()),
                )
                response, dropped = self._answered(), self._socket is not sock
        if response is not None:
            return response
        if dropped:
            raise VendorRefusal(
                f"the link to baresip at {self.address} dropped before it answered "
                f"{described!r}"
            )
        raise VendorRefusal(
            f"baresip at {self.address} did not answer {described!r} "
            f"within {self._timeout} s"
        )

    def _answered(self) -> Response | None:
        """The answer to the command in flight, which is in flight no more."""
        response, self._response, self._waiting_for = self._response, None, None
        return response

    def _keep_connected(self) -> None:
        attempt = 0
        while not self._closing.is_set():
            try:
                sock = socket.create_connection((self._host, self._port), self._timeout)
            except OSError as error:
                self._tried.set()
                delay = self._delays[min(attempt, len(self._delays) - 1)]
                attempt += 1
                log.info(
                    "baresip at %s: %s; trying again in %s s", self.address, error, delay
                )
                self._closing.wait(delay)
                continue
            attempt = 0
            self._serve(sock)
            # A peer drops its client when another connects (pitfall 1): pause before
            # taking the line back, so the two do not take turns at full speed.
            self._closing.wait(self._delays[0])

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._state:
                if self._closing.is_set():
                    return
                self._socket = sock
                self._state.notify_all()
            self._tried.set()
            try:
                self._on_connected()
                self._read(sock)
            finally:
                with self._state:
                    self._socket = None
                    self._state.notify_all()
        log.info("baresip at %s: the control link dropped", self.address)

    def _read(self, sock: socket.socket) -> None:
        frames = NetstringReader()
        while True:
            try:
                if _QUICKACK is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                payloads = frames.feed(data)
            except VendorEventRejected as refusal:
                log.warning("baresip at %s: dropping the link: %s", self.address, refusal)
                return
            for payload in payloads:
                self._take(payload)

    def _take(self, payload: bytes) -> None:
        try:
            message = parse_json(payload)
        except MalformedJSON:
            message = None  # not an answer: the event parser says what is wrong
        if isinstance(message, dict) and message.get("response") is True:
            self._answer(message)
        else:
            self._on_event(payload)

    def _answer(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        with self._state:
            if message.get("token") != self._waiting_for or self._waiting_for is None:
                log.info(
                    "baresip at %s: a late or unasked answer: %s", self.address, message
                )
                return
            self._response = Response(
                ok=message.get("ok") is True,
                data=data if isinstance(data, str) else "",
                raw=message,
            )
            self._state.notify_all()
