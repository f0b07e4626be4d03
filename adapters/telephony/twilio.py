"""Twilio Programmable Voice behind the telephony port, for one tenant (ADR/0008).

Twilio tells calldesk about calls with status callbacks (twilio_callbacks) and takes
commands through its REST API, called with the official twilio library. calldesk hangs
up, dials, holds, resumes and transfers blind. An agent answers or declines on their
Twilio Voice SDK softphone, and the callbacks of the leg that rang them tell calldesk.

Hold, resume and transfer give the customer's leg new TwiML (Call resource, "Update a
Call"), which ends the agent's leg (twilio_redirects says how its end is heard):
- hold: <Enqueue> into a queue of the call's own, where Twilio plays the waitUrl (by
  default its classical playlist) until the call is redirected or hung up; Twilio's
  200 confirms it (HELD);
- resume: <Dial> the agent again, with the status callbacks of the inbound flow and the
  command id in their URL; the new leg's answer confirms it (RESUMED);
- blind transfer: <Dial> the target (a number, client: or sip:); Twilio's 200 confirms
  it (TRANSFERRED), and the call leaves calldesk.
Mute and digits are not offered: they belong to the agent's own leg, which the REST API
does not reach; consultation and conference would need a <Conference>.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
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
    check_endpoint,
)
from calldesk.adapters.telephony.twilio_callbacks import (
    COMMAND,
    PLACED_BY,
    RESUME,
    VENDOR,
    read_status_callback,
)
from calldesk.adapters.telephony.twilio_redirects import Redirects, confirmation
from calldesk.adapters.telephony.webhooks import hand_over
from calldesk.domain.call_commands import CommandKind
from calldesk.domain.errors import InvalidValue
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
#: The name of a held call's queue, before its CallSid (TwiML <Enqueue>: 64 at most).
HOLD_QUEUE = "calldesk-hold-"
#: What Twilio's 200 on a redirect confirms; a resume waits for the agent to answer.
_CONFIRMED_BY_ANSWER = {
    CommandKind.HOLD: SignalKind.HELD,
    CommandKind.BLIND_TRANSFER: SignalKind.TRANSFERRED,
}
_REDIRECTS = frozenset({*_CONFIRMED_BY_ANSWER, CommandKind.RESUME})

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
        self._redirects = Redirects()

    # The port.

    @property
    def vendor(self) -> str:
        return VENDOR

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.DIAL, Capability.HOLD, Capability.BLIND_TRANSFER})

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
        return hand_over(self._sink, self._redirects.heard(callback))

    def send(self, command: CallCommand | PlaceCall) -> None:
        if isinstance(command, PlaceCall):
            self._place(command)
        elif command.kind is CommandKind.HANG_UP:
            self._hang_up(command.vendor_call_id)
        elif command.kind in _REDIRECTS:
            self._redirect(command)
        else:
            raise VendorRefusal(
                f"calldesk cannot {command.kind.value} a Twilio call: it hangs up, dials, "
                "holds, resumes and transfers; the agent does the rest on the Twilio "
                "softphone"
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
        status_callback = self._callback_url(
            {PLACED_BY: command.agent, COMMAND: command.command_id}
        )
        self._carry(
            f"dial {command.number.e164} for agent {command.agent}",
            lambda: self._client.calls.create(
                to=command.number.e164,
                from_=self._account.caller_id,
                twiml=str(_ringing(endpoint)),
                status_callback=status_callback,
                status_callback_event=list(CALL_PROGRESS_EVENTS),
                status_callback_method="POST",
            ),
        )

    def _redirect(self, command: CallCommand) -> None:
        """Give the customer's leg new TwiML; Twilio's 200 confirms a hold or transfer."""
        sink = self._sink
        if sink is None:
            raise RuntimeError(f"a {command.kind.value} was sent before calldesk listened")
        sid = command.vendor_call_id
        what = f"{command.kind.value} call {sid}"
        if not CALL_SID.fullmatch(sid):
            raise VendorRefusal(f"cannot {what}: it is not a Twilio call SID")
        twiml = str(self._twiml(command, what))
        self._redirects.sending(command)
        try:
            call = self._carry(what, lambda: self._client.calls(sid).update(twiml=twiml))
        except VendorRefusal:
            for signal in self._redirects.refused(command):
                sink(signal)
            raise
        held_back = self._redirects.answered(command)
        kind = _CONFIRMED_BY_ANSWER.get(command.kind)
        confirmed = () if kind is None else (_confirmed(command, kind, call, twiml),)
        for signal in (*confirmed, *held_back):
            sink(signal)

    def _twiml(self, command: CallCommand, what: str) -> VoiceResponse:
        if command.kind is CommandKind.HOLD:
            return _holding(command.vendor_call_id, self._account.hold_wait_url)
        if command.kind is CommandKind.RESUME:
            endpoint = self._account.endpoint_of(command.agent)
            if endpoint is None:
                raise VendorRefusal(
                    f"cannot {what} for agent {command.agent}: no Twilio endpoint rings "
                    "them"
                )
            return _ringing(endpoint, self._callback_url({RESUME: command.command_id}))
        target = command.argument or ""
        try:
            check_endpoint(target)
        except InvalidValue as error:
            raise VendorRefusal(
                f"cannot {what} to {target!r}: Twilio dials an E.164 number, a client: "
                f"or a sip: address ({error})"
            ) from None
        return _ringing(target)

    def _callback_url(self, query: dict[str, str]) -> str:
        """The tenant's status callback URL, with what calldesk needs to read them."""
        separator = "&" if urlsplit(self._account.webhook_url).query else "?"
        return f"{self._account.webhook_url}{separator}{urlencode(query)}"

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


def _ringing(endpoint: str, status_callback: str | None = None) -> VoiceResponse:
    """TwiML that rings an endpoint (TwiML <Dial>: <Client>, <Sip>, <Number>), its leg
    reporting every call progress event to ``status_callback`` when given."""
    response = VoiceResponse()
    dial = response.dial()
    reports: dict[str, str] = {}
    if status_callback is not None:
        reports = {
            "status_callback_event": " ".join(CALL_PROGRESS_EVENTS),
            "status_callback": status_callback,
            "status_callback_method": "POST",
        }
    if endpoint.startswith(CLIENT_PREFIX):
        dial.client(endpoint.removeprefix(CLIENT_PREFIX), **reports)
    elif endpoint.startswith(SIP_PREFIX):
        dial.sip(endpoint, **reports)
    else:
        dial.number(endpoint, **reports)
    return response


def _confirmed(command: CallCommand, kind: SignalKind, call: Any, twiml: str) -> CallSignal:
    """Twilio's answer to an update (the Call resource) as the signal confirming it."""
    # Twilio documents date_updated on every call; the host's clock stands in.
    at: datetime = call.date_updated or datetime.now(UTC)
    answer = {"sid": call.sid, "status": call.status, "date_updated": format_datetime(at)}
    return confirmation(command, kind, at, {**answer, "twiml": twiml})


def _holding(call_sid: str, wait_url: str | None) -> VoiceResponse:
    """TwiML that keeps the customer on the line, with music, in a queue of the call's
    own (TwiML <Enqueue>; no waitUrl: Twilio's default classical playlist)."""
    response = VoiceResponse()
    response.enqueue(f"{HOLD_QUEUE}{call_sid}", wait_url=wait_url)
    return response
