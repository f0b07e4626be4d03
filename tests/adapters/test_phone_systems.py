"""`calldesk serve --phone-systems FILE`: each tenant's accounts become its webhooks, its
agent's SIP phone and its simulator the phone systems the connector connects to."""

import json
from pathlib import Path

import pytest
from fixtures.amazon_connect.contact_events import AGENT_ARN, INSTANCE_ARN
from fixtures.twilio.callbacks import ACCOUNT_SID, AUTH_TOKEN, NUMBER, WEBHOOK
from support.clock import Clock

from calldesk.adapters.cli.phone_systems import (
    FICTIONAL_CALLERS,
    SimulatorSettings,
    SipPhoneSettings,
    load_phone_systems,
)
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
SIP_PHONE = {"agent": "a-17", "port": 4555, "dial_uri": "sip:{number}@pbx.example.com"}


def written(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "phone-systems.json"
    path.write_text(json.dumps(content))
    return path


def test_each_tenant_gets_its_vendors(tmp_path: Path) -> None:
    path = written(tmp_path, {"acme": {"twilio": TWILIO, "amazon-connect": CONNECT}})

    loaded = load_phone_systems(path, Clock())

    assert {
        tenant: [a.vendor for a in adapters] for tenant, adapters in loaded.webhooks.items()
    } == {"acme": ["twilio", "amazon-connect"]}
    assert (loaded.sip_phones, loaded.simulators) == ({}, {})


def test_a_tenant_may_have_its_agents_sip_phone_and_a_simulator(tmp_path: Path) -> None:
    path = written(
        tmp_path,
        {
            "acme": {"baresip": SIP_PHONE},
            "globex": {"simulator": {"agent": "g-1", "ring_every": 5}, "twilio": TWILIO},
        },
    )

    loaded = load_phone_systems(path, Clock())

    assert loaded.sip_phones == {
        "acme": SipPhoneSettings("a-17", "sip:{number}@pbx.example.com", port=4555)
    }
    assert loaded.sip_phones["acme"].host == "127.0.0.1"
    assert loaded.simulators == {"globex": SimulatorSettings("g-1", 5, FICTIONAL_CALLERS)}
    assert [a.vendor for a in loaded.webhooks["globex"]] == ["twilio"]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ({"acme": {"vonage": {}}}, "no phone system 'vonage'"),
        ({"acme": {"twilio": {**TWILIO, "numbers": ["555"]}}}, "acme's twilio settings"),
        ({"acme": {"twilio": {**TWILIO, "colour": "blue"}}}, "colour"),
        ({"acme": {"amazon-connect": {**CONNECT, "key": ""}}}, "API key"),
        ({"acme": {"baresip": {**SIP_PHONE, "dial_uri": "pbx.example.com"}}}, "dial_uri"),
        ({"acme": {"baresip": {**SIP_PHONE, "port": 70000}}}, "65535"),
        ({"acme": {"baresip": {"port": 4444}}}, "acme's baresip settings"),
        ({"acme": {"baresip": {**SIP_PHONE, "agent": "Ada!"}}}, "an agent 'Ada!'"),
        ({"acme": {"simulator": {"ring_every": 0}}}, "ring_every"),
        ({"acme": {"simulator": {"callers": ["555"]}}}, "E.164"),
        ({"acme": {"simulator": {"callers": []}}}, "at least one number"),
        ({"acme": "twilio"}, "acme must hold an object"),
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
