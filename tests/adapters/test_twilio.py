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
    HELD,
    MISSED,
    NUMBER,
    OUTBOUND_BUSY,
    OUTBOUND_COMPLETED,
    REFUSED,
    STORIES,
    TRANSFERRED,
    WEBHOOK,
    Callback,
    SentCommand,
    account,
)
from fixtures.twilio.rest_api import CALLS, RING_ADA, ApiRequest, TwilioStandIn, deliver
from support.clock import Clock

from calldesk.adapters.telephony.twilio import TwilioVoice
from calldesk.apps.calls import RequestCallCommand
from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant, SetWrapUpPolicy
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.call_states import CallState, Outcome
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
    SignalSink,
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
    """A sink that keeps what it heard and passes it on; without a next one, every signal
    is news."""

    def __init__(self, then: SignalSink | None = None) -> None:
        self.signals: list[CallSignal] = []
        self._then = then

    def __call__(self, signal: CallSignal) -> bool:
        self.signals.append(signal)
        return self._then is None or self._then(signal)


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
    desk = Desk.in_memory()
    desk.create_tenant(CreateTenant(TENANT, name="Acme", at=DAWN))
    desk.set_wrap_up_policy(SetWrapUpPolicy(TENANT, WrapUpPolicy(limit_seconds=0), at=DAWN))
    for agent in ("ada", "bob"):
        desk.register_agent(RegisterAgent(TENANT, agent, name=agent, at=DAWN))
        desk.log_in(LogIn(TENANT, agent, at=DAWN))
        desk.go_available(GoAvailable(TENANT, agent, at=DAWN))
    return desk


def _play(api: TwilioStandIn, events: tuple[Any, ...]) -> tuple[Desk, TwilioVoice]:
    """A desk hearing the tenant's Twilio account, after these events of a story."""
    desk = _desk()
    voice = TwilioVoice(account(api.url))
    voice.listen(lambda signal: desk.hear_news(TENANT, signal, signal.occurred_at))
    for event in events:
        deliver(voice, api, event)
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


def test_a_redelivered_callback_is_refused_as_a_replay(twilio_api: TwilioStandIn) -> None:
    desk, voice = _play(twilio_api, ANSWERED.events[:2])

    with pytest.raises(VendorEventRejected) as refused:
        voice.receive(ANSWERED.events[1].delivery())

    assert refused.value.reason is RejectionReason.REPLAYED
    assert _call(desk, ANSWERED.vendor_call_id).state is CallState.OFFERED


def test_a_callback_before_listening_is_not_acknowledged() -> None:
    voice = TwilioVoice(account("http://127.0.0.1:9"))

    with pytest.raises(RuntimeError, match="before calldesk listened"):
        voice.receive(AGENT_LEG.delivery())


@pytest.mark.parametrize("story", STORIES, ids=lambda story: story.name)
def test_stories_end_with_their_outcome(twilio_api: TwilioStandIn, story: Story) -> None:
    desk, _ = _play(twilio_api, story.events)

    call = _call(desk, story.vendor_call_id)
    assert call.state is CallState.CLOSED
    assert call.outcome is story.outcome


def test_an_answered_call_is_ada_s_and_timed_by_twilio(twilio_api: TwilioStandIn) -> None:
    desk, _ = _play(twilio_api, ANSWERED.events)

    call = _call(desk, ANSWERED.vendor_call_id)
    assert call.agent == "ada"
    assert call.customer_number == CUSTOMER
    assert call.ring_seconds == 4  # ringing 14:03:02, answered 14:03:06
    assert call.talk_seconds == 42


def test_a_missed_call_rang_out_at_the_agent(twilio_api: TwilioStandIn) -> None:
    desk, _ = _play(twilio_api, MISSED.events)

    (offer,) = _call(desk, MISSED.vendor_call_id).offers
    assert (offer.agent, offer.state.value) == ("ada", "timed-out")


