"""Third-party apps in the console, through the proxy frame, in Debian's chromium, on
three loopback origins (docs/proxy.md): the console from http://127.0.0.1:P, the proxy
frame from http://localhost:P (the connector's own, like the softphone), the app from
http://127.0.0.1:Q (tests/support/app_origin.py).

The demo app (adapters/cli/demo_app) shows that an app does its work; a probe app
(tests/support/probe_app.html, served as the same registration's entry page) lets a
test act as a hostile app would.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from playwright.sync_api import Browser, Error, Frame, FrameLocator, Page, Route, expect
from support.app_origin import DEMO_APP, app_config, demo_app_files, serving_files
from support.client_apps import installed_app
from support.connector import serving, token_for
from support.desk_driver import log_in, ready, tenant_with_agent
from support.telephony import ADA_NUMBER, Desktop, StaticDirectory

from calldesk.adapters.telephony.simulator import Caller, PhoneSimulator
from calldesk.apps.client_apps import AppCommand
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.records import CreateRecord
from calldesk.domain.access import Role
from calldesk.domain.app_paths import Endpoint, Method, Scope
from calldesk.domain.crm_records import Author
from calldesk.domain.records import RecordKind

START = datetime(2026, 12, 4, 9, tzinfo=UTC)
PROBE = (Path(__file__).parents[1] / "support" / "probe_app.html").read_bytes()
DRAFTS = "/agents/a-17/records/contact/003-ada/publisher/drafts"
PROTOCOL = "{ protocol: 'calldesk.apps', version: 1 }"


@attrs.frozen
class ThreeOrigins:
    """The console page of agent a-17 with the app installed for her, and the parts
    behind it."""

    page: Page
    desk: Desk
    clock: PhoneSimulator
    connector: str
    proxy_origin: str
    app_origin: str
    #: Serves the same pages, and the app is not registered for it.
    outsider: str
    agent: dict[str, str]
    admin: dict[str, str]

    @property
    def proxy(self) -> FrameLocator:
        return self.page.frame_locator("iframe.app-proxy")

    @property
    def app(self) -> FrameLocator:
        return self.proxy.frame_locator("iframe.app-frame")

    def status(self) -> Any:
        return self.proxy.locator("#app-status")

    def open_app(self) -> None:
        self.page.get_by_role("button", name="Open Order lookup").click()

    def app_frame(self, origin: str | None = None) -> Frame:
        """The app's frame once the probe in its document of this origin has connected,
        or given up."""
        handle = self.proxy.locator("iframe.app-frame").element_handle()
        frame = handle.content_frame()
        assert frame is not None
        frame.wait_for_url(f"{origin or self.app_origin}/**")
        frame.wait_for_function("window.probe && (window.probe.app || window.probe.failed)")
        return frame

    def refusals(self, *wanted: str) -> list[dict[str, Any]]:
        """The tenant's recorded refusals, once each wanted `reason where` is among them."""
        # Each poll asks the connector again, once the last answer is in; a predicate
        # that returned a promise would count as true at once.
        self.page.wait_for_function(
            """([auth, wanted]) => {
              const asked = (window.refusalsAsked ??= { said: new Set(), waiting: false });
              if (!asked.waiting) {
                asked.waiting = true;
                fetch("/apps/refusals", { headers: { Authorization: auth } })
                  .then((answer) => answer.json())
                  .then(({ refusals }) => {
                    asked.said = new Set(refusals.map((r) => `${r.reason} ${r.where}`));
                  })
                  .finally(() => { asked.waiting = false; });
              }
              return wanted.every((w) => asked.said.has(w));
            }""",
            arg=[self.admin["Authorization"], list(wanted)],
            polling=100,
            timeout=10_000,
        )
        page = httpx.get(f"{self.connector}/apps/refusals", headers=self.admin).json()
        return list(page["refusals"])


