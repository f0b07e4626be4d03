"""A third-party app's registration in one tenant: where it is served from, what it may
call, how fast, whether it may run, the digest of its key, and the agents it is
installed for (seed 004 L72, L84, L86; docs/proxy.md; ADR/0031).

Only the key's digest is kept, as for tokens (ADR/0009): the key itself sits in the
app's code, so it is no secret from anyone who can read that code; it ties the running
app to its registration, and rotating it cuts off every session opened with the old one.
"""

import enum
import hmac
import re
from collections.abc import Collection, Mapping
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.access import checked_secret, token_digest
from calldesk.domain.app_paths import MAX_ENDPOINTS, Endpoint, Scope
from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.identity import checked_slug, checked_text, stable_id

MAX_ORIGINS = 8
MAX_PARAMETERS = 32
PARAMETER_MAX_LENGTH = 500
MAX_RATE_LIMIT = 6000

_ORIGIN = re.compile(r"https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?")
_LOOPBACK_OR_TLS = ("127.0.0.1", "localhost", "[::1]")


class AppStatus(enum.Enum):
    REGISTERED = "registered"
    PUBLISHED = "published"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


def checked_origin(origin: str) -> str:
    """An origin exactly as a browser writes it in `event.origin`: a scheme, a host in
    lower case and a port only when not the scheme's default; https, or http on
    loopback. No path, no wildcard, no user info."""
    if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
        raise InvalidValue(
            f"origin {origin!r} is a scheme and host with an optional port, exactly as "
            "a browser names it, like https://apps.example.com; no path, no wildcard"
        )
    scheme, _, rest = origin.partition("://")
    host, _, port_text = rest.partition(":")
    port = int(port_text) if port_text else None
    default = {"http": 80, "https": 443}[scheme]
    if port == default or (port is not None and not 0 < port <= 65535):
        raise InvalidValue(
            f"origin {origin!r}: leave out the default port; a browser names it so"
        )
    if scheme == "http" and host not in _LOOPBACK_OR_TLS:
        raise InvalidValue(
            f"origin {origin!r}: an app is served over https, or over http on loopback"
        )
    return origin


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def checked_entry_url(url: str, origins: Collection[str]) -> str:
    """The page the proxy frame loads: on one of the app's origins, without user info
    or fragment."""
    try:
        parts = urlsplit(url)
        own_origin = origin_of(url)
    except ValueError:
        parts, own_origin = None, ""
    if (
        parts is None
        or parts.username is not None
        or parts.fragment
        or own_origin not in origins
    ):
        raise InvalidValue(
            f"entry URL {url!r} must be a page on one of the app's origins "
            f"({', '.join(origins)}), without user info or fragment"
        )
    return url


def checked_parameters(parameters: Mapping[str, str]) -> dict[str, str]:
    if len(parameters) > MAX_PARAMETERS:
        raise InvalidValue(f"an installation has at most {MAX_PARAMETERS} parameters")
    return {
        checked_slug(name, "a parameter name"): checked_text(
            value, f"parameter {name}", PARAMETER_MAX_LENGTH
        )
        for name, value in parameters.items()
    }


@attrs.frozen
class Installation:
    """An app installed for one agent: the parameters it is given, and the scopes
    granted to it there (the limits of that agent's rights, seed 004 L86)."""

    agent: str
    parameters: dict[str, str]
    scopes: frozenset[Scope]


class AppNotRunnable(Refused):
    """The app may not run for this agent now: not published, suspended, revoked, or
    not installed for them."""


