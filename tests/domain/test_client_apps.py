"""A third-party app's registration, its paths, origins and rate limit: the rules the
server checks again on every request of an app (docs/proxy.md, ADR/0031)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from calldesk.domain.app_paths import (
    BadPath,
    Endpoint,
    Method,
    Scope,
    checked_request_path,
    endpoint_for,
    endpoint_named,
)
from calldesk.domain.client_apps import (
    AppNotRunnable,
    AppStatus,
    ClientApp,
    checked_origin,
)
from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.rate_limits import RequestBudget

START = datetime(2026, 12, 4, 9, tzinfo=UTC)
KEYS = [f"key-{n}-".ljust(40, "k") for n in range(4)]
READ_CONTACT = Endpoint(Method.GET, "/records/contact/{id}", Scope.RECORDS_READ)

#: Characters attackers reach for, beside ordinary ones.
hostile = st.text(
    alphabet=st.sampled_from(list("/\\.%2eEfF5cC@:?#& \r\n\t\x00aZ0-_~é"))
    | st.characters(),
    max_size=40,
)
paths = st.one_of(
    hostile,
    st.builds(lambda tail: "/records/contact/" + tail, hostile),
    st.sampled_from(
        [
            "//evil.example.com/x",
            "http://evil.example.com/",
            "/records/contact/../../apps",
            "/records/contact/%2e%2e/apps",
            "/records/contact/%252e%252e",
            "/records/contact/a%2fb",
            "/records/contact/a\\b",
            "/records/contact/user@evil",
            "/records/contact/1\r\nX-Tenant: other",
            "/records/contact/003-ada",
            "/records/contact/003%20ada?fields=name",
        ]
    ),
)


@given(paths)
def test_an_accepted_path_stays_a_plain_path_under_the_api(path: str) -> None:
    try:
        segments, query = checked_request_path(path)
    except BadPath:
        return
    built = urlsplit(f"https://api.calldesk.invalid{path}")
    assert built.netloc == "api.calldesk.invalid"
    assert built.username is None
    assert path.isascii()
    assert path.isprintable()
    assert " " not in path
    for segment in segments:
        decoded = unquote(segment)
        assert decoded not in ("", ".", "..")
        assert "/" not in decoded
        assert "\\" not in decoded
        assert "%" not in decoded  # no second decoding can make traversal either
    assert built.path == "/" + "/".join(segments)
    assert built.query == query


@given(paths, st.sampled_from(Method))
def test_a_path_falls_under_an_endpoint_only_where_every_literal_part_is_equal(
    path: str, method: Method
) -> None:
    try:
        found = endpoint_for((READ_CONTACT,), method.value, path)
    except BadPath:
        return
    segments = path.partition("?")[0][1:].split("/")
    matches = (
        method is Method.GET
        and len(segments) == 3
        and segments[:2] == ["records", "contact"]
    )
    assert (found is READ_CONTACT) == matches


def test_an_unknown_method_falls_under_no_endpoint() -> None:
    assert endpoint_for((READ_CONTACT,), "TRACE", "/records/contact/1") is None
    assert endpoint_for((READ_CONTACT,), "get", "/records/contact/1") is None


@pytest.mark.parametrize(
    "text",
    [
        "GET /records/* records:read",
        "GET /records/contact/{id}/.. records:read",
        "GET records/contact records:read",
        "GET /records/contact/{id} everything",
        "FETCH /records/contact/{id} records:read",
        "GET /records/contact/{id}",
        "GET /records/{a b} records:read",
    ],
)
def test_an_endpoint_is_a_method_a_plain_pattern_and_a_scope(text: str) -> None:
    with pytest.raises(InvalidValue):
        endpoint_named(text)


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "null",
        "https://apps.example.com/",
        "https://apps.example.com/app",
        "https://user@apps.example.com",
        "https://APPS.example.com",
        "https://apps.example.com:443",
        "http://apps.example.com",
        "https://*.example.com",
        "javascript://apps.example.com",
        " https://apps.example.com",
    ],
)
def test_an_origin_is_exactly_as_a_browser_names_it(origin: str) -> None:
    with pytest.raises(InvalidValue):
        checked_origin(origin)


@given(
    st.sampled_from(["http", "https"]),
    st.sampled_from(["127.0.0.1", "localhost", "apps.example.com"]),
    st.none() | st.integers(1, 65535),
)
def test_an_accepted_origin_is_its_own_normal_form(
    scheme: str, host: str, port: int | None
) -> None:
    origin = f"{scheme}://{host}" + ("" if port is None else f":{port}")
    try:
        assert checked_origin(origin) == origin
    except InvalidValue:
        default = {"http": 80, "https": 443}[scheme]
        assert port == default or (scheme == "http" and host == "apps.example.com")


@given(
    st.integers(1, 120),
    st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=300),
)
def test_a_rate_limit_never_lets_more_through_than_a_bucket_and_its_refill(
    per_minute: int, gaps: list[float]
) -> None:
    budget = RequestBudget.full(per_minute, START)
    taken: list[float] = []
    elapsed = 0.0
    for gap in gaps:
        elapsed += gap
        if budget.take(START + timedelta(seconds=elapsed)) is None:
            taken.append(elapsed)
    for first, at in enumerate(taken):
        within = [t for t in taken[first:] if t - at <= 60]
        assert len(within) <= 2 * per_minute  # a full bucket, and a minute's refill


def test_a_refused_request_says_how_long_to_wait() -> None:
    budget = RequestBudget.full(2, START)
    assert budget.take(START) is None
    assert budget.take(START) is None
    assert budget.take(START) == 30
    assert budget.take(START + timedelta(seconds=29)) == 1
    assert budget.take(START + timedelta(seconds=30)) is None


def registered() -> ClientApp:
    return ClientApp.register(
        "acme",
        "order-lookup",
        "Order lookup",
        ("http://127.0.0.1:8766",),
        "http://127.0.0.1:8766/index.html",
        (READ_CONTACT,),
        60,
        KEYS[0],
        START,
    )


class Registration(RuleBasedStateMachine):
    """Any sequence of an administrator's commands: the status follows its machine,
    revoked is for good, only the current key is held, and the app runs for an agent
    exactly when it is published and installed for them."""

    @initialize()
    def register(self) -> None:
        self.now = START
        self.app = registered()
        self.status = AppStatus.REGISTERED
        self.key = KEYS[0]
        self.installed: set[str] = set()
        self.events: list[Any] = []

    def _at(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def _try(self, change: object, allowed: bool, then: AppStatus | None) -> None:
        try:
            change()  # type: ignore[operator]
        except Refused:
            assert not allowed
            return
        assert allowed
        if then is not None:
            self.status = then

    @rule()
    def publish(self) -> None:
        allowed = self.status in (AppStatus.REGISTERED, AppStatus.PUBLISHED)
        self._try(lambda: self.app.publish(self._at()), allowed, AppStatus.PUBLISHED)

    @rule()
    def suspend(self) -> None:
        allowed = self.status in (AppStatus.PUBLISHED, AppStatus.SUSPENDED)
        self._try(lambda: self.app.suspend(self._at()), allowed, AppStatus.SUSPENDED)

    @rule()
    def reinstate(self) -> None:
        allowed = self.status in (AppStatus.SUSPENDED, AppStatus.PUBLISHED)
        self._try(lambda: self.app.reinstate(self._at()), allowed, AppStatus.PUBLISHED)

    @rule()
    def revoke(self) -> None:
        self._try(lambda: self.app.revoke(self._at()), True, AppStatus.REVOKED)

    @rule(key=st.sampled_from(KEYS))
    def rotate(self, key: str) -> None:
        allowed = self.status is not AppStatus.REVOKED
        self._try(lambda: self.app.rotate_key(key, self._at()), allowed, None)
        if allowed:
            self.key = key

    @rule(agent=st.sampled_from(["a-17", "b-2"]))
    def install(self, agent: str) -> None:
        allowed = self.status is not AppStatus.REVOKED
        self._try(
            lambda: self.app.install(agent, {}, {Scope.RECORDS_READ}, self._at()),
            allowed,
            None,
        )
        if allowed:
            self.installed.add(agent)

    @precondition(lambda self: self.installed)
    @rule(data=st.data())
    def uninstall(self, data: st.DataObject) -> None:
        agent = data.draw(st.sampled_from(sorted(self.installed)))
        self.app.uninstall(agent, self._at())
        self.installed.discard(agent)

    @invariant()
    def follows_the_model(self) -> None:
        assert self.app.status is self.status
        for key in KEYS:
            assert self.app.holds_key(key) == (key == self.key)
        for agent in ("a-17", "b-2"):
            runs = self.status is AppStatus.PUBLISHED and agent in self.installed
            try:
                self.app.installation_for(agent)
                assert runs
            except AppNotRunnable:
                assert not runs

    @invariant()
    def replays_to_the_same_state(self) -> None:
        """What an auditor replays from the events is what the commands left."""
        self.events.extend(self.app.collect_events())
        replayed = None
        for recorded in self.events:
            replayed = recorded.mutate(replayed)
        assert isinstance(replayed, ClientApp)
        assert replayed.status is self.app.status
        assert replayed.key_digest == self.app.key_digest
        assert replayed.installations == self.app.installations
        assert replayed.version == self.app.version


TestRegistration = Registration.TestCase


def test_an_installation_grants_no_scope_the_endpoints_do_not_need() -> None:
    app = registered()
    with pytest.raises(InvalidValue, match="feed:write"):
        app.install("a-17", {}, {Scope.RECORDS_READ, Scope.FEED_WRITE}, START)