@contextmanager
def three_origins(
    browser: Browser, tmp_path: Path, entry: bytes | None
) -> Iterator[ThreeOrigins]:
    """The whole desk; `entry` replaces the demo app's index.html (a probe)."""
    files: dict[str, bytes] = {} if entry is None else {"/index.html": entry}
    with (
        Desk.at(f"sqlite:///{tmp_path}/calldesk.db", directory=StaticDirectory()) as desk,
        serving_files(DEMO_APP, files) as app_origin,
        serving_files(DEMO_APP, files) as outsider,
    ):
        phone = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.register_agent(RegisterAgent("acme", "root", name="Admin", at=START))
        desk.attach("acme", phone, phone)
        desk.create_record(
            CreateRecord(
                "acme",
                kind=RecordKind.CONTACT,
                values={"first_name": "Ada", "last_name": "Byron"},
                operation_id="op-ada",
                record_id="003-ada",
                by=Author("import", "test"),
                at=START,
            )
        )
        # Its twin under the other loopback name is registered too: a frame can move
        # between two origins of the app, and none of them hears the other's messages.
        twin = app_origin.replace("127.0.0.1", "localhost")
        key = installed_app(desk, START, origin=app_origin, also_from=(twin,))
        agent = token_for(desk, phone, "a-17")
        admin = token_for(desk, phone, "root", Role.ADMINISTRATOR)
        with serving(desk, phone) as url:
            proxy_origin = url.replace("127.0.0.1", "localhost")
            files.update(demo_app_files(app_config("order-lookup", key, proxy_origin)))
            if entry is not None:
                files["/index.html"] = entry
            page = browser.new_page()
            errors: list[Error] = []
            page.on("pageerror", lambda error: errors.append(error))
            secret = agent["Authorization"].removeprefix("Bearer ")
            page.goto(f"{url}/pages/console.html?agent=a-17#token={secret}")
            yield ThreeOrigins(
                page, desk, phone, url, proxy_origin, app_origin, outsider, agent, admin
            )
            page.close()
            assert not errors


@pytest.fixture
def demo(browser: Browser, tmp_path: Path) -> Iterator[ThreeOrigins]:
    with three_origins(browser, tmp_path, None) as origins:
        yield origins


@pytest.fixture
def probe(browser: Browser, tmp_path: Path) -> Iterator[ThreeOrigins]:
    with three_origins(browser, tmp_path, PROBE) as origins:
        yield origins


def connected(origins: ThreeOrigins) -> Frame:
    origins.open_app()
    expect(origins.status()).to_have_text("Order lookup: connected")
    frame = origins.app_frame()
    assert frame.evaluate("probe.failed") is None
    return frame


def request(frame: Frame, method: str, path: str, **options: Any) -> dict[str, Any]:
    """What the app's SDK answers to one call through the proxy."""
    answer: dict[str, Any] = frame.evaluate(
        "async ([method, path, options]) => probe.app.request(method, path, options)",
        [method, path, options],
    )
    return answer


def test_the_demo_app_reads_the_callers_contact_and_posts_a_note_on_her_feed(
    demo: ThreeOrigins,
) -> None:
    log_in(demo.desk, START)
    ready(demo.desk, START)
    Desktop(demo.desk, demo.clock, "acme").answered(
        Caller(ADA_NUMBER, "a-17", talks_for=600), 1
    )
    demo.open_app()
    expect(demo.status()).to_have_text("Order lookup: connected")
    expect(demo.app.locator("#contact-name")).to_have_text("Ada Byron")

    demo.app.get_by_label("Internal note").fill("Wants the refund by Friday.")
    demo.app.get_by_role("button", name="Post note").click()
    expect(demo.app.get_by_role("alert")).to_have_text("Note posted.")

    feed = httpx.get(f"{demo.connector}/records/contact/003-ada/feed", headers=demo.agent)
    items = feed.json()["items"]
    assert [(i["item_type"], i["content"]["text"]) for i in items] == [
        ("internal-note", "Wants the refund by Friday.")
    ]


@pytest.mark.parametrize("where", ["another origin", "the proxy frame's own origin"])
def test_an_unregistered_origin_never_loads_in_the_apps_frame_and_is_logged(
    probe: ThreeOrigins, where: str
) -> None:
    """Sent to the connector's own origin, the frame would be same-origin with the
    proxy frame and could script it: the proxy's frame-src policy keeps it out, as it
    keeps out every origin the app is not registered for (ADR/0031)."""
    frame = connected(probe)
    elsewhere = probe.outsider if where == "another origin" else probe.proxy_origin
    target = (
        f"{elsewhere}/pages/console.html"
        if elsewhere == probe.proxy_origin
        else (f"{elsewhere}/index.html")
    )
    frame.evaluate("(url) => { location.href = url; }", target)
    (refused,) = [
        r for r in probe.refusals("wrong-origin browser") if r["origin"] == elsewhere
    ]
    assert (refused["app"], refused["agent"]) == ("order-lookup", "a-17")
    expect(probe.status()).to_have_text("Order lookup: disconnected")
    assert not [f.url for f in probe.page.frames if f.url.startswith(target)]


