"""The console's tab bar, publisher and feed in a real browser (Debian's chromium).

As in test_browser.py, the console comes from http://127.0.0.1:PORT and the softphone
frame from http://localhost:PORT: two origins, as in a deployment.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import httpx
import pytest
from playwright.sync_api import (
    Browser,
    Error,
    FrameLocator,
    Locator,
    Page,
    Route,
    expect,
)
from support.connector import serving, token_for
from support.desk_driver import tenant_with_agent
from support.softphone_frame import sent_to_the_phone
from support.telephony import ADA, ADA_NUMBER, CASE, StaticDirectory

from calldesk.adapters.telephony.simulator import Caller, PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@attrs.frozen
class Console:
    """The console page of agent a-17, its softphone frame, the phone system, the desk
    and the connector's address."""

    page: Page
    frame: FrameLocator
    phone: PhoneSimulator
    desk: Desk
    url: str


@pytest.fixture
def console(browser: Browser, tmp_path: Path) -> Iterator[Console]:
    """The page with a fresh token; any script error on it fails the test."""
    with Desk.at(f"sqlite:///{tmp_path}/calldesk.db", directory=StaticDirectory()) as desk:
        phone = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.attach("acme", phone, phone)
        secret = token_for(desk, phone, "a-17")["Authorization"].removeprefix("Bearer ")
        with serving(desk, phone) as url:
            page = browser.new_page()
            errors: list[Error] = []
            page.on("pageerror", lambda error: errors.append(error))
            page.goto(f"{url}/pages/console.html?agent=a-17#token={secret}")
            yield Console(page, page.frame_locator("#softphone"), phone, desk, url)
            page.close()
            assert not errors


def current_tab(page: Page) -> Locator:
    return page.locator("#tabs [aria-current=true]")


def open_record(page: Page, kind: str, record_id: str, title: str) -> None:
    """Open a record from the navigation tab, as an agent who knows its id."""
    page.get_by_role("button", name="Home", exact=True).click()
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Record id").fill(record_id)
    page.get_by_role("button", name="Open record").click()
    expect(current_tab(page)).to_contain_text(title)
    expect(page.get_by_role("heading", name="Publisher")).to_be_visible()


def new_draft(page: Page, item_type: str) -> Locator:
    """Open a draft of this type (as its button names it); it comes last."""
    drafts = page.locator(".draft")
    count = drafts.count()
    page.get_by_role("button", name=f"New {item_type}", exact=True).click()
    expect(drafts).to_have_count(count + 1)
    draft_id = drafts.nth(count).get_attribute("data-draft")
    return page.locator(f'.draft[data-draft="{draft_id}"]')


def typed(page: Page, draft: Locator, field: str, text: str) -> None:
    """Type into a draft's field, and wait until the server has saved it."""
    path = f"/drafts/{draft.get_attribute('data-draft')}"
    with page.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith(path)
    ) as saved:
        draft.get_by_label(field).fill(text)
    assert saved.value.ok, saved.value.text()


def test_three_drafts_reordered_are_published_and_read_in_that_order(
    console: Console,
) -> None:
    page = console.page
    open_record(page, "case", CASE.record_id, CASE.title)
    note = new_draft(page, "internal note")
    typed(page, note, "Text", "Customer was charged twice on 2 November.")
    status = new_draft(page, "status change")
    expect(status.get_by_label("From status")).to_have_value("new")
    typed(page, status, "To status", "refund-pending")
    email = new_draft(page, "email")
    publish = page.get_by_role("button", name=re.compile("^Publish"))
    expect(publish).to_have_text(
        "Publish 3 drafts (1 email, 1 internal note, 1 status change)"
    )

    publish.click()  # the email is still empty: the batch is refused whole
    expect(page.get_by_role("alert").filter(has_text="Publish refused")).to_contain_text(
        "3. email: it is empty"
    )
    expect(email.get_by_role("alert")).to_contain_text("Holds the batch back: it is empty")
    typed(page, email, "Text", "Dear customer, your refund is on its way.")
    email.get_by_role("button", name="Move up").click()
    expect(page.locator(".draft legend")).to_have_text(
        [
            "1. Internal note, for agents only",
            "2. Email, for everyone, the customer too",
            "3. Status change",
        ]
    )
    publish.click()

    expect(page.get_by_role("status")).to_have_text("Published 3 items.")
    expect(page.locator(".feed-item .feed-meta strong")).to_have_text(
        ["Internal note", "Email", "Status change"]
    )
    expect(page.locator(".feed-item").nth(1)).to_contain_text("your refund is on its way")
    expect(page.get_by_text("Status: refund-pending")).to_be_visible()
    expect(page.locator(".draft")).to_have_count(0)

    page.get_by_label("Type").select_option("email")
    expect(page.locator(".feed-item .feed-meta strong")).to_have_text(["Email"])


def test_a_feed_open_in_the_console_shows_another_agents_publish_at_once(
    console: Console,
) -> None:
    page, desk = console.page, console.desk
    open_record(page, "case", CASE.record_id, CASE.title)
    desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=START))
    alan = token_for(desk, console.phone, "a-18")
    publisher = f"{console.url}/agents/a-18/records/case/{CASE.record_id}/publisher"
    with httpx.Client(timeout=10, headers=alan) as http:
        note = http.post(f"{publisher}/drafts", json={"item_type": "internal-note"})
        draft = note.json()["draft"]
        http.put(f"{publisher}/drafts/{draft}", json={"text": "Refund sent by Alan"})
        batch = {"key": "alan-1", "drafts": [draft]}
        assert http.post(f"{publisher}/publish", json=batch).status_code == 200

    expect(page.locator(".feed-item")).to_contain_text(["Refund sent by Alan"])


