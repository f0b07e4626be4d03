"""The app proxy's rules (adapters/http/pages/proxy-rules.js) in Debian's chromium,
against the contract's text (tests/support/proxy_contract.py): generated requests,
hostile ones among them, reach the fake upstream only when every rule lets them, and
every accepted request gets exactly one answer whatever else happens to its channel.

One page for the module imports the real module; each example is one page.evaluate.
"""

import itertools
import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from playwright.sync_api import Browser, Page
from support.app_origin import PAGES, serving_files
from support.proxy_contract import (
    HOSTILE_BODY_KEY,
    MAX_BODY_BYTES,
    NOT_JSON,
    body_reason,
    expected,
    path_allowed,
    pattern_matches,
)

HARNESS = (PAGES.parents[2] / "tests" / "support" / "proxy_harness.js").read_bytes()
CHANNEL = "c" * 32
ENDPOINTS = [
    {"method": "GET", "path": "/records/contact/{id}", "scope": "records:read"},
    {"method": "GET", "path": "/agents/{agent}/calls", "scope": "calls:read"},
    {
        "method": "POST",
        "path": "/agents/{agent}/records/{kind}/{id}/publisher/drafts",
        "scope": "feed:write",
    },
    {
        "method": "PUT",
        "path": "/agents/{agent}/records/{kind}/{id}/publisher/drafts/{draft}",
        "scope": "feed:write",
    },
]
SCOPES = ["records:read", "calls:read", "feed:write"]
EXAMPLES = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """A page of an origin serving the connector's pages, with the harness loaded."""
    extra = {
        "/harness.js": HARNESS,
        "/harness.html": b'<!doctype html><script type="module" src="harness.js"></script>',
    }
    with serving_files(PAGES, extra) as origin:
        page = browser.new_page()
        page.goto(f"{origin}/harness.html")
        page.wait_for_function("window.harnessReady === true")
        yield page
        page.close()


def view(status: str = "published", scopes: list[str] = SCOPES) -> dict[str, Any]:
    return {"status": status, "endpoints": ENDPOINTS, "scopes": scopes, "rate_limit": 600}


# Paths: what the registration lets through, and what must never be sent.
segment = st.text(
    alphabet=string.ascii_letters + string.digits + "-_~", min_size=1, max_size=12
)
good_paths = st.one_of(
    st.builds(lambda s: f"/records/contact/{s}", segment),
    st.builds(lambda s: f"/agents/{s}/calls", segment),
    st.builds(lambda s, q: f"/records/contact/{s}?{q}", segment, segment),
)
HOSTILE_PATHS = [
    "http://evil.example/records/contact/1",
    "//evil.example/records/contact/1",
    "/records/contact/../../apps",
    "/records/contact/%2e%2e",
    "/records/contact/%2E%2E/x",
    "/records/contact/%252e%252e",
    "/records/contact/a%2fb",
    "/records/contact/a%5cb",
    "/records/contact/..",
    "/records/contact/.",
    "/records/./contact/1",
    "/records\\contact\\1",
    "/records/contact/user@evil.example",
    "/records/contact/1\r\nAuthorization: x",
    "/records/contact/1\x00",
    "/records/contact/1 2",
    "/records/contact/ünï",
    "/records/contact/1#frag",
    "/records/contact/%zz",
    "/records/contact/%",
    "records/contact/1",
    "",
    "/records/contact/",
    "/records/contact/1/extra",
    "/records/case/1",
    "/apps/refusals",
    "/" + "a" * 2048,
    "/records/contact/" + "1" * 2040,
]
hostile_text = st.text(alphabet="/.%2eE5cC@\\:?#a1 \r\n\t\x00é\u2028", max_size=24)
paths = st.one_of(
    good_paths,
    st.sampled_from(HOSTILE_PATHS),
    hostile_text,
    st.builds(lambda p, h: p + h, good_paths, hostile_text),
)
headers = st.one_of(
    st.just({}),
    st.just({"accept": "application/json"}),
    st.just({"Content-Type": "application/json", "Accept": "application/json"}),
    st.dictionaries(
        st.sampled_from(
            [
                "accept",
                "Accept",
                "content-type",
                "authorization",
                "Authorization",
                "cookie",
                "x-tenant",
                "x",
            ]
        ),
        st.sampled_from(["application/json", "text/html", "Bearer x", ""]),
        max_size=4,
    ),
    st.just({f"accept{i}": "application/json" for i in range(9)}),
    st.just(None),
    st.just(["accept"]),
    st.just({"accept": "application/json", "ACCEPT": "application/json"}),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values,
    st.sampled_from([{HOSTILE_BODY_KEY: name} for name in (*NOT_JSON, "undefined")]),
    # Around the 64 KiB limit, in one and in several bytes a character.
    st.builds(lambda n, c: {"text": c * n}, st.integers(65520, 65540), st.just("x")),
    st.builds(lambda n: {"text": "é" * n}, st.integers(32750, 32770)),
)
good_ids = st.text(
    alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=64
)
ids = st.one_of(
    good_ids,
    st.sampled_from(["", "a" * 65, "r 1", "r/1", "ü", "1;drop"]),
    st.integers(),
)
optional = st.none()  # a field left out


