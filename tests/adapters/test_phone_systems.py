"""`calldesk serve --phone-systems FILE`: each tenant's accounts become its webhooks."""

import json
from pathlib import Path

import pytest
from fixtures.amazon_connect.contact_events import AGENT_ARN, INSTANCE_ARN
from fixtures.twilio.callbacks import ACCOUNT_SID, AUTH_TOKEN, NUMBER, WEBHOOK
from support.clock import Clock

from calldesk.adapters.cli.phone_systems import load_phone_systems
from calldesk.domain.errors import InvalidValue

TWILIO = {
    "account_sid": ACCOUNT_SID,
    "auth_token": AUTH_TOKEN,
    "numbers": [NUMBER],
    "agents": {"client:ada": "a-17"},
    "webhook_url": WEBHOOK,
}
CONNECT = {
    "instance_arn": INSTANCE_ARN,
    "key_header": "X-Calldesk-Key",
    "key": "k3y",
    "agents": {AGENT_ARN: "a-17"},
    "live_window": 3600,
}


def written(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "phone-systems.json"
    path.write_text(json.dumps(content))
    return path


def test_each_tenant_gets_its_vendors(tmp_path: Path) -> None:
    path = written(tmp_path, {"acme": {"twilio": TWILIO, "amazon-connect": CONNECT}})

    loaded = load_phone_systems(path, Clock())

    assert {
        tenant: [a.vendor for a in adapters] for tenant, adapters in loaded.items()
    } == {"acme": ["twilio", "amazon-connect"]}


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ({"acme": {"vonage": {}}}, "no phone system 'vonage'"),
        ({"acme": {"twilio": {**TWILIO, "numbers": ["555"]}}}, "acme's twilio settings"),
        ({"acme": {"twilio": {**TWILIO, "colour": "blue"}}}, "colour"),
        ({"acme": {"amazon-connect": {**CONNECT, "key": ""}}}, "API key"),
        (["acme"], "an object of tenants"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(
    tmp_path: Path, content: object, complaint: str
) -> None:
    with pytest.raises(InvalidValue, match=complaint):
        load_phone_systems(written(tmp_path, content), Clock())


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="cannot read phone systems"):
        load_phone_systems(tmp_path / "nowhere.json", Clock())
