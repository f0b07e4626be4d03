"""The Twilio adapter, fed Twilio's documented status callbacks, against a stand-in of its
REST API on 127.0.0.1 that checks each request's documented shape.

Payloads come from tests/fixtures/twilio/, each citing the Twilio page it follows; the
contract kit runs in test_twilio_contract.py.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from fixtures.twilio.callbacks import (
    AGENT_LEG,
    ANSWERED,
    CUSTOMER,
    CUSTOMER_OUT,
    MISSED,
    NUMBER,
    OUTBOUND_BUSY,
    OUTBOUND_COMPLETED,
    REFUSED,
    STORIES,
    WEBHOOK,
    Callback,
    account,
)
from fixtures.twilio.rest_api import CALLS, RING_ADA, ApiRequest, TwilioStandIn

from calldesk.adapters.telephony.twilio import TwilioVoice
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant, SetWrapUpPolicy
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.signals import CallSignal, Direction, Party, SignalKind
from calldesk.domain.tenants import WrapUpPolicy
from calldesk.ports.telephony import (
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    RejectionReason,
    VendorEventRejected,
    VendorRefusal,
)
from calldesk.testing.adapter_contract import Story

TENANT = "acme"
DAWN = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[TwilioStandIn]:
    with TwilioStandIn() as api:
        yield api


@pytest.fixture
def twilio_api(stand_in: TwilioStandIn) -> Iterator[TwilioStandIn]:
    stand_in.reset()
    yield stand_in
    assert stand_in.problems == [], "requests Twilio's documentation does not allow"


class Heard:
    """A sink that keeps what it heard; every signal is news."""

    def __init__(self) -> None:
        self.signals: list[CallSignal] = []

    def __call__(self, signal: CallSignal) -> bool:
        self.signals.append(signal)
        return True


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def adapter(twilio_api: TwilioStandIn, heard: Heard) -> TwilioVoice:
    voice = TwilioVoice(account(twilio_api.url))
    voice.listen(heard)
    return voice


def _desk() -> Desk:
    """A tenant whose calls close as they end (no wrap-up), with ada and bob available."""
    desk = Desk(env={})
    desk.create_tenant(CreateTenant(TENANT, name="Acme", at=DAWN))
    desk.set_wrap_up_policy(SetWrapUpPolicy(TENANT, WrapUpPolicy(limit_seconds=0), at=DAWN))
    for agent in ("ada", "bob"):
        desk.register_agent(RegisterAgent(TENANT, agent, name=agent, at=DAWN))
        desk.log_in(LogIn(TENANT, agent, at=DAWN))
        desk.go_available(GoAvailable(TENANT, agent, at=DAWN))
    return desk


def _play(events: tuple[Any, ...]) -> tuple[Desk, TwilioVoice]:
    desk = _desk()
    voice = TwilioVoice(account("http://127.0.0.1:9"))
    voice.listen(lambda signal: desk.hear_news(TENANT, signal, signal.occurred_at))
    for event in events:
        voice.receive(event.delivery())
    return desk, voice


def _call(desk: Desk, vendor_call_id: str) -> Any:
    return desk.call(TENANT, str(Call.create_id(TENANT, "twilio", vendor_call_id)))


# Hearing Twilio.


def test_a_signed_callback_is_heard(adapter: TwilioVoice, heard: Heard) -> None:
    signals = adapter.receive(AGENT_LEG.delivery())

    assert heard.signals == list(signals)
    (offered,) = signals
    assert offered.kind is SignalKind.OFFERED
    assert offered.agent == "ada"
    assert offered.vendor_call_id == ANSWERED.vendor_call_id  # the customer's call
    assert offered.customer_number == CUSTOMER
    assert offered.direction is Direction.INBOUND
    assert offered.occurred_at == datetime(2025, 11, 18, 14, 3, 2, tzinfo=UTC)
    assert offered.vendor_kind == "ringing"
    assert offered.raw == dict(AGENT_LEG.form)


@pytest.mark.parametrize("problem", sorted(REFUSED))
def test_bad_deliveries_are_refused_and_reach_no_one(
    adapter: TwilioVoice, heard: Heard, problem: str
) -> None:
    callback, reason = REFUSED[problem]

    with pytest.raises(VendorEventRejected) as refused:
        adapter.receive(callback.delivery())

    assert refused.value.reason is reason
    assert "Twilio status callback refused" in str(refused.value)
    assert heard.signals == []


def test_a_signature_holds_with_or_without_the_default_port(adapter: TwilioVoice) -> None:
    """Twilio signs the URL as it called it; the official validator tries both forms."""
    signed = AGENT_LEG.delivery()
    with_port = attrs.evolve(signed, url=WEBHOOK.replace(".com/", ".com:443/"))

    assert adapter.receive(with_port)[0].kind is SignalKind.OFFERED


def test_event_ids_come_from_the_call_sid_and_sequence_number(adapter: TwilioVoice) -> None:
    completed = ANSWERED.events[3]
    first = adapter.receive(completed.delivery())
    again = adapter.receive(completed.delivery())

    assert first == again
    assert [s.vendor_event_id for s in first] == [
        f"{completed.form['CallSid']}:3:connected",
        f"{completed.form['CallSid']}:3",
    ]


def test_a_redelivered_callback_is_refused_as_a_replay() -> None:
    desk, voice = _play(ANSWERED.events[:2])

    with pytest.raises(VendorEventRejected) as refused:
        voice.receive(ANSWERED.events[1].delivery())

    assert refused.value.reason is RejectionReason.REPLAYED
    assert _call(desk, ANSWERED.vendor_call_id).state is CallState.OFFERED


def test_a_callback_before_listening_is_not_acknowledged() -> None:
    voice = TwilioVoice(account("http://127.0.0.1:9"))

    with pytest.raises(RuntimeError, match="before calldesk listened"):
        voice.receive(AGENT_LEG.delivery())


@pytest.mark.parametrize("story", STORIES, ids=lambda story: story.name)
def test_stories_end_with_their_outcome(story: Story) -> None:
    desk, _ = _play(story.events)

    call = _call(desk, story.vendor_call_id)
    assert call.state is CallState.CLOSED
    assert call.outcome is story.outcome


def test_an_answered_call_is_ada_s_and_timed_by_twilio() -> None:
    desk, _ = _play(ANSWERED.events)

    call = _call(desk, ANSWERED.vendor_call_id)
    assert call.agent == "ada"
    assert call.customer_number == CUSTOMER
    assert call.ring_seconds == 4  # ringing 14:03:02, answered 14:03:06
    assert call.talk_seconds == 42


def test_a_missed_call_rang_out_at_the_agent() -> None:
    desk, _ = _play(MISSED.events)

    (offer,) = _call(desk, MISSED.vendor_call_id).offers
    assert (offer.agent, offer.state.value) == ("ada", "timed-out")


def test_a_busy_customer_fails_the_dial_of_the_agent() -> None:
    desk, _ = _play(OUTBOUND_BUSY.events)

    call = _call(desk, OUTBOUND_BUSY.vendor_call_id)
    assert (call.direction, call.agent) == (Direction.OUTBOUND, "ada")
    assert (call.ended_by, call.end_reason) == (Party.CUSTOMER, "busy")


def _each_leg_reversed(events: tuple[Callback, ...]) -> tuple[Callback, ...]:
    """Every leg's callbacks in reverse SequenceNumber order, leg after leg."""
    legs: dict[str, list[Callback]] = {}
    for event in events:
        legs.setdefault(event.form["CallSid"], []).append(event)
    return tuple(event for leg in legs.values() for event in reversed(leg))