ENVELOPE_VALUES = {
    "protocol": st.sampled_from(["calldesk.app", "", None, "CALLDESK.APPS"]),
    "version": st.sampled_from([2, 0, -1, "1", 1.5, None, True, 1.0]),
    "type": st.sampled_from(["hello", "answer", "Request", "cancel", "", None]),
    "channel": st.sampled_from(["d" * 32, "C" * 32, "c" * 31, "c" * 33, None]),
    "id": ids,
    "method": st.sampled_from(
        ["GET", "POST", "PUT", "PATCH", "DELETE", "get", "TRACE", ""]
    ),
}


@st.composite
def well_formed(draw: st.DrawFn, with_body: bool = False) -> dict[str, Any]:
    """A request one of the registration's endpoints lets through, when it is granted."""
    endpoint = draw(
        st.sampled_from([e for e in ENDPOINTS if not with_body or e["method"] != "GET"])
    )
    filled = "/".join(
        draw(segment) if part.startswith("{") else part
        for part in endpoint["path"].split("/")
    )
    message: dict[str, Any] = {
        "protocol": "calldesk.apps",
        "version": 1,
        "type": "request",
        "channel": CHANNEL,
        "id": draw(good_ids),
        "method": endpoint["method"],
        "path": filled + draw(st.sampled_from(["", "?limit=5", "?q=a%20b&x=1"])),
    }
    if endpoint["method"] in ("POST", "PUT"):
        message["body"] = draw(json_values)
    if draw(st.booleans()):
        message["headers"] = {"accept": "application/json"}
    if draw(st.booleans()):
        message["timeout_ms"] = draw(st.integers(1, 60000))
    return message


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A well formed request, or one with one of its parts hostile."""
    parts = [
        "none",
        "envelope",
        "path",
        "path",
        "path",
        "headers",
        "headers",
        "body",
        "body",
    ]
    part = draw(st.sampled_from([*parts, "timeout", "extra", "missing"]))
    message = draw(well_formed(with_body=part == "body"))
    if part == "envelope":
        field = draw(st.sampled_from(sorted(ENVELOPE_VALUES)))
        message[field] = draw(ENVELOPE_VALUES[field])
    elif part == "path":
        message["path"] = draw(paths)
    elif part == "headers":
        message["headers"] = draw(headers)
    elif part == "body":
        message["body"] = draw(bodies)
    elif part == "timeout":
        message["timeout_ms"] = draw(
            st.sampled_from([1, 60000, 0, 60001, -1, 2.5, "100", None])
        )
    elif part == "extra":
        message[draw(st.sampled_from(["extra", "Authorization", "url", "__meta"]))] = "x"
    elif part == "missing":
        del message[draw(st.sampled_from([*sorted(ENVELOPE_VALUES), "path"]))]
    return message


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=paths)
def test_a_path_is_allowed_only_as_the_contract_says(page: Page, path: str) -> None:
    allowed = page.evaluate("(path) => rules.pathAllowed(path)", path)
    assert allowed == path_allowed(path)
    if allowed:  # and then it cannot leave the API, nor climb out of a route
        url = page.evaluate("(path) => new URL(path, 'http://api.example').href", path)
        assert url.startswith("http://api.example/")
        assert "/../" not in url


ONE_MESSAGE = """async ([view, ready, message]) => {
  const channel = harness.channel(view, { ready });
  await channel.receive(message);
  const atOnce = channel.log.posted.length;
  await channel.answer(0, 200, { ok: true });
  await channel.advance(70000);
  await channel.answer(0, 200, { again: true });
  return { atOnce, ...channel.log, signals: undefined };
}"""


@EXAMPLES
@given(
    message=requests(),
    status=st.sampled_from(["published"] * 6 + ["suspended", "registered", "revoked"]),
    scopes=st.sampled_from([SCOPES, ["records:read"], []]),
    ready=st.sampled_from([True] * 5 + [False]),
)
def test_a_request_reaches_the_upstream_only_when_every_rule_lets_it(
    page: Page, message: dict[str, Any], status: str, scopes: list[str], ready: bool
) -> None:
    registration = view(status, scopes)
    said = page.evaluate(ONE_MESSAGE, [registration, ready, message])
    want = expected(message, registration, ready, CHANNEL)

    assert bool(said["upstream"]) == want.forwarded, (want, said)
    answers = [m for m in said["posted"] if m["type"] == "answer"]
    if want.forwarded:
        (sent,) = said["upstream"]
        assert (sent["method"], sent["path"]) == (message["method"], message["path"])
        assert set(sent["headers"]) <= {"accept", "content-type"}
        assert said["atOnce"] == 0
        assert said["refused"] == []
        (answer,) = answers  # the late second answer of the upstream was dropped
        assert (answer["id"], answer["outcome"], answer["body"]) == (
            message["id"],
            "ok",
            {"ok": True},
        )
        assert answer["headers"] == {"content-type": "application/json"}
    elif want.answered_at_once:
        assert said["refused"] == [want.reason]
        (answer,) = answers
        assert (answer["outcome"], answer["reason"], answer["id"]) == (
            want.outcome,
            want.reason,
            message["id"],
        )
    else:
        assert said["refused"] == [want.reason]
        assert answers == []


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    origin=st.one_of(
        st.sampled_from(
            [
                "http://127.0.0.1:8766",
                "http://127.0.0.1:8766/",
                "http://127.0.0.1:876",
                "http://127.0.0.1:87660",
                "HTTP://127.0.0.1:8766",
                "https://127.0.0.1:8766",
                "http://127.0.0.1",
                "http://localhost:8766",
                "null",
                "*",
                "",
                "http://127.0.0.1:8766.evil.example",
                "http://evil.example#http://127.0.0.1:8766",
            ]
        ),
        st.text(max_size=30),
    ),
    registered=st.sampled_from(
        [["http://127.0.0.1:8766"], ["http://127.0.0.1:8766", "null"], []]
    ),
)
def test_an_origin_is_allowed_only_as_the_exact_string_registered(
    page: Page, origin: str, registered: list[str]
) -> None:
    allowed = page.evaluate(
        "([o, list]) => rules.originAllowed(o, list)", [origin, registered]
    )
    assert allowed == (origin in registered and origin != "null")


SOME = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@SOME
@given(
    per_minute=st.integers(1, 6000),
    gaps=st.lists(st.integers(0, 120_000) | st.integers(0, 50), min_size=1, max_size=120),
)
def test_the_rate_limit_lets_through_no_more_than_a_minute_allows(
    page: Page, per_minute: int, gaps: list[int]
) -> None:
    taken = page.evaluate(
        """([perMinute, gaps]) => {
          const bucket = new rules.TokenBucket(perMinute, 0);
          let now = 0;
          return gaps.map((gap) => bucket.take(now += gap));
        }""",
        [per_minute, gaps],
    )
    times = list(itertools.accumulate(gaps))
    for first, last in itertools.combinations_with_replacement(range(len(times)), 2):
        allowed = per_minute + (times[last] - times[first]) * per_minute / 60000
        assert sum(taken[first : last + 1]) <= allowed  # a bucket holds a minute at most
    if len(gaps) <= per_minute:
        assert all(taken)  # a full bucket takes a minute's worth at once


@SOME
@given(
    pattern=st.lists(
        st.sampled_from(["records", "contact", "{id}", "{agent}", ""]), max_size=4
    ),
    path=st.lists(
        st.sampled_from(["records", "contact", "42", "", "{id}", "a-1"]), max_size=4
    ),
)
def test_a_pattern_matches_its_literal_segments_and_one_segment_a_name(
    page: Page, pattern: list[str], path: list[str]
) -> None:
    pattern_text, path_text = "/" + "/".join(pattern), "/" + "/".join(path)
    matched = page.evaluate(
        "([pattern, path]) => rules.patternMatches(pattern, path)",
        [pattern_text, path_text],
    )
    assert matched == pattern_matches(pattern_text, path_text)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    character=st.sampled_from(["x", "é", "€", "😀", "\n", '"']),
    missing=st.integers(-8, 8),
    method=st.sampled_from(["POST", "PUT", "PATCH", "GET", "DELETE"]),
)
def test_a_body_goes_only_as_json_of_64_kib_or_less(
    page: Page, character: str, missing: int, method: str
) -> None:
    """Near the limit in characters of one to four bytes (and escaped ones)."""
    one = len(json.dumps(character, ensure_ascii=False).encode()) - 2
    body = {"text": character * ((MAX_BODY_BYTES - 11) // one + missing)}
    said = page.evaluate("([m, b]) => rules.serializedBody(m, b)", [method, body])
    assert said.get("reason") == body_reason(method, body)


#: More kinds than the budget's four a second, so that the budget is what bounds them.
REASONS_SEEN = [
    "malformed",
    "bad-path",
    "wrong-source",
    "too-large",
    "bad-header",
    "wrong-origin",
]


@SOME
@given(
    refusals=st.lists(
        st.tuples(st.sampled_from(REASONS_SEEN), st.integers(0, 1500)),
        max_size=60,
    )
)
def test_refusals_reported_are_bounded_and_none_goes_uncounted(
    page: Page, refusals: list[tuple[str, int]]
) -> None:
    """At most four reports a second; every refusal is one report, or counted in a
    report of its kind held back for later (the proxy frame asks each second)."""
    sent = page.evaluate(
        """(refusals) => {
          const budget = new rules.RefusalBudget(4);
          const sent = [];
          let now = 0;
          const report = (refusal, held) => sent.push({ at: now, held });
          for (const [reason, gap] of refusals) {
            now += gap;
            budget.held(now).forEach((r) => report(r, Number(r.detail.split(" ")[0])));
            const refusal = { app: "a", origin: "o", reason, detail: "d" };
            const admitted = budget.admit(refusal, now);
            if (admitted) report(admitted, 1);
          }
          while (budget.holding) {
            now += 1000;
            budget.held(now).forEach((r) => report(r, Number(r.detail.split(" ")[0])));
          }
          return sent;
        }""",
        refusals,
    )
    assert sum(report["held"] for report in sent) == len(refusals)
    times = [report["at"] for report in sent]
    for first in times:
        assert sum(1 for at in times if first <= at < first + 1000) <= 4


request_ids = st.text(alphabet="abc123", min_size=1, max_size=3)


class OneChannel(RuleBasedStateMachine):
    """Requests, the upstream's answers in any order, cancels, time, pings and a close,
    interleaved on one channel: each accepted id is answered once, and at the end all
    are."""

    page: Page
    accepted = Bundle("accepted")

    def __init__(self) -> None:
        super().__init__()
        self.page.evaluate("(v) => { window.machine = harness.channel(v); }", view())
        self.ids: set[str] = set()
        self.forwarded = 0

    def receive(self, message: str, argument: object) -> bool:
        """Send a message built in the page; whether the channel was ready for it."""
        ready: bool = self.page.evaluate(
            f"""async (argument) => {{
              const ready = machine.core.state === "ready";
              await machine.receive({message});
              return ready;
            }}""",
            argument,
        )
        return ready

    def answers(self) -> list[dict[str, Any]]:
        return [
            m for m in self.page.evaluate("machine.log.posted") if m["type"] == "answer"
        ]

    @rule(target=accepted, id=request_ids, timeout=st.integers(1, 3000))
    def request(self, id: str, timeout: int) -> str:
        ready = self.receive(
            """{ protocol: "calldesk.apps", version: 1, type: "request",
              channel: harness.CHANNEL,
              id: argument[0], method: "GET", path: "/records/contact/" + argument[0],
              timeout_ms: argument[1] }""",
            [id, timeout],
        )
        if ready and id not in self.ids:
            self.ids.add(id)
            self.forwarded += 1
        return id

    @rule(id=request_ids)
    def refused_request(self, id: str) -> None:
        ready = self.receive(
            """{ protocol: "calldesk.apps", version: 1, type: "request",
              channel: harness.CHANNEL,
              id: argument, method: "GET", path: "/records/case/" + argument }""",
            id,
        )
        if ready:
            self.ids.add(id)

    @precondition(lambda self: self.forwarded > 0)
    @rule(data=st.data(), status=st.sampled_from([200, 201, 404, 403, 429, 500, None]))
    def upstream_answers(self, data: st.DataObject, status: int | None) -> None:
        n = data.draw(st.integers(0, self.forwarded - 1))
        body = (
            {"type": "https://calldesk.example/problems/app-denied"}
            if status == 403
            else {}
        )
        self.page.evaluate(
            "async ([n, s, b]) => machine.answer(n, s, b)", [n, status, body]
        )

    @rule(id=accepted)
    def cancel(self, id: str) -> None:
        self.receive(
            """{ protocol: "calldesk.apps", version: 1, type: "cancel",
              channel: harness.CHANNEL, id: argument }""",
            id,
        )
        if id in self.ids:  # answered before, or now
            assert id in [a["id"] for a in self.answers()]

    @rule(ms=st.integers(0, 2500))
    def time_passes(self, ms: int) -> None:
        self.page.evaluate("async (ms) => machine.advance(ms)", ms)

    @rule()
    def frame_loads_a_document(self) -> None:
        self.page.evaluate("machine.core.ping()")

    @rule()
    def pong(self) -> None:
        self.receive(
            """{ protocol: "calldesk.apps", version: 1, type: "pong",
              channel: harness.CHANNEL }""",
            None,
        )

    @precondition(lambda self: len(self.ids) >= 3)
    @rule()
    def suspended(self) -> None:
        self.page.evaluate(
            "machine.core.updateView({ ...machine.core.view, status: 'suspended' })"
        )

    @invariant()
    def at_most_one_answer_each_and_only_for_accepted_ids(self) -> None:
        answered = [a["id"] for a in self.answers()]
        assert len(answered) == len(set(answered)), answered
        assert set(answered) <= self.ids

    def teardown(self) -> None:
        self.page.evaluate("machine.core.close('session-ended')")
        answered = [a["id"] for a in self.answers()]
        assert sorted(answered) == sorted(self.ids)
        assert self.page.evaluate("machine.core.pending.size") == 0


def test_every_accepted_request_is_answered_exactly_once(page: Page) -> None:
    OneChannel.page = page
    run = OneChannel.TestCase
    run.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
    run().runTest()
