"""Which phone systems post to this connector: a JSON file of each tenant's accounts.

    {"acme": {"twilio": {"account_sid": "AC...", "auth_token": "...", ...},
              "amazon-connect": {"instance_arn": "arn:aws:connect:...", ...}}}

The file holds secrets (auth tokens, API keys): keep it readable by the connector only.
Field names are those of TwilioAccount and AmazonConnectSettings (docs/adapters.md).
"""

import json
from datetime import timedelta
from pathlib import Path

import cattrs
from cattrs.v import format_exception

from calldesk.adapters.telephony.amazon_connect import AmazonConnect, AmazonConnectSettings
from calldesk.adapters.telephony.twilio import TwilioAccount, TwilioVoice
from calldesk.domain.errors import InvalidValue
from calldesk.ports.clock import Clock
from calldesk.ports.telephony import WebhookAdapter

_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_structure_hook(timedelta, lambda seconds, _: timedelta(seconds=seconds))


def load_phone_systems(path: Path, clock: Clock) -> dict[str, list[WebhookAdapter]]:
    """The webhook adapters of each tenant, as the file at `path` configures them."""
    try:
        tenants = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InvalidValue(f"cannot read phone systems from {path}: {error}") from None
    if not isinstance(tenants, dict):
        raise InvalidValue(f"{path} must hold an object of tenants")
    return {
        tenant: [
            _adapter(tenant, vendor, settings, clock) for vendor, settings in of.items()
        ]
        for tenant, of in tenants.items()
    }


def _adapter(tenant: str, vendor: str, settings: object, clock: Clock) -> WebhookAdapter:
    try:
        if vendor == "twilio":
            return TwilioVoice(_converter.structure(settings, TwilioAccount))
        if vendor == "amazon-connect":
            return AmazonConnect(
                _converter.structure(settings, AmazonConnectSettings), clock
            )
    except (cattrs.BaseValidationError, InvalidValue, TypeError, ValueError) as error:
        detail = str(error)
        if isinstance(error, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(error, format_exception=_described))
        raise InvalidValue(f"{tenant}'s {vendor} settings: {detail}") from None
    raise InvalidValue(f"{tenant}: no phone system {vendor!r} (twilio, amazon-connect)")


def _described(error: BaseException, kind: type | None) -> str:
    """Our own refusals say what is wrong; cattrs' words do for the rest."""
    if isinstance(error, InvalidValue):
        return str(error)
    return format_exception(error, kind)
