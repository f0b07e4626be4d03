"""The console page and its softphone frame in a real browser (Debian's chromium).

The console comes from http://127.0.0.1:PORT and the softphone frame from
http://localhost:PORT: two origins, as in a deployment, talking with postMessage.
"""

import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from support.connector import serving, token_for
from support.desk_driver import not_ready, ready, tenant_with_agent
from support.softphone_frame import sent_to_the_phone
from support.telephony import (
    ADA,
    ADA_NUMBER,
    EVE_MOBILE,
    SHARED,
    SHARED_NUMBER,
    StaticDirectory,
)

from calldesk.adapters.telephony.simulator import Caller, Faults, PhoneSimulator
from calldesk.apps.access import RevokeToken
from calldesk.apps.desk import Desk
from calldesk.apps.tenancy import SetWrapUpPolicy
from calldesk.domain.call_commands import CONFIRMATION_DEADLINE, CommandKind
from calldesk.domain.tenants import WrapUpPolicy

#: Where the console's screenshot goes: docs/screenshots when asked for (to refresh
#: the committed one), else the test's own folder.
SCREENSHOTS_VARIABLE = "CALLDESK_SCREENSHOTS"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
def desk_and_phone(tmp_path: Path) -> Iterator[tuple[Desk, PhoneSimulator]]:
    with Desk.at(f"sqlite:///{tmp_path}/calldesk.db", directory=StaticDirectory()) as desk:
        phone = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.attach("acme", phone, phone)
        yield desk, phone


def logged_in_console(
    browser: object,
    desk: Desk,
    phone: PhoneSimulator,
    url: str,
    requests: list[Any] | None = None,
    clock_at: datetime | None = None,
) -> tuple[Any, Any]:
    """The console page of agent a-17 with a fresh token; logged in from the frame.
    Every request the page and its frame make goes to `requests`, when given; with
    `clock_at`, the page's clock starts there (the simulator's time) and the test moves
    it (Playwright's clock: no waiting on real seconds)."""
    secret = token_for(desk, phone, "a-17")["Authorization"].removeprefix("Bearer ")
    page = browser.new_page()  # type: ignore[attr-defined]
    if clock_at is not None:
        page.clock.install(time=clock_at)
    if requests is not None:
        page.on("request", lambda request: requests.append(request))
    page.goto(f"{url}/pages/console.html?agent=a-17#token={secret}")
    frame = page.frame_locator("#softphone")
    frame.get_by_role("button", name="Log in").click()
    return page, frame


def test_a_call_is_answered_in_the_frame_and_pops_the_record_in_the_console(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator], tmp_path: Path
) -> None:
    desk, phone = desk_and_phone
    with serving(desk, phone) as url:
        # The page's clock at the simulator's time, so the screenshot's timers read true.
        page, frame = logged_in_console(browser, desk, phone, url, clock_at=START)
        frame.get_by_role("button", name="Ready", exact=True).click()
        page.get_by_text("Ada Lovelace (a-17): available").wait_for()

        phone.expect(Caller(ADA_NUMBER, "a-17", talks_for=40))
        phone.advance(1)
        with sent_to_the_phone(frame, "accept"):
            frame.get_by_role("button", name="Answer").click()
        phone.advance(1)
        frame.locator(".call[data-state=connected]").wait_for()
        page.locator("#popped-record").get_by_text(f"{ADA.title} (contact)").wait_for()
        assert page.locator("#presence").inner_text().endswith("on call")

        with sent_to_the_phone(frame, "hang-up"):
            frame.get_by_role("button", name="Hang up").click()
        phone.advance(1)
        frame.get_by_role("textbox", name="Disposition").fill("billing question")
        frame.get_by_role("button", name="Submit").click()
        page.locator("#call-log").get_by_text("billing question").wait_for()
        folder = Path(os.environ.get(SCREENSHOTS_VARIABLE) or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "console.png"), full_page=True)
        assert (folder / "console.png").stat().st_size > 10_000
        page.close()


