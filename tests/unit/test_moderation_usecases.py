"""Private rooms, DMs, roles, kicks, bans and invitations, as use cases against fakes: what is
refused (and with which code), what is stored, and what is published in which order."""

import pytest

from chatd.application.direct import DirectMessages
from chatd.application.moderation import Moderation
from chatd.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from chatd.domain.events import MemberJoined, MemberLeft, MessagePosted
from chatd.domain.model import User
from tests.fake_moderation import FakeDirectRoomRepo, FakeModerationRepo
from tests.fakes import ALICE, BOB, EPOCH, FakeRateLimiter

CAROL = User(id=3, username="carol", created_at=EPOCH)
DAVE = User(id=4, username="dave", created_at=EPOCH)


@pytest.fixture(autouse=True)
def everyone(store):
    store.users.update({CAROL.id: CAROL, DAVE.id: DAVE})


@pytest.fixture
def moderation(store, bus) -> Moderation:
    return Moderation(moderation=FakeModerationRepo(store), bus=bus)


@pytest.fixture
def dms(store, bus) -> DirectMessages:
    return make_dms(store, bus)


def make_dms(store, bus, creations=None) -> DirectMessages:
    return DirectMessages(
        dms=FakeDirectRoomRepo(store),
        users=UsersOf(store),
        bus=bus,
        creations=creations or FakeRateLimiter(),
    )


class UsersOf:
    def __init__(self, store) -> None:
        self.store = store

    async def get(self, user_id: int) -> User | None:
        return self.store.users.get(user_id)


async def code_of(call) -> tuple[type, str]:
    with pytest.raises((Forbidden, NotFound, Conflict, InvalidInput)) as caught:
        await call
    return type(caught.value), caught.value.code


async def room_with(rooms, moderation, *, private=False, moderator=BOB, members=(CAROL,)):
    """A room of alice's with bob as moderator and the others as members."""
    room = await rooms.create(owner=ALICE, name="general", private=private)
    for user in (moderator, *members):
        if private:
            await moderation.invite(room_id=room.id, actor=ALICE, user_id=user.id)
        await rooms.join(room_id=room.id, user=user)
    await moderation.set_role(room_id=room.id, actor=ALICE, user_id=moderator.id, role="moderator")
    return room


# Private rooms.


async def test_a_private_room_is_hidden_from_outsiders_and_shown_to_members(
    rooms, messaging, store
):
    room = await rooms.create(owner=ALICE, name="secret", private=True)
    public = await rooms.create(owner=ALICE, name="open")
    assert (room.private, room.kind) == (True, "room")
    assert [r.id for r, _ in await rooms.list_rooms(viewer=BOB)] == [public.id]
    assert [r.id for r, _ in await rooms.list_rooms(viewer=ALICE)] == [public.id, room.id]
    for call in (
        rooms.get(room_id=room.id, viewer=BOB),
        rooms.members(room_id=room.id, viewer=BOB),
        rooms.join(room_id=room.id, user=BOB),
        rooms.leave(room_id=room.id, user=BOB),
        messaging.post(room_id=room.id, author=BOB, body="hi"),
        messaging.history(room_id=room.id, reader=BOB),
    ):
        assert await code_of(call) == (NotFound, "room_not_found")
    assert await rooms.get(room_id=room.id, viewer=ALICE) == room
    assert [m.body for m in store.messages] == [], "nothing happened"


async def test_an_invitation_shows_the_room_and_lets_its_user_join_once(
    rooms, moderation, store, bus
):
    room = await rooms.create(owner=ALICE, name="secret", private=True)
    invitation, created = await moderation.invite(room_id=room.id, actor=ALICE, user_id=BOB.id)
    assert created and (invitation.user, invitation.invited_by) == (BOB, ALICE)
    assert (await moderation.invite(room_id=room.id, actor=ALICE, user_id=BOB.id))[1] is False
    assert [i.room.id for i in await moderation.invitations_of(user=BOB)] == [room.id]
    assert [r.id for r, _ in await rooms.list_rooms(viewer=BOB)] == [room.id]
    assert (await rooms.get(room_id=room.id, viewer=BOB)).id == room.id
    assert await code_of(rooms.members(room_id=room.id, viewer=BOB)) == (Forbidden, "not_a_member")

    await rooms.join(room_id=room.id, user=BOB)
    assert await moderation.invitations_of(user=BOB) == [], "joining spends the invitation"
    assert await moderation.invitations(room_id=room.id, viewer=ALICE) == []
    # Kicked, bob needs a new invitation to come back.
    await moderation.kick(room_id=room.id, actor=ALICE, user_id=BOB.id)
    assert await code_of(rooms.join(room_id=room.id, user=BOB)) == (NotFound, "room_not_found")
    assert await code_of(moderation.invite(room_id=room.id, actor=BOB, user_id=CAROL.id)) == (
        NotFound,
        "room_not_found",
    )


