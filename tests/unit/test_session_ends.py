"""How sessions end: at the access token's expiry unless renewed on the socket, when the login
ends (logout, a replayed refresh token, through the bus), and when the client keeps sending
after rate_limited (1008). And the user counts as online while a session is open."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatd.domain.errors import NotAuthenticated, RateLimited
from tests.fake_streams import until
from tests.fakes import ALICE, BOB, FakeRateLimiter
from tests.sessions_world import GRACE, World

SOON = 0.05  # seconds to an access token's expiry


@pytest.fixture
async def world() -> AsyncIterator[World]:
    world = World(sends=FakeRateLimiter(limit=1, retry_after_seconds=10))
    yield world
    await world.aclose()


async def test_a_socket_is_closed_with_4401_when_its_access_token_expires(world):
    session = await world.open(expires_in=SOON)
    await until(lambda: session.outbox.closed)
    assert session.outbox.close_code == 4401


async def test_a_fresh_token_on_the_open_socket_keeps_it_open(world):
    session = await world.open(expires_in=SOON)
    await world.sessions.renew(session, world.tokens.issue_access(ALICE.id))
    await asyncio.sleep(SOON * 3)
    assert not session.outbox.closed


async def test_a_renewal_with_a_bad_token_changes_nothing(world):
    session = await world.open(expires_in=SOON)
    world.clock.advance(-1000)  # issue a token that is expired by the time it is shown
    stale = world.tokens.issue_access(ALICE.id)
    world.clock.advance(1000)
    for token, code in (
        (world.tokens.issue_access(BOB.id), "invalid_token"),  # another user's
        (stale, "token_expired"),
        ("nonsense", "invalid_token"),
    ):
        with pytest.raises(NotAuthenticated) as caught:
            await world.sessions.renew(session, token)
        assert caught.value.code == code
    await until(lambda: session.outbox.closed)
    assert session.outbox.close_code == 4401


async def test_logout_closes_every_socket_of_the_user_and_no_other(world):
    mine = [await world.open(), await world.open()]
    other = await world.open(BOB)
    pair = await world.accounts.login(
        username="alice", password="correct horse", client_address="192.0.2.1"
    )
    await world.accounts.logout(refresh_token=pair.refresh_token)
    await until(lambda: all(session.outbox.closed for session in mine))
    assert [session.outbox.close_code for session in mine] == [4401, 4401]
    assert not other.outbox.closed


async def test_a_logout_the_bus_dropped_closes_the_sockets_when_it_is_back(world):
    """The notice went out while the bus was away and was lost with it: the check after the
    reconnect finds the login ended after these sockets opened (not after later ones)."""
    mine, other = await world.open(), await world.open(BOB)
    world.clock.advance(1)
    pair = await world.accounts.login(
        username="alice", password="correct horse", client_address="192.0.2.1"
    )
    world.bus.away = True
    await world.accounts.logout(refresh_token=pair.refresh_token)
    world.bus.away = False
    await asyncio.sleep(SOON)
    assert not mine.outbox.closed  # nobody has told this process yet
    world.clock.advance(1)
    later = await world.open()  # a new socket after the logout, its access token still valid
    world.fanout.on_reconnected()
    await until(lambda: mine.outbox.closed)
    assert mine.outbox.close_code == 4401
    await asyncio.sleep(SOON)
    assert not other.outbox.closed and not later.outbox.closed


async def test_a_client_still_sending_after_rate_limited_is_closed_with_1008(world):
    room = await world.members.add(name="general", topic="", owner=ALICE)
    session = await world.open()
    send = world.sessions.send_message
    await send(session, room_id=room.id, body="one", client_id=None)
    for _ in range(6):  # refused at 0 s, and it keeps sending every 2 s: closed at 10 s
        assert not session.outbox.closed
        with pytest.raises(RateLimited):
            await send(session, room_id=room.id, body="more", client_id=None)
        world.clock.advance(2)
    assert session.outbox.close_code == 1008
    assert world.sends.counts == {f"send:{ALICE.id}": 6}, "the last frame was not even counted"


async def test_a_client_that_waits_as_told_is_not_closed(world):
    room = await world.members.add(name="general", topic="", owner=ALICE)
    session = await world.open()
    for _ in range(3):
        await world.sessions.send_message(session, room_id=room.id, body="hi", client_id=None)
        with pytest.raises(RateLimited) as caught:
            await world.sessions.send_message(session, room_id=room.id, body="hi", client_id=None)
        world.clock.advance(caught.value.retry_after)
        world.sends.counts.clear()  # the window ended
    assert not session.outbox.closed


async def test_the_user_is_online_while_a_session_is_open(world):
    world.members.enroll(5, ALICE)
    await world.presence.renew()
    first, second = await world.open(), await world.open()
    await until(lambda: world.presence_world.announced() == [(5, ALICE.id, True)])
    world.sessions.close(first)
    await asyncio.sleep(GRACE * 4)
    assert world.presence_world.is_online(ALICE.id)
    world.sessions.close(second)
    await until(lambda: world.presence_world.announced()[-1] == (5, ALICE.id, False))
