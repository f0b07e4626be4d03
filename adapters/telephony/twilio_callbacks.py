"""Twilio's voice status callbacks, checked, then read as calldesk signals.

Twilio posts a form for each call progress event of one leg (Call resource,
"StatusCallback"; TwiML <Dial><Client> and <Number>, "statusCallbackEvent"), signed with
the account's auth token in X-Twilio-Signature. The events of a leg are numbered
(SequenceNumber) but may arrive in any order, so a status that implies earlier steps
says them too (completed: it was answered); the call ranks what it hears (ADR/0008).

The leg calldesk rings to take a held customer back carries the resume command's id in
its callback URL: its answer confirms the resume, and its ringing is no new offer.
"""

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, parse_qsl, urlsplit

import attrs
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from calldesk.adapters.telephony.twilio_account import (
    CALL_SID,
    Leg,
    LegRole,
    TwilioAccount,
)
from calldesk.domain.errors import InvalidValue
from calldesk.domain.signals import CallSignal, Direction, Party, SignalKind
from calldesk.ports.telephony import RejectionReason, VendorDelivery, VendorEventRejected

VENDOR = "twilio"
FORM = "application/x-www-form-urlencoded"
SIGNATURE_HEADER = "x-twilio-signature"
#: Query parameters of the status callback URL of a call calldesk places: the agent it
#: dials for and the command id, so that the call's signals can name them.
PLACED_BY = "agent"
COMMAND = "command"
#: Query parameter of the status callback URL of an agent leg calldesk rings to resume a
#: held call: the resume command's id.
RESUME = "resume"

#: CallStatus values (Call resource, "Call Status Values"; TwiML voice request).
STATUSES = (
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
)
#: Direction values of Programmable Voice (Call resource, "direction").
DIRECTIONS = ("inbound", "outbound-api", "outbound-dial")
_REQUIRED = (
    "AccountSid",
    "CallSid",
    "CallStatus",
    "Direction",
    "From",
    "To",
    "Timestamp",
    "SequenceNumber",
)
_ENDINGS = frozenset(
    {SignalKind.ENDED, SignalKind.ABANDONED, SignalKind.FAILED, SignalKind.OFFER_TIMED_OUT}
)
#: Signals that name the calldesk command they confirm, from the callback URL.
_ECHOING = frozenset({SignalKind.DIALING, SignalKind.RESUMED})

_Step = tuple[SignalKind, Party | None]

_OFFERED: _Step = (SignalKind.OFFERED, None)
_DIALING: _Step = (SignalKind.DIALING, None)
_CONNECTED: _Step = (SignalKind.CONNECTED, None)
_ENDED: _Step = (SignalKind.ENDED, None)
_BY_SYSTEM: _Step = (SignalKind.ENDED, Party.SYSTEM)
_ABANDONED: _Step = (SignalKind.ABANDONED, Party.CUSTOMER)
_FAILED: _Step = (SignalKind.FAILED, Party.SYSTEM)
_RESUMED: _Step = (SignalKind.RESUMED, None)

#: What each status of each kind of leg says, in the order it happened. An unanswered
#: inbound call ends MISSED when Twilio gave up on it (busy, no-answer: "no answer or
#: rejected"), ABANDONED when the caller hung up first (canceled) (ADR/0008). A leg rung
#: to resume a held call answers with RESUMED; unanswered, its <Dial> ends and Twilio
#: hangs up on the customer, who has no more TwiML to run.
STEPS: Mapping[LegRole, Mapping[str, tuple[_Step, ...]]] = {
    LegRole.AGENT_RINGING: {
        "queued": (),  # <Dial> legs are never queued; the ring comes with "ringing"
        "initiated": (),
        "ringing": (_OFFERED,),
        "in-progress": (_CONNECTED,),
        "completed": (_CONNECTED, _ENDED),
        "busy": (_BY_SYSTEM,),
        "no-answer": ((SignalKind.OFFER_TIMED_OUT, None), _BY_SYSTEM),
        "canceled": (_ABANDONED,),
        "failed": (_FAILED,),
    },
    LegRole.CUSTOMER_INBOUND: {
        "queued": ((SignalKind.QUEUED, None),),
        "initiated": ((SignalKind.QUEUED, None),),
        "ringing": ((SignalKind.QUEUED, None),),
        "in-progress": (),  # Twilio answered to run the tenant's TwiML, not an agent
        "completed": (_ENDED,),
        "busy": (_BY_SYSTEM,),
        "no-answer": (_BY_SYSTEM,),
        "canceled": (_ABANDONED,),
        "failed": (_FAILED,),
    },
    LegRole.CUSTOMER_OUTBOUND: {
        "queued": (_DIALING,),
        "initiated": (_DIALING,),
        "ringing": (_DIALING, (SignalKind.REMOTE_RINGING, None)),
        "in-progress": (_DIALING, _CONNECTED),
        "completed": (_DIALING, _CONNECTED, _ENDED),
        "busy": (_DIALING, (SignalKind.FAILED, Party.CUSTOMER)),
        "no-answer": (_DIALING, (SignalKind.FAILED, Party.CUSTOMER)),
        "canceled": (_DIALING, (SignalKind.FAILED, None)),
        "failed": (_DIALING, _FAILED),
    },
    LegRole.AGENT_RESUMED: {
        "queued": (),
        "initiated": (),
        "ringing": (),  # the agent's phone rings to take the call back: no new offer
        "in-progress": (_RESUMED,),
        "completed": (_RESUMED, _ENDED),
        "busy": (_BY_SYSTEM,),
        "no-answer": (_BY_SYSTEM,),
        "canceled": (_ABANDONED,),
        "failed": (_FAILED,),
    },
    LegRole.AGENT_OWN: dict.fromkeys(STATUSES, ()),
}
#: The agent legs of a customer's call: the ones calldesk's redirects end.
AGENT_LEGS = frozenset({LegRole.AGENT_RINGING, LegRole.AGENT_RESUMED})
#: How the agent leg that rang first is known apart from those that resumes rang, which
#: go by their command ids (never empty).
FIRST_AGENT_LEG = ""