def test_a_frame_that_navigates_to_another_origin_loses_its_channel_and_session(
    probe: ThreeOrigins,
) -> None:
    frame = connected(probe)
    elsewhere = probe.app_origin.replace("127.0.0.1", "localhost")
    with probe.page.expect_request(
        lambda r: r.method == "DELETE" and r.url.endswith("/app-sessions/current")
    ) as ended:
        # A document without the SDK, elsewhere: it cannot answer the proxy's ping.
        frame.evaluate("(url) => { location.href = url; }", f"{elsewhere}/style.css")
    expect(probe.status()).to_have_text("Order lookup: disconnected")
    response = ended.value.response()
    assert response is not None
    assert response.status == 200


def test_an_app_registered_for_calldesks_own_origin_is_never_loaded(
    probe: ThreeOrigins,
) -> None:
    """It would be same-origin with the proxy frame, and could script it."""
    installed_app(
        probe.desk,
        START,
        origin=probe.proxy_origin,
        app="mirror",
        name="Mirror",
        endpoints=(Endpoint(Method.GET, "/records/contact/{id}", Scope.RECORDS_READ),),
    )
    probe.page.reload()
    probe.page.get_by_role("button", name="Open Mirror").click()
    mirror = probe.page.frame_locator("iframe.app-proxy[data-app=mirror]")
    expect(mirror.locator("#app-status")).to_have_text(
        "Mirror: refused (served from calldesk's own origin)"
    )
    assert mirror.locator("iframe").count() == 0
    probe.refusals("wrong-origin browser")


def test_an_app_session_that_runs_out_is_renewed_and_the_request_goes_through(
    probe: ThreeOrigins,
) -> None:
    """An app session lasts an hour at most: the app, open longer beside calls, must
    not stop working."""
    frame = connected(probe)
    probe.clock.advance(3660)
    answer = request(frame, "GET", "/records/contact/003-ada")
    assert (answer["outcome"], answer["status"]) == ("ok", 200)
    expect(probe.status()).to_have_text("Order lookup: connected")


def test_a_huge_body_is_refused_at_once_without_being_serialized(
    probe: ThreeOrigins,
) -> None:
    """A string or array past 64 KiB is charged its length before anything else: a
    billion holes, which JSON.stringify cannot even serialize, is answered too."""
    frame = connected(probe)
    drafts = "/agents/a-17/records/contact/003-ada/publisher/drafts"
    for body in ("new Array(2 ** 30)", "'x'.repeat(2 ** 27)", "new Array(9e7)"):
        answer = frame.evaluate(
            f"(path) => probe.app.request('POST', path, {{ body: {body} }})", drafts
        )
        assert (answer["outcome"], answer["reason"]) == ("invalid", "too-large"), body


def test_an_endpoint_outside_the_registration_is_denied_in_the_browser(
    probe: ThreeOrigins,
) -> None:
    frame = connected(probe)
    asked: list[str] = []
    probe.page.on("request", lambda r: asked.append(r.url))

    denied = request(frame, "GET", "/records/case/500-invoice")
    assert (denied["outcome"], denied["reason"]) == ("denied", "endpoint-not-allowed")
    traversal = request(frame, "GET", "/records/contact/003-ada/..%2f..%2fapps")
    assert (traversal["outcome"], traversal["reason"]) == ("invalid", "bad-path")
    admin = request(frame, "GET", "/apps/refusals")
    assert (admin["outcome"], admin["reason"]) == ("denied", "endpoint-not-allowed")

    assert not [url for url in asked if "/records/case/" in url or "/apps/refusals" in url]
    assert request(frame, "GET", "/records/contact/003-ada")["outcome"] == "ok"
    probe.refusals("endpoint-not-allowed browser", "bad-path browser")


