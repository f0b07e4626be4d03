"""Which phone systems this connector serves: a JSON file of each tenant's, or a flag.

    {"acme": {"twilio": {"account_sid": "AC...", "auth_token": "...", ...},
              "amazon-connect": {"instance_arn": "arn:aws:connect:...", ...},
              "baresip": {"agent": "a-17", "port": 4444,
                          "dial_uri": "sip:{number}@pbx.example.com"},
              "simulator": {"agent": "a-17", "ring_every": 30}}}

Twilio and Amazon Connect post to the connector's webhooks; baresip (the agent's own SIP
phone, on its control socket) and the simulator hold a connection the connector keeps
(connected_phones). A tenant has at most one of each, since the desk knows a tenant's
phone system by its vendor name: a connector driving one agent's SIP phone is the
seed's case, a localhost connector on that agent's machine.

The file holds secrets (auth tokens, API keys): keep it readable by the connector only.
Field names are those of TwilioAccount, AmazonConnectSettings, SipPhoneSettings and
SimulatorSettings (docs/adapters.md, docs/configuration.md).
"""

import enum
import json
from datetime import timedelta
from pathlib import Path

import attrs
import cattrs
from cattrs.v import format_exception

from calldesk.adapters.telephony.amazon_connect import AmazonConnect, AmazonConnectSettings
from calldesk.adapters.telephony.baresip import check_dial_uri
from calldesk.adapters.telephony.twilio import TwilioAccount, TwilioVoice
from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_slug
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.ports.clock import Clock
from calldesk.ports.telephony import WebhookAdapter

#: The demo's callers when nobody names others: numbers nobody's directory is likely to
#: hold, in the range the North American plan keeps for fiction.
FICTIONAL_CALLERS = ("+16505550101", "+16505550102", "+16505550103")


class Phone(enum.Enum):
    """A phone system that holds a connection, as `--phone` names it."""

    SIMULATOR = "simulator"
    BARESIP = "baresip"


def _an_agent(_: object, __: object, agent: str) -> None:
    checked_slug(agent, "an agent")


def _a_dial_uri(_: object, __: object, dial_uri: str) -> None:
    try:
        check_dial_uri(dial_uri)
    except ValueError as error:
        raise InvalidValue(str(error)) from None


def _a_port(_: object, __: object, port: int) -> None:
    if not 1 <= port <= 65535:
        raise InvalidValue(f"port is from 1 to 65535, not {port}")


def _seconds_apart(_: object, __: object, seconds: float) -> None:
    if not seconds > 0:
        raise InvalidValue(f"ring_every is a number of seconds above 0, not {seconds}")


def _e164_numbers(_: object, __: object, numbers: tuple[str, ...]) -> None:
    if not numbers:
        raise InvalidValue("callers must name at least one number")
    for number in numbers:
        PhoneNumber(number)


@attrs.frozen
class SipPhoneSettings:
    """The agent's baresip phone, on its ctrl_tcp socket; calls the agent places go to
    `dial_uri` with the number in it (`sip:{number}@pbx.example.com`)."""

    agent: str = attrs.field(validator=_an_agent)
    dial_uri: str = attrs.field(validator=_a_dial_uri)
    host: str = "127.0.0.1"
    port: int = attrs.field(default=4444, validator=_a_port)


@attrs.frozen
class SimulatorSettings:
    """The phone simulator in real time, to try the API without a vendor's account: a
    caller rings `agent` every `ring_every` seconds while the agent is available (no
    agent: nobody rings), and every number an agent dials answers."""

    agent: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_an_agent)
    )
    ring_every: float = attrs.field(default=30.0, validator=_seconds_apart)
    callers: tuple[str, ...] = attrs.field(
        default=FICTIONAL_CALLERS, validator=_e164_numbers
    )


@attrs.frozen
class PhoneSystems:
    """Each tenant's phone systems: those that post to webhooks, and those the connector
    holds a connection to."""

    webhooks: dict[str, list[WebhookAdapter]] = attrs.Factory(dict)
    sip_phones: dict[str, SipPhoneSettings] = attrs.Factory(dict)
    simulators: dict[str, SimulatorSettings] = attrs.Factory(dict)

    def with_flag(
        self, tenant: str, held: SipPhoneSettings | SimulatorSettings
    ) -> "PhoneSystems":
        """These phone systems and the one a command-line flag names for `tenant`."""
        if isinstance(held, SipPhoneSettings):
            return attrs.evolve(self, sip_phones=self.sip_phones | {tenant: held})
        return attrs.evolve(self, simulators=self.simulators | {tenant: held})


_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_structure_hook(timedelta, lambda seconds, _: timedelta(seconds=seconds))


def load_phone_systems(path: Path, clock: Clock) -> PhoneSystems:
    """The phone systems of each tenant, as the file at `path` configures them."""
    try:
        tenants = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InvalidValue(f"cannot read phone systems from {path}: {error}") from None
    if not isinstance(tenants, dict):
        raise InvalidValue(f"{path} must hold an object of tenants")
    systems = PhoneSystems()
    for tenant, of in tenants.items():
        if not isinstance(of, dict):
            raise InvalidValue(f"{tenant} must hold an object of phone systems")
        for vendor, settings in of.items():
            systems = _with(systems, tenant, vendor, settings, clock)
    return systems


def _with(
    systems: PhoneSystems, tenant: str, vendor: str, settings: object, clock: Clock
) -> PhoneSystems:
    try:
        if vendor == "twilio":
            twilio = TwilioVoice(_converter.structure(settings, TwilioAccount))
            return _with_webhook(systems, tenant, twilio)
        if vendor == "amazon-connect":
            connect_settings = _converter.structure(settings, AmazonConnectSettings)
            return _with_webhook(systems, tenant, AmazonConnect(connect_settings, clock))
        if vendor == "baresip":
            return systems.with_flag(
                tenant, _converter.structure(settings, SipPhoneSettings)
            )
        if vendor == "simulator":
            return systems.with_flag(
                tenant, _converter.structure(settings, SimulatorSettings)
            )
    except (cattrs.BaseValidationError, InvalidValue, TypeError, ValueError) as error:
        detail = str(error)
        if isinstance(error, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(error, format_exception=_described))
        raise InvalidValue(f"{tenant}'s {vendor} settings: {detail}") from None
    raise InvalidValue(
        f"{tenant}: no phone system {vendor!r} (twilio, amazon-connect, baresip, simulator)"
    )


def _with_webhook(
    systems: PhoneSystems, tenant: str, adapter: WebhookAdapter
) -> PhoneSystems:
    webhooks = {**systems.webhooks}
    webhooks[tenant] = [*webhooks.get(tenant, []), adapter]
    return attrs.evolve(systems, webhooks=webhooks)


def _described(error: BaseException, kind: type | None) -> str:
    """Our own refusals say what is wrong; cattrs' words do for the rest."""
    if isinstance(error, InvalidValue):
        return str(error)
    return format_exception(error, kind)
