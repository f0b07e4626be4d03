"""The apps' SDK (adapters/http/pages/calldesk-app.js) in Debian's chromium, against a
fake proxy: the SDK takes its welcome only from its parent, at the proxy's origin, with
its own nonce, and settles each request once, on the first of the proxy's answer, its
own timer, a cancel, or the channel closing.

The probe app (tests/support/probe_app.html) comes from http://127.0.0.1:Q, the fake
proxy that frames it from http://localhost:Q: two origins of one small server.
"""

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from playwright.sync_api import Browser, Frame, Page
from support.app_origin import DEMO_APP, app_config, demo_app_files, serving_files

PROBE = (Path(__file__).parents[1] / "support" / "probe_app.html").read_bytes()

FAKE_PROXY = (Path(__file__).parents[1] / "support" / "fake_proxy.html").read_bytes()


@attrs.frozen
class Faked:
    page: Page
    app: Frame


@pytest.fixture
def faked(browser: Browser) -> Iterator[Faked]:
    files: dict[str, bytes] = {"/index.html": PROBE, "/fake-proxy.html": FAKE_PROXY}
    with serving_files(DEMO_APP, files) as app_origin:
        proxy_origin = app_origin.replace("127.0.0.1", "localhost")
        files.update(demo_app_files(app_config("order-lookup", "key", proxy_origin)))
        files["/index.html"] = PROBE
        page = browser.new_page()
        page.goto(f"{proxy_origin}/fake-proxy.html?app={app_origin}")
        handle = page.locator("#app").element_handle()
        frame = handle.content_frame()
        assert frame is not None
        frame.wait_for_url(f"{app_origin}/**")
        frame.wait_for_function("window.probe && (window.probe.app || window.probe.failed)")
        yield Faked(page, frame)
        page.close()


def test_the_welcome_counts_only_from_the_parent_with_the_apps_own_nonce(
    faked: Faked,
) -> None:
    assert faked.app.evaluate("probe.failed") is None
    assert faked.app.evaluate("probe.app.channel") == "f" * 32
    (hello,) = faked.page.evaluate("fake.hellos")
    assert set(hello) == {"protocol", "version", "type", "app", "key", "nonce"}
    assert len(hello["nonce"]) == 32


def test_a_request_settles_on_its_own_timer_when_the_proxy_never_answers(
    faked: Faked,
) -> None:
    answer = faked.app.evaluate(
        "async () => probe.app.request('GET', '/records/contact/1', { timeoutMs: 50 })"
    )
    assert answer["outcome"] == "timeout"
    (sent,) = faked.page.evaluate("fake.got")
    assert (sent["type"], sent["timeout_ms"], sent["id"]) == ("request", 50, answer["id"])
    faked.page.evaluate(
        "(id) => fake.send('answer', { id, outcome: 'ok', status: 200, headers: {},"
        " body: {}, reason: null })",
        answer["id"],
    )
    assert faked.app.evaluate("probe.app.pending.size") == 0


def test_a_cancelled_request_settles_at_once_and_tells_the_proxy(faked: Faked) -> None:
    answer = faked.app.evaluate(
        """async () => {
          const stop = new AbortController();
          const { signal } = stop;
          const asked = probe.app.request("GET", "/records/contact/1", { signal });
          stop.abort();
          return asked;
        }"""
    )
    assert answer["outcome"] == "cancelled"
    faked.page.wait_for_function("fake.got.length === 2")
    request, cancel = faked.page.evaluate("fake.got")
    assert (cancel["type"], cancel["id"]) == ("cancel", request["id"])


def test_the_first_answer_settles_a_request_and_a_closed_channel_settles_the_rest(
    faked: Faked,
) -> None:
    faked.app.evaluate(
        """() => {
          window.first = probe.app.request("GET", "/records/contact/1");
          window.second = probe.app.request("GET", "/records/contact/2");
        }"""
    )
    faked.page.wait_for_function("fake.got.length === 2")
    first_id, second_id = faked.page.evaluate("fake.got.map((m) => m.id)")
    faked.page.evaluate(
        """([id]) => {
          const answer = (outcome) => ({ id, outcome, status: 200, headers: {}, body: {},
            reason: null });
          fake.send("answer", answer("ok"));
          fake.send("answer", answer("upstream-error"));
          fake.send("ping", {});
          fake.send("closed", { reason: "suspended" });
        }""",
        [first_id],
    )
    assert faked.app.evaluate("window.first")["outcome"] == "ok"
    second = faked.app.evaluate("window.second")
    assert (second["id"], second["outcome"], second["reason"]) == (
        second_id,
        "cancelled",
        "suspended",
    )
    faked.app.wait_for_function("probe.closed === 'suspended'")
    faked.page.wait_for_function("fake.got.some((m) => m.type === 'pong')")
    after = faked.app.evaluate("async () => probe.app.request('GET', '/records/contact/1')")
    assert (after["outcome"], after["reason"]) == ("cancelled", "suspended")
