"""The softphone as an agent works it, in a real browser (Debian's chromium): the
tenant's own reasons, dispositions and quick connects, the keypad, the keyboard, and a
page that is accessible (axe-core) and holds on a laptop and in a narrow side panel."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
import pytest
from playwright.sync_api import Browser, Error, FrameLocator, Page, expect
from support.connector import serving, token_for
from support.desk_driver import tenant_with_agent
from support.page_checks import checked_for_access_and_width
from support.softphone_frame import sent_to_the_phone
from support.telephony import (
    ADA,
    ADA_NUMBER,
    CASE,
    EVE_MOBILE,
    SHARED,
    SHARED_NUMBER,
    StaticDirectory,
)

from calldesk.adapters.telephony.simulator import Callee, Caller, PhoneSimulator
from calldesk.apps.call_views import CallView
from calldesk.apps.desk import Desk
from calldesk.apps.tenancy import DefineDispositions, DefineQuickConnects
from calldesk.apps.workspaces import OpenRecord
from calldesk.domain.agents import AgentState
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.tenants import QuickConnect

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
HELP_DESK = QuickConnect("Help desk", PhoneNumber("+16505550111"))
DISPOSITIONS = ("Resolved", "Follow-up needed", "Escalated")


@attrs.frozen
class Softphone:
    page: Page
    frame: FrameLocator
    phone: PhoneSimulator
    desk: Desk


@pytest.fixture
def softphone(browser: Browser, tmp_path: Path) -> Iterator[Softphone]:
    """Ada's console at a laptop's 1366x768, logged in; any script error fails."""
    with Desk.at(f"sqlite:///{tmp_path}/calldesk.db", directory=StaticDirectory()) as desk:
        callee = Callee("+16505550123", answers_after=1, talks_for=600)
        phone = PhoneSimulator(START, callees=(callee,))
        tenant_with_agent(desk, START)
        desk.define_dispositions(DefineDispositions("acme", DISPOSITIONS, at=START))
        desk.define_quick_connects(DefineQuickConnects("acme", (HELP_DESK,), at=START))
        desk.attach("acme", phone, phone)
        secret = token_for(desk, phone, "a-17")["Authorization"].removeprefix("Bearer ")
        with serving(desk, phone) as url:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[Error] = []
            page.on("pageerror", lambda error: errors.append(error))
            page.clock.install(time=START)
            page.goto(f"{url}/pages/console.html?agent=a-17#token={secret}")
            frame = page.frame_locator("#softphone")
            frame.get_by_role("button", name="Log in").click()
            expect(frame.get_by_label("Status")).to_be_visible()
            yield Softphone(page, frame, phone, desk)
            page.close()
            assert not errors


def rung_and_answered(softphone: Softphone) -> str:
    frame, phone = softphone.frame, softphone.phone
    frame.get_by_label("Status").select_option("available")
    expect(frame.get_by_text("available", exact=False).first).to_be_visible()
    vendor_call_id = phone.expect(Caller(ADA_NUMBER, "a-17", talks_for=600))
    phone.advance(1)
    with sent_to_the_phone(frame, "accept"):
        frame.get_by_role("button", name="Answer").click()
    phone.advance(1)
    frame.locator(".call[data-state=connected]").wait_for()
    return vendor_call_id


def call_of(softphone: Softphone, vendor_call_id: str) -> Any:
    """The call the simulator knows by `vendor_call_id`, as the desk shows it."""
    desk = softphone.desk
    calls = [desk.call("acme", work.call) for work in desk.agent("acme", "a-17").calls]
    (call,) = [c for c in calls if c.vendor_call_id == vendor_call_id]
    return call


def test_the_status_menu_offers_the_tenants_reasons_and_shows_time_in_state(
    softphone: Softphone,
) -> None:
    frame, page = softphone.frame, softphone.page
    menu = frame.get_by_label("Status")
    labels = menu.locator("option").all_inner_texts()
    assert labels == [
        "Available",
        "Not ready: Break",
        "Not ready: Lunch",
        "Not ready: Training",
        "Not ready: Meeting",
        "Not ready: Administrative work",
        "Log out",
    ]
    menu.select_option(label="Not ready: Lunch")
    status = frame.locator("#agent-state")
    expect(status).to_contain_text("not ready (Lunch)")
    expect(menu).to_have_value("not-ready:lunch")
    view = softphone.desk.agent("acme", "a-17")
    assert (view.state, view.not_ready_reason and view.not_ready_reason.code) == (
        AgentState.NOT_READY,
        "lunch",
    )
    page.clock.pause_at(view.since + timedelta(minutes=2, seconds=5))
    page.clock.run_for(1000)
    expect(status).to_have_text("not ready (Lunch) 2:06")


def test_a_status_picked_during_a_call_is_shown_as_next(softphone: Softphone) -> None:
    frame = softphone.frame
    rung_and_answered(softphone)
    frame.get_by_label("Status").select_option(label="Not ready: Training")
    expect(frame.locator("#agent-state")).to_contain_text("next: Not ready: Training")
    expect(frame.get_by_label("Status")).to_have_value("not-ready:training")


def test_the_keypad_sends_each_digit_to_the_call(softphone: Softphone) -> None:
    frame = softphone.frame
    vendor_call_id = rung_and_answered(softphone)
    frame.get_by_role("button", name="Keypad").click()
    keypad = frame.get_by_role("group", name="Keypad")
    for key in "42#":
        with softphone.page.expect_response(lambda r: r.url.endswith("/commands")):
            keypad.get_by_role("button", name=f"Send {key}").click()
        softphone.phone.advance(1)
    call = call_of(softphone, vendor_call_id)
    history = softphone.desk.store.events.get(UUID(call.call))
    sent = [getattr(e, "digits", None) for e in history if type(e).__name__ == "DigitsSent"]
    assert sent == ["4", "2", "#"]


def test_the_transfer_dialog_offers_the_quick_connects(softphone: Softphone) -> None:
    frame = softphone.frame
    vendor_call_id = rung_and_answered(softphone)
    frame.get_by_role("button", name="Transfer…").click()
    dialog = frame.get_by_role("dialog", name="Transfer the call")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=f"Help desk {HELP_DESK.number.e164}").click()
    expect(dialog.get_by_label("Number")).to_have_value(HELP_DESK.number.e164)
    with sent_to_the_phone(frame, "blind-transfer"):
        dialog.get_by_role("button", name="Transfer now").click()
    expect(dialog).to_be_hidden()
    softphone.phone.advance(1)
    frame.locator(".call[data-state=wrap-up]").wait_for()
    assert call_of(softphone, vendor_call_id).end_reason == "transfer"


def argument_of(softphone: Softphone, call: CallView, kind: str) -> str | None:
    """The argument the call's last command of this kind was sent with."""
    history = softphone.desk.store.events.get(UUID(call.call))
    commands = [getattr(e, "command", None) for e in history]
    sent = [
        c.argument
        for c in commands
        if c is not None and getattr(c, "kind", None) and c.kind.value == kind
    ]
    return sent[-1] if sent else None


