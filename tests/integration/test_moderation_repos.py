"""Private rooms, DMs, roles, bans and invitations on real PostgreSQL: what the adapters store,
what they hide, and that concurrent writes from separate pools (as from two processes) agree."""

import asyncio
import contextlib

import asyncpg
import pytest

from chatd.app import create_app
from chatd.domain.errors import Forbidden, NotFound
from chatd.domain.model import User
from chatd.infrastructure.accounts import PgUserRepo
from chatd.infrastructure.direct import PgDirectRoomRepo
from chatd.infrastructure.moderation import PgModerationRepo
from chatd.infrastructure.rooms import PgRoomRepo
from tests.support import Api


@pytest.fixture
def rooms(pool) -> PgRoomRepo:
    return PgRoomRepo(pool)


@pytest.fixture
def moderation(pool) -> PgModerationRepo:
    return PgModerationRepo(pool)


@pytest.fixture
async def people(pool) -> list[User]:
    users = PgUserRepo(pool)
    return [await users.add(username=name, password_hash=b"x") for name in ("al", "bo", "cy")]


async def test_the_role_check_takes_moderators_and_nothing_else(pool, rooms, people):
    al, bo, _ = people
    room = await rooms.add(name="general", topic="", owner=al)
    await rooms.add_member(room_id=room.id, user=bo)
    await pool.execute("UPDATE memberships SET role = 'moderator' WHERE user_id = $1", bo.id)
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute("UPDATE memberships SET role = 'admin' WHERE user_id = $1", bo.id)


async def test_listing_shows_private_rooms_to_members_owner_and_invited_never_dms(
    pool, rooms, moderation, people
):
    al, bo, cy = people
    public = await rooms.add(name="open", topic="", owner=al)
    secret = await rooms.add(name="secret", topic="", owner=al, private=True)
    dm, _ = await PgDirectRoomRepo(pool).add_dm(creator=al, other=bo)

    async def listed(user: User) -> list[tuple[int, bool]]:
        page = await rooms.list_page(viewer_id=user.id, limit=50, before_id=None)
        return [(room.id, joined) for room, joined in page]

    assert await listed(al) == [(secret.id, True), (public.id, True)]
    assert await listed(bo) == [(public.id, False)]
    await moderation.invite(room_id=secret.id, actor_id=al.id, target_id=bo.id)
    assert await listed(bo) == [(secret.id, False), (public.id, False)]
    await rooms.add_member(room_id=secret.id, user=bo)
    assert await listed(bo) == [(secret.id, True), (public.id, False)]
    assert await listed(cy) == [(public.id, False)]
    assert (await rooms.get(dm.id)).kind == "dm"


async def test_join_spends_the_invitation_and_refuses_the_uninvited(
    pool, rooms, moderation, people
):
    al, bo, cy = people
    secret = await rooms.add(name="secret", topic="", owner=al, private=True)
    with pytest.raises(NotFound):
        await rooms.add_member(room_id=secret.id, user=cy)
    invitation, created = await moderation.invite(
        room_id=secret.id, actor_id=al.id, target_id=bo.id
    )
    assert created and (invitation.room.id, invitation.user, invitation.invited_by) == (
        secret.id,
        bo,
        al,
    )
    assert [i.room.name for i in await moderation.invitations_of(bo.id)] == ["secret"]
    joined = await rooms.add_member(room_id=secret.id, user=bo)
    assert (joined.seq, joined.body) == (1, "bo joined")
    assert await moderation.invitations_of(bo.id) == []
    with pytest.raises(NotFound):
        await rooms.add_member(room_id=secret.id + 100, user=bo)


async def test_ban_ends_membership_and_invitation_posts_and_blocks_the_join(
    pool, rooms, moderation, people
):
    al, bo, cy = people
    room = await rooms.add(name="general", topic="", owner=al, private=True)
    for user in (bo, cy):
        await moderation.invite(room_id=room.id, actor_id=al.id, target_id=user.id)
    await rooms.add_member(room_id=room.id, user=bo)
    ban, message, was_member = await moderation.ban(
        room_id=room.id, actor_id=al.id, target_id=bo.id
    )
    assert (ban.user, ban.banned_by, was_member) == (bo, al, True)
    assert (message.seq, message.kind, message.body) == (2, "system", "bo was banned")
    _, again, _ = await moderation.ban(room_id=room.id, actor_id=al.id, target_id=bo.id)
    assert again is None
    _, _, was_member = await moderation.ban(room_id=room.id, actor_id=al.id, target_id=cy.id)
    assert not was_member
    assert await moderation.invitations(room_id=room.id, viewer_id=al.id) == []
    with pytest.raises(Forbidden) as refused:
        await rooms.add_member(room_id=room.id, user=bo)
    assert refused.value.code == "banned"
    assert [b.user for b in await moderation.bans(room_id=room.id, viewer_id=al.id)] == [cy, bo]
    user, unbanned = await moderation.unban(room_id=room.id, actor_id=al.id, target_id=bo.id)
    assert (user, unbanned.seq, unbanned.body) == (bo, 4, "bo was unbanned")
    assert not await rooms.is_member(room.id, bo.id)
    seqs = await pool.fetch("SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq", room.id)
    assert [row["seq"] for row in seqs] == [1, 2, 3, 4]


