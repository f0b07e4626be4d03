"""The AccessToken aggregate and its rules, alone: no store, no clock."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.domain.access import (
    MAX_SUPERVISED,
    AccessToken,
    Area,
    Role,
    Unauthorized,
    checked_secret,
    reaches,
    token_digest,
)
from calldesk.domain.errors import DomainError, InvalidValue

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = "k" * 43
DIGEST = token_digest(SECRET)


def issued(
    role: Role = Role.AGENT,
    supervises: tuple[str, ...] = (),
    all_agents: bool = False,
    lifetime: timedelta = timedelta(days=30),
) -> AccessToken:
    return AccessToken.issue(
        DIGEST, "acme", "a-17", role, supervises, all_agents, START, START + lifetime
    )


@given(st.text())
def test_the_digest_is_the_hex_sha256_of_the_secret(secret: str) -> None:
    digest = token_digest(secret)
    assert digest == hashlib.sha256(secret.encode()).hexdigest()
    assert len(digest) == 64
    assert digest == token_digest(secret)


def test_the_token_is_found_by_its_digest_and_keeps_no_secret() -> None:
    token = issued()
    assert token.id == AccessToken.create_id(DIGEST)
    assert AccessToken.create_id(token_digest(SECRET + "x")) != token.id
    assert SECRET not in repr(vars(token))
    assert (token.issued_at, token.expires_at, token.revoked_at) == (
        START,
        START + timedelta(days=30),
        None,
    )


def test_the_secret_itself_is_refused_where_its_digest_belongs() -> None:
    with pytest.raises(InvalidValue, match=r"token_digest\(secret\)"):
        AccessToken.issue(
            SECRET, "acme", "a-17", Role.AGENT, (), False, START, START + timedelta(1)
        )


def test_a_token_lets_its_holder_in_until_the_instant_it_expires() -> None:
    token = issued(lifetime=timedelta(hours=8))
    token.check(START)
    token.check(START + timedelta(hours=8) - timedelta(microseconds=1))
    with pytest.raises(Unauthorized, match="expired at 2026-11-02T17:00:00"):
        token.check(START + timedelta(hours=8))


def test_a_revoked_token_is_refused_and_revoking_again_records_nothing() -> None:
    token = issued()
    token.revoke(START + timedelta(hours=1))
    token.revoke(START + timedelta(hours=2))
    assert token.revoked_at == START + timedelta(hours=1)
    assert [type(e).__name__ for e in token.collect_events()] == ["Issued", "Revoked"]
    with pytest.raises(Unauthorized, match=r"revoked at .*; issue a new one"):
        token.check(START + timedelta(minutes=1))


def test_unauthorized_is_a_domain_error_every_edge_can_show() -> None:
    assert issubclass(Unauthorized, DomainError)


def test_an_agent_watches_only_themselves() -> None:
    token = issued()
    assert token.may_watch("a-17")
    assert not token.may_watch("a-2")


def test_a_supervisor_watches_themselves_and_the_agents_named() -> None:
    token = issued(Role.SUPERVISOR, ("a-2", "a-3"))
    assert [token.may_watch(a) for a in ("a-17", "a-2", "a-3", "a-4")] == [
        True,
        True,
        True,
        False,
    ]


def test_a_supervisor_of_all_agents_watches_every_agent() -> None:
    token = issued(Role.SUPERVISOR, all_agents=True)
    assert token.may_watch("a-17")
    assert token.may_watch("anyone-else")


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        ((Role.AGENT, ("a-2",), False), "issue a supervisor token"),
        ((Role.AGENT, (), True), "issue a supervisor token"),
        ((Role.SUPERVISOR, (), False), "needs the agents it supervises, or all"),
        ((Role.SUPERVISOR, ("a-2",), True), "either all agents or the listed ones"),
        ((Role.SUPERVISOR, ("a-2", "a-3", "a-2"), False), "listed twice: a-2"),
        ((Role.SUPERVISOR, ("A 2",), False), "a supervised agent 'A 2'"),
        (
            (Role.SUPERVISOR, tuple(f"a-{n}" for n in range(MAX_SUPERVISED + 1)), False),
            f"at most {MAX_SUPERVISED}",
        ),
    ],
)
def test_a_grant_that_breaks_its_rules_is_refused(
    grant: tuple[Role, tuple[str, ...], bool], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        issued(*grant)


@pytest.mark.parametrize(
    ("lifetime", "message"),
    [
        (timedelta(0), "must expire after it is issued"),
        (-timedelta(days=1), "must expire after it is issued"),
        (timedelta(days=365, microseconds=1), "at most 365 days"),
    ],
)
def test_a_token_always_expires_within_a_year(lifetime: timedelta, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        issued(lifetime=lifetime)
    assert issued(lifetime=timedelta(days=365)).expires_at == START + timedelta(365)


def test_a_naive_expiry_is_refused() -> None:
    with pytest.raises(InvalidValue, match="expires_at must be a timezone-aware"):
        AccessToken.issue(
            DIGEST, "acme", "a-17", Role.AGENT, (), False, START, datetime(2026, 12, 1)
        )


@pytest.mark.parametrize(
    ("tenant", "agent", "message"),
    [("Acme", "a-17", "a tenant 'Acme'"), ("acme", "", "an agent handle must not be")],
)
def test_a_token_names_its_tenant_and_agent_by_their_slugs(
    tenant: str, agent: str, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        AccessToken.issue(
            DIGEST, tenant, agent, Role.AGENT, (), False, START, START + timedelta(1)
        )


def test_a_random_url_safe_secret_is_a_good_secret() -> None:
    secret = secrets.token_urlsafe(32)
    assert checked_secret(secret) == secret


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("k" * 31, "32 to 200 characters long, not 31"),
        ("k" * 201, "32 to 200 characters long, not 201"),
        ("k" * 31 + " ", "only letters, digits"),
        ("k" * 31 + "é", "only letters, digits"),
        ("=" + "k" * 31, "only letters, digits"),
    ],
)
def test_a_secret_that_could_be_guessed_or_not_sent_is_refused(
    secret: str, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        checked_secret(secret)


def test_a_device_token_is_its_agents_and_names_the_device() -> None:
    token = AccessToken.issue(
        DIGEST, "acme", "a-17", Role.AGENT, (), False, START, START + timedelta(1), "pad-1"
    )
    assert (token.agent, token.device, token.role) == ("a-17", "pad-1", Role.AGENT)
    assert str(token) == "the token of device pad-1 of agent a-17 in tenant acme"
    assert issued().device is None


@pytest.mark.parametrize(
    "device", ["", "Laptop", "a-17/laptop", "laptop 3", "-x", "x" * 64]
)
def test_a_bad_device_name_is_refused(device: str) -> None:
    with pytest.raises(InvalidValue, match="a device name"):
        AccessToken.issue(
            DIGEST,
            "acme",
            "a-17",
            Role.AGENT,
            (),
            False,
            START,
            START + timedelta(1),
            device,
        )


def test_a_device_does_not_supervise() -> None:
    with pytest.raises(InvalidValue, match="device pad-1 of a-17 syncs records"):
        AccessToken.issue(
            DIGEST,
            "acme",
            "a-17",
            Role.SUPERVISOR,
            (),
            True,
            START,
            START + timedelta(1),
            "pad-1",
        )


def test_a_device_reaches_records_only_and_an_agent_everything() -> None:
    assert [reaches("pad-1", area) for area in Area] == [True, False]
    assert [reaches(None, area) for area in Area] == [True, True]
