"""The calldesk application: every capability, one event log (ADR/0002)."""

from calldesk.apps.access import TokenAccess
from calldesk.apps.feeds import Publishing
from calldesk.apps.settings import persistence_settings
from calldesk.apps.softphone import SoftphoneViews
from calldesk.apps.workspaces import Workspaces
from calldesk.ports.directory import RecordDirectory


class Desk(TokenAccess, SoftphoneViews, Publishing, Workspaces):
    """What embedders construct; each capability adds its mixin to the bases."""

    @classmethod
    def at(cls, database_url: str, directory: RecordDirectory | None = None) -> "Desk":
        """The application storing its events at this URL (see calldesk.apps.settings)."""
        return cls(env=persistence_settings(database_url), directory=directory)