@pytest.mark.parametrize("story", STORIES, ids=lambda story: story.name)
def test_callbacks_in_reverse_sequence_end_the_same(story: Story) -> None:
    desk, _ = _play(_each_leg_reversed(story.events))

    call = _call(desk, story.vendor_call_id)
    assert call.state is CallState.CLOSED
    assert call.outcome is story.outcome


def test_a_late_ringing_after_the_answer_changes_nothing() -> None:
    ringing, answered = ANSWERED.events[1], ANSWERED.events[2]
    desk, voice = _play((answered,))
    version = _call(desk, ANSWERED.vendor_call_id).version

    voice.receive(ringing.delivery())

    call = _call(desk, ANSWERED.vendor_call_id)
    assert call.state is CallState.CONNECTED
    assert call.version == version + 1  # recorded as ignored, for the audit


# Commanding Twilio.


def test_it_offers_dialing_only(adapter: TwilioVoice) -> None:
    assert adapter.capabilities == {Capability.DIAL}
    assert adapter.needs_acknowledgement


def test_hanging_up_completes_the_customer_s_call(
    adapter: TwilioVoice, twilio_api: TwilioStandIn
) -> None:
    sid = ANSWERED.vendor_call_id
    adapter.send(CallCommand("cmd-1", CommandKind.HANG_UP, sid, "ada"))

    assert twilio_api.requests == [
        ApiRequest("POST", f"{CALLS}/{sid}.json", {"Status": ("completed",)})
    ]


def test_dialing_rings_the_customer_then_the_agent(
    adapter: TwilioVoice, twilio_api: TwilioStandIn
) -> None:
    adapter.send(PlaceCall("dial-9", "ada", PhoneNumber(CUSTOMER)))

    assert twilio_api.requests == [
        ApiRequest(
            "POST",
            f"{CALLS}.json",
            {
                "To": (CUSTOMER,),
                "From": (NUMBER,),
                "Twiml": (RING_ADA,),
                "StatusCallback": (f"{WEBHOOK}?agent=ada&command=dial-9",),
                "StatusCallbackEvent": ("initiated", "ringing", "answered", "completed"),
                "StatusCallbackMethod": ("POST",),
            },
        )
    ]


