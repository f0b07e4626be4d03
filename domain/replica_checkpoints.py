"""When a row pulled from the server may replace the device's: per-record write
checkpoints.

A page read before the device's own write reached the server, and applied after the
answer, would revert the write until the next pull (PowerSync documents the effect;
WatermelonDB #649 brings a deleted record back this way). A record's version only grows,
and the server's answer to each write names the version it made, so the device keeps,
per record, the version its row reflects; a pulled row older than that is stale and
dropped, and one for a record with a write in flight waits for the answer (ADR/0024).
"""

import enum

from calldesk.domain.errors import InvalidValue


class PulledRow(enum.Enum):
    """What the device does with a row pulled from the server."""

    APPLY = "apply"  # newer than, or as new as, what the device's row reflects
    WAIT = "wait"  # the device's own write of it is unanswered: keep it in pulled
    STALE = "stale"  # older than the device's own write, or than a confirmed delete


def pulled_row(
    pulled_version: int, known_version: int | None, in_flight: bool
) -> PulledRow:
    """The fate of a pulled row of this version, given the version the device's row
    reflects (from an earlier pull or the answer to its own write, a confirmed delete's
    included; None when the device never had the record) and whether a write of the
    record was sent and not yet answered."""
    if pulled_version < 1 or (known_version is not None and known_version < 1):
        raise InvalidValue("a record's versions start at 1")
    if in_flight:
        return PulledRow.WAIT
    if known_version is not None and pulled_version < known_version:
        return PulledRow.STALE
    return PulledRow.APPLY