def test_a_suspended_app_is_refused_at_once_without_a_reload(probe: ThreeOrigins) -> None:
    frame = connected(probe)
    probe.page.evaluate("window.notReloaded = true")

    probe.desk.suspend_app(AppCommand("acme", app="order-lookup", at=START))
    expect(probe.status()).to_have_text("Order lookup: suspended")
    frame.wait_for_function("probe.closed === 'suspended'")
    after = request(frame, "GET", "/records/contact/003-ada")
    assert (after["outcome"], after["reason"]) == ("cancelled", "suspended")
    expect(probe.page.get_by_text("Order lookup (suspended)")).to_be_visible()
    assert probe.page.evaluate("window.notReloaded") is True

    probe.desk.reinstate_app(AppCommand("acme", app="order-lookup", at=START))
    expect(probe.status()).to_have_text("Order lookup: connected")  # loaded again
    assert request(probe.app_frame(), "GET", "/records/contact/003-ada")["outcome"] == "ok"


def held(page: Page, pattern: re.Pattern[str]) -> tuple[list[Route], Callable[[], None]]:
    """Requests to the pattern held until released, so that they stay pending."""
    routes: list[Route] = []
    page.route(pattern, lambda route: routes.append(route))

    def release() -> None:
        for route in routes:
            route.continue_()
        page.unroute(pattern)

    return routes, release


def test_forged_messages_fail_closed_and_the_proxy_keeps_listening(
    probe: ThreeOrigins,
) -> None:
    frame = connected(probe)
    routes, release = held(probe.page, re.compile(r".*/records/contact/003-ada$"))
    with probe.page.expect_request(re.compile(r".*/records/contact/003-ada$")):
        frame.evaluate(
            "(path) => { window.pending = probe.app.request('GET', path); }",
            "/records/contact/003-ada",
        )
    while not routes:  # Playwright hands the route over as it reads its next message
        probe.page.evaluate("0")
    pending_id = frame.evaluate("[...probe.app.pending.keys()][0]")
    heard_before = frame.evaluate("probe.heard.length")

    # Another window of the app's (a frame of its own) cancels the app's request, and
    # says hello; the app's own window cancels on the window rather than on its port.
    frame.evaluate(
        f"""([id, proxyOrigin, app]) => {{
          const nested = document.createElement("iframe");
          document.body.append(nested);
          const forged = (fields) => ({{ ...{PROTOCOL}, ...fields }});
          const cancel = forged({{ type: "cancel", channel: probe.app.channel, id }});
          nested.contentWindow.parent.parent.postMessage(cancel, proxyOrigin);
          nested.contentWindow.eval(`parent.parent.postMessage(${{JSON.stringify(cancel)}},
            ${{JSON.stringify(proxyOrigin)}})`);
          nested.contentWindow.eval(`parent.parent.postMessage(${{JSON.stringify(forged({{
            type: "hello", app, key: "stolen", nonce: "a".repeat(32) }}))}},
            ${{JSON.stringify(proxyOrigin)}})`);
        }}""",
        [pending_id, probe.proxy_origin, "order-lookup"],
    )
    release()
    answered = frame.evaluate("window.pending")
    assert (answered["id"], answered["outcome"]) == (pending_id, "ok")

    # On its own port: the id it just used, malformed and future envelopes, an
    # oversized body; none is answered, save the body's, refused as too large.
    frame.evaluate(
        f"""(id) => {{
          const port = probe.app.port, channel = probe.app.channel;
          const request = {{ ...{PROTOCOL}, type: "request", channel, method: "GET",
            path: "/records/contact/003-ada" }};
          port.postMessage({{ ...request, id }});
          port.postMessage({{ ...request, id: "malformed-1", extra: true }});
          port.postMessage({{ ...request, id: "future-1", version: 2 }});
        }}""",
        pending_id,
    )
    big = request(
        frame, "POST", DRAFTS, body={"item_type": "internal-note", "pad": "x" * 70_000}
    )
    assert (big["outcome"], big["reason"]) == ("invalid", "too-large")
    assert request(frame, "GET", "/records/contact/003-ada")["outcome"] == "ok"
    answered_ids = frame.evaluate(
        "probe.portLog.filter((m) => m.type === 'answer').map((m) => m.id)"
    )
    assert answered_ids.count(pending_id) == 1
    assert not {"malformed-1", "future-1"} & set(answered_ids)
    # Nothing came back on the window: no answer to a forgery.
    assert frame.evaluate("probe.heard.length") == heard_before

    probe.refusals(
        "wrong-source browser",
        "channel-not-ready browser",
        "duplicate-request-id browser",
        "malformed browser",
        "unsupported-version browser",
        "too-large browser",
    )


