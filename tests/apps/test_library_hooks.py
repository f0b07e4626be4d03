"""The parts of eventsourcing below its public API that the desk's store and recorders
build on (ADR/0014): if an upgrade changes one, these fail first, and loudly."""

import inspect

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import EventStore
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from calldesk.adapters.event_store.postgres import PostgresDeskRecorder
from calldesk.adapters.event_store.sqlite import SQLiteDeskRecorder
from calldesk.apps.store import Store


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_an_application_records_one_processing_event_and_snapshots_after() -> None:
    """Store.record calls _record and overrides _take_snapshots, as Application.save
    does: both must still exist, with these parameters."""
    assert parameters(Application._record) == ["self", "processing_event"]
    assert parameters(Application._take_snapshots) == ["self", "processing_event"]
    assert "_take_snapshots" in vars(Store)  # ours replaces the library's
    processing = ProcessingEvent()  # type: ignore[var-annotated]
    assert (processing.events, processing.aggregates, processing.saved_kwargs) == (
        [],
        {},
        {},
    )


def test_save_keywords_still_reach_the_recorder_in_the_same_call() -> None:
    """The audiences travel as keywords of one insert_events call (one transaction)."""
    assert "kwargs" in parameters(EventStore.put)
    source = inspect.getsource(EventStore.put)
    assert "insert_events(stored_events, **kwargs)" in source


def test_the_recorder_hooks_the_indexes_extend_are_still_called_inside_the_insert() -> None:
    assert parameters(SQLiteApplicationRecorder._insert_events) == [
        "self",
        "c",
        "stored_events",
        "_",
    ]
    insert = inspect.getsource(PostgresApplicationRecorder.insert_events)
    assert "self._insert_events(curs, stored_events, **kwargs)" in insert
    assert "self._fetch_ids_after_insert_events(" in insert
    for ours in (SQLiteDeskRecorder, PostgresDeskRecorder):
        assert issubclass(ours, (SQLiteApplicationRecorder, PostgresApplicationRecorder))