async def test_the_owner_of_a_private_room_may_come_back_uninvited(rooms, store):
    room = await rooms.create(owner=ALICE, name="secret", private=True)
    await rooms.leave(room_id=room.id, user=ALICE)
    await rooms.join(room_id=room.id, user=ALICE)
    assert [(m.user, m.role) for m in await store.members(room.id)] == [(ALICE, "owner")]


async def test_invitations_are_withdrawn_by_moderators_or_declined(rooms, moderation):
    room = await room_with(rooms, moderation, private=True)
    await moderation.invite(room_id=room.id, actor=BOB, user_id=DAVE.id)
    listed = await moderation.invitations(room_id=room.id, viewer=BOB)
    assert [(i.user, i.invited_by) for i in listed] == [(DAVE, BOB)]
    assert await code_of(moderation.invitations(room_id=room.id, viewer=CAROL)) == (
        Forbidden,
        "not_a_moderator",
    )
    await moderation.revoke(room_id=room.id, actor=DAVE, user_id=DAVE.id)  # declined
    assert await code_of(rooms.join(room_id=room.id, user=DAVE)) == (NotFound, "room_not_found")
    await moderation.invite(room_id=room.id, actor=BOB, user_id=DAVE.id)
    await moderation.revoke(room_id=room.id, actor=ALICE, user_id=DAVE.id)  # withdrawn
    assert await code_of(moderation.revoke(room_id=room.id, actor=ALICE, user_id=DAVE.id)) == (
        NotFound,
        "invitation_not_found",
    )


# Roles.


async def test_the_owner_promotes_and_demotes_with_a_system_message_each(
    rooms, moderation, store, bus
):
    room = await rooms.create(owner=ALICE, name="general")
    await rooms.join(room_id=room.id, user=BOB)
    bus.events.clear()
    member = await moderation.set_role(
        room_id=room.id, actor=ALICE, user_id=BOB.id, role="moderator"
    )
    assert (member.user, member.role) == (BOB, "moderator")
    again = await moderation.set_role(
        room_id=room.id, actor=ALICE, user_id=BOB.id, role="moderator"
    )
    assert again.role == "moderator"
    await moderation.set_role(room_id=room.id, actor=ALICE, user_id=BOB.id, role="member")
    bodies = [m.body for m in store.messages[1:]]
    assert bodies == ["bob is now a moderator", "bob is no longer a moderator"]
    assert bus.events == [MessagePosted(m) for m in store.messages[1:]], "a repeat posts nothing"
    assert [m.role for m in await store.members(room.id)] == ["owner", "member"]


async def test_only_the_owner_sets_roles(rooms, moderation):
    room = await room_with(rooms, moderation)
    refusals = {
        (BOB, CAROL.id, "moderator"): (Forbidden, "not_the_owner"),
        (CAROL, BOB.id, "member"): (Forbidden, "not_the_owner"),
        (ALICE, ALICE.id, "member"): (Forbidden, "cannot_moderate_self"),
        (ALICE, CAROL.id, "owner"): (InvalidInput, "invalid_role"),
        (ALICE, DAVE.id, "moderator"): (NotFound, "member_not_found"),
        (ALICE, 99, "moderator"): (NotFound, "member_not_found"),
        (DAVE, CAROL.id, "moderator"): (Forbidden, "not_a_member"),
    }
    for (actor, user_id, role), refused in refusals.items():
        call = moderation.set_role(room_id=room.id, actor=actor, user_id=user_id, role=role)
        assert await code_of(call) == refused, (actor.username, user_id, role)


