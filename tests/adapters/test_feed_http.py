"""The publisher and the record's feed over real HTTP."""

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
import httpx
import pytest
from support.connector import serving, sse_messages, token_for
from support.desk_driver import tenant_with_agent
from support.telephony import ADA, CASE, StaticDirectory

from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.access import Role
from calldesk.domain.record_feed import Feed
from calldesk.domain.records import RecordKind

START = datetime(2026, 11, 25, 9, tzinfo=UTC)
PUBLISHER = f"/agents/a-17/records/contact/{ADA.record_id}/publisher"


@attrs.frozen
class Console:
    desk: Desk
    http: httpx.Client
    ada: dict[str, str]
    boss: dict[str, str]


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    with Desk.at(database_url, directory=StaticDirectory()) as desk:
        clock = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.register_agent(RegisterAgent("acme", "a-18", name="Alan", at=START))
        ada = token_for(desk, clock, "a-17")
        boss = token_for(desk, clock, "a-18", Role.SUPERVISOR, supervises=("a-17",))
        with serving(desk, clock) as url, httpx.Client(base_url=url, timeout=10) as http:
            yield Console(desk, http, ada, boss)


def draft(console: Console, item_type: str, text: str) -> str:
    opened = console.http.post(
        f"{PUBLISHER}/drafts", json={"item_type": item_type}, headers=console.ada
    )
    assert opened.status_code == 201, opened.text
    draft_id: str = opened.json()["draft"]
    edited = console.http.put(
        f"{PUBLISHER}/drafts/{draft_id}", json={"text": text}, headers=console.ada
    )
    assert edited.status_code == 200, edited.text
    return draft_id


def test_three_drafts_reordered_publish_as_one_batch_in_order(console: Console) -> None:
    http, ada = console.http, console.ada
    post = draft(console, "text-post", "Refund approved")
    note = draft(console, "internal-note", "Prefers email")
    email = draft(console, "email", "Dear Ada, your refund is on its way.")
    shown = http.get(PUBLISHER, headers=ada).json()
    assert shown["unpublished"] == {"text-post": 1, "internal-note": 1, "email": 1}
    moved = http.post(f"{PUBLISHER}/drafts/{email}/move", json={"position": 0}, headers=ada)
    assert [d["id"] for d in moved.json()["drafts"]] == [email, post, note]

    batch = {"key": "batch-1", "drafts": [email, post, note]}
    published = http.post(f"{PUBLISHER}/publish", json=batch, headers=ada)
    again = http.post(f"{PUBLISHER}/publish", json=batch, headers=ada)

    assert published.status_code == 200, published.text
    assert again.json()["outcome"]["results"] == published.json()["outcome"]["results"]
    assert again.json()["outcome"]["repeated"] is True
    feed = http.get(f"/records/contact/{ADA.record_id}/feed", headers=ada).json()
    assert [i["content"]["text"] for i in feed["items"]] == [
        "Dear Ada, your refund is on its way.",
        "Refund approved",
        "Prefers email",
    ]
    notes = http.get(
        f"/records/contact/{ADA.record_id}/feed",
        params={"item_type": "internal-note"},
        headers=ada,
    ).json()
    assert [i["item_type"] for i in notes["items"]] == ["internal-note"]


def test_publish_and_next_opens_the_next_record_of_the_queue(console: Console) -> None:
    http, ada = console.http, console.ada
    queue = [
        {"kind": r.kind.value, "record_id": r.record_id, "title": r.title}
        for r in (ADA, CASE)
    ]
    assert (
        http.put("/agents/a-17/queue", json={"records": queue}, headers=ada).status_code
        == 200
    )
    post = draft(console, "text-post", "Done")
    batch = {"key": "k", "drafts": [post], "then_next": True}
    published = http.post(f"{PUBLISHER}/publish", json=batch, headers=ada).json()
    assert published["next_record"]["record_id"] == CASE.record_id
    assert http.get("/agents/a-17/queue", headers=ada).json()["records"] == queue[1:]