async def test_roles_kick_and_a_refusal_change_nothing(pool, rooms, moderation, people):
    al, bo, cy = people
    room = await rooms.add(name="general", topic="", owner=al)
    for user in (bo, cy):
        await rooms.add_member(room_id=room.id, user=user)
    member, message = await moderation.set_role(
        room_id=room.id, actor_id=al.id, target_id=bo.id, role="moderator"
    )
    assert (member.role, message.body) == ("moderator", "bo is now a moderator")
    assert (
        await moderation.set_role(
            room_id=room.id, actor_id=al.id, target_id=bo.id, role="moderator"
        )
    )[1] is None
    with pytest.raises(Forbidden) as refused:
        await moderation.kick(room_id=room.id, actor_id=bo.id, target_id=al.id)
    assert refused.value.code == "outranked"
    user, kicked = await moderation.kick(room_id=room.id, actor_id=bo.id, target_id=cy.id)
    assert (user, kicked.body) == (cy, "cy was kicked")
    roles = {m.user.id: m.role for m in await rooms.members(room.id)}
    assert roles == {al.id: "owner", bo.id: "moderator"}
    last = await pool.fetchval("SELECT last_seq FROM rooms WHERE id = $1", room.id)
    assert last == 4, "2 joins, the promotion, the kick; the refusal took no seq"


async def test_a_ban_racing_a_join_leaves_the_user_out(pool, database_url, rooms, people):
    """Each from its own pool, as from two processes: whichever order the room lock gives
    them, the banned user ends up not a member."""
    al, bo, _ = people

    async def join(repo: PgRoomRepo, room_id: int) -> None:
        with contextlib.suppress(Forbidden):  # the ban came first
            await repo.add_member(room_id=room_id, user=bo)

    for _ in range(5):
        room = await rooms.add(name="racy", topic="", owner=al)
        async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as other:
            await asyncio.gather(
                join(PgRoomRepo(other), room.id),
                PgModerationRepo(pool).ban(room_id=room.id, actor_id=al.id, target_id=bo.id),
            )
        assert not await rooms.is_member(room.id, bo.id)


async def test_concurrent_dm_creation_from_two_pools_makes_one_room(pool, database_url, people):
    al, bo, _ = people
    async with asyncpg.create_pool(database_url, min_size=1, max_size=10) as other:
        repos = [PgDirectRoomRepo(pool), PgDirectRoomRepo(other)]
        results = await asyncio.gather(
            *[
                repos[n % 2].add_dm(creator=(al, bo)[n % 2], other=(bo, al)[n % 2])
                for n in range(20)
            ]
        )
    assert len({room.id for room, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    room = results[0][0]
    assert (room.kind, room.private, room.name, room.member_count) == ("dm", True, "al & bo", 2)
    assert await pool.fetchval("SELECT count(*) FROM rooms WHERE kind = 'dm'") == 1
    tried = await pool.fetchval("SELECT last_value FROM rooms_id_seq")
    assert tried == 20, "every call made a room; all but one rolled theirs back"
    assert await pool.fetchval("SELECT count(*) FROM memberships WHERE room_id = $1", room.id) == 2


async def test_twenty_dm_requests_through_two_apps_make_one_room(aiohttp_client, settings, pool):
    first = Api(await aiohttp_client(create_app(settings)))
    second = Api(await aiohttp_client(create_app(settings)))
    alice, bob = await first.user_token("alice"), await second.user_token("bob")
    ids = {}
    for api, token in ((first, alice), (second, bob)):
        ids[token] = (await api.call("GET", "/api/me", token=token))[1]["id"]

    async def ask(n: int) -> tuple[int, dict]:
        api, token, other = (first, alice, bob) if n % 2 else (second, bob, alice)
        return await api.call("POST", "/api/dms", token=token, json={"user_id": ids[other]})

    answers = await asyncio.gather(*[ask(n) for n in range(20)])
    assert sorted(status for status, _ in answers) == [200] * 19 + [201]
    assert len({room["id"] for _, room in answers}) == 1
    assert await pool.fetchval("SELECT count(*) FROM dm_pairs") == 1
    assert await pool.fetchval("SELECT count(*) FROM rooms") == 1
