"""A device's sync run: the seed's stages in order (L52-L82), each committing what it
finished, so a crash anywhere resumes at the top with nothing lost or doubled
(ADR/0024).

Every write to a main row re-reads it in its own transaction and keeps what the person
changed since the run read it (`rebased`); creates carry operation ids, so one sent
again after a lost answer makes nothing twice; a pulled row older than the version the
device's row reflects is dropped (per-record write checkpoints).
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import TypeVar

import attrs

from calldesk.apps.replica_rows import (
    WHOLE_RECORD,
    local_changes,
    present,
    rebased,
    references,
    schema_of,
)
from calldesk.domain.record_fields import FieldType, FieldValue
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_checkpoints import PulledRow, pulled_row
from calldesk.domain.replica_merge import FieldConflict, merged
from calldesk.domain.replica_outcomes import OutcomeClass, next_attempt_at
from calldesk.domain.replica_runs import RunProgress, SyncStage, another_iteration
from calldesk.domain.temporary_ids import is_temporary_id, waiting_for
from calldesk.ports.clock import Clock
from calldesk.ports.replica import (
    BadServerAnswer,
    InboxConflict,
    KindSchema,
    LocalRow,
    Operation,
    OperationResult,
    PulledRecord,
    PulledSchema,
    QueuedCreate,
    QueuedDelete,
    ReplicaServer,
    ReplicaTables,
    SendChange,
    SendCreate,
    SendDelete,
    ServerRecord,
    ServerUnreachable,
    SessionExpired,
    TableGroup,
)

CURSOR = "cursor"
RUN = "run"
RUN_ERROR = "last_run_error"
LAST_SUCCESS = "last_success"
ONLINE = "online"
OFFLINE_RUNS = "offline_runs"
NEXT_RUN_AT = "next_run_at"
PAGE_SIZE = 500
DELETED = "was deleted on the server"
CREATES_PER_BATCH = 200
CHANGES_PER_BATCH = 200

_TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.NUMBER: (int, float),
    FieldType.BOOLEAN: (bool,),
}


@attrs.frozen
class RunReport:
    """What a run did: rows pulled and operations pushed over all its iterations,
    whether it completed, and why not (`session_refused`: the server refused the token,
    so trying again with it is no use)."""

    pulled: int = 0
    pushed: int = 0
    iterations: int = 0
    completed: bool = False
    error: str | None = None
    offline: bool = False
    session_refused: bool = False


Progress = Callable[[RunProgress], None]


@attrs.define
class _Counts:
    """What a run did so far, for its report however it ends."""

    pulled: int = 0
    pushed: int = 0
    iterations: int = 0

    def report(
        self,
        completed: bool = False,
        error: str | None = None,
        offline: bool = False,
        session_refused: bool = False,
    ) -> RunReport:
        return RunReport(
            self.pulled,
            self.pushed,
            self.iterations,
            completed,
            error,
            offline,
            session_refused,
        )


class ReplicaSync:
    """Runs the device's sync against the server, kind by kind."""

    def __init__(
        self,
        tables: ReplicaTables,
        server: ReplicaServer,
        clock: Clock,
        kinds: Iterable[RecordKind] = tuple(RecordKind),
        page_size: int = PAGE_SIZE,
        on_progress: Progress | None = None,
    ) -> None:
        self.tables = tables
        self.server = server
        self.clock = clock
        self.kinds = tuple(kinds)
        self.page_size = page_size
        self.on_progress = on_progress or (lambda _: None)
        # What this run sent already: a create is tried once a run, and a delete or
        # an edit the server put off (a transient answer) waits for the next run, not
        # for the next iteration of this one.
        self._tried_creates: set[str] = set()
        self._put_off: set[tuple[RecordKind, str]] = set()

    def run(self) -> RunReport:
        """Iterate the stages until an iteration pulls and pushes nothing (L82), at
        most MAX_ITERATIONS times; offline or refused, say so in the properties."""
        return self._guarded(self._iterations)

    def catch_up(self) -> RunReport:
        """What the live follower runs while nothing local waits to be sent: the feed
        after the cursor pulled and applied, nothing pushed. Rows changed here wait in
        pulled for the next full run's merge."""
        return self._guarded(self._caught_up)

    def _iterations(self, report: "_Counts") -> None:
        while True:
            report.iterations += 1
            got, sent = self._iteration(report.iterations)
            report.pulled += got
            report.pushed += sent
            if not another_iteration(report.iterations, got, sent):
                return

    def _caught_up(self, report: "_Counts") -> None:
        report.iterations = 1
        with self.tables.transaction() as group:
            unknown = [kind for kind in self.kinds if group.kind_schema(kind) is None]
        if unknown:  # a fresh replica, or a kind added: its tables come first
            self._stage(SyncStage.SCHEMA, 1)
            for kind in unknown:
                self._described(self.server.schema(kind))
        self._stage(SyncStage.PULL, 1)
        report.pulled = self.pull()
        self._stage(SyncStage.SERVER_DELETES, 1)
        self.apply_server_deletes()
        self._stage(SyncStage.MOVE_PULLED, 1)
        self.move_pulled()

    def _guarded(self, work: Callable[["_Counts"], None]) -> RunReport:
        """The work's report; no answer ends it offline, a refused token or answer
        ends it with the reason kept in the properties until a run succeeds."""
        counts = _Counts()
        self._started = self.clock.now()
        try:
            work(counts)
        except ServerUnreachable as error:
            self._ended(online=False, error=None)
            return RunReport(
                counts.pulled,
                counts.pushed,
                counts.iterations,
                error=str(error),
                offline=True,
            )
        except SessionExpired as error:
            why = _token_refused(error)
            self._ended(online=True, error=why)
            return counts.report(error=why, session_refused=True)
        except BadServerAnswer as error:
            why = f"the server's answer was refused, nothing of it applied: {error}"
        except Exception as error:
            # A fault of calldesk's: the run is over, said so, and not left "syncing".
            self._ended(online=True, error=f"the sync stopped on a fault: {error!r}")
            raise
        else:
            self._ended(online=True, error=None, succeeded=True)
            return RunReport(
                counts.pulled, counts.pushed, counts.iterations, completed=True
            )
        self._ended(online=True, error=why)
        return counts.report(error=why)

    def record_refused_session(self, error: SessionExpired) -> None:
        """The server refused the token outside a run (the live follower's stream):
        said in the status as a refused run says it, until a run succeeds."""
        self._ended(online=True, error=_token_refused(error))

    def _iteration(self, iteration: int) -> tuple[int, int]:
        self._stage(SyncStage.SCHEMA, iteration)
        for kind in self.kinds:
            self._described(self.server.schema(kind))
        self._stage(SyncStage.PULL, iteration)
        pulled = self.pull(iteration)
        self._stage(SyncStage.SERVER_DELETES, iteration)
        self.apply_server_deletes()
        self._stage(SyncStage.LOCAL_DELETES, iteration)
        pushed = self.push_deletes()
        self._stage(SyncStage.CREATES, iteration)
        pushed += self.push_creates()
        self._stage(SyncStage.MERGE, iteration)
        pushed += self.merge()
        self._stage(SyncStage.MOVE_PULLED, iteration)
        self.move_pulled()
        self._stage(SyncStage.FINISH, iteration)
        return pulled, pushed

    def _stage(self, stage: SyncStage, iteration: int, done: int = 0) -> None:
        progress = RunProgress(stage, iteration, done)
        with self.tables.transaction() as group:
            group.set_property(
                RUN,
                {
                    "stage": stage.value,
                    "iteration": iteration,
                    "done": done,
                    "started": self._started.isoformat(),
                },
            )
            group.set_property(ONLINE, True)
        self.on_progress(progress)

    def _ended(self, online: bool, error: str | None, succeeded: bool = False) -> None:
        """The run's end in the properties; offline, when the follower tries again
        (backing off, persisted, so a restart keeps the pace)."""
        now = self.clock.now()
        with self.tables.transaction() as group:
            group.set_property(RUN, None)
            group.set_property(ONLINE, online)
            failures = 0 if online else int(group.property(OFFLINE_RUNS) or 0) + 1
            group.set_property(OFFLINE_RUNS, failures or None)
            retry = None if online else next_attempt_at(now, failures).isoformat()
            group.set_property(NEXT_RUN_AT, retry)
            if online:
                group.set_property(RUN_ERROR, error)
            if succeeded:
                group.set_property(LAST_SUCCESS, self.clock.now().isoformat())

    # Schema.

    def _described(self, schema: KindSchema) -> None:
        """A kind's schema as the server describes it now: stored, and the tables
        migrated, when it is new or newer (a retired field keeps its column)."""
        with self.tables.transaction() as group:
            stored = group.kind_schema(schema.kind)
            if stored is None or schema.version > stored.version:
                group.store_schema(schema)

    # Pull.

    def pull(self, iteration: int = 1) -> int:
        """The feed after the cursor in pages, each checked against the stored schema
        and written with its cursor in one transaction: a page refused or unanswered
        never moves the cursor (PouchDB #1240)."""
        pulled = 0
        with self.tables.transaction() as group:
            first = int(group.property(CURSOR) or 0) == 0 and not _anything_local(
                group, self.kinds
            )
        while True:
            with self.tables.transaction() as group:
                cursor = int(group.property(CURSOR) or 0)
            page = self.server.changes(cursor, self.page_size)
            if page.cursor < cursor:
                raise BadServerAnswer(
                    f"the cursor went back from {cursor} to {page.cursor}"
                )
            with self.tables.transaction() as group:
                records = []
                for change in page.changes:
                    if isinstance(change, PulledSchema):
                        if change.schema.kind in self.kinds:
                            self._stored_schema(group, change.schema)
                    elif change.record.kind in self.kinds:
                        records.append(_checked_record(group, change))
                if first:
                    _applied_first(group, records)
                else:
                    for record in records:
                        _waiting(group, record)
                group.set_property(CURSOR, page.cursor)
            pulled += len(records)
            self.on_progress(RunProgress(SyncStage.PULL, iteration, pulled))
            if not page.more:
                return pulled

    @staticmethod
    def _stored_schema(group: TableGroup, schema: KindSchema) -> None:
        stored = group.kind_schema(schema.kind)
        if stored is None or schema.version > stored.version:
            group.store_schema(schema)

    # Server deletes (L70).

    def apply_server_deletes(self) -> None:
        """Each record deleted on the server leaves every table; local changes it
        discarded become a notice with their values. A tombstone of a record the
        device does not know waits while a create's answer is outstanding: it may be
        that create's record, made by a request whose answer was lost."""
        for kind in self.kinds:
            with self.tables.transaction() as group:
                deletes = list(group.server_deletes(kind))
            for tombstone in deletes:
                with self.tables.transaction() as group:
                    unknown = group.row(kind, tombstone.record_id) is None
                    if unknown and any(c.sent for c in group.creates()):
                        continue
                    _gone(group, kind, tombstone.record_id, self.clock.now(), DELETED)
                    group.remove_server_delete(kind, tombstone.record_id)

    # Local deletes (L72).

    def push_deletes(self) -> int:
        """Deletes not yet answered, in one batch; a run started by a person or the
        follower tries each at once (the follower waits out the backoff to start one)."""
        with self.tables.transaction() as group:
            due = [
                delete
                for delete in group.deletes()
                if delete.confirmed_version is None
                and delete.error is None
                and delete.base_version > 0
                and not _conflicted(group, delete.kind, delete.record_id)
                and (delete.kind, delete.record_id) not in self._put_off
            ]
        if not due:
            return 0
        operations = [SendDelete(d.kind, d.record_id, d.base_version) for d in due]
        results = self._sent(operations, lambda: self._deletes_failed(due))
        for delete, result in zip(due, results, strict=True):
            # What the server holds now, asked before the transaction: never a request
            # while the device's tables are locked.
            latest = (
                self.server.record(delete.kind, delete.record_id)
                if result.outcome is OutcomeClass.CONFLICT
                else None
            )
            with self.tables.transaction() as group:
                self._delete_answered(group, delete, result, latest)
        return len(due)

    def _deletes_failed(self, deletes: list[QueuedDelete]) -> None:
        now = self.clock.now()
        with self.tables.transaction() as group:
            for delete in deletes:
                group.put_delete(_tried_again_later(delete, now))

    def _delete_answered(
        self,
        group: TableGroup,
        delete: QueuedDelete,
        result: OperationResult,
        latest: ServerRecord | None,
    ) -> None:
        kind, record_id = delete.kind, delete.record_id
        current = next(
            (d for d in group.deletes() if (d.kind, d.record_id) == (kind, record_id)),
            None,
        )
        if current is None:
            return  # abandoned while on the way: the feed brings the server's word
        delete = current  # as it is now: its attempts, its error, since it was read
        outcome = result.outcome
        if outcome is OutcomeClass.APPLIED:
            assert result.record is not None
            group.put_delete(attrs.evolve(delete, confirmed_version=result.record.version))
            group.remove_original(kind, record_id)
            group.remove_pulled(kind, record_id)
        elif outcome is OutcomeClass.GONE:
            group.remove_delete(kind, record_id)
            group.remove_original(kind, record_id)
            group.remove_pulled(kind, record_id)
        elif outcome is OutcomeClass.CONFLICT:
            if latest is None or latest.deleted:
                group.remove_delete(kind, record_id)
                group.remove_original(kind, record_id)
                return
            group.put_conflict(
                InboxConflict(
                    kind,
                    record_id,
                    FieldConflict(WHOLE_RECORD, delete.base_version, None, latest.version),
                    latest.version,
                )
            )
            group.put_pulled([latest])
        elif outcome is OutcomeClass.TRANSIENT:
            self._put_off.add((kind, record_id))
            group.put_delete(_tried_again_later(delete, self.clock.now()))
        else:
            assert result.problem is not None
            group.put_delete(attrs.evolve(delete, error=result.problem.detail))

    # Creates, first in first out (L74, L86).

    def push_creates(self) -> int:
        """Creates in queue order, in batches, each tried once a run; one referring to
        a create not yet answered waits for it (sent in the same batch as "@ref" when
        it can be)."""
        pushed = 0
        while True:
            batch = self._next_creates()
            if not batch:
                return pushed
            entries = [entry for entry, _, _ in batch]
            self._tried_creates.update(entry.operation_id for entry in entries)
            with self.tables.transaction() as group:
                for entry in entries:
                    group.update_create(attrs.evolve(entry, sent=True))
            results = self._sent(
                [operation for _, operation, _ in batch],
                partial(self._creates_failed, entries),
            )
            for (entry, _, revision), result in zip(batch, results, strict=True):
                with self.tables.transaction() as group:
                    self._create_answered(group, entry, revision, result)
            pushed += len(batch)

    def _next_creates(self) -> list[tuple[QueuedCreate, SendCreate, int]]:
        batch: list[tuple[QueuedCreate, SendCreate, int]] = []
        in_batch: dict[str, str] = {}
        with self.tables.transaction() as group:
            queued = {entry.temporary_id for entry in group.creates()}
            pointing = references(group)
            for entry in group.creates():
                if entry.error is not None or entry.operation_id in self._tried_creates:
                    continue
                row = group.row(entry.kind, entry.temporary_id)
                if row is None and entry.sent and _deleted_here(group, entry):
                    # Deleted here while its answer was lost: sent again naming only
                    # its operation, the server answers with the record it made (which
                    # the queued delete then deletes) or refuses, having made none.
                    replay = SendCreate(entry.kind, entry.operation_id, {}, None)
                    batch.append((entry, replay, 0))
                    continue
                if row is None:
                    group.remove_create(entry.operation_id)
                    continue
                waits = waiting_for(row.values, pointing.get(entry.kind, {}))
                lost = sorted(t for t in waits.values() if t not in queued)
                if lost:
                    message = (
                        "refers to a record deleted on this device before it was sent: "
                        + ", ".join(f"{f}" for f, t in waits.items() if t in lost)
                    )
                    group.update_create(attrs.evolve(entry, error=message))
                    group.put_row(entry.kind, attrs.evolve(row, error=message))
                    continue
                if any(t not in in_batch for t in waits.values()):
                    continue  # waits for a create ahead of it that is not sent yet
                values = {
                    field: f"@{in_batch[value]}"
                    if field in waits and isinstance(value, str)
                    else value
                    for field, value in row.values.items()
                }
                operation = SendCreate(
                    entry.kind, entry.operation_id, values, entry.operation_id
                )
                batch.append((entry, operation, row.revision))
                in_batch[entry.temporary_id] = entry.operation_id
                if len(batch) == CREATES_PER_BATCH:
                    break
        return batch

    def _creates_failed(self, entries: list[QueuedCreate]) -> None:
        now = self.clock.now()
        with self.tables.transaction() as group:
            for entry in entries:
                group.update_create(_tried_again_later(attrs.evolve(entry, sent=True), now))

    def _create_answered(
        self,
        group: TableGroup,
        entry: QueuedCreate,
        revision: int,
        result: OperationResult,
    ) -> None:
        kind = entry.kind
        current = next(
            (c for c in group.creates() if c.operation_id == entry.operation_id), None
        )
        if current is None:
            return  # answered already (a replay's answer), nothing left to do
        entry = current  # as it is now, not as the run read it before sending
        outcome = result.outcome
        if outcome is OutcomeClass.APPLIED:
            made = result.record
            assert made is not None
            group.remove_row(kind, made.record_id)  # an echo pulled before the answer
            group.map_id(kind, entry.temporary_id, made.record_id, references(group))
            group.remove_create(entry.operation_id)
            tombstone = next(
                (t for t in group.server_deletes(kind) if t.record_id == made.record_id),
                None,
            )
            if made.deleted or tombstone is not None:
                # Made by a request whose answer was lost, and deleted on the server
                # since: the tombstone waited for this answer.
                _gone(group, kind, made.record_id, self.clock.now(), DELETED)
                group.remove_server_delete(kind, made.record_id)
                return
            for delete in group.deletes():
                if (delete.kind, delete.record_id) == (kind, made.record_id):
                    group.put_delete(attrs.evolve(delete, base_version=made.version))
                    group.put_original(made)
            row = group.row(kind, made.record_id)
            if row is not None:
                # A create sent again after a lost answer is answered with the record
                # as first made: what the person changed since is still to be sent.
                servers_own = schema_of(group, kind).read_only
                fields = (set(row.values) | set(made.values)) - servers_own
                # A field cleared since is absent from the row: None. (The server fills
                # no field a person fills, only its read-only ones, so a field the row
                # lacks and the answer holds is one the person cleared.)
                unsent = {
                    field: row.values.get(field)
                    for field in fields
                    if made.values.get(field) != row.values.get(field)
                }
                self._answered_row(group, row, revision, made, dict(row.values), unsent)
            stale = group.pulled(kind, made.record_id)
            if stale is not None and stale.version <= made.version:
                group.remove_pulled(kind, made.record_id)
        elif outcome is OutcomeClass.TRANSIENT:
            sent = attrs.evolve(entry, sent=True)
            group.update_create(_tried_again_later(sent, self.clock.now()))
        else:
            assert result.problem is not None
            if _deleted_here(group, entry) and group.row(kind, entry.temporary_id) is None:
                # Refused, so never made: there is nothing to delete either.
                group.remove_create(entry.operation_id)
                group.remove_delete(kind, entry.temporary_id)
                return
            message = result.problem.detail
            # Refused, so the server made nothing under this operation: not in flight.
            group.update_create(attrs.evolve(entry, error=message, sent=False))
            row = group.row(kind, entry.temporary_id)
            if row is not None:
                group.put_row(kind, attrs.evolve(row, error=message))

    @staticmethod
    def _answered_row(
        group: TableGroup,
        row: LocalRow,
        revision: int,
        answer: ServerRecord,
        read: dict[str, FieldValue],
        held: dict[str, FieldValue] | None = None,
    ) -> None:
        """The row once the server answered a write of it: the server's values (its
        computed ones included) where the person changed nothing since the run read
        it, theirs where they did; conflicting fields keep the person's value."""
        kind = answer.kind
        target = {**answer.values, **(held or {})}
        values = rebased(row.values, read, target)
        original = None if row.revision == revision and not held else answer
        synced = LocalRow(answer.record_id, answer.version, row.revision + 1, values)
        if original is not None and local_changes(synced, original):
            group.put_original(original)
            synced = attrs.evolve(synced, updated=True, changed_at=row.changed_at)
        else:
            group.remove_original(kind, answer.record_id)
        group.put_row(kind, synced)

    # The three-way merge (L76, L90).

    def merge(self) -> int:
        """Each row changed here merged with the server's (pulled, or its original
        when the server did not change it); what changed here only is sent, in
        batches, what changed there only is taken, what changed on both to different
        values waits in the inbox while the rest goes on."""
        pushed = 0
        for kind in self.kinds:
            with self.tables.transaction() as group:
                changed = [
                    original.record_id
                    for original in group.originals(kind)
                    if (kind, original.record_id) not in self._put_off
                ]
            for start in range(0, len(changed), CHANGES_PER_BATCH):
                planned = [
                    change
                    for record_id in changed[start : start + CHANGES_PER_BATCH]
                    if (change := self._planned_change(kind, record_id)) is not None
                ]
                if not planned:
                    continue
                results = self._sent([change.operation for change in planned], lambda: None)
                with self.tables.transaction() as group:
                    for change, result in zip(planned, results, strict=True):
                        self._change_answered(group, change, result)
                pushed += len(planned)
        return pushed

    def _planned_change(self, kind: RecordKind, record_id: str) -> "_PlannedChange | None":
        """The row's merge: its conflicts in the inbox, and the change to send; None
        when nothing is to be sent (the row then takes the server's side at once)."""
        with self.tables.transaction() as group:
            row = group.row(kind, record_id)
            original = group.original(kind, record_id)
            if row is None or original is None or row.error is not None:
                return None
            server = group.pulled(kind, record_id) or original
            schema = schema_of(group, kind)
            held = {
                c.conflict.field: c
                for c in group.conflicts()
                if (c.kind, c.record_id) == (kind, record_id)
            }
            outcome = merged(original.values, row.values, server.values, schema.read_only)
            conflicts = {c.field: c for c in outcome.conflicts}
            for field, standing in held.items():
                if row.values.get(field) == server.values.get(field):
                    group.remove_conflict(kind, record_id, field)
                elif field not in conflicts:
                    conflicts[field] = standing.conflict
            for conflict in conflicts.values():
                group.put_conflict(InboxConflict(kind, record_id, conflict, server.version))
            to_send = {f: v for f, v in outcome.to_server.items() if f not in conflicts}
            keep_mine = {f: row.values.get(f) for f in conflicts}
            if not to_send:
                group.remove_pulled(kind, record_id)
                self._answered_row(
                    group, row, row.revision, server, dict(row.values), keep_mine
                )
                return None
        operation = SendChange(kind, record_id, server.version, to_send)
        return _PlannedChange(operation, row, keep_mine)

    def _change_answered(
        self, group: TableGroup, change: "_PlannedChange", result: OperationResult
    ) -> None:
        """A sent change's answer on the row as it is now; a conflict leaves it
        changed, for the next iteration to pull the server's newer side and merge
        again; a transient answer leaves it changed for the next run."""
        kind, record_id = change.operation.kind, change.operation.record_id
        now = group.row(kind, record_id)
        outcome = result.outcome
        if outcome is OutcomeClass.APPLIED:
            assert result.record is not None
            group.remove_pulled(kind, record_id)
            if now is not None:
                read = dict(change.row.values)
                self._answered_row(
                    group, now, change.row.revision, result.record, read, change.keep_mine
                )
        elif outcome is OutcomeClass.GONE:
            _gone(group, kind, record_id, self.clock.now(), "is gone from the server")
        elif outcome is OutcomeClass.PERMANENT and now is not None:
            assert result.problem is not None
            group.put_row(kind, attrs.evolve(now, error=result.problem.detail))
        elif outcome is OutcomeClass.TRANSIENT:
            self._put_off.add((kind, record_id))

    # Pulled rows to main (L78).

    def move_pulled(self) -> None:
        """Pulled rows of records with no local change replace the device's, unless
        older than what its row reflects (its own write's answer, a confirmed delete)."""
        for kind in self.kinds:
            with self.tables.transaction() as group:
                for pulled in list(group.all_pulled(kind)):
                    _moved(group, pulled)

    def _sent(
        self, operations: Sequence[Operation], failed: Callable[[], None]
    ) -> tuple[OperationResult, ...]:
        """The operations' answers; with no answer, `failed` notes the attempt before
        the run ends offline."""
        try:
            return self.server.apply(operations)
        except ServerUnreachable:
            failed()
            raise