def test_an_answer_the_phone_never_carries_out_is_shown_failed_in_the_frame(
    browser: object, tmp_path: Path
) -> None:
    """The phone takes the accept and does nothing (baresip while two calls ring): at
    the deadline the softphone says the answer failed, and why."""
    unheeded = Faults(unheeded=frozenset({CommandKind.ACCEPT}))
    with Desk.at(f"sqlite:///{tmp_path}/calldesk.db", directory=StaticDirectory()) as desk:
        phone = PhoneSimulator(START, unheeded)
        tenant_with_agent(desk, START)
        desk.attach("acme", phone, phone)
        with serving(desk, phone) as url:
            page, frame = logged_in_console(browser, desk, phone, url)
            frame.get_by_role("button", name="Ready", exact=True).click()
            page.get_by_text("Ada Lovelace (a-17): available").wait_for()
            phone.expect(Caller(ADA_NUMBER, "a-17", talks_for=40))
            phone.advance(1)
            with sent_to_the_phone(frame, "accept"):
                frame.get_by_role("button", name="Answer").click()
            phone.advance(CONFIRMATION_DEADLINE.total_seconds())
            assert desk.fail_unconfirmed_commands("acme", "simulator", phone.now()) == 1
            alert = frame.get_by_role("alert")
            alert.get_by_text("accept failed: the phone system did not confirm").wait_for()
            assert (
                frame.locator(".call[data-state=offered]").get_attribute("data-pending")
                == ""
            )
            page.close()


def answered_at_the_frame(frame: Any, phone: PhoneSimulator, number: str) -> None:
    """A call from `number` rings, and Ada answers it in the frame: connected."""
    phone.expect(Caller(number, "a-17", talks_for=600))
    phone.advance(1)
    with sent_to_the_phone(frame, "accept"):
        frame.get_by_role("button", name="Answer").click()
    phone.advance(1)
    frame.locator(".call[data-state=connected]").wait_for()


