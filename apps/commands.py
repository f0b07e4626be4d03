"""What every command carries: who sends it, for which tenant, and when.

Commands are attrs classes whose validators are the domain's own value rules, so a bad
value is refused at the edge, before anything is loaded or recorded.
"""

from datetime import datetime
from typing import Any

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_code, checked_slug, checked_text


def instant(_: Any, attribute: "attrs.Attribute[datetime]", value: datetime) -> None:
    """Time arrives in commands, and it must say its zone: a naive time is ambiguous."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValue(f"{attribute.name} must be a timezone-aware date and time")


def slug(what: str) -> Any:
    def check(_: Any, __: Any, value: str) -> None:
        checked_slug(value, what)

    return check


def code(what: str) -> Any:
    def check(_: Any, __: Any, value: str) -> None:
        checked_code(value, what)

    return check


def text(what: str) -> Any:
    def check(_: Any, __: Any, value: str) -> None:
        checked_text(value, what)

    return check


@attrs.frozen
class TenantCommand:
    """A command about one tenant, at one instant."""

    tenant: str = attrs.field(validator=slug("a tenant"))
    at: datetime = attrs.field(validator=instant, kw_only=True)


@attrs.frozen
class AgentCommand(TenantCommand):
    """A command about one agent of a tenant."""

    agent: str = attrs.field(validator=slug("an agent handle"))