Queued = TypeVar("Queued", QueuedCreate, QueuedDelete)


def _tried_again_later(entry: Queued, failed_at: datetime) -> Queued:
    """The entry after an attempt with no answer, or a transient one: counted, and
    when the follower tries it again."""
    attempts = entry.attempts + 1
    return attrs.evolve(
        entry, attempts=attempts, next_attempt_at=next_attempt_at(failed_at, attempts)
    )


def _anything_local(group: TableGroup, kinds: Iterable[RecordKind]) -> bool:
    return any(next(iter(group.rows(kind)), None) is not None for kind in kinds)


def _checked_record(group: TableGroup, change: PulledRecord) -> ServerRecord:
    """The pulled record, or BadServerAnswer when its values do not fit the kind's
    schema as the device knows it (unknown fields, wrong types)."""
    record = change.record
    schema = schema_of(group, record.kind)
    fields = {field.name: field for field in schema.fields}
    for name, value in record.values.items():
        field = fields.get(name)
        if field is None:
            if name in schema.retired:
                continue
            raise BadServerAnswer(
                f"{record.kind.value} {record.record_id} has a field {name!r} its "
                "schema has not"
            )
        expected = _TYPES.get(field.type, (str,))
        wrong = not isinstance(value, expected) or (
            field.type is FieldType.NUMBER and isinstance(value, bool)
        )
        if value is not None and wrong:
            raise BadServerAnswer(
                f"{record.kind.value} {record.record_id}: field {name} holds {value!r}, "
                f"which is no {field.type.value} value"
            )
        if is_temporary_id(value):
            raise BadServerAnswer(f"{record.kind.value} {record.record_id}: a device's id")
    return record