class ClientApp(Aggregate):
    """One app's registration in one tenant, and its installations."""

    TOPIC = "calldesk.client_app.ClientApp"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.client_app.Event"

    @staticmethod
    def create_id(tenant: str, app: str) -> UUID:
        return stable_id("client-app", tenant, app)

    @classmethod
    def register(
        cls,
        tenant: str,
        app: str,
        name: str,
        origins: Collection[str],
        entry_url: str,
        endpoints: Collection[Endpoint],
        rate_limit: int,
        key: str,
        at: datetime,
    ) -> "ClientApp":
        checked = tuple(checked_origin(origin) for origin in origins)
        if not 1 <= len(checked) <= MAX_ORIGINS or len(set(checked)) != len(checked):
            raise InvalidValue(f"an app is served from 1 to {MAX_ORIGINS} distinct origins")
        if not 1 <= len(endpoints) <= MAX_ENDPOINTS:
            raise InvalidValue(f"an app calls 1 to {MAX_ENDPOINTS} endpoints")
        if not 1 <= rate_limit <= MAX_RATE_LIMIT:
            raise InvalidValue(
                f"a rate limit is 1 to {MAX_RATE_LIMIT} requests a minute, not {rate_limit}"
            )
        return cls(
            tenant=checked_slug(tenant, "a tenant"),
            app=checked_slug(app, "an app id"),
            name=checked_text(name, "an app's name"),
            origins=checked,
            entry_url=checked_entry_url(entry_url, checked),
            endpoints=tuple(endpoints),
            rate_limit=rate_limit,
            key_digest=token_digest(checked_secret(key)),
            timestamp=at,
        )

    @event("Registered", topic="calldesk.client_app.Registered")
    def __init__(
        self,
        tenant: str,
        app: str,
        name: str,
        origins: tuple[str, ...],
        entry_url: str,
        endpoints: tuple[Endpoint, ...],
        rate_limit: int,
        key_digest: str,
        timestamp: datetime,
    ) -> None:
        self.tenant, self.app, self.name = tenant, app, name
        self.origins = tuple(origins)
        self.entry_url = entry_url
        self.endpoints = tuple(endpoints)
        self.rate_limit = rate_limit
        self.key_digest = key_digest
        self.key_generation = 1
        self.status = AppStatus.REGISTERED
        self.installations: dict[str, Installation] = {}
        #: How often it was stopped (suspended or revoked), and how often each agent's
        #: installation changed: a session opened before either is over (standing_for).
        self.stops = 0
        self.installs: dict[str, int] = {}
        #: Every agent it was ever installed for: they hear its changes, uninstalls too.
        self.concerned: list[str] = []

    def __str__(self) -> str:
        return f"app {self.app} of tenant {self.tenant}"

    @property
    def scopes(self) -> frozenset[Scope]:
        return frozenset(endpoint.scope for endpoint in self.endpoints)

    def _status_to(self, status: AppStatus, at: datetime, allowed: set[AppStatus]) -> None:
        if self.status is status:
            return
        if self.status not in allowed:
            raise Refused(f"{self} is {self.status.value}; it cannot be {status.value}")
        self._status_changed(status=status, timestamp=at)

    def publish(self, at: datetime) -> None:
        """Visible to, and runnable by, the agents it is installed for."""
        self._status_to(AppStatus.PUBLISHED, at, {AppStatus.REGISTERED})

    def suspend(self, at: datetime) -> None:
        """Stopped at once everywhere, until reinstated."""
        self._status_to(AppStatus.SUSPENDED, at, {AppStatus.PUBLISHED})

    def reinstate(self, at: datetime) -> None:
        self._status_to(AppStatus.PUBLISHED, at, {AppStatus.SUSPENDED})

    def revoke(self, at: datetime) -> None:
        """For good: a revoked app is never published again."""
        self._status_to(
            AppStatus.REVOKED,
            at,
            {AppStatus.REGISTERED, AppStatus.PUBLISHED, AppStatus.SUSPENDED},
        )

    @event("StatusChanged", topic="calldesk.client_app.StatusChanged")
    def _status_changed(self, status: AppStatus, timestamp: datetime) -> None:
        self.status = status
        if status in (AppStatus.SUSPENDED, AppStatus.REVOKED):
            self.stops += 1

    def rotate_key(self, key: str, at: datetime) -> None:
        if self.status is AppStatus.REVOKED:
            raise Refused(f"{self} is revoked; register it again under a new id")
        self._key_rotated(key_digest=token_digest(checked_secret(key)), timestamp=at)

    @event("KeyRotated", topic="calldesk.client_app.KeyRotated")
    def _key_rotated(self, key_digest: str, timestamp: datetime) -> None:
        self.key_digest = key_digest
        self.key_generation += 1

    def holds_key(self, key: str) -> bool:
        """Compared in constant time: how long it takes says nothing of the digest."""
        return hmac.compare_digest(token_digest(key), self.key_digest)

    def install(
        self,
        agent: str,
        parameters: Mapping[str, str],
        scopes: Collection[Scope],
        at: datetime,
    ) -> None:
        """For one agent of the tenant, with its parameters and the scopes granted
        there: never more than the app's endpoints need."""
        if self.status is AppStatus.REVOKED:
            raise Refused(f"{self} is revoked; it cannot be installed")
        extra = set(scopes) - self.scopes
        if extra:
            raise InvalidValue(
                f"{self} needs no scope {', '.join(sorted(s.value for s in extra))}; "
                "grant only scopes its endpoints need"
            )
        installation = Installation(
            checked_slug(agent, "an agent handle"),
            checked_parameters(parameters),
            frozenset(scopes),
        )
        if self.installations.get(agent) != installation:
            self._installed(installation=installation, timestamp=at)

    @event("Installed", topic="calldesk.client_app.Installed")
    def _installed(self, installation: "Installation", timestamp: datetime) -> None:
        self.installations[installation.agent] = installation
        self.installs[installation.agent] = self.installs.get(installation.agent, 0) + 1
        if installation.agent not in self.concerned:
            self.concerned.append(installation.agent)

    def uninstall(self, agent: str, at: datetime) -> None:
        if agent in self.installations:
            self._uninstalled(agent=agent, timestamp=at)

    @event("Uninstalled", topic="calldesk.client_app.Uninstalled")
    def _uninstalled(self, agent: str, timestamp: datetime) -> None:
        del self.installations[agent]
        self.installs[agent] += 1

    def standing_for(self, agent: str) -> str:
        """What a session opened now for the agent holds on to: it stays good while
        this stays the same, and no suspension, revocation, key rotation or change of
        the agent's installation comes between (ADR/0031)."""
        return f"{self.key_generation}.{self.stops}.{self.installs.get(agent, 0)}"

    def installation_for(self, agent: str) -> "Installation":
        """The agent's installation, if the app may run for them now."""
        installation = self.installations.get(agent)
        if installation is None:
            raise AppNotRunnable(f"{self} is not installed for agent {agent}")
        if self.status is not AppStatus.PUBLISHED:
            raise AppNotRunnable(f"{self} is {self.status.value}")
        return installation


class TenantApps(Aggregate):
    """The ids of a tenant's registered apps: what lists them."""

    TOPIC = "calldesk.client_app.TenantApps"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.client_app.TenantAppsEvent"

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_id("tenant-apps", tenant)

    @event("Started", topic="calldesk.client_app.TenantAppsStarted")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.apps: list[str] = []

    def add(self, app: str) -> None:
        self._app_added(app=app)

    @event("AppAdded", topic="calldesk.client_app.AppAdded")
    def _app_added(self, app: str) -> None:
        self.apps.append(app)