def test_a_busy_customer_fails_the_dial_of_the_agent(twilio_api: TwilioStandIn) -> None:
    desk, _ = _play(twilio_api, OUTBOUND_BUSY.events)

    call = _call(desk, OUTBOUND_BUSY.vendor_call_id)
    assert (call.direction, call.agent) == (Direction.OUTBOUND, "ada")
    assert (call.ended_by, call.end_reason) == (Party.CUSTOMER, "busy")


def _each_leg_reversed(
    events: tuple[Callback | SentCommand, ...],
) -> tuple[Callback | SentCommand, ...]:
    """Between the commands calldesk sends, every leg's callbacks in reverse
    SequenceNumber order, leg after leg (what a command causes never comes before it)."""
    reordered: list[Callback | SentCommand] = []
    legs: dict[str, list[Callback]] = {}
    for event in (*events, None):
        if isinstance(event, Callback):
            legs.setdefault(event.form["CallSid"], []).append(event)
            continue
        reordered.extend(callback for leg in legs.values() for callback in reversed(leg))
        legs.clear()
        if event is not None:
            reordered.append(event)
    return tuple(reordered)


@pytest.mark.parametrize("story", STORIES, ids=lambda story: story.name)
def test_callbacks_in_reverse_sequence_end_the_same(
    twilio_api: TwilioStandIn, story: Story
) -> None:
    desk, _ = _play(twilio_api, _each_leg_reversed(story.events))

    call = _call(desk, story.vendor_call_id)
    assert call.state is CallState.CLOSED
    assert call.outcome is story.outcome


def test_a_late_ringing_after_the_answer_changes_nothing(twilio_api: TwilioStandIn) -> None:
    ringing, answered = ANSWERED.events[1], ANSWERED.events[2]
    desk, voice = _play(twilio_api, (answered,))
    version = _call(desk, ANSWERED.vendor_call_id).version

    voice.receive(ringing.delivery())

    call = _call(desk, ANSWERED.vendor_call_id)
    assert call.state is CallState.CONNECTED
    assert call.version == version + 1  # recorded as ignored, for the audit


# Commanding Twilio.


def test_it_offers_dialing_holding_and_blind_transfer(adapter: TwilioVoice) -> None:
    assert adapter.capabilities == {
        Capability.DIAL,
        Capability.HOLD,
        Capability.BLIND_TRANSFER,
    }
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


_SENT = frozenset(
    {CommandKind.HANG_UP, CommandKind.HOLD, CommandKind.RESUME, CommandKind.BLIND_TRANSFER}
)


@pytest.mark.parametrize("kind", [kind for kind in CommandKind if kind not in _SENT])
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
    with pytest.raises(ValueError, match="absolute http"):
        attrs.evolve(account(WEBHOOK), hold_wait_url="hold.xml")


# Holding, resuming and transferring: new TwiML for the customer's leg.

_XML = '<?xml version="1.0" encoding="UTF-8"?>'
HELD_CALL = HELD.vendor_call_id
HOLD = CallCommand("hold-1", CommandKind.HOLD, HELD_CALL, "ada")
RESUME = CallCommand("resume-1", CommandKind.RESUME, HELD_CALL, "ada")
FIRST_LEG_ENDS = HELD.events[4]  # ada's first leg completes: the hold ended its <Dial>
RESUMED_LEG_RINGS, RESUMED_LEG_ANSWERS = HELD.events[7], HELD.events[8]
RESUMED_LEG_ENDS = HELD.events[9]


def _update(sid: str, twiml: str) -> ApiRequest:
    return ApiRequest("POST", f"{CALLS}/{sid}.json", {"Twiml": (_XML + twiml,)})


