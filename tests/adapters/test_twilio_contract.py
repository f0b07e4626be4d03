"""The Twilio adapter keeps the telephony adapters' contract (calldesk.testing).

The harness plays the tenant's Twilio account: documented status callbacks from
tests/fixtures/twilio/, and a stand-in of the REST API that keeps every request.
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
    STORIES,
    WEBHOOK,
    Callback,
    account,
)
from fixtures.twilio.rest_api import CALLS, RING_ADA, ApiRequest, TwilioStandIn

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
    "agent's own leg": {"ringing": (), "in-progress": (), "completed": ()},
}
_TEMPLATES = {
    "agent leg": AGENT_LEG,
    "customer inbound": CUSTOMER_IN,
    "customer outbound": CUSTOMER_OUT,
    "agent's own leg": AGENT_OWN,
}
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

    def deliver(self, event: Callback) -> None:
        self.adapter.receive(event.delivery())

    def live_call(self, kind: CommandKind) -> str:
        answered = OUTBOUND_COMPLETED.events[2]
        self.deliver(answered)
        return OUTBOUND_COMPLETED.vendor_call_id

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
        return ApiRequest(
            "POST", f"{CALLS}/{command.vendor_call_id}.json", {"Status": ("completed",)}
        )


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
