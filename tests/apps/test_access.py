"""Bearer tokens through the application, on SQLite and on a real PostgreSQL."""

import dataclasses
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from support.clock import Clock
from support.desk_driver import tenant_with_agent

from calldesk.apps.access import (
    NOT_AUTHENTICATED,
    IssueToken,
    Principal,
    RevokeToken,
    TokenView,
)
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.access import AccessToken, Area, Role, Unauthorized, token_digest
from calldesk.domain.errors import AlreadyExists, DomainError, InvalidValue, NotFound

SECRET = secrets.token_urlsafe(32)
DAY = timedelta(days=1)


def issue(
    desk: Desk,
    at: datetime,
    secret: str = SECRET,
    tenant: str = "acme",
    agent: str = "a-17",
    role: Role = Role.AGENT,
    supervises: tuple[str, ...] = (),
    all_agents: bool = False,
    lifetime: timedelta = 30 * DAY,
    device: str | None = None,
) -> TokenView:
    command = IssueToken(
        tenant,
        agent,
        role=role,
        supervises=supervises,
        all_agents=all_agents,
        expires_at=at + lifetime,
        device=device,
        at=at,
    )
    return desk.issue_token(command, secret)


def refused(desk: Desk, secret: str, at: datetime) -> str:
    with pytest.raises(Unauthorized) as refusal:
        desk.authenticate(secret, at)
    return str(refusal.value)


