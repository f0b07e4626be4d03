"""What a third-party app may ask of the API: methods, scopes, endpoint patterns, and
the one shape of path the proxy builds a request from (docs/proxy.md, ADR/0031).

The same rules are checked in the proxy frame (pages/proxy-rules.js) and here, on the
server, for every request an app session sends: a path that is not exactly a plain
path under the API never matches an endpoint, so it never reaches a route.
"""

import enum
import re

import attrs

from calldesk.domain.errors import InvalidValue

MAX_PATH_LENGTH = 2048
MAX_ENDPOINTS = 64


class Method(enum.Enum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class Scope(enum.Enum):
    """What an endpoint needs granted; an installation grants a subset of its app's."""

    RECORDS_READ = "records:read"
    RECORDS_WRITE = "records:write"
    CALLS_READ = "calls:read"
    FEED_READ = "feed:read"
    FEED_WRITE = "feed:write"
    WORKSPACE_WRITE = "workspace:write"


class BadPath(InvalidValue):
    """A path the proxy does not build a request from: not a plain path under the API."""


#: One segment of a plain path: unreserved and sub-delimiter characters, and percent
#: escapes of anything but . / \ and % (which could turn into traversal once decoded).
_SEGMENT = re.compile(
    r"(?:[A-Za-z0-9\-_~!$&'()*+,;=:]|\.|%(?![2][eEfF]|[5][cC]|[2][5])[0-9A-Fa-f]{2})*"
)
_QUERY = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:/?]|%[0-9A-Fa-f]{2})*")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]{0,31})\}")
_LITERAL = re.compile(r"[A-Za-z0-9\-_~.]+")


def checked_request_path(path: str) -> tuple[tuple[str, ...], str]:
    """The segments and the query of a path under the API; anything else is refused:
    no scheme or host, no `//`, no `.` or `..` segment, no encoded traversal, no
    backslash, no `@`, no space or control character."""
    if not isinstance(path, str) or not path:
        raise BadPath("a path is text starting with /")
    if len(path) > MAX_PATH_LENGTH:
        raise BadPath(f"a path is at most {MAX_PATH_LENGTH} characters")
    if not path.startswith("/") or path.startswith("//"):
        raise BadPath("a path starts with exactly one /: no scheme, no host")
    where, mark, query = path.partition("?")
    if mark and not _QUERY.fullmatch(query):
        raise BadPath("the query holds a character a plain query does not")
    segments = tuple(where[1:].split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            raise BadPath("a path has no empty, . or .. segment")
        if not _SEGMENT.fullmatch(segment):
            raise BadPath(
                "a path holds letters, digits, - _ ~ . and sub-delimiters only; no "
                "backslash, @, space, control character or encoded . / \\ %"
            )
    return segments, query


@attrs.frozen
class Endpoint:
    """One thing an app may call: a method, a path pattern under the API whose `{name}`
    parts match one segment each, and the scope it needs."""

    method: Method
    path: str
    scope: Scope

    def __attrs_post_init__(self) -> None:
        if not self.path.startswith("/") or len(self.path) > MAX_PATH_LENGTH // 4:
            raise InvalidValue(
                f"endpoint {self.path!r} is a path pattern under the API, starting "
                "with /, like /records/contact/{id}"
            )
        for part in self.path[1:].split("/"):
            if not (_PLACEHOLDER.fullmatch(part) or _LITERAL.fullmatch(part)) or part in (
                ".",
                "..",
            ):
                raise InvalidValue(
                    f"endpoint {self.path!r}: each part is a plain name or a {{name}} "
                    "that matches one segment; nothing else is a wildcard"
                )

    def matches(self, method: Method, segments: tuple[str, ...]) -> bool:
        parts = self.path[1:].split("/")
        if method is not self.method or len(parts) != len(segments):
            return False
        return all(
            _PLACEHOLDER.fullmatch(part) is not None or part == segment
            for part, segment in zip(parts, segments, strict=True)
        )

    def __str__(self) -> str:
        return f"{self.method.value} {self.path} {self.scope.value}"


def endpoint_named(text: str) -> Endpoint:
    """An endpoint as an administrator writes it:
    `GET /records/contact/{id} records:read`."""
    parts = text.split()
    if len(parts) != 3:
        raise InvalidValue(
            f"endpoint {text!r} is a method, a path pattern and a scope, like "
            "'GET /records/contact/{id} records:read'"
        )
    method, path, scope = parts
    try:
        asked, needed = Method(method.upper()), Scope(scope)
    except ValueError:
        methods = ", ".join(m.value for m in Method)
        scopes = ", ".join(s.value for s in Scope)
        raise InvalidValue(
            f"endpoint {text!r}: the method is one of {methods}; the scope one of {scopes}"
        ) from None
    return Endpoint(asked, path, needed)


def endpoint_for(
    endpoints: tuple[Endpoint, ...], method: str, path: str
) -> Endpoint | None:
    """The registered endpoint a request falls under, if any; a path that is not plain
    raises BadPath."""
    segments, _ = checked_request_path(path)
    try:
        asked = Method(method)
    except ValueError:
        return None
    return next((e for e in endpoints if e.matches(asked, segments)), None)
