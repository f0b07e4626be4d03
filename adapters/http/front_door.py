"""What every request passes before it is routed: its Host, its Origin, its path.

A connector on an agent's machine answers only for its own names (DNS rebinding) and
takes state-changing requests only from allowed origins (cross-site requests). These
checks wrap the whole application, so they hold on every path, a page, an unknown route
or a CORS preflight alike; each refusal is a problem document, and a fault that escapes
the application is answered as one too, logged and counted.
"""

import json
import logging
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.metrics import ConnectorMetrics
from calldesk.adapters.http.problems import PROBLEM_MEDIA_TYPE, problem_document

logger = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: RFC 9110's Host: a bracketed IPv6 literal or a name or IPv4 address, then at most a
#: numeric port; no userinfo, no path, nothing after.
_HOST = re.compile(
    r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)

#: Characters no file and no route is named with.
_UNNAMEABLE = re.compile(r"[\x00-\x1f\x7f]")

#: The longest name of a file (and of anything in a route's path) on common systems.
LONGEST_NAME = 255


def host_named(header: str) -> str | None:
    """The host a Host header names, lowercased and unbracketed; None if malformed."""
    match = _HOST.fullmatch(header)
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        return None
    return match["name"].strip("[]").lower()


class FrontDoor:
    """The ASGI layer around the connector's application that refuses before routing."""

    def __init__(
        self, app: ASGIApp, config: ConnectorConfig, metrics: ConnectorMetrics
    ) -> None:
        self.app, self.config, self.metrics = app, config, metrics
        self.hosts = frozenset(host.strip("[]").lower() for host in config.allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        await self._answered(scope, receive, send)

    async def _answered(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        refusal = self._refusal(scope)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        started, replaced = False, False

        async def sending(message: Message) -> None:
            """Pass the answer on; a refusal in another form (a page's, a library's)
            goes out as a problem document of the same status."""
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                started = True
                replaced = message["status"] >= 400 and not _is_problem(message)
                if replaced:
                    status = message["status"]
                    phrase = _phrase(status)
                    kind = phrase.lower().replace(" ", "-")
                    await _answer(send, status, kind, f"{phrase}: {scope['path']}")
                    return
            if not replaced:
                await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            logger.exception("%s %s failed", scope["method"], scope["path"])
            self.metrics.unexpected_errors.labels(route="unrouted").inc()
            if started:
                raise  # too late for a problem document: the server drops the connection
            await _answer(
                send,
                500,
                "internal-error",
                "calldesk failed to answer this request; the fault is logged",
            )

    def _refusal(self, scope: HTTPScope) -> tuple[int, str, str] | None:
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
        ]
        hosts = [value for name, value in headers if name == "host"]
        if len(hosts) != 1:
            return 400, "bad-host", "send exactly one Host header"
        host = host_named(hosts[0])
        if host is None:
            return 400, "bad-host", f"{hosts[0]!r} is not a host and optional port"
        if host not in self.hosts:
            return 421, "wrong-host", f"this connector does not answer for host {host!r}"
        if _UNNAMEABLE.search(scope["path"]):
            return 404, "not-found", "no page or route is named with control characters"
        if any(
            len(part.encode(errors="replace")) > LONGEST_NAME
            for part in scope["path"].split("/")
        ):
            return (
                404,
                "not-found",
                f"no page or route has a name over {LONGEST_NAME} bytes",
            )
        origin = next((value for name, value in headers if name == "origin"), None)
        preflight = scope["method"] == "OPTIONS" and any(
            name == "access-control-request-method" for name, _ in headers
        )
        if origin is not None and (scope["method"] in STATE_CHANGING or preflight):
            own = f"{scope['scheme']}://{hosts[0]}"
            if origin != own and origin not in self.config.allowed_origins:
                return 403, "wrong-origin", f"requests from {origin} are not allowed"
        return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _is_problem(start: Message) -> bool:
    media_type = PROBLEM_MEDIA_TYPE.encode()
    headers = cast(Iterable[tuple[bytes, bytes]], start.get("headers", ()))
    return any(
        name.lower() == b"content-type" and value.startswith(media_type)
        for name, value in headers
    )


async def _answer(send: Send, status: int, kind: str, detail: str) -> None:
    body = json.dumps(problem_document(status, kind, detail)).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