def test_a_batch_held_back_names_each_draft_that_is_not_ready(console: Console) -> None:
    http, ada = console.http, console.ada
    ready = draft(console, "text-post", "Refund approved")
    empty = console.http.post(
        f"{PUBLISHER}/drafts", json={"item_type": "email"}, headers=ada
    ).json()["draft"]
    head = console.desk.head()

    refused = http.post(
        f"{PUBLISHER}/publish", json={"key": "k", "drafts": [ready, empty]}, headers=ada
    )

    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"] == "urn:calldesk:problem:batch-not-publishable"
    assert [r["draft"] for r in problem["results"]] == [ready, empty]
    assert problem["results"][0]["problem"] is None
    assert problem["results"][1]["problem"]
    assert console.desk.head() == head


def test_closing_a_draft_with_content_asks_and_can_keep_it_for_later(
    console: Console,
) -> None:
    http, ada = console.http, console.ada
    note = draft(console, "internal-note", "Call back Monday")
    asked = http.post(f"{PUBLISHER}/drafts/{note}/close", headers=ada).json()
    assert asked["asked"] is True
    kept = http.post(
        f"{PUBLISHER}/drafts/{note}/answer", json={"answer": "keep-for-later"}, headers=ada
    ).json()
    assert (kept["drafts"], [d["id"] for d in kept["saved"]]) == ([], [note])


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "status"),
    [
        (
            "another tenant's record",
            "POST",
            "/agents/a-17/records/contact/003-zed/publisher/drafts",
            {"item_type": "text-post"},
            404,
        ),
        ("an unknown type", "POST", f"{PUBLISHER}/drafts", {"item_type": "fax"}, 400),
        (
            "an unknown kind of record",
            "GET",
            "/agents/a-17/records/planet/x/publisher",
            None,
            422,
        ),
        ("an empty batch", "POST", f"{PUBLISHER}/publish", {"key": "k", "drafts": []}, 409),
    ],
)
def test_bad_requests_get_a_problem_and_record_nothing(
    console: Console, case: str, method: str, path: str, body: object, status: int
) -> None:
    head = console.desk.head()
    answer = console.http.request(method, path, json=body, headers=console.ada)
    assert answer.status_code == status, (case, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    assert console.desk.head() == head


def test_a_supervisor_reads_the_publisher_but_does_not_compose(console: Console) -> None:
    assert console.http.get(PUBLISHER, headers=console.boss).status_code == 200
    refused = console.http.post(
        f"{PUBLISHER}/drafts", json={"item_type": "text-post"}, headers=console.boss
    )
    assert refused.status_code == 403


def test_a_publish_reaches_the_stream_of_an_agent_with_the_record_open(
    console: Console,
) -> None:
    http, ada, desk = console.http, console.ada, console.desk
    for handle, name in (("a-19", "Grace"), ("a-20", "Barbara")):
        desk.register_agent(RegisterAgent("acme", handle, name=name, at=START))
    grace = token_for(desk, PhoneSimulator(START), "a-19")
    record = {"kind": "contact", "record_id": ADA.record_id, "title": ADA.title}
    opened = http.post(
        "/agents/a-19/workspace/records", json={"record": record}, headers=grace
    )
    assert opened.status_code == 200, opened.text
    head = desk.head()
    post = draft(console, "text-post", "Refund approved")
    published = http.post(
        f"{PUBLISHER}/publish", json={"key": "k", "drafts": [post]}, headers=ada
    )
    assert published.status_code == 200, published.text

    with http.stream(
        "GET", "/agents/a-19/events", headers={**grace, "Last-Event-ID": str(head)}
    ) as response:
        heard = [m["event"] for m in itertools.islice(sse_messages(response), 2)]
    feed = Feed.create_id("acme", RecordKind.CONTACT, ADA.record_id)
    audiences = [
        e.audience for e in desk.log.read_after(head, 100) if e.originator_id == feed
    ]
    assert heard == ["calldesk.feed.Started", "calldesk.feed.ItemsPublished"]
    assert audiences
    for audience in audiences:  # decided as saved, and kept in the log's index
        assert audience is not None
        assert "a-19" in audience.agents
        assert "a-20" not in audience.agents  # a-20 has no tab on the record
