"""The tenant: the boundary nothing crosses, and the settings its agents work under."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import InvalidValue, NotFound
from calldesk.domain.identity import (
    checked_code,
    checked_slug,
    checked_text,
    stable_id,
)
from calldesk.domain.phone_numbers import PhoneNumber

MAX_NOT_READY_REASONS = 50
REASON_LABEL_MAX_LENGTH = 80


def _reason_code(_: object, __: object, value: str) -> None:
    checked_code(value, "a not-ready reason code")


def _reason_label(_: object, __: object, value: str) -> None:
    if checked_text(value, "a not-ready reason label", REASON_LABEL_MAX_LENGTH) != value:
        raise InvalidValue("a not-ready reason label must not start or end with spaces")


@attrs.frozen(slots=False)
class NotReadyReason:
    """Why an agent takes no calls (lunch, training): a code from the tenant's list."""

    code: str = attrs.field(validator=_reason_code)
    label: str = attrs.field(validator=_reason_label)


DEFAULT_NOT_READY_REASONS = (
    NotReadyReason("break", "Break"),
    NotReadyReason("lunch", "Lunch"),
    NotReadyReason("training", "Training"),
    NotReadyReason("meeting", "Meeting"),
    NotReadyReason("admin", "Administrative work"),
)


def _each_once(names: Sequence[str], refusal: str) -> None:
    """Refuse a list that names something twice, saying which."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidValue(f"{refusal}: {', '.join(repeated)}")


def checked_reasons(reasons: Iterable[NotReadyReason]) -> tuple[NotReadyReason, ...]:
    """A tenant's list of not-ready reasons: one to fifty, no code twice."""
    listed = tuple(reasons)
    if not listed:
        raise InvalidValue("a tenant needs at least one not-ready reason")
    if len(listed) > MAX_NOT_READY_REASONS:
        raise InvalidValue(
            f"{len(listed)} not-ready reasons given; "
            f"at most {MAX_NOT_READY_REASONS} are allowed"
        )
    _each_once([reason.code for reason in listed], "not-ready reason codes listed twice")
    return listed


MAX_PICKS = 50
DISPOSITION_LABEL_MAX_LENGTH = 64  # calls.DISPOSITION_MAX_LENGTH, what a call keeps


def checked_dispositions(dispositions: Iterable[str]) -> tuple[str, ...]:
    """A tenant's pick list of dispositions: none (agents type their own) to fifty,
    none twice."""
    listed = tuple(
        checked_text(d, "a disposition", DISPOSITION_LABEL_MAX_LENGTH) for d in dispositions
    )
    if len(listed) > MAX_PICKS:
        raise InvalidValue(f"{len(listed)} dispositions given; at most {MAX_PICKS}")
    _each_once(listed, "dispositions listed twice")
    return listed


@attrs.frozen(slots=False)
class QuickConnect:
    """A number the tenant's agents transfer or consult often (the help desk, a
    supervisor's line), named as the transfer dialog shows it."""

    label: str = attrs.field(validator=_reason_label)
    number: PhoneNumber


def checked_quick_connects(
    quick_connects: Iterable[QuickConnect],
) -> tuple[QuickConnect, ...]:
    listed = tuple(quick_connects)
    if len(listed) > MAX_PICKS:
        raise InvalidValue(f"{len(listed)} quick connects given; at most {MAX_PICKS}")
    _each_once([q.label for q in listed], "quick connects named twice")
    return listed


WRAP_UP_LIMIT_MAX_SECONDS = 24 * 3600


@attrs.frozen(slots=False)
class WrapUpPolicy:
    """How after-call work ends for a tenant's agents (ADR/0008).

    ``limit_seconds``: None means the agent ends it by giving a disposition; 0 means no
    wrap-up at all; otherwise it ends by itself after that long. ``auto_ready``: after a
    handled call the agent becomes available again, unless they picked a status during
    the call; without it they land not ready.
    """

    limit_seconds: int | None = 120
    auto_ready: bool = True

    def __attrs_post_init__(self) -> None:
        limit = self.limit_seconds
        if limit is not None and not 0 <= limit <= WRAP_UP_LIMIT_MAX_SECONDS:
            raise InvalidValue(
                f"a wrap-up limit is 0 to {WRAP_UP_LIMIT_MAX_SECONDS} seconds, not {limit}"
            )


DEFAULT_REGION = "US"