def test_an_issued_token_authenticates_its_agent(
    desk: Desk, database_url: str, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    view = issue(desk, clock.advance())
    assert view == TokenView(
        tenant="acme",
        agent="a-17",
        role=Role.AGENT,
        supervises=(),
        all_agents=False,
        issued_at=clock(),
        expires_at=clock() + 30 * DAY,
        revoked_at=None,
        version=1,
        device=None,
        token_id=str(AccessToken.create_id(token_digest(SECRET))),
    )
    expected = Principal(
        "acme",
        "a-17",
        Role.AGENT,
        (),
        False,
        expires_at=view.expires_at,
        token_id=UUID(view.token_id),
    )
    assert desk.authenticate(SECRET, clock.advance()) == expected
    with Desk.at(database_url) as restarted:
        assert restarted.authenticate(SECRET, clock.advance()) == expected


def test_a_token_is_refused_from_the_instant_it_expires(desk: Desk, clock: Clock) -> None:
    tenant_with_agent(desk, clock())
    issued = issue(desk, clock(), lifetime=timedelta(hours=8))
    desk.authenticate(SECRET, issued.expires_at - timedelta(microseconds=1))
    assert refused(desk, SECRET, issued.expires_at) == NOT_AUTHENTICATED


def test_a_revoked_token_is_refused_and_revoking_it_again_records_nothing(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    issue(desk, clock())
    revoked = desk.revoke_token(RevokeToken("acme", at=clock.advance()), SECRET)
    assert (revoked.revoked_at, revoked.version) == (clock(), 2)
    head = desk.head()
    again = desk.revoke_token(RevokeToken("acme", at=clock.advance()), SECRET)
    assert (again, desk.head()) == (revoked, head)
    assert refused(desk, SECRET, clock.advance()) == NOT_AUTHENTICATED


def test_a_revocation_by_another_process_is_seen_on_the_next_request(
    desk: Desk, database_url: str, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    issue(desk, clock())
    desk.authenticate(SECRET, clock.advance())  # now in the running desk's cache
    with Desk.at(database_url) as command_line:
        command_line.revoke_token(RevokeToken("acme", at=clock.advance()), SECRET)
    assert refused(desk, SECRET, clock.advance()) == NOT_AUTHENTICATED


def test_unknown_expired_and_revoked_tokens_are_refused_alike(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    expired, revoked = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    issue(desk, clock(), secret=expired, lifetime=timedelta(minutes=1))
    issue(desk, clock(), secret=revoked)
    desk.revoke_token(RevokeToken("acme", at=clock()), revoked)
    at = clock.advance(120)
    unknown = secrets.token_urlsafe(32)
    messages = {refused(desk, secret, at) for secret in (unknown, expired, revoked)}
    assert messages == {NOT_AUTHENTICATED}


@pytest.mark.parametrize("length", [0, 31, 201, 10_000])
def test_a_secret_of_the_wrong_length_is_refused_without_asking_the_store(
    desk: Desk, clock: Clock, monkeypatch: pytest.MonkeyPatch, length: int
) -> None:
    def store_asked(*_: object) -> None:
        raise AssertionError("the store was asked")

    monkeypatch.setattr(desk.work, "find", store_asked)
    monkeypatch.setattr(desk.work, "load", store_asked)
    assert refused(desk, "k" * length, clock()) == NOT_AUTHENTICATED


def test_an_agent_watches_itself_and_a_supervisor_also_its_agents_or_all(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    for handle in ("a-2", "a-3"):
        desk.register_agent(RegisterAgent("acme", handle, name="Bo", at=clock()))
    named, everyone = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    issue(desk, clock())
    view = issue(desk, clock(), secret=named, role=Role.SUPERVISOR, supervises=("a-2",))
    issue(desk, clock(), secret=everyone, role=Role.SUPERVISOR, all_agents=True)
    supervisor = desk.authenticate(named, clock())
    assert supervisor == Principal(
        "acme",
        "a-17",
        Role.SUPERVISOR,
        ("a-2",),
        False,
        expires_at=view.expires_at,
        token_id=UUID(view.token_id),
    )
    watched = [
        [desk.authenticate(secret, clock()).may_watch(a) for a in ("a-17", "a-2", "a-3")]
        for secret in (SECRET, named, everyone)
    ]
    assert watched == [[True, False, False], [True, True, False], [True, True, True]]


def test_the_secret_is_stored_nowhere_and_its_digest_is(desk: Desk, clock: Clock) -> None:
    tenant_with_agent(desk, clock())
    issue(desk, clock())
    desk.revoke_token(RevokeToken("acme", at=clock.advance()), SECRET)
    states = b"".join(
        notification.state
        for notification in desk.store.recorder.select_notifications(start=1, limit=1000)
    )
    assert token_digest(SECRET).encode() in states  # the scan sees what was stored
    assert SECRET.encode() not in states


BAD_COMMANDS: dict[str, tuple[type[DomainError], Callable[[Desk, datetime], object]]] = {
    "unknown agent": (NotFound, lambda d, at: issue(d, at, agent="a-99")),
    "agent of another tenant": (NotFound, lambda d, at: issue(d, at, tenant="globex")),
    "unknown tenant": (NotFound, lambda d, at: issue(d, at, tenant="nobody")),
    "unknown supervised agent": (
        NotFound,
        lambda d, at: issue(d, at, role=Role.SUPERVISOR, supervises=("g-1",)),
    ),
    "same secret twice": (AlreadyExists, lambda d, at: issue(d, at, secret="s" * 43)),
    "short secret": (InvalidValue, lambda d, at: issue(d, at, secret="s" * 31)),
    "secret with a space": (InvalidValue, lambda d, at: issue(d, at, secret="s " * 20)),
    "agent token watching others": (
        InvalidValue,
        lambda d, at: issue(d, at, supervises=("a-17",)),
    ),
    "token for more than a year": (
        InvalidValue,
        lambda d, at: issue(d, at, lifetime=366 * DAY),
    ),
    "naive expiry": (
        InvalidValue,
        lambda d, at: d.issue_token(
            IssueToken("acme", "a-17", expires_at=datetime(2027, 1, 1), at=at), SECRET
        ),
    ),
    "bad supervised handle": (
        InvalidValue,
        lambda d, at: issue(d, at, role=Role.SUPERVISOR, supervises=("A 2",)),
    ),
    "bad device name": (InvalidValue, lambda d, at: issue(d, at, device="Laptop 3")),
    "device name with a slash": (
        InvalidValue,
        lambda d, at: issue(d, at, device="a-17/laptop-3"),
    ),
    "empty device name": (InvalidValue, lambda d, at: issue(d, at, device="")),
    "supervising device": (
        InvalidValue,
        lambda d, at: issue(
            d, at, device="laptop-3", role=Role.SUPERVISOR, all_agents=True
        ),
    ),
    "device of an unknown agent": (
        NotFound,
        lambda d, at: issue(d, at, agent="a-99", device="laptop-3"),
    ),
    "revoke in another tenant": (
        NotFound,
        lambda d, at: d.revoke_token(RevokeToken("globex", at=at), "s" * 43),
    ),
    "revoke an unknown secret": (
        NotFound,
        lambda d, at: d.revoke_token(RevokeToken("acme", at=at), SECRET),
    ),
}


@pytest.mark.parametrize("case", BAD_COMMANDS, ids=str)
def test_bad_token_commands_are_refused_clearly_and_record_nothing(
    desk: Desk, clock: Clock, case: str
) -> None:
    tenant_with_agent(desk, clock())
    tenant_with_agent(desk, clock(), tenant="globex", agent="g-1")
    issue(desk, clock(), secret="s" * 43)
    head = desk.head()
    error, command = BAD_COMMANDS[case]
    with pytest.raises(error) as refusal:
        command(desk, clock.advance())
    assert str(refusal.value)
    assert desk.head() == head


def test_a_token_of_another_tenant_looks_exactly_like_an_unknown_one(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    tenant_with_agent(desk, clock(), tenant="globex", agent="g-1")
    issue(desk, clock())
    with pytest.raises(NotFound) as wrong_tenant:
        desk.revoke_token(RevokeToken("globex", at=clock()), SECRET)
    with pytest.raises(NotFound) as unknown:
        desk.revoke_token(RevokeToken("globex", at=clock()), secrets.token_urlsafe(32))
    assert str(wrong_tenant.value) == str(unknown.value)
    assert desk.authenticate(SECRET, clock()).tenant == "acme"


LAPTOP, TABLET = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


def test_a_device_token_authenticates_its_agent_as_that_device_and_reaches_records_only(
    desk: Desk, database_url: str, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    view = issue(desk, clock(), secret=LAPTOP, device="laptop-3")
    assert (view.agent, view.device, view.role) == ("a-17", "laptop-3", Role.AGENT)
    laptop = Principal(
        "acme",
        "a-17",
        Role.AGENT,
        (),
        False,
        "laptop-3",
        expires_at=view.expires_at,
        token_id=UUID(view.token_id),
    )
    assert desk.authenticate(LAPTOP, clock.advance()) == laptop
    with Desk.at(database_url) as restarted:
        assert restarted.authenticate(LAPTOP, clock.advance()) == laptop
    assert [laptop.may_reach(area) for area in Area] == [True, False]
    agent = issue(desk, clock())
    assert desk.authenticate(SECRET, clock()).may_reach(Area.DESK)
    assert agent.device is None


def test_revoking_a_devices_token_stops_that_device_only(desk: Desk, clock: Clock) -> None:
    tenant_with_agent(desk, clock())
    issue(desk, clock())
    issue(desk, clock(), secret=LAPTOP, device="laptop-3")
    issue(desk, clock(), secret=TABLET, device="tablet-1")
    revoked = desk.revoke_token(RevokeToken("acme", at=clock.advance()), LAPTOP)
    assert (revoked.device, revoked.revoked_at) == ("laptop-3", clock())
    assert refused(desk, LAPTOP, clock.advance()) == NOT_AUTHENTICATED
    assert desk.authenticate(TABLET, clock()).device == "tablet-1"
    assert desk.authenticate(SECRET, clock()).device is None


def test_an_agents_tokens_are_listed_with_their_devices_and_nobody_elses(
    desk: Desk, database_url: str, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    desk.register_agent(RegisterAgent("acme", "a-2", name="Bo", at=clock()))
    issue(desk, clock())
    issue(desk, clock.advance(), secret=LAPTOP, device="laptop-3")
    issue(desk, clock.advance(), secret=TABLET, agent="a-2", device="tablet-1")
    desk.revoke_token(RevokeToken("acme", at=clock.advance()), LAPTOP)
    with Desk.at(database_url) as command_line:
        listed = command_line.tokens("acme", "a-17")
    assert [(t.device, t.revoked_at) for t in listed] == [
        (None, None),
        ("laptop-3", clock()),
    ]
    assert [t.device for t in desk.tokens("acme", "a-2")] == ["tablet-1"]


def test_an_agent_without_tokens_lists_none_and_an_unknown_agent_is_not_found(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    assert desk.tokens("acme", "a-17") == ()
    with pytest.raises(NotFound, match="no agent a-99 in tenant acme"):
        desk.tokens("acme", "a-99")


def test_a_token_issued_before_devices_loads_as_the_agents_own(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    with Desk.in_memory() as earlier:
        tenant_with_agent(earlier, clock())
        issue(earlier, clock())
        [stored] = earlier.store.recorder.select_events(
            AccessToken.create_id(token_digest(SECRET))
        )
    state = json.loads(stored.state)
    del state["device"]
    state["class_version"] = 1  # as issued before version 2 named the device
    desk.store.recorder.insert_events(
        [dataclasses.replace(stored, state=json.dumps(state).encode())]
    )
    assert desk.authenticate(SECRET, clock.advance()).device is None
