"""Use cases of third-party apps: register, publish, suspend, reinstate, revoke, rotate
the key, install; open and end the app sessions the proxy frame works with; check every
request an app session sends; record and list the refusals (docs/proxy.md, ADR/0031).

Keys and session secrets arrive beside the commands, never in them, as token secrets
do (ADR/0009): only their digests go further.
"""

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.persistence import IntegrityError

from calldesk.apps.aggregates import agent_named
from calldesk.apps.app_refusals import AppRefusals, ReportRefusal
from calldesk.apps.commands import AgentCommand, TenantCommand, slug
from calldesk.apps.unit_of_work import Service, UnitOfWork, writes
from calldesk.domain.access import (
    AccessToken,
    Unauthorized,
    checked_secret,
    token_digest,
)
from calldesk.domain.app_paths import BadPath, Endpoint, Scope, endpoint_for
from calldesk.domain.app_refusals import (
    AppDenied,
    RateLimited,
    RefusalReason,
    RefusedWhere,
)
from calldesk.domain.app_sessions import AppSession
from calldesk.domain.client_apps import (
    AppNotRunnable,
    AppStatus,
    ClientApp,
    TenantApps,
    checked_origin,
)
from calldesk.domain.errors import AlreadyExists, NotFound
from calldesk.domain.identity import checked_slug
from calldesk.domain.rate_limits import RequestBudget

#: How many sessions one agent's frame of one app may open a minute (a reload each).
SESSIONS_PER_MINUTE = 30

#: The one answer an app gets for a handshake that does not open a session; which
#: check failed is the security event's, not the app's.
NOT_OPENED = "this app cannot be opened here"


@attrs.frozen
class AppCommand(TenantCommand):
    """A command about one app of a tenant."""

    app: str = attrs.field(validator=slug("an app id"))


@attrs.frozen
class RegisterApp(AppCommand):
    """A new app; its key is passed to register_app beside it."""

    name: str
    origins: tuple[str, ...]
    entry_url: str
    endpoints: tuple[Endpoint, ...]
    rate_limit: int


@attrs.frozen
class InstallApp(AppCommand):
    agent: str = attrs.field(validator=slug("an agent handle"))
    parameters: Mapping[str, str] = attrs.field(factory=dict)
    scopes: tuple[Scope, ...] = ()


@attrs.frozen
class UninstallApp(AppCommand):
    agent: str = attrs.field(validator=slug("an agent handle"))


@attrs.frozen
class OpenAppSession(AgentCommand):
    """The proxy frame of this agent opens a session for the app it runs, as loaded
    from this origin; the app's key and the session's secret come beside it."""

    app: str = attrs.field(validator=slug("an app id"))
    origin: str
    token_id: UUID


@attrs.frozen
class AppView:
    """A registration as an administrator sees it: everything but its key."""

    app: str
    name: str
    origins: tuple[str, ...]
    entry_url: str
    endpoints: tuple[Endpoint, ...]
    rate_limit: int
    status: AppStatus
    key_generation: int
    installed_for: tuple[str, ...]
    version: int

    @classmethod
    def of(cls, app: ClientApp) -> "AppView":
        return cls(
            app=app.app,
            name=app.name,
            origins=app.origins,
            entry_url=app.entry_url,
            endpoints=app.endpoints,
            rate_limit=app.rate_limit,
            status=app.status,
            key_generation=app.key_generation,
            installed_for=tuple(sorted(app.installations)),
            version=app.version,
        )


@attrs.frozen
class InstalledAppView:
    """An app as the agent's console and proxy frame see it."""

    app: str
    name: str
    entry_url: str
    origins: tuple[str, ...]
    status: AppStatus
    endpoints: tuple[Endpoint, ...]
    rate_limit: int
    parameters: dict[str, str]
    scopes: tuple[Scope, ...]
    #: Changes when the key is rotated: the proxy frame closes its channel then.
    key_generation: int

    @classmethod
    def of(cls, app: ClientApp, agent: str) -> "InstalledAppView":
        installation = app.installations[agent]
        return cls(
            app=app.app,
            name=app.name,
            entry_url=app.entry_url,
            origins=app.origins,
            status=app.status,
            endpoints=app.endpoints,
            rate_limit=app.rate_limit,
            parameters=dict(installation.parameters),
            scopes=tuple(sorted(installation.scopes, key=lambda s: s.value)),
            key_generation=app.key_generation,
        )