def test_holding_enqueues_the_customer_and_twilio_s_answer_confirms_it(
    adapter: TwilioVoice, twilio_api: TwilioStandIn, heard: Heard
) -> None:
    twilio_api.date_updated = "Tue, 18 Nov 2025 15:00:30 +0000"

    adapter.send(HOLD)

    queue = f"calldesk-hold-{HELD_CALL}"
    assert twilio_api.requests == [
        _update(HELD_CALL, f"<Response><Enqueue>{queue}</Enqueue></Response>")
    ]
    (held,) = heard.signals
    assert (held.kind, held.vendor_call_id, held.agent) == (
        SignalKind.HELD,
        HELD_CALL,
        "ada",
    )
    assert (held.command_id, held.vendor_event_id) == ("hold-1", "hold-1:held")
    assert held.occurred_at == datetime(2025, 11, 18, 15, 0, 30, tzinfo=UTC)
    assert held.raw["status"] == "in-progress"


def test_a_tenant_s_hold_music_is_the_hold_queue_s_wait_url(
    twilio_api: TwilioStandIn, heard: Heard
) -> None:
    music = "https://music.example.com/hold.xml"
    voice = TwilioVoice(attrs.evolve(account(twilio_api.url), hold_wait_url=music))
    voice.listen(heard)

    voice.send(HOLD)

    queue = f"calldesk-hold-{HELD_CALL}"
    enqueue = f'<Enqueue waitUrl="{music}">{queue}</Enqueue>'
    assert twilio_api.requests == [_update(HELD_CALL, f"<Response>{enqueue}</Response>")]


def test_resuming_rings_the_agent_with_the_inbound_status_callbacks(
    adapter: TwilioVoice, twilio_api: TwilioStandIn, heard: Heard
) -> None:
    adapter.send(RESUME)

    reports = (
        f'statusCallback="{WEBHOOK}?resume=resume-1" '
        'statusCallbackEvent="initiated ringing answered completed" '
        'statusCallbackMethod="POST"'
    )
    assert twilio_api.requests == [
        _update(
            HELD_CALL, f"<Response><Dial><Client {reports}>ada</Client></Dial></Response>"
        )
    ]
    assert heard.signals == [], "a resume waits for the agent to answer"


def test_the_agent_s_new_leg_offers_nothing_and_its_answer_confirms_the_resume(
    adapter: TwilioVoice,
) -> None:
    assert adapter.receive(RESUMED_LEG_RINGS.delivery()) == ()

    (resumed,) = adapter.receive(RESUMED_LEG_ANSWERS.delivery())

    assert (resumed.kind, resumed.command_id) == (SignalKind.RESUMED, "resume-1")
    assert (resumed.vendor_call_id, resumed.agent) == (HELD_CALL, "ada")


@pytest.mark.parametrize(
    ("target", "dialed"),
    [
        ("+14155550199", "<Number>+14155550199</Number>"),
        ("client:bob", "<Client>bob</Client>"),
        ("sip:desk@pbx.example.com", "<Sip>sip:desk@pbx.example.com</Sip>"),
    ],
)
def test_a_blind_transfer_dials_the_target_and_twilio_s_answer_confirms_it(
    adapter: TwilioVoice, twilio_api: TwilioStandIn, heard: Heard, target: str, dialed: str
) -> None:
    sid = TRANSFERRED.vendor_call_id
    adapter.send(CallCommand("transfer-1", CommandKind.BLIND_TRANSFER, sid, "ada", target))

    assert twilio_api.requests == [
        _update(sid, f"<Response><Dial>{dialed}</Dial></Response>")
    ]
    (transferred,) = heard.signals
    assert (transferred.kind, transferred.target, transferred.reason) == (
        SignalKind.TRANSFERRED,
        target,
        "transfer",
    )
    assert transferred.command_id == "transfer-1"
    assert transferred.vendor_event_id == "transfer-1:transferred"