def _applied_first(group: TableGroup, records: Sequence[ServerRecord]) -> None:
    """A first sync's page with nothing local: written straight into main (L62), the
    new rows at once; a row the person changed since the first sync began waits for
    the merge like any other. Each record's last change in the page is its word."""
    latest = {(record.kind, record.record_id): record for record in records}
    here = {
        kind: group.rows_of(kind, [i for of, i in latest if of is kind])
        for kind in {kind for kind, _ in latest}
    }
    fresh: dict[RecordKind, list[LocalRow]] = {}
    for (kind, record_id), record in latest.items():
        mine = here[kind].get(record_id)
        if mine is not None and (mine.created or mine.updated):
            _waiting(group, record)
        elif record.deleted:
            group.remove_row(kind, record_id)
        else:
            servers = LocalRow(record_id, record.version, 1, present(record.values))
            fresh.setdefault(kind, []).append(servers)
    for kind, rows in fresh.items():
        group.put_rows(kind, rows)


def _waiting(group: TableGroup, record: ServerRecord) -> None:
    """A pulled record kept until the resolve stages: a tombstone with the server's
    deletes, an upsert with the pulled rows; the later in the log wins."""
    kind, record_id = record.kind, record.record_id
    if record.deleted:
        group.remove_pulled(kind, record_id)
        group.put_server_deletes([record])
    else:
        group.remove_server_delete(kind, record_id)
        group.put_pulled([record])