@attrs.frozen
class AppContext:
    """What the app is told at its handshake: whom it runs for, with what."""

    agent: str
    app: str
    parameters: dict[str, str]


@attrs.frozen
class AppSessionView:
    expires_at: datetime
    context: AppContext


@attrs.frozen
class AppGrant:
    """What a request made with an app session may do: that app's endpoints, within
    the scopes its installation grants."""

    app: str
    session_id: UUID
    origin: str


class ClientApps(Service):
    """Registrations, installations, app sessions and their refusals."""

    def __init__(self, work: UnitOfWork, refusals: AppRefusals) -> None:
        super().__init__(work)
        self.refusals = refusals
        self._budgets: dict[tuple[str, str, str], RequestBudget] = {}
        self._openings: dict[tuple[str, str, str], RequestBudget] = {}
        self._memory = threading.Lock()

    # Registration, by an administrator.

    @writes
    def register_app(self, command: RegisterApp, key: str) -> AppView:
        app = ClientApp.register(
            command.tenant,
            command.app,
            command.name,
            command.origins,
            command.entry_url,
            command.endpoints,
            command.rate_limit,
            key,
            command.at,
        )
        exists = f"{app} is registered already; rotate its key or revoke it"
        if self.work.exists(app.id):
            raise AlreadyExists(exists)
        listed_id = TenantApps.create_id(command.tenant)
        listed = self.work.find(TenantApps, listed_id) or TenantApps(command.tenant)
        self._own_origins(app, listed)
        listed.add(app.app)
        try:
            self.work.save(app, listed)  # one transaction: never an app unlisted
        except IntegrityError:
            raise AlreadyExists(exists) from None
        return AppView.of(app)

    def _own_origins(self, app: ClientApp, listed: TenantApps) -> None:
        """Two apps served from one origin could script each other's frames, and use
        each other's channels: an origin is one live app's."""
        for other in listed.apps:
            held = self._app(app.tenant, other)
            shared = set(held.origins) & set(app.origins)
            if shared and held.status is not AppStatus.REVOKED:
                raise AlreadyExists(
                    f"{held} is served from {', '.join(sorted(shared))}; an origin "
                    "serves one app, so that apps cannot script each other's frames"
                )

    @writes
    def publish_app(self, command: AppCommand) -> AppView:
        return self._changed(command, lambda app: app.publish(command.at))

    @writes
    def suspend_app(self, command: AppCommand) -> AppView:
        return self._changed(command, lambda app: app.suspend(command.at))

    @writes
    def reinstate_app(self, command: AppCommand) -> AppView:
        return self._changed(command, lambda app: app.reinstate(command.at))

    @writes
    def revoke_app(self, command: AppCommand) -> AppView:
        return self._changed(command, lambda app: app.revoke(command.at))

    @writes
    def rotate_app_key(self, command: AppCommand, key: str) -> AppView:
        """The new key works at once; the old one, and every session it opened, no more."""
        return self._changed(command, lambda app: app.rotate_key(key, command.at))

    @writes
    def install_app(self, command: InstallApp) -> AppView:
        agent_named(self.work, command.tenant, command.agent)
        return self._changed(
            command,
            lambda app: app.install(
                command.agent, command.parameters, command.scopes, command.at
            ),
        )

    @writes
    def uninstall_app(self, command: UninstallApp) -> AppView:
        return self._changed(command, lambda app: app.uninstall(command.agent, command.at))

    def apps(self, tenant: str) -> tuple[AppView, ...]:
        """Every registration of the tenant, by app id."""
        checked_slug(tenant, "a tenant")
        return tuple(AppView.of(app) for app in self._registrations(tenant))

    def _registrations(self, tenant: str) -> list[ClientApp]:
        """The tenant's registrations, by app id."""
        listed = self.work.find(TenantApps, TenantApps.create_id(tenant))
        names = sorted(listed.apps) if listed is not None else []
        return [self._app(tenant, app) for app in names]

    def app(self, tenant: str, app: str) -> AppView:
        return AppView.of(self._app(tenant, app))

    # What an agent runs.

    def apps_of(self, tenant: str, agent: str) -> tuple[InstalledAppView, ...]:
        """The published or suspended apps installed for the agent; a suspended one is
        listed so that the console can say so."""
        return tuple(
            InstalledAppView.of(app, agent)
            for app in self._registrations(tenant)
            if agent in app.installations
            and app.status in (AppStatus.PUBLISHED, AppStatus.SUSPENDED)
        )

    def app_of(self, tenant: str, agent: str, app: str) -> InstalledAppView:
        """The app as installed for the agent, once published: a revoked one too, so
        that an open console says why it stopped."""
        registration = self._app(tenant, app)
        if (
            agent not in registration.installations
            or registration.status is AppStatus.REGISTERED
        ):
            raise NotFound(f"no app {app} for agent {agent}")
        return InstalledAppView.of(registration, agent)

    @writes
    def open_app_session(
        self, command: OpenAppSession, key: str, secret: str
    ) -> AppSessionView:
        """A session for the app the agent's proxy frame runs, if the key is the app's
        current one, the origin one of its own, and the app may run for the agent;
        every refusal is recorded, and answered alike."""
        refused = self._refused_opening(command, key)
        if refused is None and not self._opening_allowed(command):
            refused = RefusalReason.RATE_LIMITED, "sessions opened too often"
        if refused is not None:
            self.refusals.recorded(
                ReportRefusal(
                    command.tenant,
                    app=command.app,
                    origin=command.origin,
                    agent=command.agent,
                    reason=refused[0],
                    where=RefusedWhere.SERVER,
                    detail=refused[1],
                    at=command.at,
                )
            )
            if refused[0] is RefusalReason.RATE_LIMITED:
                raise RateLimited(60 // SESSIONS_PER_MINUTE)
            raise AppDenied(refused[0], NOT_OPENED)
        app = self._app(command.tenant, command.app)
        token = self.work.load(AccessToken, command.token_id, "the agent's token is gone")
        digest = token_digest(checked_secret(secret))
        session = AppSession.open(
            digest,
            command.tenant,
            command.agent,
            command.app,
            command.origin,
            app.standing_for(command.agent),
            token.id,
            token.expires_at,
            command.at,
        )
        self.work.create(session, "this secret is already a session; make a new one")
        installation = app.installations[command.agent]
        context = AppContext(command.agent, command.app, dict(installation.parameters))
        return AppSessionView(session.expires_at, context)

    def _opening_allowed(self, command: OpenAppSession) -> bool:
        """Each opening is a session in the log: a frame that keeps saying hello is
        slowed here too, whatever its proxy frame does."""
        with self._memory:
            budget = self._openings.setdefault(
                (command.tenant, command.app, command.agent),
                RequestBudget.full(SESSIONS_PER_MINUTE, command.at),
            )
            return budget.take(command.at) is None

    def _refused_opening(
        self, command: OpenAppSession, key: str
    ) -> tuple[RefusalReason, str] | None:
        app = self.work.find(ClientApp, ClientApp.create_id(command.tenant, command.app))
        if app is None:
            return RefusalReason.UNKNOWN_APP, "no such app in the tenant"
        try:
            checked_origin(command.origin)
        except ValueError:
            return RefusalReason.WRONG_ORIGIN, "not an origin"
        if command.origin not in app.origins:
            return RefusalReason.WRONG_ORIGIN, "not one of the app's origins"
        try:
            app.installation_for(command.agent)
        except AppNotRunnable as error:
            return RefusalReason.NOT_RUNNABLE, str(error)
        if not app.holds_key(key):
            return RefusalReason.BAD_KEY, "not the app's current key"
        return None

    @writes
    def end_app_session(self, session_id: UUID, at: datetime) -> None:
        self.work.change(
            lambda: self.work.load(AppSession, session_id, "no such app session"),
            lambda session: session.end(at),
        )

    def session_of(self, digest: str, at: datetime) -> AppSession | None:
        """The app session with this digest, if it lets its app in now: not ended, its
        agent's token still good, its app still runnable for the agent, its key
        still current."""
        session = self.work.find(AppSession, AppSession.create_id(digest))
        if session is None:
            return None
        session.check(at)
        token = self.work.find(AccessToken, session.token_id)
        if token is None:
            raise Unauthorized(f"{session} has ended")
        token.check(at)
        app = self._app(session.tenant, session.app)
        if app.standing_for(session.agent) != session.standing:
            raise Unauthorized(
                f"{session} has ended: the app was stopped, its key rotated or its "
                "installation changed since"
            )
        try:
            app.installation_for(session.agent)
        except AppNotRunnable:
            raise Unauthorized(f"{session} has ended: {app} may not run now") from None
        return session

    # Every request of an app session.

    def check_request(
        self,
        tenant: str,
        agent: str,
        grant: AppGrant,
        method: str,
        path: str,
        at: datetime,
        reachable: bool = True,
    ) -> None:
        """Refuses what the app's registration does not let through, recorded: a path
        that is not plain, an endpoint it did not register or a route no app reaches
        (`reachable`), a scope its installation does not grant, more requests than
        its rate limit."""
        app = self._app(tenant, grant.app)
        try:
            _allowed(app, agent, method, path, reachable)
            self._spend(tenant, app, agent, at)
        except AppDenied as denied:
            self.refusals.record(
                ReportRefusal(
                    tenant,
                    app=grant.app,
                    origin=grant.origin,
                    agent=agent,
                    reason=denied.reason,
                    where=RefusedWhere.SERVER,
                    detail=f"{method} {path.partition('?')[0]}"[:200],
                    at=at,
                )
            )
            raise

    def _spend(self, tenant: str, app: ClientApp, agent: str, at: datetime) -> None:
        with self._memory:
            key = (tenant, app.app, agent)
            budget = self._budgets.get(key)
            if budget is None or budget.per_minute != app.rate_limit:
                budget = self._budgets[key] = RequestBudget.full(app.rate_limit, at)
            wait = budget.take(at)
        if wait is not None:
            raise RateLimited(wait)

    def _app(self, tenant: str, app: str) -> ClientApp:
        checked_slug(tenant, "a tenant")
        checked_slug(app, "an app id")
        return self.work.load(
            ClientApp, ClientApp.create_id(tenant, app), f"no app {app} in tenant {tenant}"
        )

    def _changed(
        self, command: AppCommand, change: Callable[[ClientApp], object]
    ) -> AppView:
        app = self.work.change(lambda: self._app(command.tenant, command.app), change)
        return AppView.of(app)


def _allowed(app: ClientApp, agent: str, method: str, path: str, reachable: bool) -> None:
    """Refuses, as AppDenied with its reason, what the registration does not let the
    agent's app session ask."""
    try:
        installation = app.installation_for(agent)
        endpoint = endpoint_for(app.endpoints, method, path)
    except AppNotRunnable as error:
        raise AppDenied(RefusalReason.NOT_RUNNABLE, str(error)) from None
    except BadPath as error:
        raise AppDenied(RefusalReason.BAD_PATH, str(error)) from None
    if endpoint is None or not reachable:
        raise AppDenied(
            RefusalReason.ENDPOINT_NOT_ALLOWED,
            f"{method} {path.partition('?')[0]} is not among the app's endpoints",
        )
    if endpoint.scope not in installation.scopes:
        raise AppDenied(
            RefusalReason.SCOPE_NOT_GRANTED,
            f"scope {endpoint.scope.value} is not granted to this app here",
        )
