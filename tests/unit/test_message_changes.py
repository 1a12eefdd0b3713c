"""Edit and delete against fakes: who may do what and when, each refusal's documented code,
events published only for a stored change, and decisions made again after a race."""

from datetime import timedelta

import pytest

from chatd.application.message_changes import MessageChanges
from chatd.domain.errors import DomainError
from chatd.domain.events import MessageDeleted, MessageEdited
from chatd.domain.message_rules import ChangePolicy
from chatd.domain.model import Member, Room, User
from tests.fake_changes import FakeMessageChanges
from tests.fake_rooms import FakeRoomRepo
from tests.fake_streams import InMemoryBus
from tests.fakes import ALICE, BOB, EPOCH, FakeClock, FakeRateLimiter

CAROL = User(id=3, username="carol", created_at=EPOCH)
HOUR = timedelta(hours=1)
DEFAULT_POLICY = ChangePolicy()


class World:
    """A room owned by alice, with bob and carol as members and one message of bob's (seq 3
    after the two join messages)."""

    def __init__(self, policy: ChangePolicy = DEFAULT_POLICY, sends_limit: int = 0) -> None:
        self.store = FakeRoomRepo()
        self.bus = InMemoryBus()
        self.clock = FakeClock()
        self.changes = FakeMessageChanges(self.store)
        self.sends = FakeRateLimiter(limit=sends_limit)
        self.use = MessageChanges(
            changes=self.changes, bus=self.bus, sends=self.sends, clock=self.clock, policy=policy
        )
        self.room = 1
        self.store.rooms[1] = Room(1, "general", "", ALICE.id, EPOCH, 3)
        self.store.memberships[1] = {ALICE.id: Member(ALICE, "owner", EPOCH)}
        for user in (BOB, CAROL):
            self.store.memberships[1][user.id] = Member(user, "member", EPOCH)
            self.store.store(1, "system", None, f"{user.username} joined", None)
        self.bobs = self.store.store(1, "user", BOB, "hello", None).seq

    def make(self, user: User, role: str) -> None:
        self.store.memberships[1][user.id] = Member(user, role, EPOCH)


async def refused(call, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.code == code


async def test_the_author_edits_their_message_as_a_new_position():
    world = World()
    edited = await world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="  hello!  ")
    assert edited == MessageEdited(1, 4, world.bobs, "hello!", edited.edited_at)
    assert world.bus.events == [edited]
    stored = world.changes._message(1, world.bobs)
    assert (stored.body, stored.edited_at) == ("hello!", edited.edited_at)


async def test_nobody_else_edits_a_message_not_even_the_owner():
    world = World()
    for user in (ALICE, CAROL):
        await refused(
            world.use.edit(room_id=1, seq=world.bobs, editor=user, body="x"), "not_your_message"
        )
    assert world.bus.events == [] and world.changes.writes == []


@pytest.mark.parametrize(
    ("seq", "code"),
    [(1, "system_message_immutable"), (99, "message_not_found")],
)
async def test_system_messages_and_missing_seqs_cannot_be_changed(seq, code):
    world = World()
    await refused(world.use.edit(room_id=1, seq=seq, editor=BOB, body="x"), code)
    await refused(world.use.delete(room_id=1, seq=seq, actor=ALICE), code)
    assert world.bus.events == []


async def test_an_event_position_is_not_a_message():
    world = World()
    edited = await world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="v2")
    await refused(
        world.use.edit(room_id=1, seq=edited.seq, editor=BOB, body="x"), "message_not_found"
    )
    await refused(world.use.delete(room_id=1, seq=edited.seq, actor=BOB), "message_not_found")


async def test_unknown_room_and_non_members():
    world = World()
    outsider = User(9, "eve", EPOCH)
    await refused(world.use.edit(room_id=7, seq=1, editor=BOB, body="x"), "room_not_found")
    await refused(world.use.delete(room_id=7, seq=1, actor=BOB), "room_not_found")
    await refused(world.use.delete(room_id=1, seq=world.bobs, actor=outsider), "not_a_member")
    world.store.expel(
        1, BOB
    )  # the author left the room: their messages are no longer theirs to change
    await refused(world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="x"), "not_a_member")
    await refused(world.use.delete(room_id=1, seq=world.bobs, actor=BOB), "not_a_member")


