"""Fixtures of the unit tests of the rooms and messaging use cases (fakes only)."""

import pytest

from chatd.application.messages import Messaging
from chatd.application.rooms import Rooms
from tests.fake_rooms import FakeMessageRepo, FakeRoomRepo
from tests.fake_streams import FakePresenceStore, InMemoryBus, PresenceWorld
from tests.fakes import FakeClock, FakeRateLimiter


def make_rooms(store: FakeRoomRepo, bus: InMemoryBus, **ports) -> Rooms:
    """Rooms with no limits and nobody online, unless `ports` say otherwise."""
    presence = FakePresenceStore(PresenceWorld(bus, FakeClock()))
    defaults = {"presence": presence, "creations": FakeRateLimiter(), "joins": FakeRateLimiter()}
    return Rooms(rooms=store, bus=bus, **(defaults | ports))


@pytest.fixture
def store() -> FakeRoomRepo:
    return FakeRoomRepo()


@pytest.fixture
def bus() -> InMemoryBus:
    return InMemoryBus()


@pytest.fixture
def rooms(store, bus) -> Rooms:
    return make_rooms(store, bus)


@pytest.fixture
def messaging(store, bus) -> Messaging:
    return Messaging(messages=FakeMessageRepo(store), rooms=store, bus=bus, sends=FakeRateLimiter())