# Kicks and bans.


async def test_kick_removes_posts_then_publishes_the_leave_and_allows_a_rejoin(
    rooms, moderation, store, bus
):
    room = await room_with(rooms, moderation)
    bus.events.clear()
    await moderation.kick(room_id=room.id, actor=BOB, user_id=CAROL.id)
    kicked = store.messages[-1]
    assert kicked.body == "carol was kicked" and kicked.kind == "system"
    assert bus.events == [MessagePosted(kicked), MemberLeft(room.id, CAROL)]
    assert not await store.is_member(room.id, CAROL.id)
    await rooms.join(room_id=room.id, user=CAROL)
    assert await store.is_member(room.id, CAROL.id)


async def test_ban_removes_posts_publishes_and_refuses_the_rejoin_until_unbanned(
    rooms, moderation, store, bus
):
    room = await room_with(rooms, moderation)
    bus.events.clear()
    ban, created = await moderation.ban(room_id=room.id, actor=BOB, user_id=CAROL.id)
    assert created and (ban.user, ban.banned_by) == (CAROL, BOB)
    banned = store.messages[-1]
    assert banned.body == "carol was banned"
    assert bus.events == [MessagePosted(banned), MemberLeft(room.id, CAROL)]
    assert await code_of(rooms.join(room_id=room.id, user=CAROL)) == (Forbidden, "banned")
    assert await code_of(moderation.invite(room_id=room.id, actor=ALICE, user_id=CAROL.id)) == (
        Conflict,
        "user_banned",
    )
    assert [b.user for b in await moderation.bans(room_id=room.id, viewer=BOB)] == [CAROL]
    assert (await moderation.ban(room_id=room.id, actor=ALICE, user_id=CAROL.id))[1] is False
    assert len(bus.events) == 2, "banning again changes nothing"

    await moderation.unban(room_id=room.id, actor=BOB, user_id=CAROL.id)
    assert store.messages[-1].body == "carol was unbanned"
    assert bus.events[-1] == MessagePosted(store.messages[-1])
    await rooms.join(room_id=room.id, user=CAROL)
    assert await code_of(moderation.unban(room_id=room.id, actor=BOB, user_id=CAROL.id)) == (
        NotFound,
        "ban_not_found",
    )


async def test_a_non_member_may_be_banned_and_no_leave_is_published(rooms, moderation, bus):
    room = await room_with(rooms, moderation)
    bus.events.clear()
    await moderation.ban(room_id=room.id, actor=ALICE, user_id=DAVE.id)
    assert [type(e) for e in bus.events] == [MessagePosted]
    assert await code_of(rooms.join(room_id=room.id, user=DAVE)) == (Forbidden, "banned")


async def test_a_ban_spends_the_users_invitation(rooms, moderation):
    room = await room_with(rooms, moderation, private=True)
    await moderation.invite(room_id=room.id, actor=ALICE, user_id=DAVE.id)
    await moderation.ban(room_id=room.id, actor=ALICE, user_id=DAVE.id)
    await moderation.unban(room_id=room.id, actor=ALICE, user_id=DAVE.id)
    assert await moderation.invitations_of(user=DAVE) == []
    assert await code_of(rooms.join(room_id=room.id, user=DAVE)) == (NotFound, "room_not_found")


async def test_who_may_kick_and_ban_whom(rooms, moderation, store):
    room = await room_with(rooms, moderation, members=(CAROL, DAVE))
    await moderation.set_role(room_id=room.id, actor=ALICE, user_id=DAVE.id, role="moderator")
    before = len(store.messages)
    refusals = {
        (CAROL, BOB): (Forbidden, "not_a_moderator"),
        (BOB, DAVE): (Forbidden, "outranked"),  # moderator and moderator
        (BOB, ALICE): (Forbidden, "outranked"),
        (BOB, BOB): (Forbidden, "cannot_moderate_self"),
        (ALICE, ALICE): (Forbidden, "cannot_moderate_self"),
    }
    for action in (moderation.kick, moderation.ban):
        for (actor, target), refused in refusals.items():
            call = action(room_id=room.id, actor=actor, user_id=target.id)
            assert await code_of(call) == refused, (action.__name__, actor.username, target)
    assert await code_of(moderation.kick(room_id=room.id, actor=ALICE, user_id=99)) == (
        NotFound,
        "member_not_found",
    )
    assert await code_of(moderation.ban(room_id=room.id, actor=ALICE, user_id=99)) == (
        NotFound,
        "user_not_found",
    )
    assert len(store.messages) == before, "no refusal posted anything"
    await moderation.ban(room_id=room.id, actor=ALICE, user_id=DAVE.id)  # the owner may
    assert store.messages[-1].body == "dave was banned"


