"""The Sessions use case wired to fakes, in one process: the in-memory bus and fan-out, rooms
and messages in memory, accounts with readable tokens, presence on a fake shared store, and a
clock the tests move. Used by the unit tests of sessions."""

import json
from datetime import timedelta

from chatd.application.auth import Accounts
from chatd.application.chat_frames import ChatFrames
from chatd.application.message_changes import MessageChanges
from chatd.application.messages import Messaging
from chatd.application.presence import Presence
from chatd.application.reading import ReadMarkers
from chatd.application.realtime import Typing
from chatd.application.rooms import Rooms
from chatd.application.sessions import Session, Sessions
from chatd.domain.events import MessagePosted
from chatd.domain.message_rules import ChangePolicy
from chatd.domain.model import Credentials
from chatd.infrastructure.fanout import Fanout
from tests.fake_changes import FakeMessageChanges, FakeReadMarkers
from tests.fake_rooms import FakeMessageRepo
from tests.fake_streams import (
    FakeOutbox,
    FakePresenceStore,
    FakeTypingGate,
    InMemoryBus,
    PresenceWorld,
)
from tests.fakes import (
    ALICE,
    BOB,
    FakeClock,
    FakeFailureLimiter,
    FakeHasher,
    FakeRateLimiter,
    FakeRefreshTokenRepo,
    FakeTokenCodec,
    FakeUserRepo,
)

LIMIT = 5  # the resync limit of these tests
GRACE = 0.05  # seconds of presence grace


class World:
    def __init__(self, *, sends: FakeRateLimiter | None = None) -> None:
        self.clock = FakeClock()
        self.bus = InMemoryBus()
        self.db = FakeMessageRepo()
        self.members = self.db.store
        self.fanout = Fanout(bus=self.bus, messages=self.db)
        self.presence_world = PresenceWorld(self.bus, self.clock)
        self.users = FakeUserRepo()
        for user in (ALICE, BOB):
            self.users.credentials[user.id] = Credentials(user, b"hashed:correct horse")
        self.tokens = FakeTokenCodec(self.clock)
        self.accounts = Accounts(
            users=self.users,
            refresh_tokens=FakeRefreshTokenRepo(self.clock),
            hasher=FakeHasher(),
            tokens=self.tokens,
            clock=self.clock,
            login_failures=FakeFailureLimiter(limit=0),
            bus=self.bus,
        )
        self.sends = sends or FakeRateLimiter()
        self.joins = FakeRateLimiter()
        rooms = Rooms(
            rooms=self.members,
            bus=self.bus,
            presence=FakePresenceStore(self.presence_world),
            creations=FakeRateLimiter(),
            joins=self.joins,
        )
        self.presence = Presence(
            store=FakePresenceStore(self.presence_world),
            users=self.users,
            memberships=self.members,
            grace=GRACE,
        )
        self.sessions = Sessions(
            streams=self.fanout,
            messages=self.db,
            memberships=self.members,
            rooms=rooms,
            messaging=Messaging(
                messages=self.db, rooms=self.members, bus=self.bus, sends=self.sends
            ),
            typing=Typing(
                memberships=self.members,
                gate=FakeTypingGate(self.bus, self.clock),
                clock=self.clock,
            ),
            accounts=self.accounts,
            presence=self.presence,
            clock=self.clock,
            chat=ChatFrames(
                changes=MessageChanges(
                    changes=FakeMessageChanges(self.members),
                    bus=self.bus,
                    sends=self.sends,
                    clock=self.clock,
                    policy=ChangePolicy(),
                ),
                reading=ReadMarkers(
                    markers=FakeReadMarkers(self.members), rooms=self.members, bus=self.bus
                ),
                clock=self.clock,
            ),
            resync_limit=LIMIT,
        )
        self.fanout.on_membership_change(self.sessions.membership_changed)
        self.fanout.on_sessions_revoked(self.sessions.revoke)
        self.fanout.on_frame_for_user(self.sessions.tell_user)
        self.fanout.on_bus_reconnected(self.sessions.recheck)
        self.bus.attach(self.fanout)

    async def open(
        self, user=ALICE, resume: dict[int, int] | None = None, *, expires_in: float = 900
    ) -> Session:
        """A session whose access token expires `expires_in` seconds from now (real seconds:
        the expiry is a timer)."""
        return await self.sessions.open(
            user=user,
            outbox=FakeOutbox(user),
            resume=resume or {},
            ref=7,
            expires_at=self.clock.now() + timedelta(seconds=expires_in),
        )

    async def post(self, room_id: int, count: int = 1) -> None:
        """Messages stored elsewhere and published."""
        for message in self.db.post(room_id, count):
            await self.bus.publish(MessagePosted(message))

    async def aclose(self) -> None:
        await self.presence.aclose()
        await self.sessions.aclose()


def frames(session: Session) -> list[dict]:
    """What the session was sent, but presence frames (they come from a background task, at no
    fixed place in the stream; the World's presence_world lists them)."""
    sent = [json.loads(text) for text in session.outbox.sent]
    return [frame for frame in sent if frame["type"] != "presence"]


def types(session: Session) -> list[str]:
    return [frame["type"] for frame in frames(session)]


def seqs(session: Session) -> list[int]:
    return [f["message"]["seq"] for f in frames(session) if f["type"] == "new_message"]
