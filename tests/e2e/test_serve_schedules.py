"""`calldesk serve` runs the desk's scheduler: a wrap-up ends at the tenant's limit."""

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import attrs
import httpx
import pytest
from fixtures.twilio.callbacks import ACCOUNT_SID, ANSWERED, AUTH_TOKEN, NUMBER, Callback
from fixtures.twilio.rest_api import TwilioStandIn
from support.connector import sse_messages
from support.serve_process import calldesk_serve

from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant, SetWrapUpPolicy
from calldesk.domain.calls import Call
from calldesk.domain.tenants import WrapUpPolicy

PUBLIC = "https://calldesk.example.com"  # where Twilio's callbacks are signed for
LIMIT_SECONDS = 3
SECRET = "s" * 43


@attrs.frozen
class Served:
    http: httpx.Client
    twilio: TwilioStandIn
    log: Path


def prepared(database_url: str, now: datetime) -> None:
    """Acme, whose wrap-ups end after a few seconds, and Ada, ready, with a token."""
    with Desk.at(database_url) as desk:
        desk.create_tenant(CreateTenant("acme", name="Acme", at=now))
        policy = WrapUpPolicy(limit_seconds=LIMIT_SECONDS, auto_ready=True)
        desk.set_wrap_up_policy(SetWrapUpPolicy("acme", policy=policy, at=now))
        desk.register_agent(RegisterAgent("acme", "ada", name="Ada Lovelace", at=now))
        desk.log_in(LogIn("acme", "ada", at=now))
        desk.go_available(GoAvailable("acme", "ada", at=now))
        expires = now + timedelta(days=1)
        desk.issue_token(IssueToken("acme", "ada", at=now, expires_at=expires), SECRET)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`calldesk serve` on a free loopback port, Twilio's REST API stood in for."""
    database_url = f"sqlite:///{tmp_path}/calldesk.db"
    prepared(database_url, datetime.now(UTC))
    with TwilioStandIn() as twilio:
        phone_systems = tmp_path / "phone-systems.json"
        phone_systems.write_text(
            json.dumps(
                {
                    "acme": {
                        "twilio": {
                            "account_sid": ACCOUNT_SID,
                            "auth_token": AUTH_TOKEN,
                            "numbers": [NUMBER],
                            "agents": {"client:ada": "ada"},
                            "webhook_url": f"{PUBLIC}/webhooks/twilio/acme",
                            "api_base_url": twilio.url,
                        }
                    }
                }
            )
        )
        environment = {
            "PATH": os.environ["PATH"],
            "CALLDESK_DATABASE_URL": database_url,
        }
        arguments = ("--public-url", PUBLIC, "--phone-systems", str(phone_systems))
        headers = {"Authorization": f"Bearer {SECRET}"}
        with calldesk_serve(arguments, environment, tmp_path, headers) as http:
            yield Served(http, twilio, tmp_path / "serve.log")


def retimed(callbacks: tuple[Callback, ...], end: datetime) -> list[Callback]:
    """The story's callbacks as if the call ended at `end`: the wrap-up's limit counts
    from the hang-up Twilio reports."""
    stamps = [parsedate_to_datetime(c.form["Timestamp"]) for c in callbacks]
    shift = end.replace(microsecond=0) - max(stamps)
    return [
        c.with_form(Timestamp=format_datetime(stamp + shift))
        for c, stamp in zip(callbacks, stamps, strict=True)
    ]


def test_a_wrap_up_ends_at_the_tenants_limit_under_calldesk_serve(
    served: Served,
) -> None:
    http = served.http
    # The scheduler reconciled Twilio when it was attached: it listed the live calls.
    served.twilio.awaited("GET", within=10)
    callbacks = [c for c in ANSWERED.events if isinstance(c, Callback)]
    call = str(Call.create_id("acme", "twilio", ANSWERED.vendor_call_id))
    # The agent's stream tells when the scheduler closed the call: no polling.
    with http.stream("GET", "/agents/ada/events", timeout=LIMIT_SECONDS + 10) as stream:
        frames = sse_messages(stream)
        assert next(frames)["event"] == "snapshot"
        for callback in retimed(tuple(callbacks), datetime.now(UTC)):
            delivery = callback.delivery()
            answer = http.post(
                "/webhooks/twilio/acme",
                content=delivery.body,
                headers={
                    "Host": "calldesk.example.com",
                    "Content-Type": delivery.content_type,
                    **delivery.headers,
                },
            )
            assert answer.status_code == 200, answer.text
        hung_up = time.monotonic()
        wrapping = http.get(f"/calls/{call}").json()
        assert wrapping["state"] == "wrap-up"
        assert http.get("/agents/ada").json()["state"] == "wrap-up"
        closing = next(f for f in frames if f["event"] == "calldesk.call.Closed")
    view = http.get(f"/calls/{call}").json()
    assert json.loads(closing["data"])["recorded"]["aggregate"] == call
    waited = time.monotonic() - hung_up
    assert view["state"] == "closed"
    assert view["outcome"] == "completed"
    assert view["wrap_up_seconds"] == pytest.approx(LIMIT_SECONDS, abs=0.01)
    assert waited > LIMIT_SECONDS - 1.5  # at its limit, not at once
    agent = http.get("/agents/ada").json()
    assert (agent["state"], agent["calls"]) == ("available", [])
    assert "Traceback" not in served.log.read_text()
