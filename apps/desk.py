"""The calldesk application: every capability, one event log (ADR/0002)."""

from calldesk.apps.presence import AgentPresence
from calldesk.apps.settings import persistence_settings


class Desk(AgentPresence):
    """What embedders construct; each capability adds its mixin to the bases."""

    @classmethod
    def at(cls, database_url: str) -> "Desk":
        """The application storing its events at this URL (see calldesk.apps.settings)."""
        return cls(env=persistence_settings(database_url))
