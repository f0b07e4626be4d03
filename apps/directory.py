"""The tenant's records as the agent's desk looks them up: the matches of a call's
screen pop described side by side, and a search by name or number for the transfer and
conference dialog (ADR/0022)."""

from calldesk.apps.aggregates import call_in, tenant_named
from calldesk.apps.unit_of_work import Service
from calldesk.domain.errors import InvalidValue
from calldesk.ports.directory import SEARCH_LIMIT_MAX, KnownRecord

#: What a search takes: enough to mean something, no more than a name or number needs.
SEARCH_TEXT_MIN, SEARCH_TEXT_MAX = 2, 64
#: How many of a call's matches are described: a switchboard may reach hundreds, and
#: the agent tells apart the first screenful.
MATCHES_DESCRIBED = 50


class RecordLookups(Service):
    """Reads of the record directory, each within one tenant."""

    def search_directory(
        self, tenant: str, text: str, limit: int = 10
    ) -> tuple[KnownRecord, ...]:
        """The tenant's records with a number that `text` names (a word of a name, or
        three digits or more of a number), best first, at most `limit`."""
        tenant_named(self.work, tenant)
        if not SEARCH_TEXT_MIN <= len(text.strip()) <= SEARCH_TEXT_MAX:
            raise InvalidValue(
                f"search with {SEARCH_TEXT_MIN} to {SEARCH_TEXT_MAX} characters, "
                f"not {len(text.strip())}"
            )
        if not 1 <= limit <= SEARCH_LIMIT_MAX:
            raise InvalidValue(
                f"a search finds 1 to {SEARCH_LIMIT_MAX} records, not {limit}"
            )
        return self.work.directory.search(tenant, text.strip(), limit)

    def call_matches(self, tenant: str, call: str) -> tuple[KnownRecord, ...]:
        """The records the call's number reached, described; a record the directory no
        longer has is described by its reference alone."""
        matches = call_in(self.work, tenant, call).screen_pop or ()
        directory = self.work.directory
        return tuple(
            directory.record(tenant, match.kind, match.record_id) or KnownRecord(match)
            for match in matches[:MATCHES_DESCRIBED]
        )
