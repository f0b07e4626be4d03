"""Twilio Programmable Voice behind the telephony port, for one tenant (ADR/0008).

Twilio tells calldesk about calls with status callbacks (twilio_callbacks) and takes
commands through its REST API, called with the official twilio library. calldesk hangs
up and dials. An agent answers or declines on their Twilio Voice SDK softphone, and the
callbacks of the leg that rang them tell calldesk. Hold, mute, digits and transfers are
not offered: the REST API can only redirect a call to new TwiML, which drops the agent's
leg instead of holding it.
"""

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioException,
    TwilioRestException,
)
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from calldesk.adapters.telephony.twilio_account import (
    CALL_SID,
    CLIENT_PREFIX,
    SIP_PREFIX,
    LegRole,
    TwilioAccount,
)
from calldesk.adapters.telephony.twilio_callbacks import (
    COMMAND,
    PLACED_BY,
    VENDOR,
    read_status_callback,
)
from calldesk.adapters.telephony.webhooks import hand_over
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.signals import CallSignal, Direction, SignalKind
from calldesk.ports.telephony import (
    CallCommand,
    Capability,
    LiveCall,
    PlaceCall,
    SignalSink,
    VendorDelivery,
    VendorRefusal,
)

__all__ = ["TwilioAccount", "TwilioVoice"]

#: Seconds a REST request may take before calldesk gives up on Twilio.
REQUEST_TIMEOUT = 10.0
#: Every call progress event of the calls calldesk places (Call resource, "Create").
CALL_PROGRESS_EVENTS = ("initiated", "ringing", "answered", "completed")
#: Call resource statuses of a call still on the phone, each listed on its own.
LIVE_STATUSES = ("queued", "ringing", "in-progress")

#: What a live leg is now, by whose leg it is and its Call resource status.
_LIVE_STATES = {
    LegRole.AGENT_RINGING: {
        "queued": SignalKind.OFFERED,
        "ringing": SignalKind.OFFERED,
        "in-progress": SignalKind.CONNECTED,
    },
    LegRole.CUSTOMER_INBOUND: dict.fromkeys(LIVE_STATUSES, SignalKind.QUEUED),
    LegRole.CUSTOMER_OUTBOUND: {
        "queued": SignalKind.DIALING,
        "ringing": SignalKind.REMOTE_RINGING,
        "in-progress": SignalKind.CONNECTED,
    },
}

_Result = TypeVar("_Result")