def found_in_the_directory(dialog: Any, text: str) -> Any:
    """Search the dialog's directory for `text`; the list of what it found."""
    dialog.get_by_label("Search the directory").fill(text)
    dialog.get_by_role("button", name="Search", exact=True).click()
    return dialog.get_by_role("list", name="Found in the directory")


def test_the_transfer_dialog_finds_a_number_in_the_tenants_directory(
    softphone: Softphone,
) -> None:
    frame = softphone.frame
    vendor_call_id = rung_and_answered(softphone)
    frame.get_by_role("button", name="Transfer…").click()
    dialog = frame.get_by_role("dialog", name="Transfer the call")
    found = found_in_the_directory(dialog, "jones")
    expect(found.locator("li")).to_have_count(2)
    expect(found.locator("li").nth(1)).to_contain_text("Eve Jones (contact, Jones Bakery)")
    found.get_by_role("button", name=f"Eve Jones {EVE_MOBILE}").click()
    expect(dialog.get_by_label("Number")).to_have_value(EVE_MOBILE)
    with sent_to_the_phone(frame, "blind-transfer"):
        dialog.get_by_role("button", name="Transfer now").click()
    softphone.phone.advance(1)
    frame.locator(".call[data-state=wrap-up]").wait_for()
    call = call_of(softphone, vendor_call_id)
    assert argument_of(softphone, call, "blind-transfer") == EVE_MOBILE


def test_the_dialog_says_when_the_directory_finds_nothing_or_refuses_the_search(
    softphone: Softphone,
) -> None:
    frame = softphone.frame
    rung_and_answered(softphone)
    frame.get_by_role("button", name="Transfer…").click()
    dialog = frame.get_by_role("dialog", name="Transfer the call")
    found_in_the_directory(dialog, "nobody")
    expect(dialog.get_by_text("No record with a number matches.")).to_be_visible()
    found_in_the_directory(dialog, "  z ")
    expect(dialog.locator("#directory-said")).to_contain_text(
        "q: Expected `str` of length >= 2"
    )


