"""docs/proxy.md's rules for one request message, restated in Python from the contract's
text: the oracle the browser's proxy-rules.js is checked against. Where the browser is
stricter than the text (only RFC 3986's path characters, so no '#', no non-ASCII), the
rule says so."""

import json
import re
import string
from typing import Any

import attrs

PROTOCOL = "calldesk.apps"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REQUIRED = {"protocol", "version", "type", "channel", "id", "method", "path"}
OPTIONAL = {"headers", "body", "timeout_ms"}
HEX32 = re.compile(r"[0-9a-f]{32}")
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The browser's stricter reading of "a path under the API": RFC 3986 path and query
#: characters without '@' (the contract's) and '#' (no fragment reaches the API).
PATH_CHARACTERS = set(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:/?%")
FORBIDDEN_ESCAPES = {"2e", "2f", "5c", "25"}
MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 64
DENIALS = {"endpoint-not-allowed", "scope-not-granted", "not-runnable", "rate-limited"}

#: Values JSON cannot carry from Python, made in the page (tests/support/proxy_harness.js).
NOT_JSON = ("date", "nan", "map", "cycle", "deep", "bigint")
HOSTILE_BODY_KEY = "$hostile"


@attrs.frozen
class Expected:
    """What the proxy must do with one message: refuse it unanswered (`reason`, no
    outcome), answer it at once (`outcome` and `reason`), or forward it."""

    reason: str | None
    outcome: str | None = None

    @property
    def forwarded(self) -> bool:
        return self.reason is None

    @property
    def answered_at_once(self) -> bool:
        return self.outcome is not None


def is_integer(value: object) -> bool:
    """As JavaScript's Number.isInteger sees a JSON value."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def path_allowed(path: object) -> bool:
    if not isinstance(path, str) or not 1 <= len(path) <= 2048:
        return False
    if not path.startswith("/") or "//" in path or not set(path) <= PATH_CHARACTERS:
        return False
    for at, character in enumerate(path):
        if character != "%":
            continue
        escape = path[at + 1 : at + 3]
        if len(escape) != 2 or not all(c in string.hexdigits for c in escape):
            return False
        if escape.lower() in FORBIDDEN_ESCAPES:
            return False
    segments = path.split("?", 1)[0].split("/")[1:]
    return not any(segment in (".", "..") for segment in segments)


def pattern_matches(pattern: str, path: str) -> bool:
    want = pattern.split("/")
    have = path.split("?", 1)[0].split("/")
    if len(want) != len(have):
        return False
    return all(
        bool(h) if w.startswith("{") and w.endswith("}") else w == h
        for w, h in zip(want, have, strict=True)
    )


def headers_allowed(headers: object) -> bool:
    if not isinstance(headers, dict) or len(headers) > 8:
        return False
    names = [name.lower() for name in headers]
    return (
        len(set(names)) == len(names)
        and set(names) <= {"accept", "content-type"}
        and all(value == "application/json" for value in headers.values())
    )


def _deepest(value: Any, depth: int = 0) -> int:
    """How deep the deepest value in it lies (the whole is at depth 0)."""
    children = (
        value.values()
        if isinstance(value, dict)
        else value
        if isinstance(value, list)
        else ()
    )
    return max((_deepest(child, depth + 1) for child in children), default=depth)


def body_reason(method: str, body: Any) -> str | None:
    if isinstance(body, dict) and body.get(HOSTILE_BODY_KEY) == "undefined":
        return None  # structured cloning's undefined: no body at all
    if method in ("GET", "DELETE"):
        return "malformed"
    if isinstance(body, dict) and body.get(HOSTILE_BODY_KEY) in NOT_JSON:
        return "malformed"
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if _deepest(body) > MAX_DEPTH:
        return (
            "too-large"
            if len(text.encode("utf-16-le")) // 2 > MAX_BODY_BYTES
            else "malformed"
        )
    return "too-large" if len(text.encode()) > MAX_BODY_BYTES else None


def envelope_reason(message: object, channel: str) -> str | None:
    """Why the message is refused unanswered, if it is."""
    if not isinstance(message, dict) or message.get("protocol") != PROTOCOL:
        return "malformed"
    version = message.get("version")
    if not is_integer(version):
        return "malformed"
    if version != 1:
        return "unsupported-version"
    if message.get("type") != "request" or not set(message) <= REQUIRED | OPTIONAL:
        return "malformed"
    if not set(message) >= REQUIRED:
        return "malformed"
    if not (isinstance(message["channel"], str) and HEX32.fullmatch(message["channel"])):
        return "malformed"
    if not (isinstance(message["id"], str) and REQUEST_ID.fullmatch(message["id"])):
        return "malformed"
    if message["method"] not in METHODS or not isinstance(message["path"], str):
        return "malformed"
    if "headers" in message and not isinstance(message["headers"], dict):
        return "malformed"
    if "timeout_ms" in message and not is_integer(message["timeout_ms"]):
        return "malformed"
    if message["channel"] != channel:
        return "channel-not-ready"
    return None


def expected(
    message: dict[str, Any], view: dict[str, Any], ready: bool, channel: str
) -> Expected:
    """What the contract says the proxy does with this request on a fresh channel."""
    refused = envelope_reason(message, channel)
    if refused is None and not ready:
        refused = "channel-not-ready"
    if refused:
        return Expected(refused)
    reason = _request_reason(message, view)
    if reason:
        return Expected(reason, "denied" if reason in DENIALS else "invalid")
    return Expected(None)


def _request_reason(message: dict[str, Any], view: dict[str, Any]) -> str | None:
    if not path_allowed(message["path"]):
        return "bad-path"
    if "headers" in message and not headers_allowed(message["headers"]):
        return "bad-header"
    if not 1 <= message.get("timeout_ms", 10000) <= 60000:
        return "malformed"
    if "body" in message and (said := body_reason(message["method"], message["body"])):
        return said
    if view["status"] != "published":
        return "not-runnable"
    endpoint = next(
        (
            e
            for e in view["endpoints"]
            if e["method"] == message["method"]
            and pattern_matches(e["path"], message["path"])
        ),
        None,
    )
    if endpoint is None:
        return "endpoint-not-allowed"
    if endpoint["scope"] not in view["scopes"]:
        return "scope-not-granted"
    return None