def test_a_held_call_keeps_its_hold_marker_and_both_timers_tick(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    """The one-second timer used to overwrite "on hold" with "Connected 4 s"."""
    desk, phone = desk_and_phone
    with serving(desk, phone) as url:
        page, frame = logged_in_console(browser, desk, phone, url, clock_at=START)
        frame.get_by_role("button", name="Ready", exact=True).click()
        answered_at_the_frame(frame, phone, ADA_NUMBER)  # connected at START + 2 s
        with sent_to_the_phone(frame, "hold"):
            frame.get_by_role("button", name="Hold").click()
        phone.advance(1)  # held at START + 3 s
        status = frame.locator(".call .state")
        expect(status).to_contain_text("on hold")
        # Past the real seconds the page has run since START, then two ticks.
        page.clock.pause_at(START + timedelta(seconds=40))
        page.clock.run_for(2000)
        expect(status).to_have_text("on hold 0:39 · connected 0:40")
        with sent_to_the_phone(frame, "resume"):
            frame.get_by_role("button", name="Resume").click()
        phone.advance(1)
        expect(status).to_have_text(re.compile(r"^connected 0:\d\d$"))
        page.close()


def test_a_timed_wrap_up_counts_down_and_the_caller_panel_says_the_call_closed(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    desk, phone = desk_and_phone
    policy = WrapUpPolicy(limit_seconds=30)
    desk.set_wrap_up_policy(SetWrapUpPolicy("acme", policy=policy, at=START))
    with serving(desk, phone) as url:
        page, frame = logged_in_console(browser, desk, phone, url, clock_at=START)
        frame.get_by_role("button", name="Ready", exact=True).click()
        answered_at_the_frame(frame, phone, ADA_NUMBER)
        with sent_to_the_phone(frame, "hang-up"):
            frame.get_by_role("button", name="Hang up").click()
        phone.advance(1)  # ended at START + 3 s: the wrap-up ends at START + 33 s
        frame.locator(".call[data-state=wrap-up]").wait_for()
        page.clock.pause_at(START + timedelta(seconds=24))  # past the real seconds run
        page.clock.run_for(1000)
        expect(frame.locator(".call .state")).to_have_text("wrap-up, 0:08 left")
        frame.get_by_role("textbox", name="Disposition").fill("resolved")
        frame.get_by_role("button", name="Submit").click()
        caller = page.locator("#record")
        expect(caller).to_contain_text(f"Last call from {ADA_NUMBER} (closed)")
        expect(caller).not_to_contain_text("wrap-up")
        page.close()


def test_a_match_the_agent_chooses_among_several_files_the_call_and_gets_its_log(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    """Two people share the switchboard's number: nobody is named until Ada chooses;
    then the call log's Record column and the call-log draft are Eve's."""
    desk, phone = desk_and_phone
    bob, eve = SHARED
    with serving(desk, phone) as url:
        page, frame = logged_in_console(browser, desk, phone, url)
        frame.get_by_role("button", name="Ready", exact=True).click()
        answered_at_the_frame(frame, phone, SHARED_NUMBER)
        call_line = frame.locator(".call div").first
        expect(call_line).to_have_text(SHARED_NUMBER)  # not the first match's name
        caller = page.locator("#record")
        expect(caller).to_contain_text("Several records match; choose one:")
        caller.get_by_role("button", name=f"{eve.title} (contact)").click()
        expect(page.locator("#popped-record")).to_have_text(f"{eve.title} (contact)")
        expect(call_line).to_have_text(f"{SHARED_NUMBER} · {eve.title}")
        chosen = caller.get_by_role("button", name=f"{eve.title} (contact)")
        expect(chosen).to_have_attribute("aria-pressed", "true")
        with sent_to_the_phone(frame, "hang-up"):
            frame.get_by_role("button", name="Hang up").click()
        phone.advance(1)
        frame.get_by_role("textbox", name="Disposition").fill("billing question")
        frame.get_by_role("button", name="Submit").click()
        row = page.locator("#call-log tr", has_text="billing question")
        expect(row).to_contain_text(eve.title)
        expect(row).not_to_contain_text(bob.title)
        publisher = desk.publisher("acme", "a-17", eve.kind, eve.record_id)
        assert [draft.item_type.value for draft in publisher.drafts] == ["call-log"]
        page.close()


def test_the_matches_say_what_tells_them_apart_and_every_number_is_dialed_with_a_click(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    """Bob and Eve Jones share a switchboard: each match says its account and open
    cases, and each number shown (the matches', the chosen record's) calls it."""
    desk, phone = desk_and_phone
    bob, eve = SHARED
    with serving(desk, phone) as url:
        page, frame = logged_in_console(browser, desk, phone, url)
        frame.get_by_role("button", name="Ready", exact=True).click()
        answered_at_the_frame(frame, phone, SHARED_NUMBER)
        matches = page.locator("#record .matches li")
        expect(matches).to_have_count(2)
        expect(matches.nth(0)).to_contain_text("Jones Freight · no open case")
        expect(matches.nth(1)).to_contain_text(
            "Jones Bakery · 1 open case: Invoice charged twice"
        )
        expect(
            matches.nth(1).get_by_role("button", name=re.compile("^Call "))
        ).to_have_text([f"{SHARED_NUMBER} ext. 14", EVE_MOBILE])
        bobs = matches.nth(0).get_by_role("button", name=f"Call {SHARED_NUMBER} ext. 12")
        expect(bobs).to_be_visible()
        page.locator("#record").get_by_role("button", name=f"{eve.title} (contact)").click()
        details = page.locator("#popped-details")
        expect(details).to_contain_text("Jones Bakery")
        with sent_to_the_phone(frame, "hang-up"):
            frame.get_by_role("button", name="Hang up").click()
        phone.advance(1)
        frame.get_by_role("textbox", name="Disposition").fill("billing question")
        frame.get_by_role("button", name="Submit").click()
        expect(page.locator("#record")).to_contain_text("Last call from")
        assert bob.title not in details.inner_text()
        with page.expect_response(lambda r: r.url.endswith("/dial")) as dialed:
            details.get_by_role("button", name=f"Call {EVE_MOBILE}").click()
        assert dialed.value.status == 202, dialed.value.text()
        assert dialed.value.request.post_data_json["number"] == EVE_MOBILE
        phone.advance(1)
        frame.locator(".call[data-state=dialing]").wait_for()
        page.close()


def test_the_console_and_its_frame_read_the_agents_events_through_one_stream(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    desk, phone = desk_and_phone
    requests: list[Any] = []
    with serving(desk, phone) as url:
        page, frame = logged_in_console(browser, desk, phone, url, requests)
        frame.get_by_role("button", name="Ready", exact=True).click()
        page.get_by_text("Ada Lovelace (a-17): available").wait_for()
        streams = [r.frame.url for r in requests if r.url.endswith("/agents/a-17/events")]
        page.close()
    assert len(streams) == 1
    assert "/pages/softphone.html" in streams[0]


def test_a_revoked_token_signs_the_frame_out_and_it_stops_asking(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    """Revoked while the console is open: the frame says so and why, offers nothing
    that could no longer work, and does not knock again and again with that token."""
    desk, phone = desk_and_phone
    requests: list[Any] = []
    with serving(desk, phone) as url:
        page, frame = logged_in_console(
            browser, desk, phone, url, requests, clock_at=phone.now()
        )
        frame.get_by_role("button", name="Ready", exact=True).click()
        page.get_by_text("Ada Lovelace (a-17): available").wait_for()
        secret = page.url.rpartition("#token=")[2]
        desk.revoke_token(RevokeToken("acme", at=phone.now()), secret)
        expect(frame.get_by_role("alert")).to_contain_text("Signed out: ")
        expect(frame.locator("#agent-state")).to_have_text("signed out")
        expect(frame.get_by_role("button", name="Ready", exact=True)).to_have_count(0)
        page.clock.run_for(120_000)  # two minutes on the page's clock: any retry is due
        streams = [r for r in requests if r.url.endswith("/agents/a-17/events")]
        page.close()
    assert len(streams) == 1


def test_a_message_from_a_foreign_origin_is_ignored_by_the_softphone(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    desk, phone = desk_and_phone
    with serving(desk, phone) as url:
        page, frame = logged_in_console(browser, desk, phone, url)
        page.get_by_text("Ada Lovelace (a-17): not ready").wait_for()
        head = desk.head()
        softphone = next(f for f in page.frames if f.url.startswith("http://localhost"))
        softphone.evaluate(
            """() => window.dispatchEvent(new MessageEvent("message", {
                origin: "https://evil.example",
                data: {type: "calldesk.dial", number: "+16505550123"},
            }))"""
        )
        frame.get_by_role("button", name="Ready", exact=True).click()
        page.get_by_text("Ada Lovelace (a-17): available").wait_for()
        assert [
            n.topic for n in desk.store.recorder.select_notifications(head + 1, 10)
        ] == ["calldesk.agent.StatusPicked"]
        page.close()


def test_the_page_loses_and_doubles_nothing_when_the_connector_restarts(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    desk, phone = desk_and_phone
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with serving(desk, phone, port=port) as url:
        page, _ = logged_in_console(browser, desk, phone, url)
        page.get_by_text("Ada Lovelace (a-17): not ready").wait_for()
    # The connector is down: the agent's state changes elsewhere (another process).
    not_ready(desk, "lunch", phone.now())
    ready(desk, phone.now())
    with serving(desk, phone, port=port):
        page.get_by_text("Ada Lovelace (a-17): available").wait_for()
        softphone = next(f for f in page.frames if f.url.startswith("http://localhost"))
        received = [
            int(i) for i in softphone.evaluate("document.body.dataset.received").split()
        ]
        changes = [n.id for n in desk.store.recorder.select_notifications(1, 100)]
        assert received == sorted(set(received))  # in order, none twice
        assert set(changes[-2:]) <= set(received)  # the two made while it was down
        page.close()


def test_the_schema_viewer_works_without_internet(
    browser: object, desk_and_phone: tuple[Desk, PhoneSimulator]
) -> None:
    """Every asset of /schema is the connector's own: with anything else cut off, the
    viewer still draws the API, and nothing failed to load."""
    desk, phone = desk_and_phone
    with serving(desk, phone) as url:
        page = browser.new_page()  # type: ignore[attr-defined]
        elsewhere: list[str] = []

        def only_the_connector(route: Any) -> None:
            if route.request.url.startswith(url):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_connector)
        errors: list[Any] = []
        page.on("pageerror", lambda error: errors.append(error))
        page.goto(f"{url}/schema")
        expect(page.get_by_text("calldesk connector").first).to_be_visible()
        expect(page.get_by_text("/agents/{agent}/dial").first).to_be_visible()
        page.close()
    assert elsewhere == []
    assert errors == []
