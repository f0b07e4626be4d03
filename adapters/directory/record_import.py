"""Rows of several kinds into the tenant's records, through the same rules as every
create (ADR/0023): batch by batch, the kinds others refer to first, so a contact's
account and a case's contact are recorded before the rows that name them.

Seeding and CSV imports both come through here; the directory then follows the records
as it follows every other change.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

import attrs

from calldesk.apps.desk import Desk
from calldesk.apps.records import ImportRecords, ImportRow, RowRefused
from calldesk.domain.crm_records import Author
from calldesk.domain.records import RecordKind
from calldesk.ports.directory_records import RecordCounts

#: References point from later kinds to earlier ones: contact to account, case to
#: contact and account.
REFERENCES_FIRST = (
    RecordKind.ACCOUNT,
    RecordKind.CONTACT,
    RecordKind.LEAD,
    RecordKind.CASE,
)
#: Rows recorded per transaction: large enough to be fast, small enough to show progress.
ROWS_PER_BATCH = 2_000

#: Rows of each kind, as one batch of a source hands them over.
RowsByKind = Mapping[RecordKind, Sequence[ImportRow]]


@attrs.frozen
class ImportTotals:
    """What an import did: records created by kind, rows an earlier run of the same
    import had recorded, and each row refused with its field and reason."""

    created: RecordCounts = attrs.field(factory=RecordCounts)
    already_there: int = 0
    refused: tuple[RowRefused, ...] = ()

    def __add__(self, other: "ImportTotals") -> "ImportTotals":
        return ImportTotals(
            self.created + other.created,
            self.already_there + other.already_there,
            self.refused + other.refused,
        )


def import_rows(
    desk: Desk,
    tenant: str,
    batches: Iterable[RowsByKind],
    *,
    operation_id: str,
    by: Author,
    at: Callable[[], datetime],
    region: str | None = None,
    on_imported: Callable[[RecordKind, int], None] = lambda _, __: None,
) -> ImportTotals:
    """Each batch's rows recorded kind by kind, references first; `on_imported` hears
    how many rows of which kind each part held, once recorded and followed by the
    directory."""
    totals = ImportTotals()
    for rows_by_kind in batches:
        for kind in REFERENCES_FIRST:
            rows = rows_by_kind.get(kind, ())
            for start in range(0, len(rows), ROWS_PER_BATCH):
                part = rows[start : start + ROWS_PER_BATCH]
                summary = desk.import_records(
                    ImportRecords(
                        tenant,
                        kind=kind,
                        rows=part,
                        operation_id=operation_id,
                        by=by,
                        region=region,
                        at=at(),
                    )
                )
                imported = ImportTotals(
                    _counted(kind, summary.created), summary.already_there, summary.refused
                )
                desk.catch_up_directory(tenant)
                totals += imported
                on_imported(kind, len(part))
    return totals


def _counted(kind: RecordKind, created: int) -> RecordCounts:
    return RecordCounts(
        accounts=created if kind is RecordKind.ACCOUNT else 0,
        contacts=created if kind is RecordKind.CONTACT else 0,
        leads=created if kind is RecordKind.LEAD else 0,
        cases=created if kind is RecordKind.CASE else 0,
    )