def test_a_reload_finds_the_tabs_and_the_drafts_as_they_were(console: Console) -> None:
    page = console.page
    open_record(page, "contact", ADA.record_id, ADA.title)
    open_record(page, "case", CASE.record_id, CASE.title)
    post = new_draft(page, "text post")
    typed(page, post, "Text", "Refund approved by billing.")
    post.get_by_label("Visible to").select_option("everyone")
    attachment = new_draft(page, "attachment reference")
    typed(page, attachment, "File or article reference", "KB-1042")
    attachment.get_by_role("button", name="Move up").click()
    expect(page.locator(".draft").first).to_have_attribute("data-type", "attachment")

    page.reload()

    expect(page.locator("#tabs .tab-label")).to_have_text(
        ["Home", ADA.title, CASE.title], timeout=10_000
    )
    expect(current_tab(page)).to_contain_text(CASE.title)
    drafts = page.locator(".draft")
    expect(drafts).to_have_count(2)
    expect(drafts.first.get_by_label("File or article reference")).to_have_value("KB-1042")
    expect(drafts.nth(1).get_by_label("Text")).to_have_value("Refund approved by billing.")
    expect(drafts.nth(1).get_by_label("Visible to")).to_have_value("everyone")


def test_an_answered_call_opens_the_callers_tab_with_her_publisher(
    console: Console,
) -> None:
    page, frame, phone = console.page, console.frame, console.phone
    frame.get_by_role("button", name="Log in").click()
    frame.get_by_role("button", name="Ready", exact=True).click()
    page.get_by_text("Ada Lovelace (a-17): available").wait_for()
    expect(current_tab(page)).to_have_text("Home")

    phone.expect(Caller(ADA_NUMBER, "a-17", talks_for=40))
    phone.advance(1)
    with sent_to_the_phone(frame, "accept"):
        frame.get_by_role("button", name="Answer").click()
    phone.advance(1)
    frame.locator(".call[data-state=connected]").wait_for()

    expect(current_tab(page)).to_contain_text(ADA.title)
    expect(page.get_by_role("heading", name=ADA.title, level=2)).to_be_visible()
    expect(page.get_by_role("button", name="New internal note")).to_be_visible()

    with sent_to_the_phone(frame, "hang-up"):
        frame.get_by_role("button", name="Hang up").click()
    phone.advance(1)
    frame.get_by_role("textbox", name="Disposition").fill("billing question")
    frame.get_by_role("button", name="Submit").click()
    # The ended call's log arrives in her publisher as a draft, ready for notes.
    expect(page.locator(".draft legend")).to_have_text(["1. Call log, logs a call"])


def test_closing_a_draft_with_content_asks_and_can_keep_it_for_later(
    console: Console,
) -> None:
    page = console.page
    open_record(page, "case", CASE.record_id, CASE.title)
    blank = new_draft(page, "text post")
    blank.get_by_role("button", name="Close").click()
    expect(page.locator(".draft")).to_have_count(0)  # nothing to lose: no question

    receipt = "Customer sends the receipt by Friday."
    comment = new_draft(page, "case comment")
    typed(page, comment, "Text", receipt)
    comment.get_by_role("button", name="Close").click()
    question = comment.get_by_role("group", name="Close this draft?")
    expect(question).to_contain_text("This draft has content")
    question.get_by_role("button", name="Keep for later").click()

    expect(page.locator(".draft")).to_have_count(0)
    kept = page.locator(".saved-drafts li")
    expect(kept).to_have_text([f"Case comment {receipt} Restore"])
    kept.get_by_role("button", name=re.compile("^Restore")).click()
    restored = page.locator(".draft")
    expect(restored.get_by_label("Text")).to_have_value(receipt)
    expect(page.get_by_role("heading", name="Kept for later")).to_be_hidden()


def test_a_publish_whose_answer_was_lost_is_retried_under_the_same_key(
    console: Console,
) -> None:
    page = console.page
    open_record(page, "case", CASE.record_id, CASE.title)
    typed(page, new_draft(page, "text post"), "Text", "Refund approved.")
    keys: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        keys.append(json.loads(route.request.post_data or "{}")["key"])
        if len(keys) == 1:
            route.fetch()  # the connector publishes, but the answer never arrives
            route.abort()
        else:
            route.continue_()

    page.route("**/publisher/publish", lose_the_first_answer)
    page.get_by_role("button", name=re.compile("^Publish")).click()
    page.get_by_role("button", name="Retry the same publish").click()

    expect(page.get_by_role("status")).to_have_text("Published 1 item.")
    expect(page.locator(".feed-item")).to_have_count(1)
    typed(page, new_draft(page, "text post"), "Text", "Receipt received.")
    page.get_by_role("button", name=re.compile("^Publish")).click()
    expect(page.locator(".feed-item")).to_have_count(2)
    assert keys[0] == keys[1] != keys[2]
