"""An app session: the authority one running app has, for one agent, from one origin,
opened by the proxy frame with the app's key (docs/proxy.md, ADR/0031).

Its secret is the proxy frame's, never the app's: requests carry it instead of the
agent's token, so whatever reaches the server through the proxy has the app's
registration's authority within the agent's rights, never the agent's whole session
(seed 004's confused deputy). As with tokens, only its digest is stored.
"""

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from calldesk.domain.access import Unauthorized
from calldesk.domain.identity import stable_id

#: An app session lasts at most this long; the proxy opens another when it runs out.
APP_SESSION_LIFETIME = timedelta(hours=1)


class AppSession(Aggregate):
    TOPIC = "calldesk.app_sessions.AppSession"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.app_sessions.Event"

    @staticmethod
    def create_id(digest: str) -> UUID:
        return stable_id("app-session", digest)

    @event("Opened", topic="calldesk.app_sessions.Opened")
    def __init__(
        self,
        digest: str,
        tenant: str,
        agent: str,
        app: str,
        origin: str,
        standing: str,
        token_id: UUID,
        expires_at: datetime,
        timestamp: datetime,
    ) -> None:
        self.digest = digest
        self.tenant, self.agent, self.app, self.origin = tenant, agent, app, origin
        #: The app's standing_for the agent when opened: any change of it ends this.
        self.standing = standing
        #: The agent's token it was opened under: revoking that ends this too.
        self.token_id = token_id
        self.opened_at = timestamp
        self.expires_at = expires_at
        self.ended_at: datetime | None = None

    @classmethod
    def open(
        cls,
        digest: str,
        tenant: str,
        agent: str,
        app: str,
        origin: str,
        standing: str,
        token_id: UUID,
        token_expires_at: datetime,
        at: datetime,
    ) -> "AppSession":
        return cls(
            digest=digest,
            tenant=tenant,
            agent=agent,
            app=app,
            origin=origin,
            standing=standing,
            token_id=token_id,
            expires_at=min(token_expires_at, at + APP_SESSION_LIFETIME),
            timestamp=at,
        )

    def __str__(self) -> str:
        return f"the session of app {self.app} for agent {self.agent}"

    def check(self, at: datetime) -> None:
        if self.ended_at is not None or at >= self.expires_at:
            raise Unauthorized(f"{self} has ended")

    def end(self, at: datetime) -> None:
        if self.ended_at is None:
            self._ended(timestamp=at)

    @event("Ended", topic="calldesk.app_sessions.Ended")
    def _ended(self, timestamp: datetime) -> None:
        self.ended_at = timestamp
