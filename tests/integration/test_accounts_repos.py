"""The account repositories against real PostgreSQL."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chatd.domain.errors import Conflict
from chatd.domain.model import TokenState
from chatd.infrastructure.accounts import PgRefreshTokenRepo, PgUserRepo


@pytest.fixture
def users(pool) -> PgUserRepo:
    return PgUserRepo(pool)


@pytest.fixture
def refresh_tokens(pool) -> PgRefreshTokenRepo:
    return PgRefreshTokenRepo(pool)


def later(days: int = 1) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


async def test_add_get_and_find_credentials(users):
    alice = await users.add(username="Alice", password_hash=b"hash")
    assert alice.id > 0 and alice.username == "Alice" and alice.created_at.tzinfo is not None
    assert await users.get(alice.id) == alice
    assert await users.get(alice.id + 1000) is None
    found = await users.find_credentials("alice")  # names match case-insensitively
    assert found.user == alice and found.password_hash == b"hash"
    assert await users.find_credentials("bob") is None


async def test_username_is_unique_in_any_case(users):
    await users.add(username="alice", password_hash=b"hash")
    with pytest.raises(Conflict) as caught:
        await users.add(username="ALICE", password_hash=b"hash")
    assert caught.value.code == "username_taken"


async def test_refresh_token_is_spent_once(users, refresh_tokens):
    alice = await users.add(username="alice", password_hash=b"hash")
    family = str(uuid.uuid4())
    await refresh_tokens.add(
        token_hash=b"t1", user_id=alice.id, family_id=family, expires_at=later()
    )
    first = await refresh_tokens.spend(b"t1")
    second = await refresh_tokens.spend(b"t1")
    assert (first.state, second.state) == (TokenState.FRESH, TokenState.SPENT)
    assert first.family_id == family and first.user_id == alice.id
    assert await refresh_tokens.spend(b"never stored") is None


async def test_concurrent_spends_of_one_token_succeed_once(users, refresh_tokens):
    alice = await users.add(username="alice", password_hash=b"hash")
    await refresh_tokens.add(
        token_hash=b"t1", user_id=alice.id, family_id=str(uuid.uuid4()), expires_at=later()
    )
    results = await asyncio.gather(*(refresh_tokens.spend(b"t1") for _ in range(8)))
    assert [result.state for result in results].count(TokenState.FRESH) == 1


async def test_expired_and_revoked_tokens_are_not_usable(users, refresh_tokens):
    alice = await users.add(username="alice", password_hash=b"hash")
    family = str(uuid.uuid4())
    await refresh_tokens.add(
        token_hash=b"old", user_id=alice.id, family_id=family, expires_at=later(-1)
    )
    await refresh_tokens.add(
        token_hash=b"t2", user_id=alice.id, family_id=family, expires_at=later()
    )
    assert (await refresh_tokens.spend(b"old")).state == TokenState.EXPIRED
    await refresh_tokens.revoke_family(family)
    assert (await refresh_tokens.spend(b"t2")).state == TokenState.REVOKED


async def test_revoking_a_family_leaves_other_families(users, refresh_tokens):
    alice = await users.add(username="alice", password_hash=b"hash")
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    await refresh_tokens.add(token_hash=b"a", user_id=alice.id, family_id=one, expires_at=later())
    await refresh_tokens.add(token_hash=b"b", user_id=alice.id, family_id=two, expires_at=later())
    await refresh_tokens.revoke_family(one)
    assert (await refresh_tokens.spend(b"a")).state == TokenState.REVOKED
    assert (await refresh_tokens.spend(b"b")).state == TokenState.FRESH


async def test_last_revocations_are_by_user_and_the_latest(users, refresh_tokens):
    alice = await users.add(username="alice", password_hash=b"hash")
    bob = await users.add(username="bob", password_hash=b"hash")
    carol = await users.add(username="carol", password_hash=b"hash")
    one, two, bobs = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    for token, user, family in ((b"a", alice, one), (b"b", alice, two), (b"c", bob, bobs)):
        await refresh_tokens.add(
            token_hash=token, user_id=user.id, family_id=family, expires_at=later()
        )
    await refresh_tokens.revoke_family(one)
    first = await refresh_tokens.last_revocations([alice.id, bob.id, carol.id])
    await refresh_tokens.revoke_family(two)
    second = await refresh_tokens.last_revocations([alice.id, bob.id, carol.id])
    assert set(first) == set(second) == {alice.id}  # bob and carol: no login ended
    assert second[alice.id] > first[alice.id]
    assert await refresh_tokens.last_revocations([]) == {}


async def test_tokens_are_stored_as_given_hashes_only(pool, users, refresh_tokens):
    alice = await users.add(username="alice", password_hash=b"hash")
    await refresh_tokens.add(
        token_hash=b"\x00" * 32, user_id=alice.id, family_id=str(uuid.uuid4()), expires_at=later()
    )
    columns = await pool.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'refresh_tokens'"
    )
    assert "token" not in {row["column_name"] for row in columns}