class _TwilioApiAt:
    """Twilio's HTTP client, sending each request to another base URL.

    The twilio library takes a custom ``http_client`` for proxies and stand-ins
    (twilio-python, advanced-examples/custom-http-client.md); this one keeps its path.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        self._base = urlsplit(base_url)
        self._http = TwilioHttpClient(timeout=timeout)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        parts = urlsplit(url)
        path = self._base.path.rstrip("/") + parts.path
        rebased = urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))
        return self._http.request(
            method,
            rebased,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


class TwilioVoice:
    """One tenant's Twilio account as a phone system calldesk hears and commands."""

    def __init__(self, account: TwilioAccount) -> None:
        self._account = account
        self._client = Client(
            account.account_sid,
            account.auth_token,
            http_client=_TwilioApiAt(account.api_base_url, REQUEST_TIMEOUT),
        )
        self._sink: SignalSink | None = None

    # The port.

    @property
    def vendor(self) -> str:
        return VENDOR

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.DIAL})

    @property
    def needs_acknowledgement(self) -> bool:
        """Answer Twilio only once the signals are recorded: it retries a failed callback
        when the callback URL asks it to (its webhook connection overrides)."""
        return True

    def listen(self, sink: SignalSink) -> None:
        self._sink = sink

    def receive(self, delivery: VendorDelivery) -> tuple[CallSignal, ...]:
        if self._sink is None:
            raise RuntimeError("a Twilio callback arrived before calldesk listened")
        callback = read_status_callback(delivery, self._account)
        return hand_over(self._sink, callback.signals())

    def send(self, command: CallCommand | PlaceCall) -> None:
        if isinstance(command, PlaceCall):
            self._place(command)
        elif command.kind is CommandKind.HANG_UP:
            self._hang_up(command.vendor_call_id)
        else:
            raise VendorRefusal(
                f"calldesk cannot {command.kind.value} a Twilio call: it hangs up and "
                "dials; the agent does the rest on the Twilio softphone"
            )

    def snapshot(self) -> tuple[LiveCall, ...]:
        """The tenant's calls Twilio has on the phone, one per customer call.

        A customer's call shows as its agent's leg when one rings or talks.
        """
        records = self._carry(
            "list the live calls",
            lambda: [
                record
                for status in LIVE_STATUSES
                for record in self._client.calls.list(status=status)
            ],
        )
        live: dict[str, tuple[tuple[bool, bool], LiveCall]] = {}
        for record in records:
            found = self._live_call(record)
            if found is None:
                continue
            precedence, call = found
            known = live.get(call.vendor_call_id)
            if known is None or known[0] <= precedence:
                live[call.vendor_call_id] = (precedence, call)
        return tuple(call for _, call in live.values())

    # Commands.

    def _hang_up(self, call_sid: str) -> None:
        if not CALL_SID.fullmatch(call_sid):
            raise VendorRefusal(f"cannot hang up {call_sid!r}: it is not a Twilio call SID")
        self._carry(
            f"hang up call {call_sid}",
            lambda: self._client.calls(call_sid).update(status="completed"),
        )

    def _place(self, command: PlaceCall) -> None:
        """Ring the customer from the tenant's number; once they answer, ring the agent."""
        endpoint = self._account.endpoint_of(command.agent)
        if endpoint is None:
            raise VendorRefusal(
                f"cannot dial for agent {command.agent}: no Twilio endpoint rings them"
            )
        query = urlencode({PLACED_BY: command.agent, COMMAND: command.command_id})
        separator = "&" if urlsplit(self._account.webhook_url).query else "?"
        self._carry(
            f"dial {command.number.e164} for agent {command.agent}",
            lambda: self._client.calls.create(
                to=command.number.e164,
                from_=self._account.caller_id,
                twiml=str(_ringing(endpoint)),
                status_callback=f"{self._account.webhook_url}{separator}{query}",
                status_callback_event=list(CALL_PROGRESS_EVENTS),
                status_callback_method="POST",
            ),
        )

    def _carry(self, what: str, request: Callable[[], _Result]) -> _Result:
        """Make one REST request; anything but success is Twilio refusing."""
        try:
            return request()
        except TwilioRestException as error:
            raise VendorRefusal(
                f"Twilio refused to {what}: HTTP {error.status}, error {error.code}: "
                f"{error.msg}"
            ) from error
        except TwilioException as error:
            raise VendorRefusal(f"Twilio refused to {what}: {error}") from error
        except requests.RequestException as error:
            raise VendorRefusal(
                f"Twilio could not be reached to {what}: {error}"
            ) from error

    # Snapshots.

    def _live_call(self, record: Any) -> tuple[tuple[bool, bool], LiveCall] | None:
        """The call a live leg belongs to, and how much it says (agent legs say most)."""
        leg = self._account.leg(
            record.sid,
            record.parent_call_sid,
            record.direction,
            record._from or "",  # the library's name for "from", a Python keyword
            record.to or "",
        )
        states = _LIVE_STATES.get(leg.role, {}) if leg is not None else {}
        state = states.get(record.status)
        if leg is None or leg.call_id is None or state is None:
            return None
        if state is SignalKind.DIALING and leg.agent is None:
            state = SignalKind.REMOTE_RINGING  # dialing needs its agent; the Call resource
            # does not say whom calldesk placed it for
        outbound = leg.role is LegRole.CUSTOMER_OUTBOUND
        call = LiveCall(
            vendor_call_id=leg.call_id,
            state=state,
            agent=leg.agent,
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            customer_number=leg.customer,
        )
        precedence = (leg.role is LegRole.AGENT_RINGING, state is SignalKind.CONNECTED)
        return precedence, call


def _ringing(endpoint: str) -> VoiceResponse:
    """TwiML that rings an agent's endpoint (TwiML <Dial>: <Client>, <Sip>, <Number>)."""
    response = VoiceResponse()
    dial = response.dial()
    if endpoint.startswith(CLIENT_PREFIX):
        dial.client(endpoint.removeprefix(CLIENT_PREFIX))
    elif endpoint.startswith(SIP_PREFIX):
        dial.sip(endpoint)
    else:
        dial.number(endpoint)
    return response
