"""Rooms: create, list, look up, join, leave, members."""

from dataclasses import replace

from chatd.application.ports import EventBus, PresenceReader, RateLimiter, RoomRepo
from chatd.domain.errors import Forbidden, NotFound, RateLimited
from chatd.domain.events import MemberJoined, MemberLeft, MessagePosted
from chatd.domain.model import Member, Room, User
from chatd.domain.permissions import can_see, check_leave, hidden
from chatd.domain.rules import DEFAULT_PAGE, check_limit, check_room_name, check_topic


async def ensure_member(rooms: RoomRepo, *, room_id: int, user: User) -> None:
    """NotFound for an unknown room or one the user may not see (a private room, a DM),
    Forbidden for a room the user sees but is not in."""
    if await rooms.is_member(room_id, user.id):
        return
    await visible_room(rooms, room_id=room_id, viewer=user)
    raise Forbidden("only members of the room may do this", code="not_a_member")


async def visible_room(rooms: RoomRepo, *, room_id: int, viewer: User) -> Room:
    """The room, if the viewer may see it (permissions.can_see); else NotFound, as for none."""
    room = await rooms.get(room_id)
    standing = await rooms.standing(room_id, viewer.id) if room is not None else None
    if room is None or standing is None or not can_see(room, standing):
        raise hidden(room_id)
    return room


class Rooms:
    def __init__(
        self,
        *,
        rooms: RoomRepo,
        bus: EventBus,
        presence: PresenceReader,
        creations: RateLimiter,
        joins: RateLimiter,
    ) -> None:
        self._rooms = rooms
        self._bus = bus
        self._presence = presence
        self._creations = creations  # per user, across processes
        self._joins = joins  # per user, across processes: every join asked for counts

    async def create(
        self, *, owner: User, name: str, topic: str | None = None, private: bool = False
    ) -> Room:
        name, topic = check_room_name(name), check_topic(topic or "")
        if retry_after := await self._creations.acquire(f"create_room:{owner.id}"):
            raise RateLimited("too many rooms created; try again later", retry_after=retry_after)
        room = await self._rooms.add(name=name, topic=topic, owner=owner, private=private)
        # No system message, but the owner's open connections must start following the room.
        await self._bus.publish(MemberJoined(room_id=room.id, user=owner))
        return room

    async def list_rooms(
        self, *, viewer: User, limit: int = DEFAULT_PAGE, before_id: int | None = None
    ) -> list[tuple[Room, bool]]:
        """Newest first; each room with whether the viewer is a member."""
        return await self._rooms.list_page(
            viewer_id=viewer.id, limit=check_limit(limit), before_id=before_id
        )

    async def get(self, *, room_id: int, viewer: User | None = None) -> Room:
        """With a viewer, a room they may not see is NotFound too (permissions.can_see)."""
        if viewer is not None:
            return await visible_room(self._rooms, room_id=room_id, viewer=viewer)
        room = await self._rooms.get(room_id)
        if room is None:
            raise NotFound(f"there is no room {room_id}", code="room_not_found")
        return room

    async def join(self, *, room_id: int, user: User) -> Room:
        """Idempotent: only the first join posts "<name> joined" and publishes events."""
        if retry_after := await self._joins.acquire(f"join_room:{user.id}"):
            raise RateLimited("too many rooms joined; try again later", retry_after=retry_after)
        # The store judges the join (bans, invitations, DMs) under the room's lock.
        joined = await self._rooms.add_member(room_id=room_id, user=user)
        if joined is not None:
            await self._bus.publish(MemberJoined(room_id=room_id, user=user))
            await self._bus.publish(MessagePosted(joined))
        return await self.get(room_id=room_id)

    async def leave(self, *, room_id: int, user: User) -> None:
        """Idempotent: leaving a room one is not in changes nothing. A DM cannot be left."""
        check_leave(await self.get(room_id=room_id, viewer=user))
        left = await self._rooms.remove_member(room_id=room_id, user=user)
        if left is not None:
            await self._bus.publish(MessagePosted(left))
            await self._bus.publish(MemberLeft(room_id=room_id, user=user))

    async def members(self, *, room_id: int, viewer: User) -> list[Member]:
        """In joining order, each with whether they have a connection open now."""
        await ensure_member(self._rooms, room_id=room_id, user=viewer)
        members = await self._rooms.members(room_id)
        online = await self._presence.online([member.user.id for member in members])
        return [replace(member, online=member.user.id in online) for member in members]