def _conflicted(group: TableGroup, kind: RecordKind, record_id: str) -> bool:
    return any((c.kind, c.record_id) == (kind, record_id) for c in group.conflicts())


def _gone(
    group: TableGroup, kind: RecordKind, record_id: str, at: datetime, why: str
) -> None:
    """The record removed from every table; its local changes, if any, kept as a
    notice with their values, so nothing vanishes without a word."""
    row = group.row(kind, record_id)
    original = group.original(kind, record_id)
    deleting = any((d.kind, d.record_id) == (kind, record_id) for d in group.deletes())
    if row is not None and not deleting:
        lost = local_changes(row, original)
        if lost:
            group.add_notice(
                kind,
                record_id,
                f"{kind.value} {record_id} {why}; your changes were not kept",
                lost,
                at,
            )
    group.remove_row(kind, record_id)
    group.remove_original(kind, record_id)
    group.remove_pulled(kind, record_id)
    group.remove_delete(kind, record_id)
    for conflict in group.conflicts():
        if (conflict.kind, conflict.record_id) == (kind, record_id):
            group.remove_conflict(kind, record_id, conflict.conflict.field)


def _moved(group: TableGroup, pulled: ServerRecord) -> None:
    kind, record_id = pulled.kind, pulled.record_id
    if group.original(kind, record_id) is not None:
        return  # the merge's, once the row's error is settled
    delete = next(
        (d for d in group.deletes() if (d.kind, d.record_id) == (kind, record_id)), None
    )
    if delete is not None and delete.confirmed_version is None:
        return  # deleted here, not yet answered
    row = group.row(kind, record_id)
    if row is None and any(c.sent and c.kind is kind for c in group.creates()):
        return  # maybe the echo of a create whose answer was lost: wait for it
    known = delete.confirmed_version if delete is not None else None
    if known is None and row is not None and row.version > 0:
        known = row.version
    if pulled_row(pulled.version, known, in_flight=False) is PulledRow.STALE or (
        delete is not None and known is not None and pulled.version <= known
    ):
        group.remove_pulled(kind, record_id)
        return
    if delete is not None:
        group.remove_delete(kind, record_id)  # restored on the server since
    values = present(pulled.values)
    revision = 1 if row is None else row.revision + 1
    group.put_row(kind, LocalRow(record_id, pulled.version, revision, values))
    group.remove_pulled(kind, record_id)


def _deleted_here(group: TableGroup, entry: QueuedCreate) -> bool:
    """Whether the person deleted the record of this create before it was answered."""
    return any(
        (delete.kind, delete.record_id) == (entry.kind, entry.temporary_id)
        for delete in group.deletes()
    )


@attrs.frozen
class _PlannedChange:
    """A change the merge sends, with the row as it was read and the conflicting
    fields that keep the person's value until they choose."""

    operation: SendChange
    row: LocalRow
    keep_mine: dict[str, FieldValue]


def _token_refused(error: SessionExpired) -> str:
    return f"the server no longer takes this device's token ({error})"
