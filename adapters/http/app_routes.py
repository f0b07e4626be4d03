"""Third-party apps over HTTP: an administrator's registrations, an agent's installed
apps, the app sessions the proxy frame opens, and the refusals it reports
(docs/proxy.md, ADR/0031).

None of these routes is an app's to call: a request made with an app session reaches
only the routes its registration names, and never these (`PROXIABLE`).
"""

import secrets
from collections.abc import Callable
from typing import Annotated, Any

import attrs
from annotated_types import Ge, Le, MaxLen
from litestar import Request, Router, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from calldesk.adapters.http.auth import OWN_SESSION, PROXIABLE, acting_as
from calldesk.adapters.http.problems import PROBLEM_RESPONSES, Forbidden
from calldesk.adapters.http.routes import Who, desk_of, now_of
from calldesk.apps.access import Principal
from calldesk.apps.app_refusals import MAX_REFUSALS_PAGE, RefusalsPage, ReportRefusal
from calldesk.apps.client_apps import (
    AppCommand,
    AppContext,
    AppView,
    InstallApp,
    InstalledAppView,
    OpenAppSession,
    RegisterApp,
    UninstallApp,
)
from calldesk.apps.desk import Desk
from calldesk.domain.access import SECRET_MAX_LENGTH, Role
from calldesk.domain.app_paths import MAX_ENDPOINTS, Scope, endpoint_named
from calldesk.domain.app_refusals import (
    DETAIL_MAX_LENGTH,
    ORIGIN_MAX_LENGTH,
    RefusalReason,
    RefusedWhere,
)
from calldesk.domain.client_apps import MAX_ORIGINS, MAX_PARAMETERS, PARAMETER_MAX_LENGTH
from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import NAME_MAX_LENGTH, SLUG_MAX_LENGTH

Slug = Annotated[str, MaxLen(SLUG_MAX_LENGTH)]
#: The largest position a log holds (a signed 64-bit integer in either store).
MAX_POSITION = 2**63 - 1
Origin = Annotated[str, MaxLen(ORIGIN_MAX_LENGTH)]


@attrs.frozen
class RegisterAppBody:
    app: Slug
    name: Annotated[str, MaxLen(NAME_MAX_LENGTH)]
    origins: Annotated[tuple[Origin, ...], MaxLen(MAX_ORIGINS)]
    entry_url: Annotated[str, MaxLen(2048)]
    #: Each as `METHOD /path/{pattern} scope`.
    endpoints: Annotated[tuple[Annotated[str, MaxLen(600)], ...], MaxLen(MAX_ENDPOINTS)]
    rate_limit: int


@attrs.frozen
class RegisteredApp:
    """The registration and, this once, its key: calldesk keeps only its digest."""

    app: AppView
    key: str


@attrs.frozen
class InstallBody:
    parameters: Annotated[
        dict[Slug, Annotated[str, MaxLen(PARAMETER_MAX_LENGTH)]], MaxLen(MAX_PARAMETERS)
    ] = attrs.Factory(dict)
    scopes: Annotated[tuple[Annotated[str, MaxLen(32)], ...], MaxLen(16)] = ()


@attrs.frozen
class OpenSessionBody:
    key: Annotated[str, MaxLen(SECRET_MAX_LENGTH)]
    origin: Origin


@attrs.frozen
class OpenedSession:
    """The secret is the proxy frame's, for its requests; the app never sees it."""

    secret: str
    expires_at: str
    context: AppContext


@attrs.frozen
class RefusalBody:
    app: Slug | None
    origin: Origin | None
    reason: RefusalReason
    detail: Annotated[str, MaxLen(DETAIL_MAX_LENGTH)] = ""


def administering(who: Principal) -> Principal:
    """The tenant's apps are managed with an administrator's own token."""
    if who.role is not Role.ADMINISTRATOR or who.app is not None:
        raise Forbidden(
            "managing the tenant's apps takes an administrator's token "
            "(calldesk token issue --administrator)"
        )
    return who


def _app_command(request: Request[Any, Any, Any], who: Principal, app: str) -> AppCommand:
    return AppCommand(administering(who).tenant, app=app, at=now_of(request))