#: The direction of the customer's call a leg's signals say; a resumed agent's leg does
#: not tell (a resume rings the agent of inbound and outbound calls alike).
_DIRECTIONS: Mapping[LegRole, Direction | None] = {
    LegRole.CUSTOMER_OUTBOUND: Direction.OUTBOUND,
    LegRole.AGENT_RESUMED: None,
}


def _refused(reason: RejectionReason, message: str) -> VendorEventRejected:
    return VendorEventRejected(reason, f"Twilio status callback refused: {message}")


@attrs.frozen
class StatusCallback:
    """One checked status callback: the form as Twilio posted it, and whose leg it is."""

    form: dict[str, str]
    leg: Leg
    occurred_at: datetime
    command_id: str | None

    @property
    def status(self) -> str:
        return self.form["CallStatus"]

    @property
    def call_id(self) -> str:
        """calldesk's call: the customer's leg."""
        assert self.leg.call_id is not None
        return self.leg.call_id

    @property
    def agent_leg(self) -> str | None:
        """Which agent leg of its call this is: FIRST_AGENT_LEG, or the resume command
        that rang it; None when it is no agent leg of a customer's call."""
        if self.leg.role is LegRole.AGENT_RESUMED:
            return self.command_id
        return FIRST_AGENT_LEG if self.leg.role in AGENT_LEGS else None

    @property
    def ends(self) -> bool:
        """Whether it says its leg is over."""
        return any(kind in _ENDINGS for kind, _ in STEPS[self.leg.role][self.status])

    def signals(self) -> tuple[CallSignal, ...]:
        """The signals this callback says, the last one the status itself.

        Event ids come from CallSid and SequenceNumber, so a redelivery repeats them.
        """
        steps = STEPS[self.leg.role][self.status]
        event_id = f"{self.form['CallSid']}:{self.form['SequenceNumber']}"
        last = len(steps) - 1
        try:
            return tuple(
                self._signal(
                    kind, by, event_id if n == last else f"{event_id}:{kind.value}"
                )
                for n, (kind, by) in enumerate(steps)
            )
        except InvalidValue as error:
            raise _refused(RejectionReason.MALFORMED, str(error)) from None

    def _signal(self, kind: SignalKind, by: Party | None, event_id: str) -> CallSignal:
        leg = self.leg
        return CallSignal(
            vendor=VENDOR,
            vendor_event_id=event_id,
            vendor_call_id=self.call_id,
            kind=kind,
            occurred_at=self.occurred_at,
            direction=_DIRECTIONS.get(leg.role, Direction.INBOUND),
            customer_number=leg.customer,
            dialed_number=self.form["To"] if leg.role is LegRole.CUSTOMER_INBOUND else None,
            agent=leg.agent,
            command_id=self.command_id if kind in _ECHOING else None,
            ended_by=by,
            reason=self.status if kind in _ENDINGS else None,
            vendor_kind=self.status,
            raw=dict(self.form),
        )


