"""The event store under the one application, on SQLite and on a real PostgreSQL."""

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError
from support.clock import Clock
from support.desk_driver import log_in, not_ready, ready, tenant_with_agent

from calldesk.apps.desk import Desk
from calldesk.apps.presence import AgentView
from calldesk.apps.settings import DEFAULT_DATABASE_URL
from calldesk.domain.agents import Agent, AgentState
from calldesk.domain.errors import NotFound


def test_the_default_store_is_a_wal_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "calldesk.db").exists()
    with Desk.at(DEFAULT_DATABASE_URL) as desk:
        tenant_with_agent(desk, clock())
    with sqlite3.connect(tmp_path / "calldesk.db") as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        (count,) = connection.execute("SELECT count(*) FROM stored_events").fetchone()
    assert (mode, count) == ("wal", 2)


def test_every_stored_event_names_an_explicit_topic_not_a_module_path(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    log_in(desk, clock.advance())
    not_ready(desk, "lunch", clock.advance())
    topics = [n.topic for n in desk.store.recorder.select_notifications(start=1, limit=100)]
    assert topics == [
        "calldesk.tenant.Created",
        "calldesk.agent.Registered",
        "calldesk.agent.LoggedIn",
        "calldesk.agent.StatusPicked",
    ]


def test_the_log_keeps_one_order_across_aggregates_and_applications(
    database_url: str, clock: Clock
) -> None:
    with Desk.at(database_url) as first, Desk.at(database_url) as second:
        tenant_with_agent(first, clock())
        log_in(second, clock.advance())
        ready(first, clock.advance())
        notifications = second.store.recorder.select_notifications(start=1, limit=100)
    assert [n.id for n in notifications] == sorted(n.id for n in notifications)
    assert [n.originator_version for n in notifications] == [1, 1, 2, 3]


def test_a_stale_copy_cannot_overwrite_a_newer_history(
    database_url: str, clock: Clock
) -> None:
    with Desk.at(database_url) as first, Desk.at(database_url) as second:
        tenant_with_agent(first, clock())
        stale: Agent = first.store.repository.get(Agent.create_id("acme", "a-17"))
        log_in(second, clock.advance())
        stale.log_in(clock.advance())
        with pytest.raises(IntegrityError):
            first.work.save(stale)
        assert len(list(first.store.events.get(stale.id))) == 2


def test_a_command_that_loses_a_race_is_applied_again_on_the_winners_state(
    database_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Desk.at(database_url) as desk, Desk.at(database_url) as rival:
        tenant_with_agent(desk, clock())
        log_in(desk, clock.advance())
        real_save = desk.work.save
        races = iter([lambda: ready(rival, clock.advance())])

        def save_after_a_rival_wrote(*aggregates: Agent) -> object:
            for race in races:
                race()
            return real_save(*aggregates)

        monkeypatch.setattr(desk.work, "save", save_after_a_rival_wrote)
        view = not_ready(desk, "lunch", clock.advance())
        history = [entry.event for entry in desk.agent_history("acme", "a-17")]
    assert view.state is AgentState.NOT_READY
    assert history[-2:] == ["StatusPicked", "StatusPicked"]


def test_a_second_application_on_the_same_store_replays_the_same_agent(
    database_url: str, clock: Clock
) -> None:
    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, clock())
        log_in(desk, clock.advance())
        written = not_ready(desk, "training", clock.advance())
    with Desk.at(database_url) as reopened:
        assert reopened.agent("acme", "a-17") == written


def test_a_snapshot_restores_the_agent_as_replay_shows_it(desk: Desk, clock: Clock) -> None:
    tenant_with_agent(desk, clock())
    log_in(desk, clock.advance())
    not_ready(desk, "lunch", clock.advance())
    agent_id = Agent.create_id("acme", "a-17")
    replayed: Agent = desk.store.repository.get(agent_id)
    desk.store.take_snapshot(agent_id)
    (snapshot,) = desk.store.snapshots.get(agent_id)  # type: ignore[union-attr]
    restored = snapshot.mutate(None)  # type: ignore[union-attr]
    assert AgentView.of(restored) == AgentView.of(replayed)
    restored.go_available(clock.advance())
    replayed.go_available(clock())
    assert AgentView.of(restored) == AgentView.of(replayed)


def test_what_another_process_wrote_is_read_here_though_this_one_cached_it(
    database_url: str, clock: Clock
) -> None:
    with Desk.at(database_url) as desk, Desk.at(database_url) as other:
        tenant_with_agent(desk, clock())
        log_in(desk, clock.advance())
        assert desk.agent("acme", "a-17").state is AgentState.NOT_READY
        ready(other, clock.advance())
        assert desk.agent("acme", "a-17").state is AgentState.AVAILABLE


def test_an_agent_snapshotted_while_saving_reads_as_its_replay(
    database_url: str, clock: Clock
) -> None:
    agent_id = Agent.create_id("acme", "a-17")
    with Desk.at(database_url) as desk:
        tenant_with_agent(desk, clock())
        log_in(desk, clock.advance())
        for _ in range(60):
            not_ready(desk, "lunch", clock.advance())
            written = ready(desk, clock.advance())
        (snapshot,) = desk.store.snapshots.get(agent_id)  # type: ignore[union-attr]
        version = snapshot.originator_version
        replayed: Agent = desk.store.repository.get(agent_id, version=version)
    assert snapshot.originator_version == 100
    assert AgentView.of(snapshot.mutate(None)) == AgentView.of(replayed)  # type: ignore[union-attr]
    with Desk.at(database_url) as reopened:
        assert reopened.agent("acme", "a-17") == written


def test_commands_in_one_block_are_recorded_together_or_not_at_all(
    database_url: str, clock: Clock
) -> None:
    heard: list[list[int]] = []
    with Desk.at(database_url) as desk:
        desk.store.on_recorded(lambda saved: heard.append([e.position for e in saved]))
        tenant_with_agent(desk, clock())
        head = desk.head()

        def log_in_then_fail() -> None:
            with desk.atomically():
                log_in(desk, clock.advance())
                ready(desk, clock.advance(), agent="a-99")

        with pytest.raises(NotFound):
            log_in_then_fail()
        assert desk.head() == head
        assert desk.agent("acme", "a-17").state is AgentState.LOGGED_OUT
        heard.clear()
        with desk.atomically():
            log_in(desk, clock.advance())
            view = ready(desk, clock.advance())
    assert view.state is AgentState.AVAILABLE
    assert heard == [[head + 1, head + 2]]


def test_a_block_holds_the_desk_from_its_first_command_only(
    desk: Desk, clock: Clock
) -> None:
    """What a block does before its first command (an adapter asking its vendor for a
    caller's number) keeps no other command waiting."""
    tenant_with_agent(desk, clock())
    asking, answered = threading.Event(), threading.Event()

    def block() -> None:
        with desk.atomically():
            asking.set()
            answered.wait()
            log_in(desk, clock.advance())

    with ThreadPoolExecutor() as pool:
        blocked = pool.submit(block)
        asking.wait()
        meanwhile = pool.submit(not_ready, desk, "lunch", clock.advance(), agent="a-99")
        try:
            with pytest.raises(NotFound):  # answered, not kept waiting
                meanwhile.result(timeout=10)
        finally:
            answered.set()
        blocked.result()
    assert desk.agent("acme", "a-17").state is AgentState.NOT_READY
