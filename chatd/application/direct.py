"""Direct messages: the one private room of two users."""

from chatd.application.ports import DirectRoomRepo, EventBus, RateLimiter, UserReader
from chatd.domain.errors import InvalidInput, NotFound, RateLimited
from chatd.domain.events import MemberJoined
from chatd.domain.model import Room, User


class DirectMessages:
    def __init__(
        self, *, dms: DirectRoomRepo, users: UserReader, bus: EventBus, creations: RateLimiter
    ) -> None:
        self._dms = dms
        self._users = users
        self._bus = bus
        self._creations = creations  # per user, across processes; only new DMs count

    async def open(self, *, user: User, other_id: int) -> tuple[Room, bool]:
        """The DM room of the user and the other, and whether this call created it."""
        if other_id == user.id:
            raise InvalidInput("a direct message needs another user", code="dm_with_self")
        other = await self._users.get(other_id)
        if other is None:
            raise NotFound(f"there is no user {other_id}", code="user_not_found")
        existing = await self._dms.find_dm(user.id, other.id)
        if existing is not None:
            return existing, False
        if retry_after := await self._creations.acquire(f"create_dm:{user.id}"):
            raise RateLimited(
                "too many new direct messages; try again later", retry_after=retry_after
            )
        room, created = await self._dms.add_dm(creator=user, other=other)
        if created:
            # No system message; both users' open connections start following the room.
            await self._bus.publish(MemberJoined(room_id=room.id, user=user))
            await self._bus.publish(MemberJoined(room_id=room.id, user=other))
        return room, created