@get("/apps", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def list_apps(request: Request[Any, Any, Any], who: Who) -> tuple[AppView, ...]:
    return desk_of(request).apps(administering(who).tenant)


@post("/apps", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=201)
def register_app(
    request: Request[Any, Any, Any], who: Who, data: JSONBody[RegisterAppBody]
) -> RegisteredApp:
    """Register an app; its key is in this answer and nowhere else, ever."""
    command = RegisterApp(
        administering(who).tenant,
        app=data.app,
        name=data.name,
        origins=data.origins,
        entry_url=data.entry_url,
        endpoints=tuple(endpoint_named(text) for text in data.endpoints),
        rate_limit=data.rate_limit,
        at=now_of(request),
    )
    key = secrets.token_urlsafe(32)
    return RegisteredApp(desk_of(request).register_app(command, key), key)


@get("/apps/{app:str}", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def show_app(request: Request[Any, Any, Any], who: Who, app: FromPath[str]) -> AppView:
    return desk_of(request).app(administering(who).tenant, app)


def _status_route(name: str, change: Callable[[Desk, AppCommand], AppView]) -> Any:
    @post(
        f"/apps/{{app:str}}/{name}",
        sync_to_thread=True,
        responses=PROBLEM_RESPONSES,
        status_code=200,
        name=f"{name}-app",
        description=f"The app's status after `{name}` (docs/proxy.md).",
    )
    def changed(request: Request[Any, Any, Any], who: Who, app: FromPath[str]) -> AppView:
        return change(desk_of(request), _app_command(request, who, app))

    return changed


@post(
    "/apps/{app:str}/rotate-key",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def rotate_key(
    request: Request[Any, Any, Any], who: Who, app: FromPath[str]
) -> RegisteredApp:
    """A new key, this once; the old one and its sessions stop at once."""
    key = secrets.token_urlsafe(32)
    view = desk_of(request).rotate_app_key(_app_command(request, who, app), key)
    return RegisteredApp(view, key)


@put(
    "/apps/{app:str}/installations/{agent_handle:str}",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
)
def install_app(
    request: Request[Any, Any, Any],
    who: Who,
    app: FromPath[str],
    agent_handle: FromPath[str],
    data: JSONBody[InstallBody],
) -> AppView:
    try:
        scopes = tuple(Scope(scope) for scope in data.scopes)
    except ValueError:
        known = ", ".join(scope.value for scope in Scope)
        raise InvalidValue(f"a scope is one of {known}") from None
    command = InstallApp(
        administering(who).tenant,
        app=app,
        agent=agent_handle,
        parameters=data.parameters,
        scopes=scopes,
        at=now_of(request),
    )
    return desk_of(request).install_app(command)


@delete(
    "/apps/{app:str}/installations/{agent_handle:str}",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def uninstall_app(
    request: Request[Any, Any, Any],
    who: Who,
    app: FromPath[str],
    agent_handle: FromPath[str],
) -> AppView:
    command = UninstallApp(
        administering(who).tenant, app=app, agent=agent_handle, at=now_of(request)
    )
    return desk_of(request).uninstall_app(command)


@get("/apps/refusals", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def list_refusals(
    request: Request[Any, Any, Any],
    who: Who,
    after: FromQuery[Annotated[int, Ge(0), Le(MAX_POSITION)]] = 0,
    limit: FromQuery[Annotated[int, Ge(1), Le(MAX_REFUSALS_PAGE)]] = 100,
) -> RefusalsPage:
    """Every refusal of the tenant's apps, in the browser or here, oldest first."""
    return desk_of(request).app_refusals(administering(who).tenant, after, limit)


@get("/agents/{agent:str}/apps", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def agent_apps(
    request: Request[Any, Any, Any], who: Who, agent: FromPath[str]
) -> tuple[InstalledAppView, ...]:
    return desk_of(request).apps_of(who.tenant, agent)


@get("/agents/{agent:str}/apps/{app:str}", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def agent_app(
    request: Request[Any, Any, Any], who: Who, agent: FromPath[str], app: FromPath[str]
) -> InstalledAppView:
    return desk_of(request).app_of(who.tenant, agent, app)


@post(
    "/agents/{agent:str}/apps/{app:str}/sessions",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=201,
)
def open_session(
    request: Request[Any, Any, Any],
    who: Who,
    agent: FromPath[str],
    app: FromPath[str],
    data: JSONBody[OpenSessionBody],
) -> OpenedSession:
    """The proxy frame's session for the app it runs, opened with the agent's token."""
    assert who.token_id is not None  # an agent's own token: app sessions cannot get here
    secret = secrets.token_urlsafe(32)
    command = OpenAppSession(
        who.tenant,
        agent=acting_as(who, agent),
        app=app,
        origin=data.origin,
        token_id=who.token_id,
        at=now_of(request),
    )
    view = desk_of(request).open_app_session(command, data.key, secret)
    return OpenedSession(secret, view.expires_at.isoformat(), view.context)


@post(
    "/agents/{agent:str}/app-refusals",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=202,
)
def report_refusal(
    request: Request[Any, Any, Any],
    who: Who,
    agent: FromPath[str],
    data: JSONBody[RefusalBody],
) -> None:
    """A refusal the proxy frame made in the browser, kept as a security event."""
    desk_of(request).record_app_refusal(
        ReportRefusal(
            who.tenant,
            app=data.app,
            origin=data.origin,
            agent=acting_as(who, agent),
            reason=data.reason,
            where=RefusedWhere.BROWSER,
            detail=data.detail,
            at=now_of(request),
        )
    )


@delete(
    "/app-sessions/current",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def end_session(request: Request[Any, Any, Any], who: Who) -> None:
    """The proxy frame closed its channel: the app session it used ends with it."""
    if who.app is None:
        raise Forbidden("only an app session ends itself here")
    desk_of(request).end_app_session(who.app.session_id, now_of(request))


app_api = Router(
    path="/",
    route_handlers=[
        list_apps,
        register_app,
        list_refusals,
        show_app,
        _status_route("publish", Desk.publish_app),
        _status_route("suspend", Desk.suspend_app),
        _status_route("reinstate", Desk.reinstate_app),
        _status_route("revoke", Desk.revoke_app),
        rotate_key,
        install_app,
        uninstall_app,
        agent_apps,
        agent_app,
        open_session,
        report_refusal,
    ],
    opt={PROXIABLE: False},
)

#: The one route an app session may call outside its registration: ending itself.
app_session_api = Router(
    path="/", route_handlers=[end_session], opt={PROXIABLE: OWN_SESSION}
)