def test_a_conference_adds_someone_found_in_the_directory_through_the_same_dialog(
    softphone: Softphone,
) -> None:
    frame, phone = softphone.frame, softphone.phone
    vendor_call_id = rung_and_answered(softphone)
    frame.get_by_role("button", name="Conference…").click()
    dialog = frame.get_by_role("dialog", name="Add someone to the call")
    found = found_in_the_directory(dialog, "555-0142")
    found.get_by_role("button", name=f"Eve Jones {EVE_MOBILE}").click()
    with sent_to_the_phone(frame, "consult"):
        dialog.get_by_role("button", name="Call them").click()
    phone.advance(1)
    expect(frame.get_by_text(f"Calling {EVE_MOBILE}…")).to_be_visible()
    phone.advance(2)  # Eve answers
    join = frame.get_by_role("button", name="Conference", exact=True)
    with sent_to_the_phone(frame, "conference"):
        join.click()
    phone.advance(1)
    expect(frame.get_by_text(f"In conference with {EVE_MOBILE}")).to_be_visible()
    call = call_of(softphone, vendor_call_id)
    assert argument_of(softphone, call, "consult") == EVE_MOBILE
    assert call.conference


def test_two_live_calls_have_their_own_controls_and_the_keyboard_acts_on_the_one_talking(
    softphone: Softphone,
) -> None:
    """Ada holds her call and answers a second on her own line: both are shown, each
    with its buttons for its own call; Alt+H hangs up the one she talks on, not the
    held one, and only its button says so."""
    frame, phone = softphone.frame, softphone.phone
    first_id = rung_and_answered(softphone)
    first = frame.get_by_role("region", name=f"Call with {ADA_NUMBER}")
    with sent_to_the_phone(frame, "hold"):
        first.get_by_role("button", name="Hold").click()
    phone.advance(1)
    expect(first.locator(".state")).to_have_attribute("data-on-hold", "true")
    second_id = phone.expect(Caller(SHARED_NUMBER, "a-17", talks_for=600, direct=True))
    phone.advance(1)
    second = frame.get_by_role("region", name=f"Call with {SHARED_NUMBER}")
    expect(second.get_by_role("button", name="Answer")).to_be_visible()
    expect(first.get_by_role("button", name="Resume")).to_be_visible()
    with sent_to_the_phone(frame, "accept"):
        second.get_by_role("button", name="Answer").click()
    phone.advance(1)
    frame.locator(".call[data-state=connected]").nth(1).wait_for()
    expect(frame.locator(".call")).to_have_count(2)
    first_hang_up = first.get_by_role("button", name="Hang up")
    second_hang_up = second.get_by_role("button", name="Hang up")
    expect(second_hang_up).to_have_attribute("aria-keyshortcuts", "Alt+H")
    expect(first_hang_up).not_to_have_attribute("aria-keyshortcuts", "Alt+H")
    with sent_to_the_phone(frame, "hang-up"):
        frame.locator("body").press("Alt+H")
    phone.advance(1)
    expect(second.get_by_label("Disposition")).to_be_visible()
    assert call_of(softphone, second_id).state.value == "wrap-up"
    assert call_of(softphone, first_id).on_hold
    with sent_to_the_phone(frame, "resume"):
        first.get_by_role("button", name="Resume").click()
    phone.advance(1)
    expect(first.locator(".state")).to_have_attribute("data-on-hold", "false")
    assert call_of(softphone, first_id).state.value == "connected"
    assert not call_of(softphone, first_id).on_hold
    assert SHARED[0].title not in first.inner_text()


def test_wrap_up_is_the_tenants_pick_list_and_notes_that_fill_the_call_log_draft(
    softphone: Softphone,
) -> None:
    frame, page = softphone.frame, softphone.page
    rung_and_answered(softphone)
    with sent_to_the_phone(frame, "hang-up"):
        frame.get_by_role("button", name="Hang up").click()
    softphone.phone.advance(1)
    disposition = frame.get_by_label("Disposition")
    assert disposition.locator("option").all_inner_texts() == ["Choose…", *DISPOSITIONS]
    disposition.select_option("Escalated")
    frame.get_by_label("Notes").fill("Sent to tier 2 with the invoice.")
    frame.get_by_role("button", name="Submit").click()
    page.locator("#call-log tr", has_text="Escalated").wait_for()
    drafts = softphone.desk.publisher("acme", "a-17", ADA.kind, ADA.record_id).drafts
    (log,) = drafts
    assert "Disposition: Escalated." in log.content.text
    assert "Sent to tier 2 with the invoice." in log.content.text