def read_status_callback(
    delivery: VendorDelivery, account: TwilioAccount
) -> StatusCallback:
    """Check that Twilio sent this delivery for this tenant, and read it.

    Raises VendorEventRejected when it is not a signed form of the documented shape
    about one of the tenant's calls.
    """
    media_type = delivery.content_type.split(";")[0].strip().lower()
    if media_type != FORM:
        raise _refused(
            RejectionReason.UNSUPPORTED_MEDIA,
            f"Twilio posts status callbacks as {FORM}, not {delivery.content_type!r}",
        )
    form = _form(delivery.body)
    _check_signature(delivery, form, account)
    missing = [name for name in _REQUIRED if name not in form]
    if missing:
        raise _refused(RejectionReason.MALFORMED, f"it lacks {', '.join(missing)}")
    if form["CallStatus"] not in STATUSES:
        raise _refused(
            RejectionReason.UNKNOWN_STATUS,
            f"CallStatus {form['CallStatus']!r} is none of Twilio's: {', '.join(STATUSES)}",
        )
    if form["AccountSid"] != account.account_sid:
        raise _refused(
            RejectionReason.FOREIGN_TENANT,
            f"it is about account {form['AccountSid']}, not this tenant's",
        )
    _check_shape(form)
    query = parse_qs(urlsplit(delivery.url).query)
    placed_by = query.get(PLACED_BY, [None])[0]
    resume = query.get(RESUME, [None])[0]
    command_id = resume or query.get(COMMAND, [None])[0]
    leg = _leg(form, account, placed_by, resume)
    return StatusCallback(form, leg, _timestamp(form["Timestamp"]), command_id)


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise _refused(
            RejectionReason.MALFORMED, f"the body is not a UTF-8 form: {error}"
        ) from None
    repeated = [
        name for name, count in Counter(name for name, _ in pairs).items() if count > 1
    ]
    if repeated:
        raise _refused(
            RejectionReason.MALFORMED, f"{', '.join(repeated)} appear more than once"
        )
    return dict(pairs)


def _check_signature(
    delivery: VendorDelivery, form: dict[str, str], account: TwilioAccount
) -> None:
    signature = delivery.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise _refused(
            RejectionReason.UNAUTHENTICATED,
            "it carries no X-Twilio-Signature, so it cannot be told from a forgery",
        )
    if not RequestValidator(account.auth_token).validate(delivery.url, form, signature):
        raise _refused(
            RejectionReason.UNAUTHENTICATED,
            f"X-Twilio-Signature does not match {delivery.url} signed with this tenant's "
            "auth token: another account sent it, or a proxy changed the URL",
        )


def _check_shape(form: dict[str, str]) -> None:
    sids = {"CallSid": form["CallSid"], "ParentCallSid": form.get("ParentCallSid")}
    for name, sid in sids.items():
        if sid is not None and not CALL_SID.fullmatch(sid):
            raise _refused(
                RejectionReason.MALFORMED, f"{name} {sid!r} is not CA and 32 hex digits"
            )
    if form["Direction"] not in DIRECTIONS:
        raise _refused(
            RejectionReason.MALFORMED,
            f"Direction {form['Direction']!r} is not a Programmable Voice direction "
            f"({', '.join(DIRECTIONS)})",
        )
    for name in ("SequenceNumber", "CallDuration"):
        if name in form and not form[name].isdigit():
            raise _refused(
                RejectionReason.MALFORMED, f"{name} {form[name]!r} is not a whole number"
            )


def _timestamp(text: str) -> datetime:
    """RFC 2822, in UTC ("-0000": UTC, its sender's zone unknown)."""
    try:
        instant = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise _refused(
            RejectionReason.MALFORMED,
            f"Timestamp {text!r} is not an RFC 2822 date like "
            "'Tue, 18 Nov 2025 14:03:07 +0000'",
        ) from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _leg(
    form: dict[str, str], account: TwilioAccount, placed_by: str | None, resume: str | None
) -> Leg:
    if placed_by is not None and not account.is_agent(placed_by):
        raise _refused(
            RejectionReason.FOREIGN_TENANT,
            f"its URL names agent {placed_by!r}, who has no endpoint in this tenant's "
            "Twilio account",
        )
    leg = account.leg(
        form["CallSid"],
        form.get("ParentCallSid"),
        form["Direction"],
        form["From"],
        form["To"],
        placed_by,
    )
    if leg is None:
        raise _refused(
            RejectionReason.FOREIGN_TENANT,
            f"a call from {form['From']!r} to {form['To']!r} involves none of this "
            "tenant's numbers or agents",
        )
    if leg.call_id is None:
        raise _refused(
            RejectionReason.MALFORMED,
            f"a {form['Direction']} leg ringing an agent names no ParentCallSid, the "
            "customer's call it belongs to",
        )
    if resume is not None:
        return _resumed(leg, form, resume)
    if leg.role is LegRole.CUSTOMER_OUTBOUND and leg.agent is None:
        raise _refused(
            RejectionReason.MALFORMED,
            f"calldesk cannot tell which agent called {form['To']!r}: place calls "
            f"through calldesk (its status callback URL names the agent) or from a "
            "number mapped to an agent",
        )
    return leg


def _resumed(leg: Leg, form: dict[str, str], resume: str) -> Leg:
    """An agent leg calldesk rang to resume a held call (its URL names the command)."""
    if leg.role is not LegRole.AGENT_RINGING:
        raise _refused(
            RejectionReason.MALFORMED,
            f"its URL names resume command {resume!r}, but the {form['Direction']} leg "
            f"from {form['From']!r} to {form['To']!r} rings no agent for a customer",
        )
    return attrs.evolve(leg, role=LegRole.AGENT_RESUMED)
