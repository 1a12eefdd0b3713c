"""The Accounts use cases against fakes of their ports."""

from datetime import timedelta

import pytest

from chatd.application.auth import Accounts, token_fingerprint
from chatd.domain.errors import Conflict, InvalidInput, NotAuthenticated, RateLimited
from chatd.domain.events import SessionsRevoked
from tests.fake_streams import InMemoryBus
from tests.fakes import (
    EPOCH,
    FakeClock,
    FakeFailureLimiter,
    FakeHasher,
    FakeRefreshTokenRepo,
    FakeTokenCodec,
    FakeUserRepo,
)


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


@pytest.fixture
def refresh_tokens() -> FakeRefreshTokenRepo:
    return FakeRefreshTokenRepo()


@pytest.fixture
def login_failures() -> FakeFailureLimiter:
    return FakeFailureLimiter(limit=3)


@pytest.fixture
def bus() -> InMemoryBus:
    return InMemoryBus()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(hasher, refresh_tokens, login_failures, bus, clock) -> Accounts:
    return Accounts(
        users=FakeUserRepo(),
        refresh_tokens=refresh_tokens,
        hasher=hasher,
        tokens=FakeTokenCodec(clock),
        clock=clock,
        login_failures=login_failures,
        bus=bus,
    )


async def test_register_stores_a_hash_not_the_password(accounts):
    user = await accounts.register(username="alice", password="correct horse")
    assert user.username == "alice"
    stored = await accounts._users.find_credentials("alice")
    assert stored.password_hash == b"hashed:correct horse"


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("al", "correct horse", "invalid_username"),
        ("a" * 33, "correct horse", "invalid_username"),
        ("al ice", "correct horse", "invalid_username"),
        ("alice", "short", "invalid_password"),
        ("alice", "x" * 73, "invalid_password"),
        ("alice", "é" * 37, "invalid_password"),  # 74 bytes in UTF-8
    ],
)
async def test_register_rejects_bad_values(accounts, username, password, code):
    with pytest.raises(InvalidInput) as caught:
        await accounts.register(username=username, password=password)
    assert caught.value.code == code


async def test_register_accepts_72_bytes(accounts):
    user = await accounts.register(username="alice", password="x" * 72)
    assert user.id == 1


async def test_register_refuses_a_taken_name_in_any_case(accounts):
    await accounts.register(username="alice", password="correct horse")
    with pytest.raises(Conflict) as caught:
        await accounts.register(username="ALICE", password="correct horse")
    assert caught.value.code == "username_taken"


async def test_login_issues_a_pair_and_stores_the_refresh_token_hashed(accounts, refresh_tokens):
    await accounts.register(username="alice", password="correct horse")
    pair = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    assert pair.token_type == "Bearer" and pair.expires_in == 900
    assert list(refresh_tokens.rows) == [token_fingerprint(pair.refresh_token)]
    assert (await accounts.authenticate(pair.access_token)).username == "alice"


async def test_unknown_user_and_wrong_password_fail_alike(accounts, hasher):
    await accounts.register(username="alice", password="correct horse")
    errors = []
    for username, password in [("alice", "wrong password"), ("nobody", "correct horse")]:
        with pytest.raises(NotAuthenticated) as caught:
            await accounts.login(client_address="192.0.2.1", username=username, password=password)
        errors.append((caught.value.code, caught.value.message))
    assert errors[0] == errors[1] == ("invalid_credentials", "wrong username or password")
    # The unknown user still cost a hash check (against the dummy hash).
    assert hasher.checks[-1] == ("correct horse", None)


async def test_refresh_rotates_and_a_replay_revokes_the_family(accounts):
    await accounts.register(username="alice", password="correct horse")
    first = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    second = await accounts.refresh(refresh_token=first.refresh_token)
    assert second.refresh_token != first.refresh_token

    with pytest.raises(NotAuthenticated) as caught:
        await accounts.refresh(refresh_token=first.refresh_token)
    assert caught.value.code == "token_reused"
    # The whole family is gone: the newest token of that login no longer works either.
    with pytest.raises(NotAuthenticated) as caught:
        await accounts.refresh(refresh_token=second.refresh_token)
    assert caught.value.code == "token_revoked"