async def test_the_edit_window_closes_and_the_store_is_told_the_same_bound():
    world = World(ChangePolicy(edit_window=HOUR))
    world.clock.advance(3600)  # exactly at the window's end: still open
    await world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="in time")
    assert world.changes.writes[-1][1]["not_before"] == EPOCH
    world.clock.advance(1)
    await refused(
        world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="late"), "edit_window_closed"
    )
    # Deleting has no window.
    assert await world.use.delete(room_id=1, seq=world.bobs, actor=BOB) is not None


async def test_no_edit_window_when_the_setting_is_off():
    world = World(ChangePolicy(edit_window=None))
    world.clock.advance(10 * 365 * 86400)
    await world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="years later")
    assert world.changes.writes[-1][1]["not_before"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("  ", "empty_body"),
        ("x" * 4001, "body_too_long"),
        (None, "invalid_field"),
        ("a\x00", "bad_text"),
    ],
)
async def test_bad_bodies_are_refused_before_anything_is_read(body, code):
    world = World()
    await refused(world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body=body), code)
    assert world.changes.writes == [] and world.sends.counts == {}


async def test_a_deleted_message_cannot_be_edited():
    world = World()
    await world.use.delete(room_id=1, seq=world.bobs, actor=BOB)
    await refused(
        world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="x"), "message_deleted"
    )


async def test_the_author_deletes_and_a_second_delete_changes_nothing():
    world = World()
    deleted = await world.use.delete(room_id=1, seq=world.bobs, actor=BOB)
    assert deleted == MessageDeleted(1, 4, world.bobs)
    assert world.changes.writes[-1][1]["as_moderator"] is False
    stored = world.changes._message(1, world.bobs)
    assert (stored.body, stored.deleted) == (None, True)
    assert await world.use.delete(room_id=1, seq=world.bobs, actor=BOB) is None
    assert await world.use.delete(room_id=1, seq=world.bobs, actor=ALICE) is None
    await refused(world.use.delete(room_id=1, seq=world.bobs, actor=CAROL), "not_your_message")
    assert world.bus.events == [deleted]


async def test_a_member_may_not_delete_anothers_message():
    world = World()
    await refused(world.use.delete(room_id=1, seq=world.bobs, actor=CAROL), "not_your_message")
    assert world.bus.events == [] and world.changes.writes == []


@pytest.mark.parametrize("role", ["owner", "moderator"])
async def test_owners_and_moderators_delete_any_message_as_moderators(role):
    world = World()
    world.make(CAROL, role)
    deleted = await world.use.delete(room_id=1, seq=world.bobs, actor=CAROL)
    assert world.bus.events == [deleted]
    assert world.changes.writes[-1][1]["as_moderator"] is True


async def test_with_moderator_deletes_off_the_owner_deletes_only_their_own():
    world = World(ChangePolicy(moderators_delete=False))
    await refused(world.use.delete(room_id=1, seq=world.bobs, actor=ALICE), "not_your_message")
    own = world.store.store(1, "user", ALICE, "mine", None).seq
    assert await world.use.delete(room_id=1, seq=own, actor=ALICE) is not None
    assert world.changes.writes[-1][1]["as_moderator"] is False


async def test_a_role_lost_between_the_read_and_the_write_is_decided_again():
    world = World()
    world.changes.before_write = lambda: world.make(ALICE, "member")  # demoted meanwhile
    await refused(world.use.delete(room_id=1, seq=world.bobs, actor=ALICE), "not_your_message")
    assert world.bus.events == [] and len(world.changes.writes) == 1


async def test_a_delete_between_the_read_and_the_edit_is_decided_again():
    world = World()
    world.changes.before_write = lambda: world.changes.delete_now(1, world.bobs)
    await refused(
        world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="x"), "message_deleted"
    )
    assert world.bus.events == []


async def test_edits_and_deletes_count_against_the_message_rate():
    world = World(sends_limit=2)
    await world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="one")
    await world.use.edit(room_id=1, seq=world.bobs, editor=BOB, body="two")
    await refused(world.use.delete(room_id=1, seq=world.bobs, actor=BOB), "rate_limited")
    assert world.sends.counts == {f"send:{BOB.id}": 3}