@pytest.mark.parametrize("target", ["4155550199", "client:", "bob"])
def test_a_transfer_to_what_twilio_cannot_dial_is_refused_unsent(
    adapter: TwilioVoice, twilio_api: TwilioStandIn, heard: Heard, target: str
) -> None:
    sid = TRANSFERRED.vendor_call_id
    command = CallCommand("transfer-1", CommandKind.BLIND_TRANSFER, sid, "ada", target)

    with pytest.raises(VendorRefusal, match=r"Twilio dials an E\.164 number"):
        adapter.send(command)

    assert (twilio_api.requests, heard.signals) == ([], [])


def test_resuming_for_an_agent_without_endpoint_is_refused_unsent(
    adapter: TwilioVoice, twilio_api: TwilioStandIn
) -> None:
    with pytest.raises(VendorRefusal, match="no Twilio endpoint rings them"):
        adapter.send(attrs.evolve(RESUME, agent="carol"))

    assert twilio_api.requests == []


def test_a_refused_hold_confirms_nothing(
    adapter: TwilioVoice, twilio_api: TwilioStandIn, heard: Heard
) -> None:
    twilio_api.gone.add(HELD_CALL)

    with pytest.raises(VendorRefusal, match="refused to hold call"):
        adapter.send(HOLD)

    assert heard.signals == []


def test_a_held_and_resumed_call_stays_ada_s_with_its_hold_timed_by_twilio(
    twilio_api: TwilioStandIn,
) -> None:
    desk, _ = _play(twilio_api, HELD.events)

    call = _call(desk, HELD_CALL)
    assert (call.outcome, call.agent) == (Outcome.COMPLETED, "ada")
    assert len(call.offers) == 1, "taking the call back is no new offer"
    assert call.hold_seconds == 43  # held 15:00:30, ada answered again 15:01:13
    assert call.talk_seconds == 115 - 43  # connected 15:00:05, ended 15:02:00


def test_the_leg_a_hold_ended_says_nothing_then_or_redelivered_later(
    twilio_api: TwilioStandIn,
) -> None:
    desk, voice = _play(twilio_api, HELD.events[:4])

    assert voice.receive(FIRST_LEG_ENDS.delivery()) == ()
    for event in HELD.events[5:9]:
        deliver(voice, twilio_api, event)
    assert voice.receive(FIRST_LEG_ENDS.delivery()) == ()

    call = _call(desk, HELD_CALL)
    assert (call.state, call.on_hold, call.pending) == (CallState.CONNECTED, False, ())


def test_a_second_hold_ends_the_leg_the_resume_rang_without_ending_the_call(
    twilio_api: TwilioStandIn,
) -> None:
    desk, voice = _play(twilio_api, HELD.events[:9])

    voice.send(attrs.evolve(HOLD, command_id="hold-2"))
    assert voice.receive(RESUMED_LEG_ENDS.delivery()) == ()

    call = _call(desk, HELD_CALL)
    assert (call.state, call.on_hold) == (CallState.CONNECTED, True)


def test_a_hold_asked_through_calldesk_is_settled_by_twilio_s_answer(
    twilio_api: TwilioStandIn,
) -> None:
    desk, voice = _desk(), TwilioVoice(account(twilio_api.url))
    desk.attach(TENANT, voice, Clock())
    for event in HELD.events[:3]:
        voice.receive(event.delivery())
    asked_at = datetime(2025, 11, 18, 15, 0, 20, tzinfo=UTC)

    desk.command(
        RequestCallCommand(
            TENANT,
            "ada",
            _call(desk, HELD_CALL).call,
            CommandKind.HOLD,
            "hold-1",
            at=asked_at,
        )
    )

    held = _call(desk, HELD_CALL)
    assert (held.on_hold, held.pending) == (True, ())


# Twilio may call back about the agent's leg before it answers the update that ended it.


def _called_back_first(
    api: TwilioStandIn, voice: TwilioVoice, callback: Callback
) -> list[tuple[CallSignal, ...]]:
    """Twilio posts this callback before it answers the next update; what it said."""
    said: list[tuple[CallSignal, ...]] = []
    api.before_answering = lambda: said.append(voice.receive(callback.delivery()))
    return said


