"""Twilio and Amazon Connect posting to a running connector, as they would in production."""

import json
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
from fixtures.amazon_connect.contact_events import AGENT_ARN, INSTANCE_ARN, Contact
from fixtures.twilio.callbacks import ABANDONED, account
from support.clock import Clock
from support.desk_driver import log_in, ready, tenant_with_agent

from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.serving import served_in_thread
from calldesk.adapters.telephony.amazon_connect import AmazonConnect, AmazonConnectSettings
from calldesk.adapters.telephony.twilio import TwilioVoice
from calldesk.apps.desk import Desk
from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call

PUBLIC = "https://calldesk.example.com"  # where Twilio's fixtures were signed for
KEY_HEADER, KEY = "X-Calldesk-Key", "connection-key"


@attrs.frozen
class Connector:
    desk: Desk
    http: httpx.Client


@pytest.fixture
def connector() -> Iterator[Connector]:
    clock = Clock()
    with Desk.in_memory() as desk:
        tenant_with_agent(desk, clock(), agent="ada")
        tenant_with_agent(desk, clock(), tenant="globex", agent="ada")
        for tenant in ("acme", "globex"):
            log_in(desk, clock(), tenant, "ada")
            ready(desk, clock(), tenant, "ada")
        connect = AmazonConnectSettings(
            instance_arn=INSTANCE_ARN,
            key_header=KEY_HEADER,
            key=KEY,
            agents={AGENT_ARN: "ada"},
        )
        webhooks: Any = {
            "acme": [
                TwilioVoice(account("http://127.0.0.1:9")),
                AmazonConnect(connect, clock),
            ],
            "globex": [TwilioVoice(account("http://127.0.0.1:9"))],
        }
        config = ConnectorConfig(public_base_url=PUBLIC)
        for tenant, adapters in webhooks.items():
            for adapter in adapters:
                desk.attach(tenant, adapter, clock)
        app = create_app(desk, clock, config, webhooks)
        with served_in_thread(app, 0) as url, httpx.Client(base_url=url) as http:
            yield Connector(desk, http)


def post_twilio(http: httpx.Client, event: Any, tenant: str = "acme") -> httpx.Response:
    delivery = event.delivery()
    return http.post(
        f"/webhooks/twilio/{tenant}",
        content=delivery.body,
        headers={"Content-Type": delivery.content_type, **delivery.headers},
    )


def call_state(desk: Desk, tenant: str, vendor: str, vendor_call_id: str) -> CallState:
    return desk.call(tenant, str(Call.create_id(tenant, vendor, vendor_call_id))).state


def test_twilio_callbacks_signed_for_the_public_url_are_heard(connector: Connector) -> None:
    for event in ABANDONED.events:
        assert post_twilio(connector.http, event).status_code == 200
    state = call_state(connector.desk, "acme", "twilio", ABANDONED.vendor_call_id)
    assert state is CallState.CLOSED


def test_a_forged_or_replayed_twilio_callback_is_refused_and_records_nothing(
    connector: Connector,
) -> None:
    first = ABANDONED.events[1]  # the agent's leg rings
    forged = attrs.evolve(first, token="not-the-tenant-token".ljust(32, "x"))
    head = connector.desk.head()

    refused = post_twilio(connector.http, forged)

    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:calldesk:problem:unauthenticated"
    assert connector.desk.head() == head
    assert post_twilio(connector.http, first).status_code == 200
    head = connector.desk.head()
    assert post_twilio(connector.http, first).status_code == 409
    assert connector.desk.head() == head


def test_a_callback_posted_to_another_tenant_is_refused(connector: Connector) -> None:
    """globex has the same account in this test; the URL signed is acme's."""
    head = connector.desk.head()
    answer = post_twilio(connector.http, ABANDONED.events[0], tenant="globex")
    assert answer.status_code == 403
    assert connector.desk.head() == head


def post_connect(http: httpx.Client, event: Any, key: str = KEY) -> httpx.Response:
    return http.post(
        "/webhooks/amazon-connect/acme",
        content=json.dumps(event),
        headers={"Content-Type": "application/json", KEY_HEADER: key},
    )


def test_connect_contact_events_are_heard_with_the_connection_key(
    connector: Connector,
) -> None:
    contact = Contact("11111111-2222-3333-4444-555555555555")
    for event in (contact.initiated(), contact.queued(), contact.connected_to_agent()):
        assert post_connect(connector.http, event).status_code == 200
    state = call_state(connector.desk, "acme", "amazon-connect", contact.contact_id)
    assert state is CallState.CONNECTED


def test_connect_events_without_the_key_or_of_another_instance_are_refused(
    connector: Connector,
) -> None:
    head = connector.desk.head()
    contact = Contact("11111111-2222-3333-4444-666666666666")
    assert post_connect(connector.http, contact.initiated(), key="guess").status_code == 403
    elsewhere = Contact(
        "11111111-2222-3333-4444-777777777777",
        instance_arn=INSTANCE_ARN.replace("instance/", "instance/0"),
    )
    answer = post_connect(connector.http, elsewhere.initiated())
    assert answer.status_code == 403
    assert answer.json()["type"] == "urn:calldesk:problem:foreign-tenant"
    assert connector.desk.head() == head
    counters = connector.http.get("/metrics").text.splitlines()
    for result in ("unauthenticated", "foreign-tenant"):
        labels = f'result="{result}",vendor="amazon-connect"'
        assert f"calldesk_webhook_deliveries_total{{{labels}}} 1.0" in counters


@pytest.mark.parametrize(
    "body",
    [b"[" * 5000 + b"]" * 5000, b'{"id": "a", "id": "b"}', b'{"id": NaN}'],
    ids=["nested thousands deep", "a key twice", "NaN"],
)
def test_a_webhook_body_that_is_not_json_meaning_one_thing_is_a_422_not_a_crash(
    connector: Connector, body: bytes
) -> None:
    head = connector.desk.head()
    for vendor in ("amazon-connect", "twilio"):
        answer = connector.http.post(
            f"/webhooks/{vendor}/acme",
            content=body,
            headers={"Content-Type": "application/json", KEY_HEADER: KEY},
        )
        assert 400 <= answer.status_code < 500, (vendor, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert connector.desk.head() == head