class Tenant(Aggregate):
    """One customer of calldesk; every agent, call and record belongs to exactly one."""

    TOPIC = "calldesk.tenant.Tenant"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.tenant.Event"

    @staticmethod
    def create_id(slug: str) -> UUID:
        return stable_id("tenant", slug)

    @classmethod
    def create(
        cls,
        slug: str,
        name: str,
        not_ready_reasons: Iterable[NotReadyReason],
        at: datetime,
    ) -> "Tenant":
        """A new tenant, once its name and reasons pass their rules."""
        return cls(
            slug=checked_slug(slug, "a tenant"),
            name=checked_text(name, "a tenant name"),
            not_ready_reasons=checked_reasons(not_ready_reasons),
            timestamp=at,
        )

    @event("Created", topic="calldesk.tenant.Created")
    def __init__(
        self,
        slug: str,
        name: str,
        not_ready_reasons: tuple[NotReadyReason, ...],
        timestamp: datetime,
    ) -> None:
        self.slug = slug
        self.name = name
        self.not_ready_reasons = tuple(not_ready_reasons)
        self.wrap_up_policy = WrapUpPolicy()
        self.default_region = DEFAULT_REGION
        self.closes_popped_tabs = False
        self.dispositions: tuple[str, ...] = ()  # none: the agent types one
        self.quick_connects: tuple[QuickConnect, ...] = ()

    def not_ready_reason(self, code: str) -> NotReadyReason:
        """The reason with this code, or a refusal that lists the codes to choose from."""
        for reason in self.not_ready_reasons:
            if reason.code == code:
                return reason
        choices = ", ".join(reason.code for reason in self.not_ready_reasons)
        raise NotFound(
            f"{code!r} is not a not-ready reason of tenant {self.slug}; "
            f"choose one of: {choices}"
        )

    def define_not_ready_reasons(
        self, reasons: Iterable[NotReadyReason], at: datetime
    ) -> None:
        """Replace the list agents choose from; agents keep the reason they already have."""
        listed = checked_reasons(reasons)
        if listed != self.not_ready_reasons:
            self._not_ready_reasons_defined(reasons=listed, timestamp=at)

    def disposition(self, disposition: str) -> str:
        """The disposition as the pick list has it; any text when the tenant has none."""
        if not self.dispositions or disposition.strip() in self.dispositions:
            return disposition
        raise NotFound(
            f"{disposition!r} is not a disposition of tenant {self.slug}; "
            f"choose one of: {', '.join(self.dispositions)}"
        )

    def define_dispositions(self, dispositions: Iterable[str], at: datetime) -> None:
        """The pick list agents wrap calls up with; empty, they type their own."""
        listed = checked_dispositions(dispositions)
        if listed != self.dispositions:
            self._dispositions_defined(dispositions=listed, timestamp=at)

    def define_quick_connects(
        self, quick_connects: Iterable[QuickConnect], at: datetime
    ) -> None:
        listed = checked_quick_connects(quick_connects)
        if listed != self.quick_connects:
            self._quick_connects_defined(quick_connects=listed, timestamp=at)

    @event("DispositionsDefined", topic="calldesk.tenant.DispositionsDefined")
    def _dispositions_defined(
        self, dispositions: tuple[str, ...], timestamp: datetime
    ) -> None:
        self.dispositions = tuple(dispositions)

    @event("QuickConnectsDefined", topic="calldesk.tenant.QuickConnectsDefined")
    def _quick_connects_defined(
        self, quick_connects: tuple[QuickConnect, ...], timestamp: datetime
    ) -> None:
        self.quick_connects = tuple(quick_connects)

    def set_wrap_up_policy(self, policy: WrapUpPolicy, at: datetime) -> None:
        if policy != self.wrap_up_policy:
            self._wrap_up_policy_set(policy=policy, timestamp=at)

    def set_default_region(self, region: str, at: datetime) -> None:
        """The region whose national numbers need no country code (checked at the edge)."""
        if region != self.default_region:
            self._default_region_set(region=region, timestamp=at)

    def close_popped_tabs(self, close: bool, at: datetime) -> None:
        """Whether a call's end closes the console tab its screen pop opened."""
        if close != self.closes_popped_tabs:
            self._popped_tabs_policy_set(close=close, timestamp=at)

    @event("PoppedTabsPolicySet", topic="calldesk.tenant.PoppedTabsPolicySet")
    def _popped_tabs_policy_set(self, close: bool, timestamp: datetime) -> None:
        self.closes_popped_tabs = close

    @event("WrapUpPolicySet", topic="calldesk.tenant.WrapUpPolicySet")
    def _wrap_up_policy_set(self, policy: WrapUpPolicy, timestamp: datetime) -> None:
        self.wrap_up_policy = policy

    @event("DefaultRegionSet", topic="calldesk.tenant.DefaultRegionSet")
    def _default_region_set(self, region: str, timestamp: datetime) -> None:
        self.default_region = region

    @event("NotReadyReasonsDefined", topic="calldesk.tenant.NotReadyReasonsDefined")
    def _not_ready_reasons_defined(
        self, reasons: tuple[NotReadyReason, ...], timestamp: datetime
    ) -> None:
        self.not_ready_reasons = tuple(reasons)
