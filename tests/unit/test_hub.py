"""Hub: channel subscriptions follow local interest; membership changes; resume; reconnects."""

from chatd.domain.events import MemberJoined, MemberLeft, MessagePosted, UserTyping
from chatd.infrastructure.connections import Connection
from chatd.infrastructure.hub import RESYNC_LIMIT, Hub
from chatd.infrastructure.memory_bus import InMemoryBus
from chatd.infrastructure.wire import read_frame, room_channel, user_channel
from tests.realtime_fakes import (
    ALICE,
    BOB,
    FakeMemberships,
    FakeMessages,
    FakeSocket,
    message,
    settle,
)


def setup() -> tuple[Hub, InMemoryBus, FakeMessages]:
    hub, bus, db, _ = setup_with_memberships()
    return hub, bus, db


def setup_with_memberships() -> tuple[Hub, InMemoryBus, FakeMessages, FakeMemberships]:
    bus, db, members = InMemoryBus(), FakeMessages(), FakeMemberships()
    return Hub(bus=bus, messages=db, memberships=members), bus, db, members


async def connected(hub: Hub, user=ALICE) -> tuple[Connection, FakeSocket]:
    socket = FakeSocket()
    connection = Connection(socket, user=user)
    connection.start()
    await hub.attach(connection)
    return connection, socket


def types(socket: FakeSocket) -> list[str]:
    return [read_frame(text).type for text in socket.sent]


def seqs(socket: FakeSocket) -> list[int]:
    return [read_frame(t).seq for t in socket.sent if read_frame(t).seq is not None]


async def test_channels_follow_the_first_and_last_local_interest():
    hub, bus, _ = setup()
    first, _ = await connected(hub)
    second, _ = await connected(hub)
    assert bus.channels == {user_channel(ALICE.id)}
    await hub.watch(first, 5)
    await hub.watch(second, 5)
    assert room_channel(5) in bus.channels
    hub.unwatch(first, 5)
    assert room_channel(5) in bus.channels
    hub.detach(second)
    assert room_channel(5) not in bus.channels
    hub.detach(first)
    assert bus.channels == frozenset()


async def test_published_messages_reach_watchers_in_order():
    hub, bus, db = setup()
    connection, socket = await connected(hub)
    await hub.watch(connection, 5)
    for stored in db.store(5, 3):
        await bus.publish(MessagePosted(stored))
    await bus.publish(UserTyping(room_id=5, user=BOB))
    await settle()
    assert seqs(socket) == [1, 2, 3] and types(socket)[-1] == "typing"


async def test_a_join_elsewhere_starts_the_room_on_every_connection_of_the_user():
    hub, bus, db, members = setup_with_memberships()
    connection, socket = await connected(hub)
    members.pairs.add((9, ALICE.id))
    await bus.publish(MemberJoined(room_id=9, user=ALICE))
    await settle()
    assert connection.watching(9) and types(socket) == ["join_room"]
    await bus.publish(MessagePosted(db.store(9, 1)[0]))
    await settle()
    assert seqs(socket) == [1]


async def test_replay_sends_the_missed_then_the_live_ones():
    hub, bus, db = setup()
    db.store(5, 10)
    connection, socket = await connected(hub)
    await hub.watch(connection, 5, hold=True)
    await bus.publish(MessagePosted(db.store(5, 1)[0]))  # 11 arrives live during the replay
    assert await hub.replay(connection, 5, 4)
    await bus.publish(MessagePosted(db.store(5, 1)[0]))
    await settle()
    assert seqs(socket) == list(range(5, 13))


async def test_replay_past_the_limit_is_a_resync():
    hub, _, db = setup()
    db.store(5, RESYNC_LIMIT + 2)
    connection, socket = await connected(hub)
    await hub.watch(connection, 5, hold=True)
    assert not await hub.replay(connection, 5, 1)
    await settle()
    assert socket.sent == []


async def test_a_bus_reconnect_checks_every_room():
    hub, _, db = setup()
    connection, socket = await connected(hub)
    await hub.watch(connection, 5)
    db.store(5, 3)  # published while the bus was away
    hub.on_reconnected()
    await settle(50)
    assert seqs(socket) == [1, 2, 3]
    assert message(5, 1).seq == 1


async def test_a_resume_position_past_the_end_means_up_to_date():
    hub, bus, db = setup()
    db.store(5, 3)
    connection, socket = await connected(hub)
    await hub.watch(connection, 5, hold=True)
    assert await hub.replay(connection, 5, 1_000_000)
    await bus.publish(MessagePosted(db.store(5, 1)[0]))
    await settle()
    assert seqs(socket) == [4]


async def test_a_resume_frame_sends_only_what_this_connection_was_never_sent():
    hub, bus, db = setup()
    db.store(5, 5)
    connection, socket = await connected(hub)
    await hub.watch(connection, 5)  # streams from seq 5 on
    for stored in db.store(5, 2):
        await bus.publish(MessagePosted(stored))
    assert await hub.replay(connection, 5, 2)  # the client had 2: 3..5 were never sent here
    assert await hub.replay(connection, 5, 2)  # asking again sends nothing twice
    await bus.publish(MessagePosted(db.store(5, 1)[0]))
    await settle()
    assert seqs(socket) == [6, 7, 3, 4, 5, 8]


async def test_a_leave_elsewhere_stops_the_room_once_the_database_agrees():
    hub, bus, _, members = setup_with_memberships()
    connection, _ = await connected(hub)
    members.pairs.add((9, ALICE.id))
    await hub.watch(connection, 9)
    members.pairs.discard((9, ALICE.id))
    await bus.publish(MemberLeft(room_id=9, user=ALICE))
    await settle()
    assert not connection.watching(9)


async def test_late_membership_events_do_not_undo_a_rejoin():
    """leave, then join again at once: the user channel's leave_room (and join_room) arrive
    after the rejoin. The connection must keep its stream, with no gap."""
    hub, bus, db, members = setup_with_memberships()
    connection, socket = await connected(hub)
    members.pairs.add((9, ALICE.id))
    await hub.watch(connection, 9)
    await bus.publish(MessagePosted(db.store(9, 1)[0]))
    await settle()
    await bus.publish(MemberLeft(room_id=9, user=ALICE))  # stale: she is a member again
    await bus.publish(MessagePosted(db.store(9, 1)[0]))
    await bus.publish(MemberJoined(room_id=9, user=ALICE))
    await bus.publish(MessagePosted(db.store(9, 1)[0]))
    await settle()
    assert connection.watching(9)
    assert seqs(socket) == [1, 2, 3]


async def test_a_join_event_for_a_room_left_since_is_ignored():
    hub, bus, _ = setup()
    connection, socket = await connected(hub)
    await bus.publish(MemberJoined(room_id=9, user=ALICE))  # she left again before it arrived
    await settle()
    assert not connection.watching(9) and socket.sent == []