async def test_a_kicked_user_may_no_longer_moderate(rooms, moderation):
    room = await room_with(rooms, moderation)
    await moderation.kick(room_id=room.id, actor=ALICE, user_id=BOB.id)
    await rooms.join(room_id=room.id, user=BOB)  # back, as a member
    assert await code_of(moderation.kick(room_id=room.id, actor=BOB, user_id=CAROL.id)) == (
        Forbidden,
        "not_a_moderator",
    )


# Direct messages.


async def test_a_dm_is_made_once_with_both_members_and_both_told(dms, rooms, store, bus):
    room, created = await dms.open(user=BOB, other_id=ALICE.id)
    assert created and (room.kind, room.private, room.name) == ("dm", True, "alice & bob")
    assert bus.events == [MemberJoined(room.id, BOB), MemberJoined(room.id, ALICE)]
    again, created = await dms.open(user=ALICE, other_id=BOB.id)
    assert (again.id, created) == (room.id, False)
    assert len(bus.events) == 2 and store.messages == [], "no messages, no more events"
    assert sorted(m.user.id for m in await store.members(room.id)) == [ALICE.id, BOB.id]
    assert {m.role for m in await store.members(room.id)} == {"member"}


async def test_a_dm_is_never_listed_nor_seen_nor_joined_by_others(dms, rooms, moderation):
    room, _ = await dms.open(user=ALICE, other_id=BOB.id)
    assert await rooms.list_rooms(viewer=ALICE) == []
    assert await rooms.list_rooms(viewer=CAROL) == []
    assert (await rooms.get(room_id=room.id, viewer=BOB)).id == room.id
    for call in (
        rooms.get(room_id=room.id, viewer=CAROL),
        rooms.join(room_id=room.id, user=CAROL),
        rooms.members(room_id=room.id, viewer=CAROL),
    ):
        assert await code_of(call) == (NotFound, "room_not_found")
    assert (await rooms.join(room_id=room.id, user=BOB)).id == room.id, "a member: no change"
    for call in (
        rooms.leave(room_id=room.id, user=BOB),
        moderation.kick(room_id=room.id, actor=BOB, user_id=ALICE.id),
        moderation.ban(room_id=room.id, actor=ALICE, user_id=BOB.id),
        moderation.invite(room_id=room.id, actor=ALICE, user_id=CAROL.id),
        moderation.set_role(room_id=room.id, actor=ALICE, user_id=BOB.id, role="moderator"),
    ):
        assert await code_of(call) == (Forbidden, "direct_message_room")


async def test_a_dm_needs_another_existing_user(dms, store):
    assert await code_of(dms.open(user=ALICE, other_id=ALICE.id)) == (InvalidInput, "dm_with_self")
    assert await code_of(dms.open(user=ALICE, other_id=99)) == (NotFound, "user_not_found")
    assert store.rooms == {}


async def test_only_new_dms_count_against_the_limit(store, bus):
    creations = FakeRateLimiter(limit=1, retry_after_seconds=600)
    dms = make_dms(store, bus, creations)
    room, _ = await dms.open(user=ALICE, other_id=BOB.id)
    assert (await dms.open(user=ALICE, other_id=BOB.id))[0].id == room.id
    with pytest.raises(RateLimited) as caught:
        await dms.open(user=ALICE, other_id=CAROL.id)
    assert caught.value.retry_after == 600
    assert creations.counts == {f"create_dm:{ALICE.id}": 2}
    assert len(store.rooms) == 1
