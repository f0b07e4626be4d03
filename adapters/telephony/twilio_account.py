"""A tenant's Twilio account: credentials, numbers, agents, and so whose each call leg is.

Twilio reports every leg of a call on its own (a CallSid each; a leg that <Dial> created
names its parent). calldesk's call is the customer's leg: the leg a customer placed to
one of the tenant's numbers, or the leg Twilio placed to a customer for an agent. The
legs on which Twilio rings an agent belong to their parent, the customer's leg: the one
that rang first, and each one calldesk rings to take a held customer back.
"""

import enum
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_slug
from calldesk.domain.phone_numbers import PhoneNumber

#: Twilio's REST API; tests point an account at a local stand-in instead.
TWILIO_API = "https://api.twilio.com"

ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")

#: How Twilio writes the endpoints it dials (Call resource, "to"): a Voice SDK client, a
#: SIP address, or an E.164 number.
CLIENT_PREFIX = "client:"
SIP_PREFIX = "sip:"


class LegRole(enum.Enum):
    """What one Twilio call leg is to calldesk."""

    CUSTOMER_INBOUND = "customer-inbound"  # a customer called one of the tenant's numbers
    AGENT_RINGING = "agent-ringing"  # <Dial> rings an agent for the customer's call
    CUSTOMER_OUTBOUND = "customer-outbound"  # Twilio dials a customer for an agent
    AGENT_RESUMED = "agent-resumed"  # calldesk rings the agent to take a held call back
    AGENT_OWN = "agent-own"  # an agent's own device leg: its customer leg tells the call


@attrs.frozen
class Leg:
    """One leg as calldesk reads it; ``call_id`` is the customer's leg, calldesk's call."""

    role: LegRole
    call_id: str | None
    agent: str | None
    customer: str | None


def _account_sid(_: object, __: object, value: str) -> None:
    if not ACCOUNT_SID.fullmatch(value):
        raise InvalidValue(f"{value!r} is not a Twilio account SID (AC and 32 hex digits)")


def _auth_token(_: object, __: object, value: str) -> None:
    if not value:
        raise InvalidValue("a Twilio auth token must not be empty")


def _numbers(_: object, __: object, value: tuple[str, ...]) -> None:
    if not value:
        raise InvalidValue("a Twilio account needs at least one number: calls come to it")
    for number in value:
        PhoneNumber(number)


def _tuple(numbers: Iterable[str]) -> tuple[str, ...]:
    return tuple(numbers)


def check_endpoint(endpoint: str) -> None:
    """An endpoint Twilio can dial: a Voice SDK client, a SIP address or an E.164 number."""
    if endpoint.startswith(CLIENT_PREFIX):
        if not endpoint.removeprefix(CLIENT_PREFIX):
            raise InvalidValue(f"{endpoint!r} names no Voice SDK client identity")
    elif not endpoint.startswith(SIP_PREFIX):
        PhoneNumber(endpoint)


def _agents(_: object, __: object, value: Mapping[str, str]) -> None:
    if not value:
        raise InvalidValue("a Twilio account needs at least one agent endpoint")
    for endpoint, handle in value.items():
        check_endpoint(endpoint)
        checked_slug(handle, "an agent handle")


def _wait_url(_: object, __: object, value: str | None) -> None:
    if value is None:
        return
    url = urlsplit(value)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise InvalidValue(
            f"hold_wait_url {value!r} must be an absolute http(s) URL Twilio can fetch"
        )


def _frozen(agents: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(agents))


@attrs.frozen
class TwilioAccount:
    """One tenant's Twilio settings.

    ``agents`` maps the endpoint Twilio dials to ring an agent ("client:ada", a SIP
    address or a number) to the agent's calldesk handle. ``webhook_url`` is the address
    Twilio calls with status callbacks for this tenant; ``numbers[0]`` is the caller id
    of calls calldesk places. ``hold_wait_url`` is the TwiML Twilio runs for a customer
    on hold (TwiML <Enqueue> waitUrl); None plays Twilio's default classical playlist.
    """

    account_sid: str = attrs.field(validator=_account_sid)
    auth_token: str = attrs.field(validator=_auth_token, repr=False)
    numbers: tuple[str, ...] = attrs.field(converter=_tuple, validator=_numbers)
    agents: Mapping[str, str] = attrs.field(
        converter=_frozen, validator=_agents, hash=False
    )
    webhook_url: str
    api_base_url: str = TWILIO_API
    hold_wait_url: str | None = attrs.field(default=None, validator=_wait_url)

    @property
    def caller_id(self) -> str:
        return self.numbers[0]

    def endpoint_of(self, agent: str) -> str | None:
        """The endpoint that rings this agent, or None when the account has none."""
        return next((end for end, handle in self.agents.items() if handle == agent), None)

    def is_agent(self, handle: str) -> bool:
        return handle in self.agents.values()

    def leg(
        self,
        call_sid: str,
        parent_call_sid: str | None,
        direction: str,
        from_: str,
        to: str,
        placed_by: str | None = None,
    ) -> Leg | None:
        """Whose this leg is; None when it touches none of the tenant's numbers or agents.

        ``placed_by`` is the agent calldesk placed an outbound call for, when known.
        """
        own = {*self.numbers, *self.agents}
        outbound = direction in ("outbound-api", "outbound-dial")
        if direction == "outbound-dial" and to in self.agents:
            customer = None if from_ in own or not from_ else from_
            return Leg(LegRole.AGENT_RINGING, parent_call_sid, self.agents[to], customer)
        if outbound and to in self.agents:
            return Leg(LegRole.AGENT_OWN, call_sid, self.agents[to], None)
        if direction == "inbound" and from_ in self.agents:
            return Leg(LegRole.AGENT_OWN, call_sid, self.agents[from_], None)
        if direction == "inbound" and to in own:
            return Leg(LegRole.CUSTOMER_INBOUND, call_sid, None, from_ or None)
        if outbound and from_ in own:
            agent = placed_by or self.agents.get(from_)
            return Leg(LegRole.CUSTOMER_OUTBOUND, call_sid, agent, to)
        return None