def test_an_agent_leg_ending_before_twilio_answers_a_hold_is_the_hold_s_doing(
    twilio_api: TwilioStandIn,
) -> None:
    desk, voice = _play(twilio_api, HELD.events[:3])
    said = _called_back_first(twilio_api, voice, FIRST_LEG_ENDS)

    voice.send(HOLD)

    assert said == [()]
    call = _call(desk, HELD_CALL)
    assert (call.state, call.on_hold) == (CallState.CONNECTED, True)


def test_an_agent_leg_ending_before_twilio_answers_a_transfer_follows_the_transfer(
    twilio_api: TwilioStandIn,
) -> None:
    transfer, agent_leg_ends = TRANSFERRED.events[3], TRANSFERRED.events[4]
    desk, voice = _play(twilio_api, TRANSFERRED.events[:3])
    heard = Heard(lambda signal: desk.hear_news(TENANT, signal, signal.occurred_at))
    voice.listen(heard)
    said = _called_back_first(twilio_api, voice, agent_leg_ends)

    deliver(voice, twilio_api, transfer)

    assert said == [()]
    assert [signal.kind for signal in heard.signals] == [
        SignalKind.TRANSFERRED,
        SignalKind.CONNECTED,  # the agent leg's end, after the transfer: ignored
        SignalKind.ENDED,
    ]
    call = _call(desk, TRANSFERRED.vendor_call_id)
    assert (call.outcome, call.ended_by, call.end_reason) == (
        Outcome.TRANSFERRED_AWAY,
        Party.AGENT,
        "transfer",
    )


def test_an_agent_leg_ending_while_twilio_refuses_a_hold_ends_the_call(
    twilio_api: TwilioStandIn,
) -> None:
    desk, voice = _play(twilio_api, HELD.events[:3])
    twilio_api.gone.add(HELD_CALL)  # the agent hung up as the hold went out
    said = _called_back_first(twilio_api, voice, FIRST_LEG_ENDS)

    with pytest.raises(VendorRefusal, match="HTTP 404"):
        voice.send(HOLD)

    assert said == [()]
    call = _call(desk, HELD_CALL)
    assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.COMPLETED)


# What the adapter remembers lives in its process.


def test_a_resume_after_a_restart_is_still_confirmed(twilio_api: TwilioStandIn) -> None:
    desk, _ = _play(twilio_api, HELD.events[:5])
    restarted = TwilioVoice(account(twilio_api.url))
    restarted.listen(lambda signal: desk.hear_news(TENANT, signal, signal.occurred_at))

    for event in HELD.events[5:9]:
        deliver(restarted, twilio_api, event)

    call = _call(desk, HELD_CALL)
    assert (call.state, call.on_hold) == (CallState.CONNECTED, False)


def test_a_hold_after_a_restart_ends_the_legs_rung_before_it(
    twilio_api: TwilioStandIn,
) -> None:
    desk, _ = _play(twilio_api, HELD.events[:9])
    restarted = TwilioVoice(account(twilio_api.url))
    restarted.listen(lambda signal: desk.hear_news(TENANT, signal, signal.occurred_at))

    restarted.send(attrs.evolve(HOLD, command_id="hold-2"))

    assert restarted.receive(RESUMED_LEG_ENDS.delivery()) == ()
    assert _call(desk, HELD_CALL).on_hold


def test_a_long_command_id_still_makes_a_bounded_repeatable_event_id(
    adapter: TwilioVoice, heard: Heard
) -> None:
    long_hold = attrs.evolve(HOLD, command_id="h" * 200)

    adapter.send(long_hold)
    adapter.send(long_hold)

    first, again = heard.signals
    assert first.vendor_event_id == again.vendor_event_id
    assert len(first.vendor_event_id) <= 128
    assert first.command_id == "h" * 200
