"""A third-party app registered, published and installed for agent a-17, as an
administrator would leave it (docs/proxy.md)."""

import secrets
from datetime import datetime

from calldesk.adapters.cli.demo_app_server import ORDER_LOOKUP_ENDPOINTS
from calldesk.apps.client_apps import AppCommand, InstallApp, RegisterApp
from calldesk.apps.desk import Desk
from calldesk.domain.app_paths import Endpoint

APP_ORIGIN = "http://127.0.0.1:8766"


def installed_app(
    desk: Desk,
    at: datetime,
    origin: str = APP_ORIGIN,
    app: str = "order-lookup",
    tenant: str = "acme",
    agent: str = "a-17",
    rate_limit: int = 600,
    endpoints: tuple[Endpoint, ...] = ORDER_LOOKUP_ENDPOINTS,
    also_from: tuple[str, ...] = (),
    name: str = "Order lookup",
) -> str:
    """The app's key, once it is published and installed for the agent with every
    scope its endpoints need."""
    key = secrets.token_urlsafe(32)
    desk.register_app(
        RegisterApp(
            tenant,
            app=app,
            name=name,
            origins=(origin, *also_from),
            entry_url=f"{origin}/index.html",
            endpoints=endpoints,
            rate_limit=rate_limit,
            at=at,
        ),
        key,
    )
    desk.publish_app(AppCommand(tenant, app=app, at=at))
    scopes = tuple(sorted({e.scope for e in endpoints}, key=lambda s: s.value))
    desk.install_app(
        InstallApp(
            tenant, app=app, agent=agent, parameters={"shop": "EU"}, scopes=scopes, at=at
        )
    )
    return key