def test_callbacks_of_a_placed_call_name_its_agent_and_command(
    adapter: TwilioVoice,
) -> None:
    url = f"{WEBHOOK}?agent=ada&command=dial-9"

    (dialing,) = adapter.receive(attrs.evolve(CUSTOMER_OUT, url=url).delivery())

    assert (dialing.kind, dialing.agent, dialing.command_id) == (
        SignalKind.DIALING,
        "ada",
        "dial-9",
    )


@pytest.mark.parametrize(
    "kind", [kind for kind in CommandKind if kind is not CommandKind.HANG_UP]
)
def test_commands_twilio_takes_from_the_softphone_are_refused_unsent(
    adapter: TwilioVoice, twilio_api: TwilioStandIn, kind: CommandKind
) -> None:
    with pytest.raises(VendorRefusal, match=f"cannot {kind.value} a Twilio call"):
        adapter.send(CallCommand("cmd-1", kind, ANSWERED.vendor_call_id, "ada", "1"))

    assert twilio_api.requests == []


def test_dialing_for_an_agent_without_endpoint_is_refused_unsent(
    adapter: TwilioVoice, twilio_api: TwilioStandIn
) -> None:
    with pytest.raises(VendorRefusal, match="no Twilio endpoint rings them"):
        adapter.send(PlaceCall("dial-9", "carol", PhoneNumber(CUSTOMER)))

    assert twilio_api.requests == []


def test_twilio_s_error_is_a_refusal_that_says_why(
    adapter: TwilioVoice, twilio_api: TwilioStandIn
) -> None:
    twilio_api.gone.add(ANSWERED.vendor_call_id)

    with pytest.raises(VendorRefusal, match=r"HTTP 404, error 20404: .*not found"):
        adapter.send(
            CallCommand("cmd-1", CommandKind.HANG_UP, ANSWERED.vendor_call_id, "a")
        )


def test_an_unreachable_twilio_is_a_refusal() -> None:
    voice = TwilioVoice(account("http://127.0.0.1:9"))  # discard: nothing listens

    with pytest.raises(VendorRefusal, match="could not be reached to hang up"):
        voice.send(
            CallCommand("cmd-1", CommandKind.HANG_UP, ANSWERED.vendor_call_id, "ada")
        )


def test_the_snapshot_lists_each_live_customer_call_once(
    adapter: TwilioVoice, twilio_api: TwilioStandIn
) -> None:
    inbound, agent_leg = ANSWERED.vendor_call_id, AGENT_LEG.form["CallSid"]
    queued, outbound = "CA" + "e" * 32, OUTBOUND_COMPLETED.vendor_call_id
    twilio_api.live.extend(
        [
            {"sid": inbound, "direction": "inbound", "from": CUSTOMER, "to": NUMBER}
            | {"status": "in-progress"},
            {"sid": agent_leg, "direction": "outbound-dial", "from": CUSTOMER}
            | {"to": "client:ada", "status": "in-progress", "parent_call_sid": inbound},
            {"sid": queued, "direction": "inbound", "from": "+16505550143", "to": NUMBER}
            | {"status": "ringing"},
            {"sid": outbound, "direction": "outbound-api", "from": NUMBER, "to": CUSTOMER}
            | {"status": "ringing"},
            {"sid": "CA" + "f" * 32, "direction": "inbound", "from": CUSTOMER}
            | {"to": "+12125550100", "status": "in-progress"},  # another tenant's
        ]
    )

    live = adapter.snapshot()

    assert sorted(live, key=lambda call: call.vendor_call_id) == [
        LiveCall(inbound, SignalKind.CONNECTED, "ada", Direction.INBOUND, CUSTOMER),
        LiveCall(outbound, SignalKind.REMOTE_RINGING, None, Direction.OUTBOUND, CUSTOMER),
        LiveCall(queued, SignalKind.QUEUED, None, Direction.INBOUND, "+16505550143"),
    ]
    assert [(r.method, r.fields) for r in twilio_api.requests] == [
        ("GET", {"Status": (status,)}) for status in ("queued", "ringing", "in-progress")
    ]


def test_an_account_checks_its_settings() -> None:
    with pytest.raises(ValueError, match="not a Twilio account SID"):
        attrs.evolve(account(WEBHOOK), account_sid="AC123")
    with pytest.raises(ValueError, match=r"not an E\.164 number"):
        attrs.evolve(account(WEBHOOK), numbers=("4155550100",))
    with pytest.raises(ValueError, match="agent handle"):
        attrs.evolve(account(WEBHOOK), agents={"client:ada": "Ada Lovelace"})