def test_a_rotated_key_closes_the_channel_at_once(probe: ThreeOrigins) -> None:
    """The console hears the rotation and tells the proxy frame, which closes the
    channel without waiting for a request (the server refuses the old session anyway:
    tests/adapters/test_app_sessions_http.py)."""
    frame = connected(probe)
    probe.desk.rotate_app_key(AppCommand("acme", app="order-lookup", at=START), "new-" * 8)
    frame.wait_for_function("probe.closed === 'key-rotated'")
    expect(probe.status()).to_have_text("Order lookup: key rotated")
    late = request(frame, "GET", "/records/contact/003-ada")
    assert late["outcome"] == "cancelled"


def test_the_server_checks_again_what_a_stale_view_let_through(probe: ThreeOrigins) -> None:
    """The proxy frame is made to read a view that names an endpoint more and a higher
    rate limit than the registration: the server refuses what it lets through."""

    def widened(route: Route) -> None:
        view = route.fetch().json()
        more = {"method": "GET", "path": "/records/case/{id}", "scope": "records:read"}
        route.fulfill(json={**view, "endpoints": [*view["endpoints"], more]})

    probe.page.route(re.compile(r".*/agents/a-17/apps/order-lookup$"), widened)
    frame = connected(probe)

    denied = request(frame, "GET", "/records/case/500-invoice")
    assert (denied["outcome"], denied["status"], denied["reason"]) == (
        "denied",
        403,
        "endpoint-not-allowed",
    )
    assert denied["headers"] == {"content-type": "application/problem+json"}
    probe.refusals("endpoint-not-allowed server")
    assert frame.evaluate("probe.closed") is None  # a denial leaves the channel open
    assert request(frame, "GET", "/records/contact/003-ada")["outcome"] == "ok"


def test_a_frame_that_keeps_saying_hello_is_slowed(probe: ThreeOrigins) -> None:
    frame = connected(probe)
    opened: list[str] = []
    probe.page.on(
        "request", lambda r: opened.append(r.url) if r.url.endswith("/sessions") else None
    )
    frame.evaluate(
        f"""(proxyOrigin) => {{
          for (let i = 0; i < 40; i++) {{
            const nonce = i.toString(16).padStart(32, "0");
            parent.postMessage({{ ...{PROTOCOL}, type: "hello", app: "order-lookup",
              key: "guessed", nonce }}, proxyOrigin);
          }}
        }}""",
        probe.proxy_origin,
    )
    frame.wait_for_function(
        "probe.heard.filter((m) => m.data.type === 'refused').length === 40"
    )
    reasons = frame.evaluate(
        "probe.heard.filter((m) => m.data.type === 'refused').map((m) => m.data.reason)"
    )
    assert set(reasons) == {"bad-key", "rate-limited"}
    assert len(opened) <= 30
    probe.refusals("rate-limited browser", "bad-key server")


def test_a_welcome_goes_only_to_the_origin_that_said_hello(probe: ThreeOrigins) -> None:
    """The frame moves to the app's other origin while its first session opens: the
    first welcome, sent to the first hello's origin, never reaches the new document,
    whose own hello gets the one welcome it hears; the first session ends."""
    routes, release = held(probe.page, re.compile(r".*/apps/order-lookup/sessions$"))
    probe.open_app()
    while not routes:  # the first hello's session is on its way, and held
        probe.page.evaluate("0")
    twin = probe.app_origin.replace("127.0.0.1", "localhost")
    frame = probe.proxy.locator("iframe.app-frame").element_handle().content_frame()
    assert frame is not None
    frame.evaluate("(url) => { location.href = url; }", f"{twin}/index.html")
    frame.wait_for_url(f"{twin}/**")
    frame.wait_for_function("window.probe !== undefined")
    while len(routes) < 2:  # the twin's own hello, held too
        probe.page.evaluate("0")

    with probe.page.expect_request(
        lambda r: r.method == "DELETE" and r.url.endswith("/app-sessions/current")
    ):
        release()
    expect(probe.status()).to_have_text("Order lookup: connected")
    frame.wait_for_function("window.probe.app !== null")
    welcomes = [m for m in frame.evaluate("probe.heard") if m["data"]["type"] == "welcome"]
    assert len(welcomes) == 1
    assert welcomes[0]["origin"] == probe.proxy_origin
