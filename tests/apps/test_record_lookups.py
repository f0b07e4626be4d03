"""The desk's reads of the record directory: a search within the tenant and its
limits, and a call's matches described."""

import pytest
from support.clock import Clock
from support.telephony import ADA_NUMBER, SHARED, SHARED_NUMBER, desktop

from calldesk.adapters.telephony.simulator import Caller
from calldesk.apps.directory import MATCHES_DESCRIBED
from calldesk.domain.errors import InvalidValue, NotFound
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory import SEARCH_LIMIT_MAX, KnownRecord


def test_a_search_is_the_tenants_and_keeps_within_its_limits(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        found = desk.desk.search_directory("acme", "  jones ", 1)
        assert [r.ref.title for r in found] == [SHARED[0].title]
        with pytest.raises(NotFound):
            desk.desk.search_directory("initech", "jones")
        for text in ("j", " j ", "x" * 65):
            with pytest.raises(InvalidValue, match="2 to 64 characters"):
                desk.desk.search_directory("acme", text)
        for limit in (0, SEARCH_LIMIT_MAX + 1):
            with pytest.raises(InvalidValue, match="1 to 20 records"):
                desk.desk.search_directory("acme", "jones", limit)


def test_a_calls_matches_are_described_in_its_tenant_only(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        shared = desk.simulator.expect(Caller(SHARED_NUMBER, "a-17"))
        ada = desk.simulator.expect(Caller(ADA_NUMBER, "a-17", direct=True))
        desk.simulator.advance(1)
        described = desk.desk.call_matches("acme", desk.call(shared).call)
        assert [(r.ref, r.account) for r in described] == [
            (SHARED[0], "Jones Freight"),
            (SHARED[1], "Jones Bakery"),
        ]
        assert len(desk.desk.call_matches("acme", desk.call(ada).call)) == 1
        with pytest.raises(NotFound):
            desk.desk.call_matches("globex", desk.call(shared).call)


def test_a_match_the_directory_no_longer_has_is_described_by_its_reference(
    database_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with desktop(database_url, clock()) as desk:
        shared = desk.simulator.expect(Caller(SHARED_NUMBER, "a-17"))
        desk.simulator.advance(1)
        monkeypatch.setattr(desk.desk.directory, "record", lambda *_: None)
        described = desk.desk.call_matches("acme", desk.call(shared).call)
        assert described == tuple(KnownRecord(ref) for ref in SHARED)


def test_no_more_matches_are_described_than_a_screenful(
    database_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    switchboard = tuple(
        RecordRef(RecordKind.CONTACT, f"003-{n:03d}", f"Person {n:03d}") for n in range(60)
    )
    with desktop(database_url, clock()) as desk:
        monkeypatch.setattr(desk.desk.directory, "find_by_number", lambda *_: switchboard)
        shared = desk.simulator.expect(Caller(SHARED_NUMBER, "a-17"))
        desk.simulator.advance(1)
        described = desk.desk.call_matches("acme", desk.call(shared).call)
        assert [r.ref for r in described] == list(switchboard[:MATCHES_DESCRIBED])