async def test_other_logins_survive_a_revoked_family(accounts):
    await accounts.register(username="alice", password="correct horse")
    laptop = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    phone = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    await accounts.refresh(refresh_token=laptop.refresh_token)
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(refresh_token=laptop.refresh_token)
    assert (await accounts.refresh(refresh_token=phone.refresh_token)).access_token


async def test_unknown_refresh_token_is_refused(accounts):
    with pytest.raises(NotAuthenticated) as caught:
        await accounts.refresh(refresh_token="refresh:1:family:99")
    assert caught.value.code == "invalid_token"


async def test_logout_spends_the_login(accounts):
    await accounts.register(username="alice", password="correct horse")
    pair = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    await accounts.logout(refresh_token=pair.refresh_token)
    with pytest.raises(NotAuthenticated) as caught:
        await accounts.refresh(refresh_token=pair.refresh_token)
    assert caught.value.code == "token_revoked"


async def test_access_token_of_a_vanished_user_is_refused(accounts):
    with pytest.raises(NotAuthenticated):
        await accounts.authenticate("access:42:1")


async def test_failed_logins_are_limited_per_account(accounts, hasher):
    await accounts.register(username="alice", password="correct horse")
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        with pytest.raises(NotAuthenticated):
            await accounts.login(client_address=address, username="alice", password="guess")
    checks_before = len(hasher.checks)
    with pytest.raises(RateLimited) as caught:
        await accounts.login(client_address="192.0.2.4", username="ALICE", password="correct horse")
    assert caught.value.retry_after == 900
    assert len(hasher.checks) == checks_before, "a blocked login must not cost a bcrypt check"


async def test_failed_logins_are_limited_per_address(accounts):
    for name in ("alice", "bob", "carol"):
        await accounts.register(username=name, password="correct horse")
        with pytest.raises(NotAuthenticated):
            await accounts.login(client_address="192.0.2.9", username=name, password="guess")
    with pytest.raises(RateLimited):
        await accounts.login(client_address="192.0.2.9", username="dave", password="whatever1")
    # Another address is not affected.
    pair = await accounts.login(
        client_address="192.0.2.1", username="bob", password="correct horse"
    )
    assert pair.access_token


async def test_the_limit_lifts_when_the_window_ends(accounts, login_failures):
    await accounts.register(username="alice", password="correct horse")
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            await accounts.login(client_address="192.0.2.1", username="alice", password="guess")
    login_failures.forget()
    pair = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    assert pair.access_token


async def test_logout_and_a_replayed_token_end_the_users_sockets(accounts, bus):
    await accounts.register(username="alice", password="correct horse")
    await accounts.register(username="bob", password="correct horse")
    alice = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    bob = await accounts.login(client_address="192.0.2.1", username="bob", password="correct horse")
    await accounts.logout(refresh_token=alice.refresh_token)
    assert bus.events == [SessionsRevoked(1, "logged out")]
    await accounts.refresh(refresh_token=bob.refresh_token)
    assert len(bus.events) == 1, "a plain refresh ends nothing"
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(refresh_token=bob.refresh_token)
    assert bus.events[1:] == [SessionsRevoked(2, "refresh token reused")]


async def test_a_socket_learns_when_its_access_token_expires(accounts, clock):
    await accounts.register(username="alice", password="correct horse")
    pair = await accounts.login(
        client_address="192.0.2.1", username="alice", password="correct horse"
    )
    user, expires_at = await accounts.authenticate_until(pair.access_token)
    assert (user.username, expires_at) == ("alice", EPOCH + timedelta(seconds=900))
    clock.advance(900)
    with pytest.raises(NotAuthenticated) as caught:
        await accounts.authenticate_until(pair.access_token)
    assert caught.value.code == "token_expired"
