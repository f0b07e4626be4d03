"""The Twilio adapter keeps the telephony adapters' contract (calldesk.testing).

The harness plays the tenant's Twilio account: documented status callbacks from
tests/fixtures/twilio/, and a stand-in of the REST API that keeps every request and
answers the commands a story sends.
"""

from collections.abc import Iterator

import pytest
from fixtures.twilio.callbacks import (
    AGENT_LEG,
    CUSTOMER,
    CUSTOMER_IN,
    CUSTOMER_OUT,
    NUMBER,
    OUTBOUND_COMPLETED,
    REFUSED,
    RESUMED_LEG,
    STORIES,
    WEBHOOK,
    Callback,
    SentCommand,
    account,
)
from fixtures.twilio.rest_api import CALLS, RING_ADA, ApiRequest, TwilioStandIn, deliver

from calldesk.adapters.telephony.twilio import TwilioVoice
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.signals import SignalKind
from calldesk.ports.telephony import CallCommand, PlaceCall
from calldesk.testing.adapter_contract import AdapterContract

AGENT_OWN = Callback(  # ada's softphone calls out through the tenant's TwiML app
    {**CUSTOMER_IN.form, "From": "client:ada", "To": CUSTOMER, "CallSid": "CA" + "d" * 32}
)

#: What each documented CallStatus says, by whose leg it is.
STATUS_KINDS: dict[str, dict[str, tuple[SignalKind, ...]]] = {
    "agent leg": {
        "queued": (),
        "initiated": (),
        "ringing": (SignalKind.OFFERED,),
        "in-progress": (SignalKind.CONNECTED,),
        "completed": (SignalKind.CONNECTED, SignalKind.ENDED),
        "busy": (SignalKind.ENDED,),
        "no-answer": (SignalKind.OFFER_TIMED_OUT, SignalKind.ENDED),
        "canceled": (SignalKind.ABANDONED,),
        "failed": (SignalKind.FAILED,),
    },
    "customer inbound": {
        "queued": (SignalKind.QUEUED,),
        "initiated": (SignalKind.QUEUED,),
        "ringing": (SignalKind.QUEUED,),
        "in-progress": (),
        "completed": (SignalKind.ENDED,),
        "busy": (SignalKind.ENDED,),
        "no-answer": (SignalKind.ENDED,),
        "canceled": (SignalKind.ABANDONED,),
        "failed": (SignalKind.FAILED,),
    },
    "customer outbound": {
        "queued": (SignalKind.DIALING,),
        "initiated": (SignalKind.DIALING,),
        "ringing": (SignalKind.DIALING, SignalKind.REMOTE_RINGING),
        "in-progress": (SignalKind.DIALING, SignalKind.CONNECTED),
        "completed": (SignalKind.DIALING, SignalKind.CONNECTED, SignalKind.ENDED),
        "busy": (SignalKind.DIALING, SignalKind.FAILED),
        "no-answer": (SignalKind.DIALING, SignalKind.FAILED),
        "canceled": (SignalKind.DIALING, SignalKind.FAILED),
        "failed": (SignalKind.DIALING, SignalKind.FAILED),
    },
    "agent leg rung to resume": {
        "queued": (),
        "initiated": (),
        "ringing": (),
        "in-progress": (SignalKind.RESUMED,),
        "completed": (SignalKind.RESUMED, SignalKind.ENDED),
        "busy": (SignalKind.ENDED,),
        "no-answer": (SignalKind.ENDED,),
        "canceled": (SignalKind.ABANDONED,),
        "failed": (SignalKind.FAILED,),
    },
    "agent's own leg": {"ringing": (), "in-progress": (), "completed": ()},
}
_TEMPLATES = {
    "agent leg": AGENT_LEG,
    "customer inbound": CUSTOMER_IN,
    "customer outbound": CUSTOMER_OUT,
    "agent leg rung to resume": RESUMED_LEG,
    "agent's own leg": AGENT_OWN,
}
#: The TwiML of each redirect, as the TwiML reference writes it (fixtures/twilio/twiml.py).
_XML = '<?xml version="1.0" encoding="UTF-8"?>'

DOCUMENTED = {
    f"{status} ({leg})": (_TEMPLATES[leg].with_form(CallStatus=status), kinds)
    for leg, statuses in STATUS_KINDS.items()
    for status, kinds in statuses.items()
}


class TwilioHarness:
    """One tenant's Twilio account, its stand-in REST API and the callbacks it sends."""

    def __init__(self, api: TwilioStandIn) -> None:
        self.api = api
        self.adapter = TwilioVoice(account(api.url))
        self.agents = ("ada", "bob")
        self.documented = DOCUMENTED
        self.stories = STORIES
        self.malformed = {problem: callback for problem, (callback, _) in REFUSED.items()}

    def deliver(self, event: Callback | SentCommand) -> None:
        deliver(self.adapter, self.api, event)

    def live_call(self, kind: CommandKind) -> str:
        answered = OUTBOUND_COMPLETED.events[2]
        self.deliver(answered)
        call = OUTBOUND_COMPLETED.vendor_call_id
        if kind is CommandKind.RESUME:
            self.adapter.send(CallCommand("held-first", CommandKind.HOLD, call, "ada"))
        return call

    def requests(self) -> list[ApiRequest]:
        return list(self.api.requests)

    def expected_request(self, command: CallCommand | PlaceCall) -> ApiRequest:
        if isinstance(command, PlaceCall):
            callback = f"{WEBHOOK}?agent={command.agent}&command={command.command_id}"
            return ApiRequest(
                "POST",
                f"{CALLS}.json",
                {
                    "To": (command.number.e164,),
                    "From": (NUMBER,),
                    "Twiml": (RING_ADA,),
                    "StatusCallback": (callback,),
                    "StatusCallbackEvent": (
                        "initiated",
                        "ringing",
                        "answered",
                        "completed",
                    ),
                    "StatusCallbackMethod": ("POST",),
                },
            )
        call = f"{CALLS}/{command.vendor_call_id}.json"
        if command.kind is CommandKind.HANG_UP:
            return ApiRequest("POST", call, {"Status": ("completed",)})
        return ApiRequest("POST", call, {"Twiml": (_XML + _redirected_to(command),)})


def _redirected_to(command: CallCommand) -> str:
    if command.kind is CommandKind.HOLD:
        queue = f"calldesk-hold-{command.vendor_call_id}"
        return f"<Response><Enqueue>{queue}</Enqueue></Response>"
    if command.kind is CommandKind.RESUME:
        callback = f"{WEBHOOK}?resume={command.command_id}"
        reports = (
            f'statusCallback="{callback}" '
            'statusCallbackEvent="initiated ringing answered completed" '
            'statusCallbackMethod="POST"'
        )
        client = command.agent  # the stories' agents ring at client:<their handle>
        return f"<Response><Dial><Client {reports}>{client}</Client></Dial></Response>"
    assert command.kind is CommandKind.BLIND_TRANSFER
    return f"<Response><Dial><Number>{command.argument}</Number></Dial></Response>"


@pytest.fixture(scope="class")
def contract_api(request: pytest.FixtureRequest) -> Iterator[None]:
    """One stand-in for the contract's checks, each of which builds harnesses anew."""
    with TwilioStandIn() as api:
        request.cls.api = api
        yield
        assert api.problems == [], "requests Twilio's documentation does not allow"


@pytest.mark.usefixtures("contract_api")
class TestTwilioContract(AdapterContract):
    api: TwilioStandIn

    def make_harness(self) -> TwilioHarness:
        return TwilioHarness(self.api)