def test_a_number_in_the_call_log_is_dialed_with_a_click(softphone: Softphone) -> None:
    frame, page = softphone.frame, softphone.page
    rung_and_answered(softphone)
    with sent_to_the_phone(frame, "hang-up"):
        frame.get_by_role("button", name="Hang up").click()
    softphone.phone.advance(1)
    frame.get_by_label("Disposition").select_option("Resolved")
    frame.get_by_role("button", name="Submit").click()
    with page.expect_response(lambda r: r.url.endswith("/dial")) as dialed:
        page.locator("#call-log").get_by_role("button", name=f"Call {ADA_NUMBER}").click()
    assert dialed.value.status == 202, dialed.value.text()
    softphone.phone.advance(1)
    frame.locator(".call[data-state=dialing]").wait_for()
    (work,) = softphone.desk.agent("acme", "a-17").calls
    assert softphone.desk.call("acme", work.call).customer_number == ADA_NUMBER


def test_a_click_held_down_while_the_softphone_redraws_still_holds_the_call(
    softphone: Softphone,
) -> None:
    """A redraw replaces the buttons: one between the press and the release would make
    the release land on another button, and the click would be lost (a CI failure)."""
    page, frame = softphone.page, softphone.frame
    rung_and_answered(softphone)
    box = frame.get_by_role("button", name="Hold").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    # An event of the agent's stream meanwhile: the console shows it, so the frame,
    # which forwards it, has heard it.
    softphone.desk.open_record(OpenRecord("acme", "a-17", record=CASE, at=START))
    expect(page.locator("#tabs")).to_contain_text(CASE.title)
    with sent_to_the_phone(frame, "hold"):
        page.mouse.up()


def test_the_keyboard_answers_holds_mutes_and_hangs_up(softphone: Softphone) -> None:
    frame, phone = softphone.frame, softphone.phone
    frame.get_by_label("Status").select_option("available")
    phone.expect(Caller(ADA_NUMBER, "a-17", talks_for=600))
    phone.advance(1)
    answer = frame.get_by_role("button", name="Answer")
    expect(answer).to_have_attribute("aria-keyshortcuts", "Alt+A")
    answer.focus()
    for key, pending, then in (
        ("Alt+A", "accept", ".call[data-state=connected]"),
        ("Alt+O", "hold", ".call .state[data-on-hold=true]"),
        ("Alt+M", "mute", ".call .state[data-muted=true]"),
        ("Alt+H", "hang-up", ".call[data-state=wrap-up]"),
    ):
        with sent_to_the_phone(frame, pending):
            frame.locator("body").press(key)
        phone.advance(1)
        frame.locator(then).wait_for()


@pytest.mark.parametrize("width", [1366, 360])
def test_the_console_has_no_serious_accessibility_violation_and_fits_its_width(
    softphone: Softphone, width: int
) -> None:
    page = softphone.page
    page.set_viewport_size({"width": width, "height": 768})
    rung_and_answered(softphone)
    checked_for_access_and_width(page, width)


@pytest.mark.parametrize("width", [1366, 360])
def test_two_calls_the_matches_and_the_directory_search_are_accessible_and_fit(
    softphone: Softphone, width: int
) -> None:
    """The busiest desk: a held call, a second whose number several records share
    (the Caller panel describes them), and the transfer dialog with what it found."""
    page, frame, phone = softphone.page, softphone.frame, softphone.phone
    page.set_viewport_size({"width": width, "height": 768})
    rung_and_answered(softphone)
    with sent_to_the_phone(frame, "hold"):
        frame.get_by_role("button", name="Hold").click()
    phone.advance(1)
    phone.expect(Caller(SHARED_NUMBER, "a-17", talks_for=600, direct=True))
    phone.advance(1)
    second = frame.get_by_role("region", name=f"Call with {SHARED_NUMBER}")
    with sent_to_the_phone(frame, "accept"):
        second.get_by_role("button", name="Answer").click()
    phone.advance(1)
    expect(page.locator("#record .matches li").nth(1)).to_contain_text("Jones Bakery")
    checked_for_access_and_width(page, width)
    second.get_by_role("button", name="Transfer…").click()
    dialog = frame.get_by_role("dialog", name="Transfer the call")
    found = found_in_the_directory(dialog, "jones")
    expect(found.locator("li")).to_have_count(2)
    checked_for_access_and_width(page, width)


def test_the_pages_have_a_favicon(softphone: Softphone) -> None:
    icons = softphone.page.evaluate(
        "Array.from(document.querySelectorAll('link[rel=icon]')).map(l => l.href)"
    )
    (icon,) = icons
    response = softphone.page.request.get(icon)
    assert response.ok
    assert response.headers["content-type"].startswith("image/svg+xml")
